"""Evaluate one mapping with the exact cost model, reporting the figures and energy breakdown."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ..layout import SP, Profile
from ..problem import Problem
from ..problem.mapping import Mapping
from ..problem.ordering import order_names
from ..problem.space import tiling_violations
from ..vocabulary import BREAKDOWN, Objective
from .reference import N_BD, evaluate_pairs, fixed_pair


class Breakdown(NamedTuple):
    """Energy by category in pJ (docs/cost-model.md §6.5): a tuple in the kernels' order, readable by name."""

    MAC: float
    RF: float
    NOC: float
    SPM: float
    DRAM: float


assert Breakdown._fields == BREAKDOWN  # one order of the categories, stated in vocabulary.py


class FigureOutOfRange(ValueError):
    """A figure that is negative, NaN or infinite: a bug, since problems whose figures could leave the kernels'
    range are refused when built (problem/numeric.py). Never shown as a result."""


def check_figure(name: str, value: float, *, infinite_ok: bool = False) -> None:
    """Raise FigureOutOfRange unless `value` is a non-negative number (finite unless `infinite_ok`)."""
    if not (value >= 0 and (infinite_ok or math.isfinite(value))):  # NaN fails the first test
        raise FigureOutOfRange(f"internal error: {name} is {value!r}, outside the cost model's range")


@dataclass(frozen=True)
class Cost:
    """Exact figures of one mapping: energy (pJ, rounded as the seed), cycles, EDP and breakdown."""

    energy_pj: float
    cycles: float
    breakdown_pj: Breakdown
    """Labelled (`cost.breakdown_pj.DRAM`); any sequence of five numbers given here becomes a Breakdown."""

    def __post_init__(self) -> None:
        if not isinstance(self.breakdown_pj, Breakdown):
            object.__setattr__(self, "breakdown_pj", Breakdown(*self.breakdown_pj))
        check_figure("cycles", self.cycles)
        check_figure("energy", self.energy_pj)
        check_figure("energy-delay product", self.edp)
        for category, part in self.breakdown_pj._asdict().items():
            check_figure(f"{category} energy", part)

    @property
    def edp(self) -> float:
        return self.energy_pj * self.cycles

    def value(self, objective: Objective | str) -> float:
        return Objective(objective).of(self.energy_pj, self.cycles)

    def to_json(self) -> dict:
        return {
            "cycles": int(self.cycles),
            "energy_pj": int(self.energy_pj),
            "edp": self.edp,
            "breakdown_pj": self.breakdown_pj._asdict(),
        }


def _innermost_first(problem: Problem, names: tuple[str, ...]) -> np.ndarray:
    return np.array([problem.nest.loops.index(n) for n in reversed(names)], np.int64)


def evaluate_mapping(
    problem: Problem, mapping: Mapping, objective: str = "edp", *, source: str = "mapping"
) -> tuple[Mapping, Cost]:
    """Exact cost of a mapping. Without orders, the candidate pair best for `objective` is used (§7.2);
    on an array with several PE rows and no row/column split given, the best split likewise.

    Returns the mapping with the orders (and split) that were used, and its cost.
    """
    violations = tiling_violations(problem, mapping.array())
    if violations:
        raise InputError("; ".join(violations), source=source, field="tiling")
    return evaluate_valid_mapping(problem, mapping, objective, source=source)


def evaluate_valid_mapping(
    problem: Problem, mapping: Mapping, objective: str = "edp", *, source: str = "mapping"
) -> tuple[Mapping, Cost]:
    """evaluate_mapping of a mapping whose tiling the caller has checked (problem.space.tiling_violations)."""
    tiling = mapping.array()
    noc = problem.arch.noc
    options = problem.unrollings(tiling[SP], mapping.spatial_rows)
    if not options:
        where = "array.rows" if mapping.spatial_rows is not None else "tiling.SPATIAL"
        raise InputError(
            f"the spatial factors do not fit the {noc.rows} x {noc.cols} PE array, or their partial sums "
            "cannot be reduced over its reduction network",
            source=source,
            field=where,
        )
    best: tuple[float, Mapping, Cost] | None = None
    for prof in options:
        found, cost = _evaluate_split(problem, mapping, objective, prof)
        found = found.with_rows(tuple(int(r) for r in prof.rowf) if noc.rows > 1 else None)  # one row: no split
        if best is None or cost.value(objective) < best[0]:  # the first minimum in split order
            best = (cost.value(objective), found, cost)
    assert best is not None
    return best[1], best[2]


def _evaluate_split(problem: Problem, mapping: Mapping, objective: str, prof: Profile) -> tuple[Mapping, Cost]:
    tiling = mapping.array()
    arrays = problem.arrays
    if mapping.dram_order is not None and mapping.spm_order is not None:
        bd = np.zeros(N_BD)
        dram_order = _innermost_first(problem, mapping.dram_order)
        spm_order = _innermost_first(problem, mapping.spm_order)
        energy, cycles = fixed_pair(tiling, arrays, prof, dram_order, spm_order, bd)
        return mapping, Cost(float(energy), float(cycles), tuple(bd.tolist()))
    energy, cycles, bd, cand_ids = evaluate_pairs(tiling, arrays, prof)
    values = Objective(objective).of(energy, cycles)
    best = int(np.argmin(values))  # first minimum in pair order
    spm_cand, dram_cand = cand_ids[best]
    orders = (
        tuple(order_names(problem.nest, problem.orders[dram_cand])),
        tuple(order_names(problem.nest, problem.orders[spm_cand])),
    )
    return mapping.with_orders(*orders), Cost(float(energy[best]), float(cycles[best]), tuple(bd[best].tolist()))
