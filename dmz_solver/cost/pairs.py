"""The pair loop of the fast path: the minima of §7.2 over a tiling's ordering pairs.

The minima are folded from three kinds of terms: those of each DRAM representative
(`dram_entry`, a function of the DRAM factors alone), those of each SPM representative
(`spm_entry`) and the few that need both (`pair_minima`). The sums keep the order of
`reference.pair_cost`, so every value is bit-identical to it. Tables are 3-D (slot,
representative, column) so that the batch path (one slot) and the exhaustive search (one slot
per factor tuple) share the code. Every helper is inlined into its caller.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..jit import njit

# Columns of a DRAM entry: integer row (3 + 4 * nops) and float row (1 + 2 * nops)
DI_CUM1, DI_NU, DI_GT1, DI_KEYS = 0, 1, 2, 3  # then keys, cumulative sums, group sums, r_DRAM
DF_ED0, DF_Q = 0, 1  # then F / r_DRAM, then c(op) without the skip term
# Columns of an SPM entry: integer row (3) and float row (1 + nops)
SI_T0, SI_COMM1, SI_FULL = 0, 1, 2
SF_EP0, SF_A = 0, 1
# Columns of an SPM grouping row (3 + 2 * nops): then each operand's group, then TC_SPM / key per group
SG_NK, SG_KEY1, SG_FULL, SG_GRP = 0, 1, 2, 3

SpmSide = namedtuple("SpmSide", "n reps rslot cand si sf")
"""The SPM representatives of a tiling for `pair_minima`: n of them, reps[rslot] with first candidates
cand[rslot], and their entries si, sf (`spm_entry`)."""
DramSide = namedtuple("DramSide", "n cand cslot di df dslot")
"""The DRAM representatives of a tiling for `pair_minima`: n of them, with first candidates cand[cslot] and
entries di[dslot], df[dslot] (`dram_entry`)."""
PairTerms = namedtuple("PairTerms", "spm_passes dram_passes comp red iop fop e_base")
"""The ordering-independent terms `pair_minima` reads: TC_SPM, TC_DRAM, the compute and reduction cycles
per RF pass, the per-operand terms iop and fop (`terms`, `pass_energies`) and E_MAC + E_RF."""
Minima = namedtuple("Minima", "best best_pair row")
"""The running minima that `pair_minima` folds into: best[row] and best_pair[row]."""


@njit(cache=True, inline="always")
def dram_entry(dram_passes, p_out, iop, fop, nd, reps, rslot, di, df, slot):  # noqa: PLR0917 - numba kernel: inlined in the pair loop, flat args, see bench/README.md
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
def dma_energy_min(nd, df, slot):
    """The smallest DRAM-level energy without skip terms (§6.3: DMA energy and the output's reloads) over the
    nd DRAM representatives whose entries dram_entry wrote to df[slot]."""
    smallest = np.inf
    for j in range(nd):
        smallest = min(smallest, df[slot, j, DF_ED0])
    return smallest


@njit(cache=True, inline="always")
def spm_pass_cycles(reps, rslot, i, skipmask, spm_passes, comp, red, iop, scratch):  # noqa: C901, PLR0917 - numba kernel: inlined in the pair loop, flat args, see bench/README.md
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
def spm_entry(spm_passes, comp, red, iop, fop, ns, q, sg, rslot, si, sf, scratch):  # noqa: PLR0917 - numba kernel: inlined in the pair loop, flat args, see bench/README.md
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
def _record_pair(best_pair, row, obj, spm_rep, dram_rep, spm_cand, dram_cand):  # noqa: PLR0917 - numba kernel: inlined in the pair loop, flat args, see bench/README.md
    """best_pair[row, obj] = the pair that reached objective obj's new minimum."""
    best_pair[row, obj, 0] = spm_rep
    best_pair[row, obj, 1] = dram_rep
    best_pair[row, obj, 2] = spm_cand
    best_pair[row, obj, 3] = dram_cand


@njit(cache=True, inline="always")
def pair_minima(spm, dram, pt, scratch, minima):  # noqa: C901 - numba kernel: flat loop, see bench/README.md
    """Fold every ordering pair of one tiling, in pair order (§3.5), into the running minima best[row].

    spm: the SpmSide, dram: the DramSide (the exhaustive search keys its DRAM entries by the SPM tile
    and its candidates by the DRAM tuple, so their slots differ), pt: the PairTerms, minima: the
    Minima. iop[0] is the NoC cycles and fop[4] the resident energy of a skipped operand (§6.3). A
    pair replaces best[row, obj] only if strictly smaller, so best_pair[row, obj] = (SPM rep, DRAM
    rep, SPM candidate, DRAM candidate) is the first pair that reaches the minimum (§7.2). Returns
    the mask of objectives improved. Values equal `pair_cost` bit for bit: a skipped operand adds
    exactly 0.0 to its energy sums there and is left out here.
    """
    ns, reps, rslot, s_cand, si, sf = spm.n, spm.reps, spm.rslot, spm.cand, spm.si, spm.sf
    nd, d_cand, cslot, di, df, dslot = dram.n, dram.cand, dram.cslot, dram.di, dram.df, dram.dslot
    spm_passes, dram_passes, comp, red = pt.spm_passes, pt.dram_passes, pt.comp, pt.red
    iop, fop, e_base = pt.iop, pt.fop, pt.e_base
    best, best_pair, row = minima.best, minima.best_pair, minima.row
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
