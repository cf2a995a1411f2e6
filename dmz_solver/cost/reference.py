"""The reference evaluator: one tiling and one ordering pair at a time, with the energy breakdown.

This is the reporting path (`cost.evaluate`) and the yardstick of the fast path (`cost.pairs`),
which regroups the same formulas and must match `pair_cost` bit for bit. Floating-point sums
follow the order the specification fixes, so energies round exactly as the seed's do.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..layout import DRAM, F_MAC, F_RF, SPM
from .reuse import level_reuse
from .terms import N_TI, T_P_DRAM_OUT, T_RED, T_RED_ADDS, T_TC_DRAM, T_TC_RF, T_TC_SP, T_TC_SPM, coef_terms, terms

# Breakdown categories
B_MAC, B_RF, B_NOC, B_SPM, B_DRAM = 0, 1, 2, 3, 4
N_BD = 5


@njit(cache=True)
def tiling_terms(t, arrays, prof, ti, noc, dma, e_noc, e_spm, e_dma, dspm, tiles):
    """Fill the ordering-independent terms of one tiling (§5.1-§5.7, §6.1) with the Profile prof.

    Returns (E_MAC + E_RF, E_red, E_red's NoC part). Per-operand results go to noc (NoC cycles), dma
    (cycles per SPM pass), e_noc, e_spm, e_dma and dspm (D_SPM); tiles (3 x loops) receives the
    cumulative extents e^RF, e^PE, e^SPM.
    """
    nops = arrays.ndims.shape[0]
    ct = coef_terms(arrays.dcoef, arrays.ndims)
    iop = np.empty((3, nops), np.int64)
    fop = np.empty((3, nops))
    e_base, e_red, e_red_noc = terms(
        t,
        ct.nterms,
        ct.tloops,
        ct.tcoefs,
        arrays.ndims,
        arrays.dsize,
        arrays.isidx,
        arrays.fp,
        arrays.ip,
        ti,
        iop,
        fop,
        tiles,
        prof.pi,
        prof.pf,
        prof.rowf,
    )
    noc[:] = iop[0]
    dma[:] = iop[1]
    dspm[:] = iop[2]
    e_noc[:] = fop[0]
    e_spm[:] = fop[1]
    e_dma[:] = fop[2]
    return e_base, e_red, e_red_noc


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


@njit(cache=True)
def evaluate_pairs(t, arrays, prof, energy, cycles, bd, cand_ids):
    """Every ordering pair of one tiling (Profile prof) in pair order: energy, cycles, breakdown, candidates.

    Returns the number of pairs written.
    """
    nops = arrays.ndims.shape[0]
    cands, isidx, fp = arrays.cands, arrays.isidx, arrays.fp
    ti = np.empty(N_TI, np.int64)
    noc = np.empty(nops, np.int64)
    dma = np.empty(nops, np.int64)
    dspm = np.empty(nops, np.int64)
    e_noc = np.empty(nops)
    e_spm = np.empty(nops)
    e_dma = np.empty(nops)
    tiles = np.empty((3, t.shape[1]), np.int64)
    e_base, e_red, e_red_noc = tiling_terms(t, arrays, prof, ti, noc, dma, e_noc, e_spm, e_dma, dspm, tiles)
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
def fixed_pair(t, arrays, prof, order_dram, order_spm, bd):
    """Energy and cycles of one tiling (Profile prof) under given DRAM and SPM orders (innermost first)."""
    nops = arrays.ndims.shape[0]
    isidx = arrays.isidx
    ti = np.empty(N_TI, np.int64)
    noc = np.empty(nops, np.int64)
    dma = np.empty(nops, np.int64)
    dspm = np.empty(nops, np.int64)
    e_noc = np.empty(nops)
    e_spm = np.empty(nops)
    e_dma = np.empty(nops)
    tiles = np.empty((3, t.shape[1]), np.int64)
    e_base, e_red, e_red_noc = tiling_terms(t, arrays, prof, ti, noc, dma, e_noc, e_spm, e_dma, dspm, tiles)
    reps_d = np.empty((1, nops), np.int64)
    reps_s = np.empty((1, nops), np.int64)
    cand = np.empty(1, np.int64)
    level_reuse(t[DRAM], order_dram.reshape(1, -1), isidx, reps_d, cand)
    level_reuse(t[SPM], order_spm.reshape(1, -1), isidx, reps_s, cand)
    scratch = np.empty(6 * nops, np.int64)
    return pair_cost(
        reps_d[0], reps_s[0], ti, noc, dma, e_noc, e_spm, e_dma, e_base, e_red, arrays.fp, bd, scratch, e_red_noc
    )
