"""The exact cost model (cost-model.md §4-§7) as compiled numba kernels.

One implementation serves every caller: `tiling_terms` and `pair_cost` evaluate one
tiling and one ordering pair, `tiling_minima` takes the minima over a tiling's ordering
pairs, and the batch evaluator and the exhaustive search call the same functions.
Floating-point sums follow the order the specification fixes, so energies round exactly
as the seed's do.

Arrays describing a nest and an architecture are packed by `cost.packing`.
A tiling is an int64 array t[level, loop] with levels DRAM, SPM, RF, SPATIAL.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

DRAM, SPM, RF, SP = 0, 1, 2, 3

# Float parameters (fp array)
F_MAC, F_RF, F_NOC, F_SPM, F_DRAM = 0, 1, 2, 3, 4
F_DMA_INIT, F_DMA_CPB, F_ACCEL_MHZ, F_DMA_MHZ = 5, 6, 7, 8
F_RF_ELEMS, F_PE_UTIL, F_RF_UTIL, F_SPM_UTIL = 9, 10, 11, 12
N_FP = 13
# Integer parameters (ip array)
I_PES, I_BYTES_PER_ELEM, I_BANKS, I_BANK_BYTES, I_DMA_ELEM_BYTES = 0, 1, 2, 3, 4
N_IP = 5
# Integer per-tiling terms (ti array)
T_TC_DRAM, T_TC_SPM, T_TC_RF, T_TC_SP, T_RED, T_G_OUT, T_P_DRAM_OUT = 0, 1, 2, 3, 4, 5, 6
N_TI = 7
# Breakdown categories
B_MAC, B_RF, B_NOC, B_SPM, B_DRAM = 0, 1, 2, 3, 4
N_BD = 5
OBJECTIVES = ("energy", "cycles", "edp")


@njit(cache=True)
def footprint(dcoef, ndims, op, ext):
    """D(op, e): product over the operand's dims of 1 + sum(coef * (e - 1)) (§1.5)."""
    total = 1
    for d in range(ndims[op]):
        x = 1
        for loop in range(ext.shape[0]):
            x += dcoef[op, d, loop] * (ext[loop] - 1)
        total *= x
    return total


@njit(cache=True)
def dma_delta(nbytes, fp):
    """DMA cycles of one invocation, in the seed's double evaluation order (§5.7)."""
    x = fp[F_DMA_CPB] * nbytes
    x = fp[F_DMA_INIT] + x
    ratio = fp[F_ACCEL_MHZ] / fp[F_DMA_MHZ]
    return np.int64(math.ceil(x * ratio))


@njit(cache=True)
def tiling_terms(t, dcoef, dsize, ndims, isidx, fp, ip, ti, noc, dma, e_noc, e_spm, e_dma, dspm, tiles):
    """Fill the ordering-independent terms of one tiling (§5.1-§5.7, §6.1).

    Returns (E_MAC + E_RF, E_red). Per-operand results go to noc (D_PE), dma (cycles per
    SPM pass), e_noc, e_spm, e_dma and dspm (D_SPM); tiles (3 x loops) receives the
    cumulative extents e^RF, e^PE, e^SPM.
    """
    n_loops = t.shape[1]
    nops = ndims.shape[0]
    e_rf, e_pe, e_sp = tiles[0], tiles[1], tiles[2]
    for lv in range(4):
        tc = 1
        for loop in range(n_loops):
            tc *= t[lv, loop]
        ti[lv] = tc
    g_out = 1
    p_dram_out = 1
    for loop in range(n_loops):
        e_rf[loop] = t[RF, loop]
        e_pe[loop] = t[RF, loop] * t[SP, loop]
        e_sp[loop] = e_pe[loop] * t[SPM, loop]
        if isidx[0, loop]:
            g_out *= t[SP, loop]
            p_dram_out *= t[DRAM, loop]
    macs = ti[T_TC_DRAM] * ti[T_TC_SPM] * ti[T_TC_RF] * ti[T_TC_SP]
    g_in = ti[T_TC_SP] // g_out
    d_rf_out = footprint(dcoef, ndims, 0, e_rf)
    red = d_rf_out * (g_in - 1) * g_out
    ti[T_RED] = red
    ti[T_G_OUT] = g_out
    ti[T_P_DRAM_OUT] = p_dram_out
    for op in range(nops):
        d_rf = footprint(dcoef, ndims, op, e_rf)
        noc[op] = footprint(dcoef, ndims, op, e_pe)
        dspm[op] = footprint(dcoef, ndims, op, e_sp)
        # DMA bursts: contiguous innermost dims plus the first partial one (§5.6)
        burst = 1
        ncalls = 1
        partial = False
        for d in range(ndims[op] - 1, -1, -1):
            x = 1
            for loop in range(n_loops):
                x += dcoef[op, d, loop] * (e_sp[loop] - 1)
            if partial:
                ncalls *= x
            else:
                burst *= x
                if x != dsize[op, d]:
                    partial = True
        dma[op] = ncalls * dma_delta(burst * ip[I_DMA_ELEM_BYTES], fp)
        fanout = g_out if op == 0 else ti[T_TC_SP]
        e_noc[op] = (d_rf * fanout) * fp[F_NOC]
        e_spm[op] = noc[op] * fp[F_SPM]
        e_dma[op] = (ncalls * burst) * fp[F_DRAM]
    e_mac = macs * fp[F_MAC]
    e_rf_total = (3 * macs) * fp[F_RF] + (1 * macs) * fp[F_RF]
    unit_red = (3 * fp[F_RF] + fp[F_NOC]) + fp[F_MAC]
    return e_mac + e_rf_total, red * unit_red


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
def pair_cost(r_dram, r_spm, ti, noc, dma, e_noc, e_spm, e_dma, e_base, e_red, fp, bd, scratch):
    """Energy (rounded, pJ) and cycles of one ordering pair (§4.3, §5.4-§5.8, §6.2-§6.4).

    scratch is an int64 work array of 6 * n_operands entries. If bd has N_BD entries,
    the energy breakdown of §6.5 is written to it.
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
        _breakdown(r_dram, r_spm, skip, ti, e_noc, e_spm, e_dma, e_base, psum_reloads, fp, bd)
    return energy, cycles


@njit(cache=True)
def _breakdown(r_dram, r_spm, skip, ti, e_noc, e_spm, e_dma, e_base, psum_reloads, fp, bd):
    """Energy by category MAC/RF/NOC/SPM/DRAM for reporting (§6.5); not rounded."""
    nops = e_noc.shape[0]
    spm_passes = ti[T_TC_SPM]
    dram_passes = ti[T_TC_DRAM]
    macs = ti[T_TC_DRAM] * ti[T_TC_SPM] * ti[T_TC_RF] * ti[T_TC_SP]
    red = ti[T_RED]
    if skip[0] == 1:
        red_scale = dram_passes * spm_passes / r_spm[0]
    else:
        red_scale = dram_passes / skip[0]
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
    bd[B_NOC] = noc + red * fp[F_NOC] * red_scale
    bd[B_SPM] = spm
    bd[B_DRAM] = dram + e_dma[0] * psum_reloads


@njit(cache=True)
def make_workspace(nops, ncand, n_loops):
    """Work arrays for tiling_minima, allocated once per thread instead of per tiling."""
    return (
        np.empty(N_TI, np.int64),  # ti
        np.empty((3, nops), np.int64),  # noc, dma, dspm
        np.empty((3, nops)),  # e_noc, e_spm, e_dma
        np.empty((2, ncand, nops), np.int64),  # DRAM and SPM reuse vectors
        np.empty((2, ncand), np.int64),  # their first candidates
        np.empty(6 * nops, np.int64),  # pair_cost scratch
        np.empty((3, n_loops), np.int64),  # cumulative tile extents
    )


@njit(cache=True)
def tiling_minima(t, dcoef, dsize, ndims, isidx, cands, fp, ip, best, best_pair, ws):
    """Minimum energy, cycles and EDP of one tiling over its ordering pairs (§7.2).

    best[obj] receives each minimum (float64) and best_pair[obj] = (SPM rep, DRAM rep,
    SPM candidate, DRAM candidate) of the first pair that reaches it, in pair order.
    """
    ti, ints, floats, reps, rep_cand, scratch, tiles = ws
    noc, dma, dspm = ints[0], ints[1], ints[2]
    e_noc, e_spm, e_dma = floats[0], floats[1], floats[2]
    e_base, e_red = tiling_terms(t, dcoef, dsize, ndims, isidx, fp, ip, ti, noc, dma, e_noc, e_spm, e_dma, dspm, tiles)
    nd = level_reuse(t[DRAM], cands, isidx, reps[0], rep_cand[0])
    ns = level_reuse(t[SPM], cands, isidx, reps[1], rep_cand[1])
    no_bd = np.empty(0)
    best[:] = np.inf
    for i in range(ns):
        for j in range(nd):
            energy, cycles = pair_cost(
                reps[0, j], reps[1, i], ti, noc, dma, e_noc, e_spm, e_dma, e_base, e_red, fp, no_bd, scratch
            )
            values = (float(energy), cycles, float(energy) * cycles)
            for obj in range(3):
                if values[obj] < best[obj]:
                    best[obj] = values[obj]
                    best_pair[obj, 0] = i
                    best_pair[obj, 1] = j
                    best_pair[obj, 2] = rep_cand[1, i]
                    best_pair[obj, 3] = rep_cand[0, j]


@njit(cache=True)
def evaluate_batch(tilings, dcoef, dsize, ndims, isidx, cands, fp, ip, out, out_pair):
    """Per-tiling minima of a batch: out[b, obj], out_pair[b, obj, :] (see tiling_minima)."""
    ws = make_workspace(ndims.shape[0], cands.shape[0], cands.shape[1])
    for b in range(tilings.shape[0]):
        tiling_minima(tilings[b], dcoef, dsize, ndims, isidx, cands, fp, ip, out[b], out_pair[b], ws)


@njit(cache=True, parallel=True)
def evaluate_batch_parallel(tilings, dcoef, dsize, ndims, isidx, cands, fp, ip, out, out_pair):
    """evaluate_batch over all cores in chunks; the results do not depend on the thread count."""
    n = tilings.shape[0]
    chunk = 4096
    for c in prange((n + chunk - 1) // chunk):
        ws = make_workspace(ndims.shape[0], cands.shape[0], cands.shape[1])
        for b in range(c * chunk, min(n, (c + 1) * chunk)):
            tiling_minima(tilings[b], dcoef, dsize, ndims, isidx, cands, fp, ip, out[b], out_pair[b], ws)


@njit(cache=True)
def evaluate_pairs(t, dcoef, dsize, ndims, isidx, cands, fp, ip, energy, cycles, bd, cand_ids):
    """Every ordering pair of one tiling in pair order: energy, cycles, breakdown, candidates.

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
    e_base, e_red = tiling_terms(t, dcoef, dsize, ndims, isidx, fp, ip, ti, noc, dma, e_noc, e_spm, e_dma, dspm, tiles)
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
                reps_d[j], reps_s[i], ti, noc, dma, e_noc, e_spm, e_dma, e_base, e_red, fp, bd[k], scratch
            )
            cand_ids[k, 0] = cand_s[i]
            cand_ids[k, 1] = cand_d[j]
            k += 1
    return k


@njit(cache=True)
def fixed_pair(t, dcoef, dsize, ndims, isidx, order_dram, order_spm, fp, ip, bd):
    """Energy and cycles of one tiling under given DRAM and SPM orders (innermost first)."""
    nops = ndims.shape[0]
    ti = np.empty(N_TI, np.int64)
    noc = np.empty(nops, np.int64)
    dma = np.empty(nops, np.int64)
    dspm = np.empty(nops, np.int64)
    e_noc = np.empty(nops)
    e_spm = np.empty(nops)
    e_dma = np.empty(nops)
    tiles = np.empty((3, t.shape[1]), np.int64)
    e_base, e_red = tiling_terms(t, dcoef, dsize, ndims, isidx, fp, ip, ti, noc, dma, e_noc, e_spm, e_dma, dspm, tiles)
    reps_d = np.empty((1, nops), np.int64)
    reps_s = np.empty((1, nops), np.int64)
    cand = np.empty(1, np.int64)
    level_reuse(t[DRAM], order_dram.reshape(1, -1), isidx, reps_d, cand)
    level_reuse(t[SPM], order_spm.reshape(1, -1), isidx, reps_s, cand)
    scratch = np.empty(6 * nops, np.int64)
    return pair_cost(reps_d[0], reps_s[0], ti, noc, dma, e_noc, e_spm, e_dma, e_base, e_red, fp, bd, scratch)
