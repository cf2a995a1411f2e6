"""Per-tiling terms of the cost model that no loop order changes (docs/cost-model.md §5.1-§5.7, §6.1).

Everything here is a function of one tiling and its spatial unrolling's communication profile:
trip counts, NoC and reduction terms of the PE array, the SPM tile's DMA terms and the energy of
the MACs and RF accesses. The helpers take whole arrays and row indices rather than tuples or row
views: each view or tuple element costs numba a reference-count update, which dominated the
evaluation, so the hot ones are inlined (inline="always").
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ..jit import njit
from ..layout import (
    DRAM,
    F_ACCEL_MHZ,
    F_DMA_CPB,
    F_DMA_INIT,
    F_DMA_MHZ,
    F_DRAM,
    F_MAC,
    F_RF,
    F_SPM,
    I_BANK_BYTES,
    I_BYTES_PER_ELEM,
    I_DMA_ELEM_BYTES,
    RF,
    SP,
    SPM,
)
from ..noc.profile import ARRAY, COL, PI_EN, PI_LAT, R_BW, R_CNT, R_EXTRA, R_HOP, R_LAT, R_UNIT, RED, ROW, UNIT

# Integer per-tiling terms (ti array)
T_TC_DRAM, T_TC_SPM, T_TC_RF, T_TC_SP, T_RED, T_G_OUT, T_P_DRAM_OUT, T_RED_ADDS = 0, 1, 2, 3, 4, 5, 6, 7
N_TI = 8

CoefTerms = namedtuple("CoefTerms", "nterms tloops tcoefs")
"""Sparse form of dcoef (see coef_terms)."""


@njit(cache=True)
def dma_delta(nbytes, fp):
    """DMA cycles of one invocation, in the seed's double evaluation order (§5.7)."""
    x = fp[F_DMA_CPB] * nbytes
    x = fp[F_DMA_INIT] + x
    ratio = fp[F_ACCEL_MHZ] / fp[F_DMA_MHZ]
    return np.int64(math.ceil(x * ratio))


@njit(cache=True)
def coef_terms(dcoef, ndims):
    """Sparse form CoefTerms(nterms, tloops, tcoefs) of dcoef: the loops with a nonzero coefficient in each
    operand dim, in loop order. Most dims have one or two, so footprints from it cost a few products.
    """
    nops, max_dims, n_loops = dcoef.shape
    nterms = np.zeros((nops, max_dims), np.int64)
    tloops = np.zeros((nops, max_dims, n_loops), np.int64)
    tcoefs = np.zeros((nops, max_dims, n_loops), np.int64)
    for op in range(nops):
        for d in range(ndims[op]):
            for loop in range(n_loops):
                if dcoef[op, d, loop] != 0:
                    tloops[op, d, nterms[op, d]] = loop
                    tcoefs[op, d, nterms[op, d]] = dcoef[op, d, loop]
                    nterms[op, d] += 1
    return CoefTerms(nterms, tloops, tcoefs)


@njit(cache=True, inline="always")
def dim_extent(nterms, tloops, tcoefs, op, d, ext, row):  # noqa: PLR0917 - numba kernel: inlined per tiling, flat args, see bench/README.md
    """Extent of operand dim d of the tile with loop extents ext[row]: 1 + sum(coef * (e - 1)) (§1.5, §1.6)."""
    x = 1
    for k in range(nterms[op, d]):
        x += tcoefs[op, d, k] * (ext[row, tloops[op, d, k]] - 1)
    return x


@njit(cache=True, inline="always")
def edge_cycles(elements, bandwidth):
    """Cycles to move `elements` over one network edge of `bandwidth` elements per cycle (rounded up)."""
    return np.int64(math.ceil(elements / bandwidth))


@njit(cache=True, inline="always")
def box_footprint(t, rowf, column, nterms, tloops, tcoefs, ndims, op):  # noqa: PLR0917 - numba kernel: inlined per tiling, flat args, see bench/README.md
    """Footprint of the tiles of one PE column (its loops' row factors) or one PE row (column factors): each loop's
    extent is its RF factor times that part of its spatial factor (dim_extent over those extents)."""
    x = 1
    for d in range(ndims[op]):
        e = 1
        for k in range(nterms[op, d]):
            loop = tloops[op, d, k]
            part = rowf[loop] if column else t[SP, loop] // rowf[loop]
            e += tcoefs[op, d, k] * (t[RF, loop] * part - 1)
        x *= e
    return x


@njit(cache=True, inline="always")
def pe_terms(t, nterms, tloops, tcoefs, ndims, isidx, fp, iop, fop, tiles, pi, pf, rowf):  # noqa: C901, PLR0917 - numba kernel: inlined per tiling, flat, see bench/README.md
    """Terms fixed by the RF and spatial factors of t (§5.2, §5.3, §6.1): (red, G_out, E_red, adds, E_red's NoC part).

    pi, pf are the communication profile of t's spatial unrolling and rowf its row factors
    (noc/profile.py; the seed's bus gives noc = D_PE, E_noc = D_RF * fanout * e_noc and the serial
    reduction). Writes the NoC cycles to iop[0] and the per-pass NoC and SPM energies to fop[0] and
    fop[1]; tiles[1] receives the PE-array tile e^PE. adds counts the reduction's additions.
    """
    n_loops = t.shape[1]
    tc_sp = 1
    g_out = 1
    for loop in range(n_loops):
        tiles[1, loop] = t[RF, loop] * t[SP, loop]
        tc_sp *= t[SP, loop]
        if isidx[0, loop]:
            g_out *= t[SP, loop]
    g_in = tc_sp // g_out
    d_rf_out = 1
    for op in range(iop.shape[1]):
        d_rf = 1
        for d in range(ndims[op]):
            d_rf *= dim_extent(nterms, tloops, tcoefs, op, d, t, RF)
        if op == 0:
            d_rf_out = d_rf
        d_row = 0  # footprints of the tiles of one PE row and of one PE column (profile kinds 1, 2)
        d_col = 0
        if pi[op, ROW] > 0 or pi[op, PI_EN + ROW] > 0:
            d_row = box_footprint(t, rowf, False, nterms, tloops, tcoefs, ndims, op)
        if pi[op, COL] > 0 or pi[op, PI_EN + COL] > 0:
            d_col = box_footprint(t, rowf, True, nterms, tloops, tcoefs, ndims, op)
        d_pe = 1
        for d in range(ndims[op]):
            d_pe *= dim_extent(nterms, tloops, tcoefs, op, d, tiles, 1)
        noc = 0
        e_noc = 0.0
        for kind in range(ARRAY + 1):
            foot = d_rf if kind == UNIT else (d_row if kind == ROW else (d_col if kind == COL else d_pe))
            if pi[op, kind] > 0:  # the busiest edge of this kind: elements over bandwidth
                noc = max(noc, edge_cycles(pi[op, kind] * foot, pf[op, kind]))
            if pi[op, PI_EN + kind] > 0:
                e_noc += (pi[op, PI_EN + kind] * foot) * pf[op, PI_EN + kind]
        iop[0, op] = noc + pi[op, PI_LAT]
        fop[0, op] = e_noc
        fop[1, op] = d_pe * fp[F_SPM]
    adds = d_rf_out * (g_in - 1) * g_out
    red = 0
    if adds > 0:
        red = edge_cycles(pi[RED, R_CNT] * d_rf_out, pf[RED, R_BW]) + pi[RED, R_LAT]
    e_red = adds * pf[RED, R_UNIT]
    e_red_noc = adds * pf[RED, R_HOP]
    if pf[RED, R_EXTRA] != 0:  # adds whose operands travel different ways
        e_red += d_rf_out * pf[RED, R_EXTRA]
        e_red_noc += d_rf_out * pf[RED, R_EXTRA]
    return red, g_out, e_red, adds, e_red_noc


@njit(cache=True, inline="always")
def spm_tile_terms(ext, row, nterms, tloops, tcoefs, ndims, dsize, fp, ip, iop, fop):  # noqa: PLR0917 - numba kernel: inlined per tiling, flat args, see bench/README.md
    """Terms fixed by the SPM tile e^SPM = ext[row] (§5.6, §5.7, §6.1).

    Writes the DMA cycles per SPM pass to iop[1], D_SPM to iop[2] and the DMA energy to fop[2];
    returns (SPM bytes, SPM banks) for the checks of §3.2.
    """
    nbytes = 0
    banks = 0
    for op in range(iop.shape[1]):
        # DMA bursts: contiguous innermost dims plus the first partial one (§5.6)
        burst = 1
        ncalls = 1
        partial = False
        for d in range(ndims[op] - 1, -1, -1):
            x = dim_extent(nterms, tloops, tcoefs, op, d, ext, row)
            if partial:
                ncalls *= x
            else:
                burst *= x
                if x != dsize[op, d]:
                    partial = True
        iop[2, op] = ncalls * burst  # the product of the box extents is D_SPM
        iop[1, op] = ncalls * dma_delta(burst * ip[I_DMA_ELEM_BYTES], fp)
        fop[2, op] = (ncalls * burst) * fp[F_DRAM]
        b = iop[2, op] * ip[I_BYTES_PER_ELEM]
        nbytes += b
        banks += (b + ip[I_BANK_BYTES] - 1) // ip[I_BANK_BYTES]
    return nbytes, banks


@njit(cache=True, inline="always")
def base_energy(macs, fp):
    """E_MAC + E_RF (§6.1): a function of the MAC count alone."""
    e_mac = macs * fp[F_MAC]
    e_rf_total = (3 * macs) * fp[F_RF] + (1 * macs) * fp[F_RF]
    return e_mac + e_rf_total


@njit(cache=True, inline="always")
def terms(t, nterms, tloops, tcoefs, ndims, dsize, isidx, fp, ip, ti, iop, fop, tiles, pi, pf, rowf):  # noqa: PLR0917 - numba kernel: inlined per tiling, flat args, see bench/README.md
    """The ordering-independent terms of one tiling (§5.1-§5.7, §6.1): (E_MAC + E_RF, E_red, E_red's NoC part).

    ti receives the trip counts, red, G_out, P_DRAM(ω) and the reduction's additions; iop rows NoC
    cycles, DMA cycles, D_SPM; fop rows E_noc, E_spm, E_dma; tiles rows e^RF, e^PE, e^SPM. pi, pf,
    rowf: the communication profile of t's spatial unrolling (pe_terms).
    """
    n_loops = t.shape[1]
    for lv in range(4):
        tc = 1
        for loop in range(n_loops):
            tc *= t[lv, loop]
        ti[lv] = tc
    p_dram_out = 1
    for loop in range(n_loops):
        tiles[0, loop] = t[RF, loop]
        tiles[2, loop] = t[RF, loop] * t[SP, loop] * t[SPM, loop]
        if isidx[0, loop]:
            p_dram_out *= t[DRAM, loop]
    red, g_out, e_red, adds, e_red_noc = pe_terms(
        t, nterms, tloops, tcoefs, ndims, isidx, fp, iop, fop, tiles, pi, pf, rowf
    )
    ti[T_RED] = red
    ti[T_RED_ADDS] = adds
    ti[T_G_OUT] = g_out
    ti[T_P_DRAM_OUT] = p_dram_out
    spm_tile_terms(tiles, 2, nterms, tloops, tcoefs, ndims, dsize, fp, ip, iop, fop)
    macs = ti[T_TC_DRAM] * ti[T_TC_SPM] * ti[T_TC_RF] * ti[T_TC_SP]
    return base_energy(macs, fp), e_red, e_red_noc
