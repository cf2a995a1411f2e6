"""Exhaustive search: every valid tiling, every candidate ordering pair, all three objectives.

Each spatial tuple is a task; tasks run on all cores and their results merge in
enumeration order, so the reported tiling is the first minimal one (§7.3) whatever the
thread count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from ..cost.kernel import OBJECTIVES, SP, make_workspace, tiling_minima
from ..cost.packing import Problem
from ..space import next_inner, problem_spatial_tuples


@dataclass(frozen=True)
class Best:
    """The best tiling for one objective and the candidate orders (SPM, DRAM) it uses."""

    value: float
    tiling: np.ndarray  # (4, loops): DRAM, SPM, RF, SPATIAL
    spm_order: int
    dram_order: int


@dataclass(frozen=True)
class ExhaustiveResult:
    """Minima of each objective over the whole space, and how many tilings were valid."""

    best: dict[str, Best]
    tilings: int
    seconds: float


@njit(cache=True)
def search_under(sp, ext, divs, ndivs, dram_one, dcoef, dsize, ndims, isidx, cands, fp, ip, best, best_t, best_pair):
    """Evaluate every valid tiling with spatial tuple sp; keep the first minimum per objective."""
    n_loops = ext.shape[0]
    t = np.ones((4, n_loops), np.int64)
    t[SP] = sp
    idx = np.full(2 * n_loops, -1, np.int64)
    tile = np.empty(n_loops, np.int64)
    ws = make_workspace(ndims.shape[0], cands.shape[0], n_loops)
    values = np.empty(3)
    pairs = np.empty((3, 4), np.int64)
    best[:] = np.inf
    count = 0
    pos = next_inner(t, 0, idx, ext, divs, ndivs, dram_one, dcoef, ndims, fp, ip, tile)
    while pos >= 0:
        count += 1
        tiling_minima(t, dcoef, dsize, ndims, isidx, cands, fp, ip, values, pairs, ws)
        for obj in range(3):
            if values[obj] < best[obj]:
                best[obj] = values[obj]
                best_t[obj] = t
                best_pair[obj] = pairs[obj]
        pos = next_inner(t, pos, idx, ext, divs, ndivs, dram_one, dcoef, ndims, fp, ip, tile)
    return count


@njit(cache=True, parallel=True)
def search_all(sps, ext, divs, ndivs, dram_one, dcoef, dsize, ndims, isidx, cands, fp, ip):
    """search_under for every spatial tuple, interleaved over the threads for balance."""
    n = sps.shape[0]
    counts = np.zeros(n, np.int64)
    best = np.full((n, 3), np.inf)
    best_t = np.ones((n, 3, 4, ext.shape[0]), np.int64)
    best_pair = np.zeros((n, 3, 4), np.int64)
    lanes = 64
    for lane in prange(lanes):
        for s in range(lane, n, lanes):
            counts[s] = search_under(
                sps[s], ext, divs, ndivs, dram_one, dcoef, dsize, ndims, isidx, cands, fp, ip,
                best[s], best_t[s], best_pair[s],
            )  # fmt: skip
    return counts, best, best_t, best_pair


def exhaustive_search(problem: Problem) -> ExhaustiveResult:
    """Minimise energy, cycles and EDP independently over every valid tiling and ordering pair."""
    start = time.perf_counter()
    dcoef, dsize, ndims, isidx, cands, fp, ip = problem.arrays
    divs, ndivs = problem.divisor_table
    _, dram_one = problem.loop_masks
    ext = np.array(problem.nest.extents, np.int64)
    sps = problem_spatial_tuples(problem)
    if len(sps) == 0:
        return ExhaustiveResult({}, 0, time.perf_counter() - start)
    counts, best, best_t, best_pair = search_all(sps, ext, divs, ndivs, dram_one, dcoef, dsize, ndims, isidx, cands, fp, ip)
    total = int(counts.sum())
    found: dict[str, Best] = {}
    if total:
        for obj, name in enumerate(OBJECTIVES):
            s = int(np.argmin(best[:, obj]))  # first minimal task in enumeration order
            found[name] = Best(float(best[s, obj]), best_t[s, obj].copy(), int(best_pair[s, obj, 2]), int(best_pair[s, obj, 3]))
    return ExhaustiveResult(found, total, time.perf_counter() - start)
