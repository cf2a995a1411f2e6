"""The reference evaluator: one tiling and one ordering pair at a time, with the energy breakdown.

This is the reporting path (`cost.evaluate`) and the yardstick of the fast path (`cost.pairs`),
which regroups the same formulas and must match `pair_cost` bit for bit. Floating-point sums
follow the order the specification fixes, so energies round exactly as the seed's do.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..jit import njit
from ..layout import DRAM, F_MAC, F_RF, SPM
from .reuse import level_reuse
from .terms import N_TI, T_P_DRAM_OUT, T_RED, T_RED_ADDS, T_TC_DRAM, T_TC_RF, T_TC_SP, T_TC_SPM, coef_terms, terms

# Breakdown categories
B_MAC, B_RF, B_NOC, B_SPM, B_DRAM = 0, 1, 2, 3, 4
N_BD = 5


TilingTerms = namedtuple("TilingTerms", "ti noc dma dspm e_noc e_spm e_dma tiles e_base e_red e_red_noc")
"""The ordering-independent terms of one tiling (§5.1-§5.7, §6.1): the integer terms ti (terms.T_*); per
operand the NoC cycles, DMA cycles per SPM pass, D_SPM and the NoC, SPM and DMA energies; the cumulative
extents e^RF, e^PE, e^SPM (3 x loops); E_MAC + E_RF, E_red and E_red's NoC part."""

PairReuse = namedtuple("PairReuse", "r_dram r_spm skip psum_reloads")
"""The reuse of one ordering pair: r_DRAM and r_SPM per operand, s(op) (§4.3; 1 unless skipped) and the
partial-sum reloads of the output (§6.3)."""

PairCosts = namedtuple("PairCosts", "energy cycles breakdown cand_ids")
"""Per ordering pair of a tiling, in pair order: energy (pJ, rounded to an integral double), cycles, the energy
breakdown (N_BD categories) and the (SPM, DRAM) candidates of its representatives."""

PairSetup = namedtuple("PairSetup", "terms reps_d cand_d nd reps_s cand_s ns scratch")
"""What `evaluate_pairs` and `fixed_pair` prepare for `pair_cost`: the TilingTerms, the DRAM and SPM reuse
representatives of the given orders with their first candidates and counts, and pair_cost's work array."""


@njit(cache=True)
def tiling_terms(t, arrays, prof):
    """The TilingTerms of tiling t (§5.1-§5.7, §6.1) with the Profile prof."""
    nops = arrays.ndims.shape[0]
    ct = coef_terms(arrays.dcoef, arrays.ndims)
    ti = np.empty(N_TI, np.int64)
    iop = np.empty((3, nops), np.int64)
    fop = np.empty((3, nops))
    tiles = np.empty((3, t.shape[1]), np.int64)
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
    return TilingTerms(ti, iop[0], iop[1], iop[2], fop[0], fop[1], fop[2], tiles, e_base, e_red, e_red_noc)


@njit(cache=True)
def pair_cost(r_dram, r_spm, tt, fp, bd, scratch):  # noqa: C901 - numba kernel: the spec's steps, flat
    """Energy (rounded, pJ) and cycles of one ordering pair (§4.3, §5.4-§5.8, §6.2-§6.4) of a tiling (TilingTerms tt).

    scratch is an int64 work array of 6 * n_operands entries. If bd has N_BD entries,
    the energy breakdown of §6.5 is written to it.
    """
    ti, noc, dma, e_noc, e_spm, e_dma = tt.ti, tt.noc, tt.dma, tt.e_noc, tt.e_spm, tt.e_dma
    e_base, e_red = tt.e_base, tt.e_red
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
    # rounded as the seed's round(): an integral double (exact below 2^53; a larger energy keeps its rounding)
    energy = np.rint(((e_base) + e_pass * dram_passes) + e_dram_level)

    if bd.shape[0] == N_BD:
        _breakdown(PairReuse(r_dram, r_spm, skip, psum_reloads), tt, fp, bd)
    return energy, cycles


@njit(cache=True)
def _breakdown(pair, tt, fp, bd):
    """Energy by category MAC/RF/NOC/SPM/DRAM for reporting (§6.5) of a PairReuse and TilingTerms; not rounded."""
    r_dram, r_spm, skip, psum_reloads = pair.r_dram, pair.r_spm, pair.skip, pair.psum_reloads
    ti, e_noc, e_spm, e_dma, e_base, e_red_noc = tt.ti, tt.e_noc, tt.e_spm, tt.e_dma, tt.e_base, tt.e_red_noc
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


@njit(cache=True)
def _pair_setup(t, arrays, prof, orders_dram, orders_spm):
    """The PairSetup of tiling t (Profile prof) for these DRAM and SPM candidate orders (innermost first)."""
    nops = arrays.ndims.shape[0]
    isidx = arrays.isidx
    tt = tiling_terms(t, arrays, prof)
    reps_d = np.empty((orders_dram.shape[0], nops), np.int64)
    reps_s = np.empty((orders_spm.shape[0], nops), np.int64)
    cand_d = np.empty(orders_dram.shape[0], np.int64)
    cand_s = np.empty(orders_spm.shape[0], np.int64)
    nd = level_reuse(t[DRAM], orders_dram, isidx, reps_d, cand_d)
    ns = level_reuse(t[SPM], orders_spm, isidx, reps_s, cand_s)
    return PairSetup(tt, reps_d, cand_d, nd, reps_s, cand_s, ns, np.empty(6 * nops, np.int64))


@njit(cache=True)
def evaluate_pairs(t, arrays, prof):
    """Every ordering pair of one tiling (Profile prof), in pair order: its PairCosts."""
    setup = _pair_setup(t, arrays, prof, arrays.cands, arrays.cands)
    npairs = setup.ns * setup.nd
    energy = np.empty(npairs)
    cycles = np.empty(npairs)
    bd = np.empty((npairs, N_BD))
    cand_ids = np.empty((npairs, 2), np.int64)
    k = 0
    for i in range(setup.ns):
        for j in range(setup.nd):
            energy[k], cycles[k] = pair_cost(
                setup.reps_d[j], setup.reps_s[i], setup.terms, arrays.fp, bd[k], setup.scratch
            )
            cand_ids[k, 0] = setup.cand_s[i]
            cand_ids[k, 1] = setup.cand_d[j]
            k += 1
    return PairCosts(energy, cycles, bd, cand_ids)


@njit(cache=True)
def fixed_pair(t, arrays, prof, order_dram, order_spm, bd):
    """Energy and cycles of one tiling (Profile prof) under given DRAM and SPM orders (innermost first)."""
    setup = _pair_setup(t, arrays, prof, order_dram.reshape(1, -1), order_spm.reshape(1, -1))
    return pair_cost(setup.reps_d[0], setup.reps_s[0], setup.terms, arrays.fp, bd, setup.scratch)
