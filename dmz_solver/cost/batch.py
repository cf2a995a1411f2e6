"""The batch evaluator: minimum energy, cycles and EDP of each tiling over its ordering pairs (§7.2).

`minima_range` chains the per-tiling terms (`terms`), the reuse representatives of the DRAM and SPM
factors (`reuse`) and the pair loop (`pairs`) for each tiling of a batch, in one workspace.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..jit import njit, prange
from ..layout import DRAM, SPM, Profiles
from .pairs import (
    DF_Q,
    DI_KEYS,
    SF_A,
    SG_GRP,
    DramSide,
    Minima,
    PairTerms,
    SpmSide,
    dram_entry,
    pair_minima,
    pass_energies,
    spm_entry,
    spm_groups,
)
from .reuse import ReuseTable, level_quotients, level_reps, reuse_structures
from .terms import N_TI, T_P_DRAM_OUT, T_RED, T_TC_DRAM, T_TC_RF, T_TC_SPM, coef_terms, terms

Workspace = namedtuple("Workspace", "ti iop fop reps rep_cand qs sg di df si sf scratch tiles")
"""Work arrays of `minima_range` (see make_workspace)."""


@njit(cache=True)
def minima_range(tilings, lo, hi, arrays, ct, rtab, prof, ws, out, out_pair):  # noqa: PLR0917 - numba kernel: flat args, unpacked once per chunk, see bench/README.md
    """Minima of tilings[lo:hi] over their ordering pairs (§7.2) into out, out_pair (see tiling_minima).

    arrays: the NestArrays; ct = coef_terms(...); rtab = reuse_structures(...); prof: the Profiles of
    the batch (tiling b has profile which[b]); ws: a Workspace. The records are unpacked once, before
    the loop: a field read inside it would cost a reference-count update per array and tiling.
    """
    ndims, dsize, cands, isidx, fp, ip = arrays.ndims, arrays.dsize, arrays.cands, arrays.isidx, arrays.fp, arrays.ip
    ti, iop, fop, reps, rep_cand, qs, sg = ws.ti, ws.iop, ws.fop, ws.reps, ws.rep_cand, ws.qs, ws.sg
    di, df, si, sf, scratch, tiles = ws.di, ws.df, ws.si, ws.sf, ws.scratch, ws.tiles
    nterms, tloops, tcoefs = ct.nterms, ct.tloops, ct.tcoefs
    rstart, rfirst, rnloops, rsloops = rtab.start, rtab.first, rtab.nloops, rtab.sloops
    pis, pfs, rowfs, which = prof.pi, prof.pf, prof.rowf, prof.which
    for b in range(lo, hi):
        t = tilings[b]
        p = which[b]
        e_base, e_red, _ = terms(
            t, nterms, tloops, tcoefs, ndims, dsize, isidx, fp, ip, ti, iop, fop, tiles, pis[p], pfs[p], rowfs[p]
        )
        nd = level_reps(t, DRAM, cands, isidx, rstart, rfirst, rnloops, rsloops, reps, 0, rep_cand)
        ns = level_reps(t, SPM, cands, isidx, rstart, rfirst, rnloops, rsloops, reps, 1, rep_cand)
        dram_passes, spm_passes, comp, red = ti[T_TC_DRAM], ti[T_TC_SPM], ti[T_TC_RF], ti[T_RED]
        dram_entry(dram_passes, ti[T_P_DRAM_OUT], iop, fop, nd, reps, 0, di, df, 0)
        level_quotients(spm_passes, ns, reps, 1, qs)
        spm_groups(spm_passes, ns, reps, 1, sg)
        pass_energies(e_red, fop)
        spm_entry(spm_passes, comp, red, iop, fop, ns, qs, sg, 1, si, sf, scratch)
        out[b, 0] = np.inf
        out[b, 1] = np.inf
        out[b, 2] = np.inf
        pair_minima(
            SpmSide(ns, reps, 1, rep_cand, si, sf),
            DramSide(nd, rep_cand, 0, di, df, 0),
            PairTerms(spm_passes, dram_passes, comp, red, iop, fop, e_base),
            scratch,
            Minima(out, out_pair, b),
        )


@njit(cache=True)
def make_workspace(nops, ncand, n_loops):
    """Work arrays for tiling_minima, allocated once per thread instead of per tiling."""
    return Workspace(
        np.empty(N_TI, np.int64),  # ti
        np.empty((3, nops), np.int64),  # D_PE, DMA cycles, D_SPM
        np.empty((5, nops)),  # E_noc, E_spm, E_dma, a(op), resident energy
        np.empty((2, ncand, nops), np.int64),  # DRAM and SPM reuse vectors
        np.empty((2, ncand), np.int64),  # their first candidates
        np.empty((2, ncand, nops)),  # TC_SPM / r_SPM (slot 1)
        np.empty((2, ncand, SG_GRP + 2 * nops), np.int64),  # SPM groupings (slot 1)
        np.empty((1, ncand, DI_KEYS + 4 * nops), np.int64),  # DRAM entries
        np.empty((1, ncand, DF_Q + 2 * nops)),
        np.empty((ncand, 3), np.int64),  # SPM entries
        np.empty((ncand, SF_A + nops)),
        np.empty(6 * nops, np.int64),  # scratch
        np.empty((3, n_loops), np.int64),  # cumulative tile extents
    )


@njit(cache=True)
def tiling_minima(t, arrays, prof, ws, best, best_pair):
    """Minimum energy, cycles and EDP of one tiling (Profile prof) over its ordering pairs (§7.2).

    best[obj] receives each minimum (float64) and best_pair[obj] = (SPM rep, DRAM rep,
    SPM candidate, DRAM candidate) of the first pair that reaches it, in pair order. ws is a
    Workspace. Builds the layer tables per call; evaluate_batch builds them once.
    """
    pi, pf, rowf = prof.pi, prof.pf, prof.rowf
    ct = coef_terms(arrays.dcoef, arrays.ndims)
    none = np.zeros(1, np.int64)  # no reuse-structure table: scan the candidates
    rtab = ReuseTable(none, none, none.reshape(1, 1), none.reshape(1, 1, 1))
    single = Profiles(
        pi.reshape(1, pi.shape[0], pi.shape[1]),
        pf.reshape(1, pf.shape[0], pf.shape[1]),
        rowf.reshape(1, -1),
        np.zeros(1, np.int64),
    )
    one = t.reshape(1, 4, -1)
    minima_range(one, 0, 1, arrays, ct, rtab, single, ws, best.reshape(1, 3), best_pair.reshape(1, 3, 4))


@njit(cache=True)
def _batch_range(tilings, lo, hi, arrays, rtab, prof, out, out_pair):  # noqa: PLR0917 - numba kernel: per-thread chunk of evaluate_batch_parallel
    """Minima of tilings[lo:hi] into out, out_pair with one workspace."""
    cands = arrays.cands
    ct = coef_terms(arrays.dcoef, arrays.ndims)
    ws = make_workspace(arrays.ndims.shape[0], cands.shape[0], cands.shape[1])
    minima_range(tilings, lo, hi, arrays, ct, rtab, prof, ws, out, out_pair)


@njit(cache=True)
def evaluate_batch(tilings, arrays, prof, out, out_pair):
    """Per-tiling minima of a batch: out[b, obj], out_pair[b, obj, :] (see tiling_minima).

    arrays: the NestArrays; prof: the Profiles of the batch's unrollings and which one each tiling has.
    """
    cands, isidx = arrays.cands, arrays.isidx
    rtab = reuse_structures(cands, isidx, np.ones(cands.shape[1], np.bool_))
    _batch_range(tilings, 0, tilings.shape[0], arrays, rtab, prof, out, out_pair)


@njit(cache=True, parallel=True)
def evaluate_batch_parallel(tilings, arrays, prof, out, out_pair):
    """evaluate_batch over all cores in chunks; the results do not depend on the thread count."""
    cands, isidx = arrays.cands, arrays.isidx
    start, first, nloops, sloops = reuse_structures(cands, isidx, np.ones(cands.shape[1], np.bool_))
    n = tilings.shape[0]
    chunk = 4096
    for c in prange((n + chunk - 1) // chunk):
        rtab = ReuseTable(start, first, nloops, sloops)  # a namedtuple local cannot cross into the parallel loop
        _batch_range(tilings, c * chunk, min(n, (c + 1) * chunk), arrays, rtab, prof, out, out_pair)
