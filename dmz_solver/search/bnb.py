"""Certified branch and bound over the mapping space, the proof step of the CP-SAT search.

Tilings are enumerated in the exhaustive search's order: spatial tuple, RF factors, SPM
factors. A spatial tuple, and then each (spatial, RF) block, is skipped when a lower bound
valid for all of its completions and ordering pairs (search/bounds.py) exceeds both the
cutoff and the best exact value found so far. Pruning is strict, so the first minimal
tiling of the exhaustive search survives and is the one reported: the answer is the
exhaustive optimum, found with a fraction of the evaluations.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..cost.kernel import DRAM, RF, SP, SPM, make_workspace, tiling_minima
from ..space import rf_fits, rf_util_ok, spm_fits, spm_util_ok
from .bounds import block_bound

SAFETY = 1e-9
"""Relative slack on bounds so that float rounding can never prune an optimal tiling."""


@njit(cache=True)
def _bound_value(objective, energy, cycles):
    if objective == 0:
        return energy - 1.0  # the seed rounds energy: the exact value may be 0.5 below the sum
    if objective == 1:
        return cycles
    return (energy - 1.0) * cycles


@njit(cache=True)
def _advance(t, lv, pos, idx, ext, divs, ndivs, dram_one, dcoef, ndims, fp, ip, tile):
    """Next valid complete factor tuple of level lv (RF or SPM) under the outer levels; False when done."""
    n_loops = ext.shape[0]
    while pos >= 0:
        loop = pos
        avail = ext[loop] // t[SP, loop]
        if lv == SPM:
            avail //= t[RF, loop]
        j = idx[pos] + 1
        d = 0
        while j < ndivs[loop]:
            cand = divs[loop, j]
            if cand > avail:
                j = ndivs[loop]
                break
            if avail % cand == 0 and not (lv == SPM and dram_one[loop] and cand != avail):
                d = cand
                break
            j += 1
        if j >= ndivs[loop]:
            t[lv, loop] = 1
            pos -= 1
            continue
        idx[pos] = j
        t[lv, loop] = d
        for later in range(loop + 1, n_loops):
            t[lv, later] = 1
        fits = rf_fits(t, dcoef, ndims, fp) if lv == RF else spm_fits(t, dcoef, ndims, ip, tile)
        if not fits:  # footprints grow with the factor: larger divisors fail too
            t[lv, loop] = 1
            pos -= 1
            continue
        if loop < n_loops - 1:
            pos += 1
            idx[pos] = -1
            continue
        ok = rf_util_ok(t, dcoef, ndims, fp) if lv == RF else spm_util_ok(t, dcoef, ndims, ip, fp, tile)
        if ok:
            return pos
    return -1


@njit(cache=True)
def bnb_under(sp, ext, divs, ndivs, dram_one, dcoef, dsize, ndims, isidx, cands, fp, ip,
              macs, e_floor, two_indexed, objective, cutoff, best_t, best_pair, stats):  # fmt: skip
    """Best value of `objective` over tilings with spatial tuple sp, pruning blocks against cutoff.

    Returns +inf when every tiling was pruned. stats += (tilings evaluated, blocks, blocks pruned).
    """
    n_loops = ext.shape[0]
    t = np.ones((4, n_loops), np.int64)
    t[SP] = sp
    idx_rf = np.full(n_loops, -1, np.int64)
    idx_spm = np.full(n_loops, -1, np.int64)
    tile = np.empty(n_loops, np.int64)
    ws = make_workspace(ndims.shape[0], cands.shape[0], n_loops)
    values = np.empty(3)
    pairs = np.empty((3, 4), np.int64)
    best = np.inf
    pos_rf = _advance(t, RF, 0, idx_rf, ext, divs, ndivs, dram_one, dcoef, ndims, fp, ip, tile)
    while pos_rf >= 0:
        stats[1] += 1
        e_lb, c_lb = block_bound(t, ext, dcoef, ndims, isidx, fp, macs, e_floor, two_indexed, tile)
        bound = _bound_value(objective, e_lb, c_lb) * (1 - SAFETY)
        if bound > min(best, cutoff):
            stats[2] += 1
        else:
            t[SPM, :] = 1
            idx_spm[0] = -1
            pos_spm = _advance(t, SPM, 0, idx_spm, ext, divs, ndivs, dram_one, dcoef, ndims, fp, ip, tile)
            while pos_spm >= 0:
                for i in range(n_loops):
                    t[DRAM, i] = ext[i] // (t[SP, i] * t[RF, i] * t[SPM, i])
                stats[0] += 1
                tiling_minima(t, dcoef, dsize, ndims, isidx, cands, fp, ip, values, pairs, ws)
                if values[objective] < best:
                    best = values[objective]
                    best_t[:, :] = t
                    best_pair[:] = pairs[objective]
                pos_spm = _advance(t, SPM, pos_spm, idx_spm, ext, divs, ndivs, dram_one, dcoef, ndims, fp, ip, tile)
        t[SPM, :] = 1
        pos_rf = _advance(t, RF, pos_rf, idx_rf, ext, divs, ndivs, dram_one, dcoef, ndims, fp, ip, tile)
    return best


@njit(cache=True, parallel=True)
def bnb_tasks(sps, ext, divs, ndivs, dram_one, dcoef, dsize, ndims, isidx, cands, fp, ip,
              macs, e_floor, two_indexed, objective, cutoff):  # fmt: skip
    """bnb_under for every spatial tuple; each task prunes only with its own findings (deterministic)."""
    n = sps.shape[0]
    best = np.full(n, np.inf)
    best_t = np.ones((n, 4, ext.shape[0]), np.int64)
    best_pair = np.zeros((n, 4), np.int64)
    stats = np.zeros((n, 3), np.int64)
    lanes = 64
    for lane in prange(lanes):
        for s in range(lane, n, lanes):
            best[s] = bnb_under(
                sps[s], ext, divs, ndivs, dram_one, dcoef, dsize, ndims, isidx, cands, fp, ip,
                macs, e_floor, two_indexed, objective, cutoff, best_t[s], best_pair[s], stats[s],
            )  # fmt: skip
    return best, best_t, best_pair, stats


@njit(cache=True)
def spatial_bounds(sps, macs, e_floor, objective):
    """Bound of each spatial tuple: the energy floor, and compute spread over its PEs."""
    out = np.empty(sps.shape[0])
    for s in range(sps.shape[0]):
        pes = 1
        for loop in range(sps.shape[1]):
            pes *= sps[s, loop]
        out[s] = _bound_value(objective, e_floor, macs / pes) * (1 - SAFETY)
    return out
