"""What every search hands back: its best tiling, rescored by the exact model, as a LayerResult."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..cost.evaluate import evaluate_mapping
from ..problem import Problem
from ..problem.mapping import Mapping
from ..problem.ordering import order_names
from ..result import LayerResult
from ..vocabulary import Objective, Status


@dataclass
class Incumbent:
    """The best mapping known so far: its exact value, tiling, candidate orders and row split, if known."""

    value: float = math.inf
    tiling: np.ndarray | None = None
    orders: tuple[int, int] | None = None
    """(SPM candidate, DRAM candidate), indices into problem.orders; None: the best pair is looked up."""
    rows: tuple[int, ...] | None = None
    """Row part of each spatial factor (arrays with several PE rows)."""

    def offer(
        self,
        value: float,
        tiling: np.ndarray,
        orders: tuple[int, int] | None = None,
        rows: tuple[int, ...] | None = None,
    ) -> None:
        """Keep the offer if it is strictly better (so the first of equal offers stays)."""
        if value < self.value:
            self.value, self.tiling, self.orders, self.rows = value, tiling.copy(), orders, rows


def layer_result(
    problem: Problem,
    objective: Objective,
    search: str,
    status: Status,
    best: Incumbent,
    *,
    lower_bound: float,
    started: float,
    evaluated: int,
) -> LayerResult:
    """The LayerResult of a search that ends with `best`: the mapping's exact cost and the proven bound.

    An OPTIMAL result's bound is its own value; otherwise the bound never exceeds the value found. Without a
    mapping, a FEASIBLE search (one the time limit cut) is UNKNOWN with its bound, any other INFEASIBLE.
    """
    nest = problem.nest
    if best.tiling is None:
        seconds = time.perf_counter() - started
        if status == Status.FEASIBLE:
            return LayerResult(nest, objective, Status.UNKNOWN, None, None, lower_bound, seconds, search, evaluated)
        return LayerResult(nest, objective, Status.INFEASIBLE, None, None, math.inf, seconds, search, evaluated)
    orders = None
    if best.orders is not None:
        spm, dram = best.orders
        orders = (tuple(order_names(nest, problem.orders[dram])), tuple(order_names(nest, problem.orders[spm])))
    rows = best.rows if problem.arch.noc.rows > 1 else None
    mapping, cost = evaluate_mapping(problem, Mapping.from_array(nest.loops, best.tiling, orders, rows), objective)
    value = cost.value(objective)
    lower = value if status == Status.OPTIMAL else min(lower_bound, value)
    return LayerResult(nest, objective, status, mapping, cost, lower, time.perf_counter() - started, search, evaluated)
