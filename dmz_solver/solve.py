"""Solve layers and models: pick a search, rescore its answer exactly, and say what is proven."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from .arch import Arch
from .cost.packing import Knobs, Problem
from .evaluate import evaluate_mapping
from .loopnest import LoopNest
from .mapping import Mapping
from .ordering import order_names
from .result import FEASIBLE, INFEASIBLE, OPTIMAL, LayerResult, ModelResult
from .search.auto import auto_search
from .search.exhaustive import ExhaustiveResult, exhaustive_search

SEARCHES = ("cpsat", "exhaustive", "auto")
OBJECTIVES = ("edp", "energy", "cycles")


def _from_exhaustive(problem: Problem, found: ExhaustiveResult, objective: str, status: str, search: str,
                     start: float, evaluated: int) -> LayerResult:  # fmt: skip
    best = found.best.get(objective)
    if best is None:
        return LayerResult(
            problem.nest,
            objective,
            INFEASIBLE,
            None,
            None,
            float("inf"),
            time.perf_counter() - start,
            search,
            evaluated,
        )
    orders = (
        tuple(order_names(problem.nest, problem.orders[best.dram_order])),
        tuple(order_names(problem.nest, problem.orders[best.spm_order])),
    )
    mapping = Mapping.from_array(problem.nest.loops, best.tiling, orders)
    mapping, cost = evaluate_mapping(problem, mapping, objective)
    lower = cost.value(objective) if status == OPTIMAL else _global_bound(problem, objective)
    return LayerResult(
        problem.nest, objective, status, mapping, cost, lower, time.perf_counter() - start, search, evaluated
    )


def _global_bound(problem: Problem, objective: str) -> float:
    from .search.bounds import global_lower_bound

    return global_lower_bound(problem, objective)


def solve_layer(
    nest: LoopNest,
    arch: Arch,
    objective: str = "edp",
    *,
    search: str = "cpsat",
    knobs: Knobs | None = None,
    time_limit: float | None = None,
) -> LayerResult:
    """Find the best mapping of one layer for one objective."""
    start = time.perf_counter()
    problem = Problem(nest, arch, knobs or Knobs())
    if search == "exhaustive":
        found = exhaustive_search(problem)
        # Exhaustive search proves the optimum of the space it searched: the whole space without knobs.
        status = OPTIMAL if problem.knobs == Knobs() else FEASIBLE
        return _from_exhaustive(problem, found, objective, status, search, start, found.tilings)
    if search == "auto":
        found, _, evaluated = auto_search(problem, knobs)
        return _from_exhaustive(problem, found, objective, FEASIBLE, search, start, evaluated)
    if search == "cpsat":
        from .search.cpsat import cpsat_search

        result = cpsat_search(problem, objective, time_limit=time_limit)
        if result.status == OPTIMAL and problem.knobs != Knobs():
            # Proven only within the space the knobs leave: not optimal over the whole mapping space.
            return replace(result, status=FEASIBLE, lower_bound=_global_bound(problem, objective))
        return result
    raise ValueError(f"unknown search {search!r}")


def solve_model(
    layers: Sequence[LoopNest],
    arch: Arch,
    objective: str = "edp",
    *,
    model: str = "model",
    search: str = "cpsat",
    knobs: Knobs | None = None,
    time_limit: float | None = None,
    progress: Callable[[LayerResult], None] | None = None,
) -> ModelResult:
    """Solve every layer (identical layers are already merged, with `instances`)."""
    start = time.perf_counter()
    results = []
    for nest in layers:
        result = solve_layer(nest, arch, objective, search=search, knobs=knobs, time_limit=time_limit)
        results.append(result)
        if progress:
            progress(result)
    return ModelResult(model, arch.name, objective, tuple(results), time.perf_counter() - start)
