"""Branch and bound over the enumeration: the proof that a mapping is optimal.

A supplier (search/supply.py; the CP-SAT model by default) gives candidate mappings and a lower
bound. The candidates, rescored exactly, and a few spatial tuples solved outright (those with the
smallest bounds) give the incumbent U. The proof then raises a cutoff G from the best known bound:
every spatial tuple whose bound is at most G is searched by the exhaustive enumeration, pruning each
(spatial, RF) block whose certified bound (search/bounds.py) exceeds min(G, the tuple's best). If the
best value found is at most G, it is optimal, and it is the exhaustive search's first minimum because
pruning is strict; otherwise no mapping is worth G or less, G becomes a proven bound, and G rises.
Under a time limit the result is FEASIBLE, with the proven bound as its lower bound.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..cost.batch import evaluate_batch
from ..layout import Profiles
from ..problem import Problem
from ..result import LayerResult
from ..vocabulary import Objective, Status
from .bounds import energy_floor, every_loop_indexes_two, spatial_bounds
from .cpsat_model import cpsat_supply
from .exhaustive import Pruning, TaskSearch
from .outcome import Incumbent, layer_result
from .supply import Candidate, Supplier

SEED_TASKS = 8
"""Spatial tuples solved outright, best bound first, to seed the incumbent."""
CHUNK = 256
"""Spatial tuples per call of the enumerator; the time limit is checked between calls."""
CUTOFF_GROWTH = 1.5
"""Each proof round raises the cutoff to this multiple of the proven lower bound."""


def branch_and_bound(problem: Problem, objective: Objective, *, time_limit: float | None = None,
                     supplier: Supplier = cpsat_supply, name: str = "cpsat") -> LayerResult:  # fmt: skip
    """Proven-optimal mapping of one layer for one objective (FEASIBLE if the time limit cuts the proof)."""
    start = time.perf_counter()
    deadline = start + time_limit if time_limit else math.inf
    objective = Objective(objective)
    column = objective.column
    supply = supplier(problem, objective)
    search = TaskSearch(problem)
    if supply.lower_bound == math.inf or len(search.sps) == 0:
        return layer_result(problem, objective, name, Status.INFEASIBLE, Incumbent(), math.inf, start, 0)
    e_floor = energy_floor(problem)
    two_indexed = every_loop_indexes_two(problem)
    bounds = spatial_bounds(search.sps, problem.nest.macs, e_floor, column)
    incumbent = Incumbent()
    if not problem.compiled.has_order_rules:  # rescoring takes every order, which order rules would restrict
        for candidate in supply.candidates:
            _rescore(problem, candidate, column, incumbent)
    evaluated = 0

    def run(task_ids: np.ndarray, cutoff: float) -> tuple[Incumbent, int, int]:
        """Search tasks under a cutoff: their first minimum (enumeration order), tilings evaluated, blocks pruned."""
        nonlocal evaluated
        counts, best, best_t, best_pair, pruned = search.run(task_ids, Pruning(column, cutoff, e_floor, two_indexed))
        evaluated += int(counts.sum())
        first = int(np.argmin(best[:, column]))
        found = Incumbent()
        if np.isfinite(best[first, column]):
            rows = tuple(int(r) for r in search.tasks.rowf[task_ids[first]])
            orders = (int(best_pair[first, column, 2]), int(best_pair[first, column, 3]))
            found.offer(float(best[first, column]), best_t[first, column], orders, rows)
            incumbent.offer(found.value, found.tiling, found.orders, found.rows)
        return found, int(counts.sum()), int(pruned.sum())

    def finish(status: Status, best: Incumbent, lower: float) -> LayerResult:
        return layer_result(problem, objective, name, status, best, lower, start, evaluated)

    run(np.argsort(bounds, kind="stable")[:SEED_TASKS], math.inf)
    lower = float(bounds.min()) if supply.lower_bound is None else max(float(bounds.min()), supply.lower_bound)
    while True:
        cutoff = min(incumbent.value, lower * CUTOFF_GROWTH)
        todo = np.flatnonzero(bounds <= cutoff)
        round_best = Incumbent()
        blocks_pruned = 0
        for chunk_start in range(0, len(todo), CHUNK):
            if time.perf_counter() > deadline:
                return finish(Status.FEASIBLE, incumbent, lower)
            found, _, pruned = run(todo[chunk_start : chunk_start + CHUNK], cutoff)
            blocks_pruned += pruned
            if found.value < round_best.value:  # chunks go in enumeration order: keep the first minimum
                round_best = found
        if round_best.value <= cutoff:
            return finish(Status.OPTIMAL, round_best, round_best.value)
        if round_best.value == math.inf and blocks_pruned == 0 and len(todo) == len(search.sps):
            return finish(Status.INFEASIBLE, Incumbent(), math.inf)  # everything searched: no valid mapping
        lower = max(lower, cutoff)


def _rescore(problem: Problem, candidate: Candidate, column: int, incumbent: Incumbent) -> None:
    """Offer a supplied tiling at its exact value, over every order, for each row/column split it allows."""
    tiling, rows = candidate
    for pi, pf, rowf in problem.unrollings(tiling[3], rows):  # none if its split cannot be routed
        out = np.zeros((1, 3))
        pairs = np.zeros((1, 3, 4), np.int64)
        prof = Profiles(pi[None], pf[None], rowf[None], np.zeros(1, np.int64))
        evaluate_batch(tiling[None], problem.arrays, prof, out, pairs)
        incumbent.offer(float(out[0, column]), tiling, None, tuple(int(r) for r in rowf))
