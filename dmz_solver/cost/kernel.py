"""The exact cost model (cost-model.md §4-§7) as compiled numba kernels.

`tiling_terms` and `pair_cost` evaluate one tiling and one ordering pair (with the energy
breakdown; the reporting path). The minima over a tiling's ordering pairs (`tiling_minima`, the
batch evaluator, the exhaustive search) come from the same formulas regrouped: terms of each
DRAM representative, of each SPM representative, then the pair loop (`pair_minima`), bit-identical
to `pair_cost`. Floating-point sums follow the order the specification fixes, so energies round
exactly as the seed's do. Hot helpers are inlined by numba (inline="always"): a call that is not
costs a reference-count update per array argument, which dominated the evaluation.

Arrays describing a nest and an architecture are packed by `cost.packing`.
A tiling is an int64 array t[level, loop] with levels DRAM, SPM, RF, SPATIAL.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..layout import (  # noqa: F401  (the slots, re-exported for the kernels' users)
    DRAM,
    F_ACCEL_MHZ,
    F_DMA_CPB,
    F_DMA_INIT,
    F_DMA_MHZ,
    F_DRAM,
    F_MAC,
    F_NOC,
    F_PE_UTIL,
    F_RF,
    F_RF_ELEMS,
    F_RF_UTIL,
    F_SPM,
    F_SPM_UTIL,
    I_BANK_BYTES,
    I_BANKS,
    I_BYTES_PER_ELEM,
    I_DMA_ELEM_BYTES,
    I_PES,
    N_FP,
    N_IP,
    RF,
    SP,
    SPM,
    footprint,
)
from ..noc.profile import ARRAY, COL, PI_EN, PI_LAT, R_BW, R_CNT, R_EXTRA, R_HOP, R_LAT, R_UNIT, RED, ROW, UNIT
from ..vocabulary import OBJECTIVES  # noqa: F401

# Integer per-tiling terms (ti array)
T_TC_DRAM, T_TC_SPM, T_TC_RF, T_TC_SP, T_RED, T_G_OUT, T_P_DRAM_OUT, T_RED_ADDS = 0, 1, 2, 3, 4, 5, 6, 7
N_TI = 8
# Breakdown categories
B_MAC, B_RF, B_NOC, B_SPM, B_DRAM = 0, 1, 2, 3, 4
N_BD = 5


@njit(cache=True)
def dma_delta(nbytes, fp):
    """DMA cycles of one invocation, in the seed's double evaluation order (§5.7)."""
    x = fp[F_DMA_CPB] * nbytes
    x = fp[F_DMA_INIT] + x
    ratio = fp[F_ACCEL_MHZ] / fp[F_DMA_MHZ]
    return np.int64(math.ceil(x * ratio))


@njit(cache=True)
def coef_terms(dcoef, ndims):
    """Sparse form (nterms, tloops, tcoefs) of dcoef: the loops with a nonzero coefficient in each
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
    return nterms, tloops, tcoefs


# The per-tiling helpers below take whole arrays and row indices rather than tuples or row views:
# each view or tuple element costs numba a reference-count update, which dominated the evaluation.


@njit(cache=True, inline="always")
def dim_extent(nterms, tloops, tcoefs, op, d, ext, row):
    """Extent of operand dim d of the tile with loop extents ext[row]: 1 + sum(coef * (e - 1)) (§1.5, §1.6)."""
    x = 1
    for k in range(nterms[op, d]):
        x += tcoefs[op, d, k] * (ext[row, tloops[op, d, k]] - 1)
    return x


@njit(cache=True, inline="always")
def box_footprint(t, rowf, column, nterms, tloops, tcoefs, ndims, op, tiles):
    """Footprint of the tiles of one PE column (its loops' row factors) or one PE row (column factors).

    Uses tiles[1] as work space.
    """
    for loop in range(t.shape[1]):
        part = rowf[loop] if column else t[SP, loop] // rowf[loop]
        tiles[1, loop] = t[RF, loop] * part
    x = 1
    for d in range(ndims[op]):
        x *= dim_extent(nterms, tloops, tcoefs, op, d, tiles, 1)
    return x


@njit(cache=True, inline="always")
def pe_terms(t, nterms, tloops, tcoefs, ndims, isidx, fp, iop, fop, tiles, pi, pf, rowf):
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
            d_row = box_footprint(t, rowf, False, nterms, tloops, tcoefs, ndims, op, tiles)
        if pi[op, COL] > 0 or pi[op, PI_EN + COL] > 0:
            d_col = box_footprint(t, rowf, True, nterms, tloops, tcoefs, ndims, op, tiles)
        for loop in range(n_loops):
            tiles[1, loop] = t[RF, loop] * t[SP, loop]
        d_pe = 1
        for d in range(ndims[op]):
            d_pe *= dim_extent(nterms, tloops, tcoefs, op, d, tiles, 1)
        noc = 0
        e_noc = 0.0
        for kind in range(ARRAY + 1):
            foot = d_rf if kind == UNIT else (d_row if kind == ROW else (d_col if kind == COL else d_pe))
            if pi[op, kind] > 0:  # the busiest edge of this kind: elements over bandwidth
                noc = max(noc, np.int64(math.ceil((pi[op, kind] * foot) / pf[op, kind])))
            if pi[op, PI_EN + kind] > 0:
                e_noc += (pi[op, PI_EN + kind] * foot) * pf[op, PI_EN + kind]
        iop[0, op] = noc + pi[op, PI_LAT]
        fop[0, op] = e_noc
        fop[1, op] = d_pe * fp[F_SPM]
    adds = d_rf_out * (g_in - 1) * g_out
    red = 0
    if adds > 0:
        red = np.int64(math.ceil((pi[RED, R_CNT] * d_rf_out) / pf[RED, R_BW])) + pi[RED, R_LAT]
    e_red = adds * pf[RED, R_UNIT]
    e_red_noc = adds * pf[RED, R_HOP]
    if pf[RED, R_EXTRA] != 0:  # adds whose operands travel different ways
        e_red += d_rf_out * pf[RED, R_EXTRA]
        e_red_noc += d_rf_out * pf[RED, R_EXTRA]
    return red, g_out, e_red, adds, e_red_noc


@njit(cache=True, inline="always")
def spm_tile_terms(ext, row, nterms, tloops, tcoefs, ndims, dsize, fp, ip, iop, fop):
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
def terms(t, nterms, tloops, tcoefs, ndims, dsize, isidx, fp, ip, ti, iop, fop, tiles, pi, pf, rowf):
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
    red, g_out, e_red, adds, e_red_noc = pe_terms(t, nterms, tloops, tcoefs, ndims, isidx, fp, iop, fop, tiles, pi, pf,
                                                  rowf)  # fmt: skip
    ti[T_RED] = red
    ti[T_RED_ADDS] = adds
    ti[T_G_OUT] = g_out
    ti[T_P_DRAM_OUT] = p_dram_out
    spm_tile_terms(tiles, 2, nterms, tloops, tcoefs, ndims, dsize, fp, ip, iop, fop)
    macs = ti[T_TC_DRAM] * ti[T_TC_SPM] * ti[T_TC_RF] * ti[T_TC_SP]
    return base_energy(macs, fp), e_red, e_red_noc


@njit(cache=True)
def tiling_terms(t, dcoef, dsize, ndims, isidx, fp, ip, ti, noc, dma, e_noc, e_spm, e_dma, dspm, tiles, prof):
    """Fill the ordering-independent terms of one tiling (§5.1-§5.7, §6.1); prof = (pi, pf, rowf).

    Returns (E_MAC + E_RF, E_red, E_red's NoC part). Per-operand results go to noc (NoC cycles), dma (cycles per
    SPM pass), e_noc, e_spm, e_dma and dspm (D_SPM); tiles (3 x loops) receives the
    cumulative extents e^RF, e^PE, e^SPM.
    """
    nops = ndims.shape[0]
    nterms, tloops, tcoefs = coef_terms(dcoef, ndims)
    iop = np.empty((3, nops), np.int64)
    fop = np.empty((3, nops))
    pi, pf, rowf = prof
    e_base, e_red, e_red_noc = terms(t, nterms, tloops, tcoefs, ndims, dsize, isidx, fp, ip, ti, iop, fop, tiles, pi,
                                     pf, rowf)  # fmt: skip
    noc[:] = iop[0]
    dma[:] = iop[1]
    dspm[:] = iop[2]
    e_noc[:] = fop[0]
    e_spm[:] = fop[1]
    e_dma[:] = fop[2]
    return e_base, e_red, e_red_noc


@njit(cache=True)
def level_reuse(tl, cands, isidx, reps, rep_cand):
    """Unique reuse vectors of one level over the candidate orderings (§3.5, §4.1).

    cands[k] lists the loops innermost first. Writes the vectors to reps and the first
    candidate that shows each to rep_cand; returns how many there are.
    """
    nops = isidx.shape[0]
    n_loops = tl.shape[0]
    count = 0
    r = np.empty(nops, np.int64)
    stopped = np.empty(nops, np.bool_)
    for k in range(cands.shape[0]):
        r[:] = 1
        stopped[:] = False
        live = nops
        for pos in range(n_loops):
            loop = cands[k, pos]
            trips = tl[loop]
            if trips == 1:  # trip-count-1 loops are transparent (§4.1)
                continue
            for op in range(nops):
                if not stopped[op]:
                    if isidx[op, loop]:
                        stopped[op] = True
                        live -= 1
                    else:
                        r[op] *= trips
            if live == 0:
                break
        seen = False
        for j in range(count):
            same = True
            for op in range(nops):
                if reps[j, op] != r[op]:
                    same = False
                    break
            if same:
                seen = True
                break
        if not seen:
            reps[count, :] = r
            rep_cand[count] = k
            count += 1
    return count


@njit(cache=True)
def pair_cost(r_dram, r_spm, ti, noc, dma, e_noc, e_spm, e_dma, e_base, e_red, fp, bd, scratch, e_red_noc=0.0):
    """Energy (rounded, pJ) and cycles of one ordering pair (§4.3, §5.4-§5.8, §6.2-§6.4).

    scratch is an int64 work array of 6 * n_operands entries. If bd has N_BD entries,
    the energy breakdown of §6.5 is written to it (e_red_noc: the NoC part of E_red).
    """
    nops = noc.shape[0]
    spm_passes = ti[T_TC_SPM]
    dram_passes = ti[T_TC_DRAM]
    comp = ti[T_TC_RF]
    red = ti[T_RED]
    skip = scratch[0:nops]
    keys = scratch[nops : 2 * nops]
    comm = scratch[2 * nops : 3 * nops]
    stall = scratch[3 * nops : 4 * nops]
    ukeys = scratch[4 * nops : 5 * nops]
    group = scratch[5 * nops : 6 * nops]
    scratch[nops:] = 0
    for op in range(nops):
        skip[op] = r_dram[op] if (r_spm[op] == spm_passes and r_dram[op] > 1) else 1

    # SPM pass cycles T: NoC groups by SPM reuse, output stall (§5.4, §5.5)
    nkeys = 0
    for op in range(nops):
        if skip[op] != 1:
            continue
        j = 0
        while j < nkeys and keys[j] != r_spm[op]:
            j += 1
        if j == nkeys:
            keys[j] = r_spm[op]
            comm[j] = noc[op]
            nkeys += 1
        elif noc[op] > comm[j]:
            comm[j] = noc[op]
    if skip[0] == 1:
        for j in range(nkeys):
            if keys[j] == r_spm[0]:
                stall[j] += comp + red
    for i in range(1, nkeys):  # ascending keys
        j = i
        while j > 0 and keys[j - 1] > keys[j]:
            keys[j - 1], keys[j] = keys[j], keys[j - 1]
            comm[j - 1], comm[j] = comm[j], comm[j - 1]
            stall[j - 1], stall[j] = stall[j], stall[j - 1]
            j -= 1
    comm1 = comm[0] if keys[0] == 1 else 0
    if keys[0] == 1 and stall[0] > 0:  # [RB] additive T when the output has SPM reuse 1
        base = 0
        spm_pass = 0
    else:
        base = comp
        spm_pass = comp * spm_passes
    for j in range(nkeys):
        if comm[j] > base:
            spm_pass += (comm[j] - base) * spm_passes // keys[j]
            base = comm[j]
        spm_pass += stall[j] * spm_passes // keys[j]

    # Whole-layer cycles: DMA groups by DRAM reuse and miss penalties (§5.8)
    nu = 0
    for op in range(nops):
        load = dma[op]
        if op == 0 and r_dram[0] == 1:  # [RB] store and reload of partial sums
            load = 2 * dma[0]
        j = 0
        while j < nu and ukeys[j] != r_dram[op]:
            j += 1
        if j == nu:
            ukeys[j] = r_dram[op]
            nu += 1
        group[j] += load
    for i in range(1, nu):
        j = i
        while j > 0 and ukeys[j - 1] > ukeys[j]:
            ukeys[j - 1], ukeys[j] = ukeys[j], ukeys[j - 1]
            group[j - 1], group[j] = group[j], group[j - 1]
            j -= 1
    cum1 = group[0]
    spm1 = max(cum1, spm_pass)
    cycles = float(spm1 * dram_passes)
    cum = cum1
    for j in range(1, nu):
        u = ukeys[j]
        cum += group[j]
        for op in range(nops):
            if r_dram[op] != u:
                continue
            pe1 = spm_pass
            pe2 = spm_pass
            dma1 = cum
            dma2 = cum if op == 0 else cum - group[j]  # [RB] dma2 = Cum[u] for the output
            if skip[op] > 1:
                pe2 += max(0, noc[op] - comm1)
                if op == 0:
                    pe1 += red + comp
            miss = max(0, max(dma1, pe1) - spm1) + max(0, max(dma2, pe2) - spm1)
            cycles += miss * dram_passes / u

    # Energy (§6.2-§6.4), summed in operand order
    e_pass = 0.0
    for op in range(nops):
        if skip[op] > 1:
            a = 0.0
        elif op == 0:
            a = 2 * (e_noc[0] + e_spm[0]) + e_red
        else:
            a = e_noc[op] + e_spm[op]
        e_pass += a * (spm_passes / r_spm[op])
    r_out = r_dram[0]
    p_out = ti[T_P_DRAM_OUT]
    psum_reloads = 0.0
    if r_out != dram_passes:
        psum_reloads = p_out * (dram_passes / (p_out * r_out) - 1)
    e_dram_level = 0.0
    for op in range(nops):
        c = e_dma[op] * (dram_passes / r_dram[op])
        if op == 0:
            c += e_dma[0] * psum_reloads
        if skip[op] > 1:
            resident = e_noc[op] + e_spm[op]
            if op == 0:
                resident += e_red
            c += resident * (dram_passes / skip[op])
        e_dram_level += c
    energy = np.int64(np.rint(((e_base) + e_pass * dram_passes) + e_dram_level))

    if bd.shape[0] == N_BD:
        _breakdown(r_dram, r_spm, skip, ti, e_noc, e_spm, e_dma, e_base, e_red_noc, psum_reloads, fp, bd)
    return energy, cycles


@njit(cache=True)
def _breakdown(r_dram, r_spm, skip, ti, e_noc, e_spm, e_dma, e_base, e_red_noc, psum_reloads, fp, bd):
    """Energy by category MAC/RF/NOC/SPM/DRAM for reporting (§6.5); not rounded."""
    nops = e_noc.shape[0]
    spm_passes = ti[T_TC_SPM]
    dram_passes = ti[T_TC_DRAM]
    macs = ti[T_TC_DRAM] * ti[T_TC_SPM] * ti[T_TC_RF] * ti[T_TC_SP]
    red = ti[T_RED_ADDS]
    red_scale = dram_passes * spm_passes / r_spm[0] if skip[0] == 1 else dram_passes / skip[0]
    e_mac = macs * fp[F_MAC]
    bd[B_MAC] = e_mac + red * fp[F_MAC] * red_scale
    bd[B_RF] = (e_base - e_mac) + (red * 3) * fp[F_RF] * red_scale
    noc = 0.0
    spm = 0.0
    dram = 0.0
    for op in range(nops):
        if skip[op] == 1:
            scale = (2.0 if op == 0 else 1.0) * dram_passes * spm_passes / r_spm[op]
        else:
            scale = dram_passes / skip[op]
        noc += e_noc[op] * scale
        spm += e_spm[op] * scale
        dram += e_dma[op] * dram_passes / r_dram[op]
    bd[B_NOC] = noc + e_red_noc * red_scale
    bd[B_SPM] = spm
    bd[B_DRAM] = dram + e_dma[0] * psum_reloads


# Fast path. The per-tiling minima of §7.2 are folded from three kinds of terms: those of each DRAM
# representative (`dram_entry`, a function of the DRAM factors alone), those of each SPM representative
# (`spm_entry`) and the few that need both (`pair_minima`). The sums keep the order of `pair_cost`, so
# every value is bit-identical to it. Tables are 3-D (slot, representative, column) so that the batch
# path (one slot) and the exhaustive search (one slot per factor tuple) share the code.

# Columns of a DRAM entry: integer row (3 + 4 * nops) and float row (1 + 2 * nops)
DI_CUM1, DI_NU, DI_GT1, DI_KEYS = 0, 1, 2, 3  # then keys, cumulative sums, group sums, r_DRAM
DF_ED0, DF_Q = 0, 1  # then F / r_DRAM, then c(op) without the skip term
# Columns of an SPM entry: integer row (3) and float row (1 + nops)
SI_T0, SI_COMM1, SI_FULL = 0, 1, 2
SF_EP0, SF_A = 0, 1
# Columns of an SPM grouping row (3 + 2 * nops): then each operand's group, then TC_SPM / key per group
SG_NK, SG_KEY1, SG_FULL, SG_GRP = 0, 1, 2, 3
MAX_MASK_LOOPS = 12
MAX_MASK_ROWS = 1 << 22


@njit(cache=True, inline="always")
def _inner_allowed(cands, k, m, allowed_inner):
    """Whether candidate k's innermost loop among the mask m (trip count > 1) is allowed innermost."""
    for pos in range(cands.shape[1]):
        loop = cands[k, pos]
        if (m >> loop) & 1:
            return allowed_inner[loop]
    return True


@njit(cache=True)
def reuse_structures(cands, isidx, allowed_inner):
    """Distinct reuse structures of the candidates for every set of loops with trip count > 1 (§4.1).

    Which loops multiply into each operand's reuse factor depends only on the candidate and on the
    set (mask) of loops with trip count > 1, so it is tabulated once per layer. Returns (start,
    first, nloops, sloops): mask m has structures start[m]..start[m+1]-1, ordered by their first
    candidate first[s]; structure s multiplies the trip counts of sloops[s, op, :nloops[s, op]] into
    r(op). A candidate whose innermost loop with trip count > 1 is not in allowed_inner is left out
    (loop-order constraints). For nests too large to tabulate, start has one entry and callers
    scan the candidates (all of them: callers with loop-order constraints must not get there).
    """
    nops, n_loops = isidx.shape
    ncand = cands.shape[0]
    if n_loops > MAX_MASK_LOOPS or (ncand << n_loops) > MAX_MASK_ROWS:
        return (np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros((0, nops), np.int64),
                np.zeros((0, nops, n_loops), np.int64))  # fmt: skip
    nmask = 1 << n_loops
    start = np.zeros(nmask + 1, np.int64)
    sets = np.empty((nmask * ncand, nops), np.int64)
    first = np.empty(nmask * ncand, np.int64)
    cur = np.empty(nops, np.int64)
    count = 0
    for m in range(nmask):
        start[m] = count
        for k in range(ncand):
            if not _inner_allowed(cands, k, m, allowed_inner):
                continue
            cur[:] = 0
            live = (1 << nops) - 1  # operands whose scan goes on
            for pos in range(n_loops):
                loop = cands[k, pos]
                if not (m >> loop) & 1:  # trip-count-1 loops are transparent
                    continue
                for op in range(nops):
                    if (live >> op) & 1:
                        if isidx[op, loop]:
                            live &= ~(1 << op)
                        else:
                            cur[op] |= 1 << loop
                if live == 0:
                    break
            seen = False
            for s in range(start[m], count):
                same = True
                for op in range(nops):
                    if sets[s, op] != cur[op]:
                        same = False
                        break
                if same:
                    seen = True
                    break
            if not seen:
                sets[count] = cur
                first[count] = k
                count += 1
    start[nmask] = count
    nloops = np.zeros((count, nops), np.int64)
    sloops = np.zeros((count, nops, n_loops), np.int64)
    for s in range(count):
        for op in range(nops):
            for loop in range(n_loops):
                if (sets[s, op] >> loop) & 1:
                    sloops[s, op, nloops[s, op]] = loop
                    nloops[s, op] += 1
    return start, first[:count].copy(), nloops, sloops


@njit(cache=True, inline="always")
def level_reps(t, lv, cands, isidx, start, first, nloops, sloops, reps, slot, rep_cand):
    """Unique reuse vectors of level lv of t into reps[slot], rep_cand[slot]; returns their number.

    Same vectors, representatives and order as `level_reuse`: equal structures give equal vectors,
    and the first structure (by first candidate) with a given vector holds the first candidate
    with it, so deduplicating the structures by value keeps §3.5.
    """
    if start.shape[0] == 1:
        return level_reuse(t[lv], cands, isidx, reps[slot], rep_cand[slot])
    nops = reps.shape[2]
    m = 0
    for loop in range(t.shape[1]):
        if t[lv, loop] > 1:
            m |= 1 << loop
    count = 0
    for s in range(start[m], start[m + 1]):
        for op in range(nops):
            r = 1
            for q in range(nloops[s, op]):
                r *= t[lv, sloops[s, op, q]]
            reps[slot, count, op] = r
        seen = False
        for j in range(count):
            same = True
            for op in range(nops):
                if reps[slot, j, op] != reps[slot, count, op]:
                    same = False
                    break
            if same:
                seen = True
                break
        if not seen:
            rep_cand[slot, count] = first[s]
            count += 1
    return count


@njit(cache=True, inline="always")
def level_quotients(tc, n, reps, slot, q):
    """q[slot, k, op] = TC_L / r_L(op), a double as the seed computes it (§5.8, §6.2)."""
    for k in range(n):
        for op in range(reps.shape[2]):
            r = reps[slot, k, op]
            q[slot, k, op] = tc / r if r != 1 else float(tc)  # x / 1 is exact


@njit(cache=True, inline="always")
def dram_entry(dram_passes, p_out, iop, fop, nd, reps, rslot, di, df, slot):
    """The terms of each DRAM representative that no SPM order changes (§5.8, §6.3).

    iop[1] and fop[2] hold the DMA cycles and energies. Per representative j of reps[rslot], into
    di[slot, j] and df[slot, j]: r_DRAM, F / r_DRAM, c(op) of §6.3 without the skip term and its
    sum, the DMA groups by DRAM reuse in ascending key order with their cumulative sums, and the
    mask of operands with r_DRAM > 1 (the ones that can be skipped, §4.3).
    """
    nops = iop.shape[1]
    keys, cums, sums, rdc = DI_KEYS, DI_KEYS + nops, DI_KEYS + 2 * nops, DI_KEYS + 3 * nops
    for j in range(nd):
        r_out = reps[rslot, j, 0]
        psum_reloads = 0.0
        if r_out != dram_passes:
            psum_reloads = p_out * (dram_passes / (p_out * r_out) - 1)
        e_dram_level = 0.0
        gt1 = 0
        for op in range(nops):
            r = reps[rslot, j, op]
            q = dram_passes / r if r != 1 else float(dram_passes)  # x / 1 is exact
            c = fop[2, op] * q
            if op == 0:
                c += fop[2, 0] * psum_reloads
            df[slot, j, DF_Q + op] = q
            df[slot, j, DF_Q + nops + op] = c
            e_dram_level += c
            di[slot, j, rdc + op] = r
            if r > 1:
                gt1 |= 1 << op
        df[slot, j, DF_ED0] = e_dram_level
        nu = 0
        for op in range(nops):
            r = reps[rslot, j, op]
            load = iop[1, op]
            if op == 0 and r == 1:  # [RB] store and reload of partial sums
                load = 2 * iop[1, 0]
            g = 0
            while g < nu and di[slot, j, keys + g] < r:
                g += 1
            if g < nu and di[slot, j, keys + g] == r:
                di[slot, j, sums + g] += load
                continue
            for h in range(nu, g, -1):
                di[slot, j, keys + h] = di[slot, j, keys + h - 1]
                di[slot, j, sums + h] = di[slot, j, sums + h - 1]
            di[slot, j, keys + g] = r
            di[slot, j, sums + g] = load
            nu += 1
        cum = 0
        for g in range(nu):
            cum += di[slot, j, sums + g]
            di[slot, j, cums + g] = cum
        di[slot, j, DI_CUM1] = di[slot, j, cums]
        di[slot, j, DI_NU] = nu
        di[slot, j, DI_GT1] = gt1


@njit(cache=True, inline="always")
def spm_pass_cycles(reps, rslot, i, skipmask, spm_passes, comp, red, iop, scratch):
    """Cycles T of one SPM pass and comm[1] (§5.4, §5.5) for SPM vector reps[rslot, i].

    Operands in skipmask are skipped (§4.3); iop[0] holds the NoC cycles. scratch holds at least
    3 * n_operands int64 entries: keys, comm, stall.
    """
    nops = iop.shape[1]
    nkeys = 0
    for op in range(nops):
        if (skipmask >> op) & 1:
            continue
        e = reps[rslot, i, op]
        g = 0
        while g < nkeys and scratch[g] < e:
            g += 1
        if g < nkeys and scratch[g] == e:
            if iop[0, op] > scratch[nops + g]:
                scratch[nops + g] = iop[0, op]
            continue
        for h in range(nkeys, g, -1):
            scratch[h] = scratch[h - 1]
            scratch[nops + h] = scratch[nops + h - 1]
            scratch[2 * nops + h] = scratch[2 * nops + h - 1]
        scratch[g] = e
        scratch[nops + g] = iop[0, op]
        scratch[2 * nops + g] = 0
        nkeys += 1
    if nkeys == 0:
        return comp * spm_passes, 0
    if not skipmask & 1:
        for g in range(nkeys):
            if scratch[g] == reps[rslot, i, 0]:
                scratch[2 * nops + g] += comp + red
    comm1 = scratch[nops] if scratch[0] == 1 else 0
    if scratch[0] == 1 and scratch[2 * nops] > 0:  # [RB] additive T when the output has SPM reuse 1
        base = 0
        spm_pass = 0
    else:
        base = comp
        spm_pass = comp * spm_passes
    for g in range(nkeys):
        key = scratch[g]
        per = spm_passes // key if key != 1 else spm_passes  # exact: keys divide TC_SPM
        if scratch[nops + g] > base:
            spm_pass += (scratch[nops + g] - base) * per
            base = scratch[nops + g]
        spm_pass += scratch[2 * nops + g] * per
    return spm_pass, comm1


@njit(cache=True, inline="always")
def spm_groups(tc, n, reps, slot, sg):
    """How each SPM representative of reps[slot] groups the operands by r_SPM (§5.4), into sg[slot]:

    the number of distinct values, whether the smallest is 1, the mask of operands with r_SPM =
    TC_SPM (§4.3), each operand's group in ascending key order and TC_SPM / key per group.
    """
    nops = reps.shape[2]
    keys = SG_GRP + nops  # the keys themselves, until replaced by TC / key below
    for i in range(n):
        nk = 0
        full = 0
        for op in range(nops):
            e = reps[slot, i, op]
            if e == tc:
                full |= 1 << op
            g = 0
            while g < nk and sg[slot, i, keys + g] < e:
                g += 1
            if g < nk and sg[slot, i, keys + g] == e:
                continue
            for h in range(nk, g, -1):
                sg[slot, i, keys + h] = sg[slot, i, keys + h - 1]
            sg[slot, i, keys + g] = e
            nk += 1
        for op in range(nops):
            g = 0
            while sg[slot, i, keys + g] != reps[slot, i, op]:
                g += 1
            sg[slot, i, SG_GRP + op] = g
        sg[slot, i, SG_KEY1] = sg[slot, i, keys] == 1
        for g in range(nk):
            key = sg[slot, i, keys + g]
            sg[slot, i, keys + g] = tc // key if key != 1 else tc  # exact: keys divide TC_SPM
        sg[slot, i, SG_NK] = nk
        sg[slot, i, SG_FULL] = full


@njit(cache=True, inline="always")
def spm_entry(spm_passes, comp, red, iop, fop, ns, q, sg, rslot, si, sf, scratch):
    """The terms of each SPM representative when no operand is skipped (§5.5, §6.2).

    fop[3] holds a(op), the per-pass energy of a non-skipped operand, q[rslot, i, op] = TC_SPM /
    r_SPM(op) and sg[rslot] the grouping of `spm_groups`. Per representative i, into si[i] and
    sf[i]: T and comm[1] as `spm_pass_cycles` with no skip, a(op) * q and their sum, and the mask
    of operands that are skipped where their r_DRAM > 1 (§4.3).
    """
    nops = iop.shape[1]
    pers = SG_GRP + nops
    for i in range(ns):
        nk = sg[rslot, i, SG_NK]
        for g in range(nk):
            scratch[g] = 0
        for op in range(nops):  # comm[key]: the largest NoC time of the group (all D_PE >= 1)
            g = sg[rslot, i, SG_GRP + op]
            if iop[0, op] > scratch[g]:
                scratch[g] = iop[0, op]
        g_out = sg[rslot, i, SG_GRP]  # the output's group takes its stall (comp + red > 0)
        key1 = sg[rslot, i, SG_KEY1]
        comm1 = scratch[0] if key1 else 0
        if key1 and g_out == 0:  # [RB] additive T when the output has SPM reuse 1
            base = 0
            spm_pass = 0
        else:
            base = comp
            spm_pass = comp * spm_passes
        for g in range(nk):
            per = sg[rslot, i, pers + g]
            if scratch[g] > base:
                spm_pass += (scratch[g] - base) * per
                base = scratch[g]
            if g == g_out:
                spm_pass += (comp + red) * per
        e_pass = 0.0
        for op in range(nops):
            v = fop[3, op] * q[rslot, i, op]
            sf[i, SF_A + op] = v
            e_pass += v
        si[i, SI_T0] = spm_pass
        si[i, SI_COMM1] = comm1
        si[i, SI_FULL] = sg[rslot, i, SG_FULL]
        sf[i, SF_EP0] = e_pass


@njit(cache=True, inline="always")
def _record_pair(best_pair, row, obj, spm_rep, dram_rep, spm_cand, dram_cand):
    """best_pair[row, obj] = the pair that reached objective obj's new minimum."""
    best_pair[row, obj, 0] = spm_rep
    best_pair[row, obj, 1] = dram_rep
    best_pair[row, obj, 2] = spm_cand
    best_pair[row, obj, 3] = dram_cand


@njit(cache=True, inline="always")
def pair_minima(ns, reps, rslot, s_cand, si, sf, nd, d_cand, cslot, di, df, dslot, spm_passes, dram_passes, comp, red,
                iop, fop, e_base, scratch, best, best_pair, row):  # fmt: skip
    """Fold every ordering pair of one tiling, in pair order (§3.5), into the running minima best[row].

    The SPM representatives are reps[rslot] with candidates s_cand[rslot] and entries si, sf; the
    DRAM ones have candidates d_cand[cslot] and entries di[dslot], df[dslot] (the exhaustive search
    keys its DRAM entries by the SPM tile and its candidates by the DRAM tuple, so the slots differ). iop[0] is the NoC
    cycles and fop[4] the resident energy of a skipped operand (§6.3). A pair replaces best[row,
    obj] only if strictly smaller, so best_pair[row, obj] = (SPM rep, DRAM rep, SPM candidate, DRAM
    candidate) is the first pair that reaches the minimum (§7.2). Returns the mask of objectives
    improved. Values equal `pair_cost` bit for bit: a skipped operand adds exactly 0.0 to its
    energy sums there and is left out here.
    """
    nops = iop.shape[1]
    keys, cums, sums, rdc = DI_KEYS, DI_KEYS + nops, DI_KEYS + 2 * nops, DI_KEYS + 3 * nops
    best_e, best_c, best_edp = best[row, 0], best[row, 1], best[row, 2]  # locals: no reloads after stores
    improved = 0
    for i in range(ns):
        full = si[i, SI_FULL]
        pass_part = e_base + sf[i, SF_EP0] * dram_passes  # the first sum of §6.4 when nothing is skipped
        for j in range(nd):
            skip = full & di[dslot, j, DI_GT1]
            if skip == 0:
                spm_pass = si[i, SI_T0]
                comm1 = si[i, SI_COMM1]
                energy = np.rint(pass_part + df[dslot, j, DF_ED0])
            else:
                spm_pass, comm1 = spm_pass_cycles(reps, rslot, i, skip, spm_passes, comp, red, iop, scratch)
                e_pass = 0.0
                e_dram_level = 0.0
                for op in range(nops):
                    c = df[dslot, j, DF_Q + nops + op]
                    if (skip >> op) & 1:
                        c += fop[4, op] * df[dslot, j, DF_Q + op]  # F / s(op) with s(op) = r_DRAM(op)
                    else:
                        e_pass += sf[i, SF_A + op]
                    e_dram_level += c
                energy = np.rint((e_base + e_pass * dram_passes) + e_dram_level)
            spm1 = max(di[dslot, j, DI_CUM1], spm_pass)
            cycles = float(spm1 * dram_passes)
            for g in range(1, di[dslot, j, DI_NU]):  # miss penalties (§5.8)
                u = di[dslot, j, keys + g]
                cum = di[dslot, j, cums + g]
                for op in range(nops):
                    if di[dslot, j, rdc + op] != u:
                        continue
                    pe1 = spm_pass
                    pe2 = spm_pass
                    dma2 = cum if op == 0 else cum - di[dslot, j, sums + g]  # [RB] dma2 = Cum[u] for the output
                    if (skip >> op) & 1:
                        pe2 += max(0, iop[0, op] - comm1)
                        if op == 0:
                            pe1 += red + comp
                    miss = max(0, max(cum, pe1) - spm1) + max(0, max(dma2, pe2) - spm1)
                    cycles += miss * dram_passes / u
            edp = energy * cycles
            if energy < best_e or cycles < best_c or edp < best_edp:  # rare: one test on the common path
                if energy < best_e:
                    best_e = energy
                    improved |= 1
                    _record_pair(best_pair, row, 0, i, j, s_cand[rslot, i], d_cand[cslot, j])
                if cycles < best_c:
                    best_c = cycles
                    improved |= 2
                    _record_pair(best_pair, row, 1, i, j, s_cand[rslot, i], d_cand[cslot, j])
                if edp < best_edp:
                    best_edp = edp
                    improved |= 4
                    _record_pair(best_pair, row, 2, i, j, s_cand[rslot, i], d_cand[cslot, j])
    best[row, 0] = best_e
    best[row, 1] = best_c
    best[row, 2] = best_edp
    return improved


@njit(cache=True, inline="always")
def pass_energies(e_red, fop):
    """a(op) of a non-skipped operand (§6.2) into fop[3], the resident energy of a skipped one (§6.3) into fop[4]."""
    for op in range(fop.shape[1]):
        fop[4, op] = fop[0, op] + fop[1, op]
        if op == 0:
            fop[3, 0] = 2 * (fop[0, 0] + fop[1, 0]) + e_red
            fop[4, 0] += e_red
        else:
            fop[3, op] = fop[0, op] + fop[1, op]


@njit(cache=True, inline="always")
def minima_at(tilings, b, nterms, tloops, tcoefs, dsize, ndims, isidx, cands, fp, ip, rtab, prof, ti, iop, fop, reps,
              rep_cand, qs, sg, di, df, si, sf, scratch, tiles, out, out_pair):  # fmt: skip
    """Minima of tiling tilings[b] over its ordering pairs (§7.2) into out[b], out_pair[b] (see tiling_minima).

    rtab = reuse_structures(...); prof = (pi, pf, rowf, which): tiling b has the profile pi[which[b]],
    pf[which[b]] and row factors rowf[which[b]] (noc/profile.py).
    (At most 30 arguments: beyond, Python 3.11 passes them as *args, which numba cannot inline.)
    """
    t = tilings[b]
    rstart, rfirst, rnloops, rsloops = rtab
    pis, pfs, rowfs, which = prof
    p = which[b]
    e_base, e_red, _ = terms(t, nterms, tloops, tcoefs, ndims, dsize, isidx, fp, ip, ti, iop, fop, tiles, pis[p],
                             pfs[p], rowfs[p])  # fmt: skip
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
    pair_minima(ns, reps, 1, rep_cand, si, sf, nd, rep_cand, 0, di, df, 0, spm_passes, dram_passes, comp, red, iop, fop,
                e_base, scratch, out, out_pair, b)  # fmt: skip


@njit(cache=True)
def make_workspace(nops, ncand, n_loops):
    """Work arrays for tiling_minima, allocated once per thread instead of per tiling."""
    return (
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
def tiling_minima(t, dcoef, dsize, ndims, isidx, cands, fp, ip, best, best_pair, ws, prof):
    """Minimum energy, cycles and EDP of one tiling over its ordering pairs (§7.2).

    best[obj] receives each minimum (float64) and best_pair[obj] = (SPM rep, DRAM rep,
    SPM candidate, DRAM candidate) of the first pair that reaches it, in pair order.
    prof = (pi, pf, rowf) of its spatial unrolling. Builds the layer tables per call;
    evaluate_batch builds them once.
    """
    pi, pf, rowf = prof
    ti, iop, fop, reps, rep_cand, qs, sg, di, df, si, sf, scratch, tiles = ws
    nterms, tloops, tcoefs = coef_terms(dcoef, ndims)
    none = np.zeros(1, np.int64)  # no reuse-structure table: scan the candidates
    rtab = (none, none, none.reshape(1, 1), none.reshape(1, 1, 1))
    single = (pi.reshape(1, pi.shape[0], pi.shape[1]), pf.reshape(1, pf.shape[0], pf.shape[1]), rowf.reshape(1, -1),
              np.zeros(1, np.int64))  # fmt: skip
    minima_at(t.reshape(1, 4, -1), 0, nterms, tloops, tcoefs, dsize, ndims, isidx, cands, fp, ip, rtab, single, ti, iop,
              fop, reps, rep_cand, qs, sg, di, df, si, sf, scratch, tiles, best.reshape(1, 3),
              best_pair.reshape(1, 3, 4))  # fmt: skip


@njit(cache=True)
def _batch_range(tilings, lo, hi, dcoef, dsize, ndims, isidx, cands, fp, ip, rtab, out, out_pair, prof):
    """Minima of tilings[lo:hi] into out, out_pair with one workspace."""
    nops, ncand, n_loops = ndims.shape[0], cands.shape[0], cands.shape[1]
    nterms, tloops, tcoefs = coef_terms(dcoef, ndims)
    ti, iop, fop, reps, rep_cand, qs, sg, di, df, si, sf, scratch, tiles = make_workspace(nops, ncand, n_loops)
    for b in range(lo, hi):
        minima_at(tilings, b, nterms, tloops, tcoefs, dsize, ndims, isidx, cands, fp, ip, rtab, prof, ti, iop, fop,
                  reps, rep_cand, qs, sg, di, df, si, sf, scratch, tiles, out, out_pair)  # fmt: skip


@njit(cache=True)
def evaluate_batch(tilings, dcoef, dsize, ndims, isidx, cands, fp, ip, out, out_pair, prof):
    """Per-tiling minima of a batch: out[b, obj], out_pair[b, obj, :] (see tiling_minima).

    prof = (pi, pf, rowf, which): the profiles of the batch's unrollings and which one each tiling has.
    """
    rtab = reuse_structures(cands, isidx, np.ones(cands.shape[1], np.bool_))
    _batch_range(tilings, 0, tilings.shape[0], dcoef, dsize, ndims, isidx, cands, fp, ip, rtab, out, out_pair, prof)


@njit(cache=True, parallel=True)
def evaluate_batch_parallel(tilings, dcoef, dsize, ndims, isidx, cands, fp, ip, out, out_pair, prof):
    """evaluate_batch over all cores in chunks; the results do not depend on the thread count."""
    rtab = reuse_structures(cands, isidx, np.ones(cands.shape[1], np.bool_))
    n = tilings.shape[0]
    chunk = 4096
    for c in prange((n + chunk - 1) // chunk):
        _batch_range(tilings, c * chunk, min(n, (c + 1) * chunk), dcoef, dsize, ndims, isidx, cands, fp, ip, rtab, out,
                     out_pair, prof)  # fmt: skip


@njit(cache=True)
def evaluate_pairs(t, dcoef, dsize, ndims, isidx, cands, fp, ip, energy, cycles, bd, cand_ids, prof):
    """Every ordering pair of one tiling in pair order: energy, cycles, breakdown, candidates; prof = (pi, pf, rowf).

    Returns the number of pairs written.
    """
    nops = ndims.shape[0]
    ti = np.empty(N_TI, np.int64)
    noc = np.empty(nops, np.int64)
    dma = np.empty(nops, np.int64)
    dspm = np.empty(nops, np.int64)
    e_noc = np.empty(nops)
    e_spm = np.empty(nops)
    e_dma = np.empty(nops)
    tiles = np.empty((3, t.shape[1]), np.int64)
    e_base, e_red, e_red_noc = tiling_terms(t, dcoef, dsize, ndims, isidx, fp, ip, ti, noc, dma, e_noc, e_spm, e_dma,
                                            dspm, tiles, prof)  # fmt: skip
    ncand = cands.shape[0]
    reps_d = np.empty((ncand, nops), np.int64)
    reps_s = np.empty((ncand, nops), np.int64)
    cand_d = np.empty(ncand, np.int64)
    cand_s = np.empty(ncand, np.int64)
    nd = level_reuse(t[DRAM], cands, isidx, reps_d, cand_d)
    ns = level_reuse(t[SPM], cands, isidx, reps_s, cand_s)
    scratch = np.empty(6 * nops, np.int64)
    k = 0
    for i in range(ns):
        for j in range(nd):
            energy[k], cycles[k] = pair_cost(
                reps_d[j], reps_s[i], ti, noc, dma, e_noc, e_spm, e_dma, e_base, e_red, fp, bd[k], scratch, e_red_noc
            )
            cand_ids[k, 0] = cand_s[i]
            cand_ids[k, 1] = cand_d[j]
            k += 1
    return k


@njit(cache=True)
def fixed_pair(t, dcoef, dsize, ndims, isidx, order_dram, order_spm, fp, ip, bd, prof):
    """Energy and cycles of one tiling under given DRAM and SPM orders (innermost first); prof = (pi, pf, rowf)."""
    nops = ndims.shape[0]
    ti = np.empty(N_TI, np.int64)
    noc = np.empty(nops, np.int64)
    dma = np.empty(nops, np.int64)
    dspm = np.empty(nops, np.int64)
    e_noc = np.empty(nops)
    e_spm = np.empty(nops)
    e_dma = np.empty(nops)
    tiles = np.empty((3, t.shape[1]), np.int64)
    e_base, e_red, e_red_noc = tiling_terms(t, dcoef, dsize, ndims, isidx, fp, ip, ti, noc, dma, e_noc, e_spm, e_dma,
                                            dspm, tiles, prof)  # fmt: skip
    reps_d = np.empty((1, nops), np.int64)
    reps_s = np.empty((1, nops), np.int64)
    cand = np.empty(1, np.int64)
    level_reuse(t[DRAM], order_dram.reshape(1, -1), isidx, reps_d, cand)
    level_reuse(t[SPM], order_spm.reshape(1, -1), isidx, reps_s, cand)
    scratch = np.empty(6 * nops, np.int64)
    return pair_cost(reps_d[0], reps_s[0], ti, noc, dma, e_noc, e_spm, e_dma, e_base, e_red, fp, bd, scratch, e_red_noc)
