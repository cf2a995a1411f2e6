"""The per-tiling enumerator: the exhaustive search of layers whose tables would be too large.

Walks the tilings of each spatial tuple with `problem.space.next_inner` and evaluates each one
from scratch (`cost.batch.tiling_minima`); same tilings, same order and same minima as the
table search, only slower.
"""

from __future__ import annotations

import threading

import numpy as np

from ..cost.batch import make_workspace, tiling_minima
from ..jit import njit, prange
from ..layout import SP, Profile
from ..problem.space import next_inner

STOP_EVERY = 256
"""Tilings between two looks at the stop flag."""


@njit(cache=True)
def search_under(sp, space, arrays, prof, best, best_t, best_pair, stop):  # noqa: PLR0917 - numba kernel: per-task entry, outputs as search_tables'
    """Evaluate every valid tiling of a LoopSpace with spatial tuple sp (Profile prof); keep the first minima.

    Returns the tilings evaluated and whether the enumeration finished (False: stop[0] was raised).
    """
    n_loops = space.ext.shape[0]
    t = np.ones((4, n_loops), np.int64)
    t[SP] = sp
    idx = np.full(2 * n_loops, -1, np.int64)
    tile = np.empty(n_loops, np.int64)
    ws = make_workspace(arrays.ndims.shape[0], arrays.cands.shape[0], n_loops)
    values = np.empty(3)
    pairs = np.empty((3, 4), np.int64)
    best[:] = np.inf
    count = 0
    pos = next_inner(t, 0, idx, space, arrays, tile)
    while pos >= 0:
        if count % STOP_EVERY == 0 and stop[0] != 0:
            return count, False
        count += 1
        tiling_minima(t, arrays, prof, ws, values, pairs)
        for obj in range(3):
            if values[obj] < best[obj]:
                best[obj] = values[obj]
                best_t[obj] = t
                best_pair[obj] = pairs[obj]
        pos = next_inner(t, pos, idx, space, arrays, tile)
    return count, True


PARALLEL_LAUNCH = threading.Lock()
"""Held while search_all runs: one numba-parallel kernel at a time in a process (layers solve in threads, and
numba's workqueue threading layer, the one left when neither TBB nor OpenMP is installed, aborts on concurrent
launches)."""


@njit(cache=True, parallel=True)
def search_all(sps, space, arrays, profs, stop):
    """search_under for every spatial tuple sps[s] with the stacked Profile profs, interleaved over the threads.

    Returns (counts, best, best_t, best_pair, done), one row per tuple; a task is not done when stop[0] was
    raised (by another thread: the kernel releases the GIL) before it finished.
    """
    n = sps.shape[0]
    counts = np.zeros(n, np.int64)
    best = np.full((n, 3), np.inf)
    best_t = np.ones((n, 3, 4, space.ext.shape[0]), np.int64)
    best_pair = np.zeros((n, 3, 4), np.int64)
    done = np.zeros(n, np.bool_)
    lanes = 64
    for lane in prange(lanes):
        for s in range(lane, n, lanes):
            if stop[0] != 0:
                break
            prof = Profile(profs.pi[s], profs.pf[s], profs.rowf[s])
            counts[s], done[s] = search_under(sps[s], space, arrays, prof, best[s], best_t[s], best_pair[s], stop)
    return counts, best, best_t, best_pair, done
