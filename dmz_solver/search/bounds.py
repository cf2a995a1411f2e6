"""Lower bounds on the exact objective that hold for every valid tiling and ordering pair.

The proofs are in docs/lower-bounds.md. A bound here must never exceed the exact cost
of any mapping it covers: the optimality proof (search/bnb.py) rests on that.
"""

from __future__ import annotations

import math

import numpy as np

from ..cost.pairs import (
    DF_Q,
    DI_KEYS,
    DI_NU,
    SG_FULL,
    SG_GRP,
    dma_energy_min,
    dram_entry,
    pass_energies,
    spm_groups,
    spm_pass_cycles,
)
from ..cost.reference import tiling_terms
from ..cost.reuse import level_reuse
from ..cost.terms import (
    T_P_DRAM_OUT,
    T_RED,
    T_TC_DRAM,
    T_TC_RF,
    T_TC_SPM,
    coef_terms,
    dim_extent,
    edge_cycles,
    pe_terms,
)
from ..jit import njit
from ..layout import DRAM, RF, SP, SPM, Profile
from ..loopnest import LoopNest, Operand, touched_elements, touched_total
from ..noc.profile import ARRAY, COL, N_KINDS, PI_EN, PI_LAT, R_BW, R_CNT, R_EXTRA, R_HOP, R_LAT, R_UNIT, RED, ROW, UNIT
from ..problem import Problem
from ..problem.numeric import least_energy
from ..vocabulary import Objective

SAFETY = 1e-9
"""Relative slack on every certified bound, so that float rounding can never prune an optimal tiling."""
ROUNDING_PJ = 1.0
"""Energies are rounded to whole pJ (docs/cost-model.md §6.4): the exact value may lie 0.5 below the sum."""
WHOLE_STEP = 1.0
"""Exact values are whole numbers (cycles, energies rounded to whole pJ, and their product): one below another is
below it by 1 at least (docs/lower-bounds.md §5a)."""


@njit(cache=True)
def certified(bound):
    """A computed lower bound made safe against float rounding: the one slack rule of every bound."""
    return bound * (1 - SAFETY)


@njit(cache=True)
def bound_value(objective, energy, cycles):
    """The certified bound of objective column 0 (energy), 1 (cycles) or 2 (EDP) from bounds on both terms."""
    energy = energy - ROUNDING_PJ
    if objective == 0:
        value = energy
    elif objective == 1:
        value = cycles
    else:
        value = energy * cycles
    return certified(value)


@njit(cache=True, inline="always")
def pruning_bar(limit, lead):
    """The value a certified bound must exceed to prune, in a task that comes at or after one that reached `lead`
    (inf: none yet) in enumeration order: above `limit`, which ties must survive (they may be first minima), or
    above lead - 1, where nothing strictly below lead lies, and a tie with lead is not the first minimum
    (docs/lower-bounds.md §5a)."""
    return min(limit, lead - WHOLE_STEP)


def energy_floor(problem: Problem) -> float:
    """Energy every mapping pays: all MACs and RF accesses, and each touched element once from DRAM
    (problem.numeric.least_energy, which also refuses layers whose energy could round to 0 pJ)."""
    return least_energy(problem.nest, problem.arch)


def dma_calls_floor(operand: Operand, extents: tuple[int, ...]) -> int:
    """DMA invocations every mapping makes for an operand (docs/lower-bounds.md §1a): at least one; and when some
    dimension of the tensor is never covered whole by any SPM tile (a strided window that skips the last rows),
    every transfer makes one invocation per index tuple of the dimensions outside the innermost such one (§5.6),
    and the transfers together cover every tuple the layer touches there."""
    ragged = [
        d
        for d, dim in enumerate(operand.dims)
        if 1 + sum(coef * (extents[loop] - 1) for loop, coef in dim.terms) < dim.size
    ]
    return touched_elements(operand, extents, max(ragged)) if ragged else 1


def dma_cycles_floor(problem: Problem) -> float:
    """Cycles every mapping spends on DMA (docs/lower-bounds.md §1a): the layer takes at least the DMA time of all
    its transfers, each touched element is moved once, and each operand needs dma_calls_floor invocations."""
    arch = problem.arch
    ratio = arch.accel_mhz / arch.dma_mhz
    extents = tuple(problem.nest.extents)
    per_byte = arch.dma_cycles_per_byte * arch.dma_elem_bytes * touched_total(problem.nest)
    calls = sum(dma_calls_floor(op, extents) for op in problem.nest.operands)
    return ratio * (per_byte + max(0.0, arch.dma_init_cycles) * calls)


def global_lower_bound(problem: Problem, objective: Objective) -> float:
    """A bound valid over the whole space: every MAC and RF access is paid, every element
    of every operand crosses DRAM once (in energy and in DMA time), and at most all PEs compute in parallel."""
    cycles = max(math.ceil(problem.nest.macs / problem.arch.pe_count), dma_cycles_floor(problem))
    return float(bound_value(Objective(objective).column, energy_floor(problem), float(cycles)))


@njit(cache=True)
def block_bound(t, isidx, trips, visits, prune, iop, fop, red, e_red):  # noqa: PLR0917 - numba kernel: flat args, see bench/README.md
    """Lower bounds (energy, cycles) over every tiling and ordering pair sharing t's SPATIAL and RF factors.

    From the pruning state prune (search.table_search.Pruning): e_floor is E_MAC + E_RF plus one DRAM
    access per distinct element of every operand. trips and visits: the block's block_trips and
    block_visits; iop, fop, red and e_red: its per-pass terms as the exact model computes them
    (cost.terms.pe_terms, with the communication profile of t's unrolling).
    Derivations: docs/lower-bounds.md.
    """
    tc_rf = 1
    rf_passes = 1
    for loop in range(t.shape[1]):
        tc_rf *= t[RF, loop]
        rf_passes *= trips[loop]
    energy = prune.e_floor
    for op in range(isidx.shape[0]):
        per_pass = fop[0, op] + fop[1, op]
        if op == 0:
            per_pass += e_red
        energy += per_pass * visits[op]
    return energy, block_cycles_bound(isidx, trips, iop, visits, tc_rf, red, rf_passes)


@njit(cache=True, inline="always")
def block_trips(ext, e_pe, trips):
    """trips[loop] = ext[loop] // e_pe[loop]: the PE-array tiles of each loop (TC_SPM * TC_DRAM is their product)."""
    for loop in range(ext.shape[0]):
        trips[loop] = ext[loop] // e_pe[loop]


@njit(cache=True, inline="always")
def block_visits(isidx, trips, visits):
    """visits[op] = V(op), the distinct PE-array tiles of each operand: the product of the block's trips over the
    loops indexing it."""
    for op in range(isidx.shape[0]):
        v = 1
        for loop in range(isidx.shape[1]):
            if isidx[op, loop]:
                v *= trips[loop]
        visits[op] = v


@njit(cache=True, inline="always")
def pass_cycles_bound(ext, isidx, e_pe, e_spm, depth, iop, visits, comp, red, rf_passes):  # noqa: PLR0917 - numba kernel: inlined per node, flat args
    """A lower bound on the cycles of every tiling and ordering pair of one block whose SPM tile has extents e_spm on
    loops 0..depth and any valid ones on the others (depth -1: the block itself, as block_cycles_bound;
    docs/lower-bounds.md §2).

    e_pe: the block's PE-array tile; iop[0]: NoC cycles per RF pass; visits[op]: V(op) (block_visits); comp, red:
    compute and reduction cycles per RF pass; rf_passes: TC_SPM * TC_DRAM. comm[1] is at least the largest NoC time
    of the operands the innermost loop with trips > 1 indexes (at SPM level, or at DRAM level when TC_SPM is 1),
    smallest over the loops that can be it (output_cases takes it from there).
    """
    n_loops = isidx.shape[1]
    spm_one = True  # TC_SPM can be 1
    for loop in range(depth + 1):
        if e_spm[loop] > e_pe[loop]:
            spm_one = False
    comm_a = np.inf  # comm[1] in cases A, B and C
    comm_b = np.inf
    comm_c = np.inf
    out_reuse = 1  # the largest SPM reuse of the output
    whole = True  # the PE-array tile is the layer
    for loop in range(n_loops):
        top = e_spm[loop] if loop <= depth else ext[loop]
        spm_trips = top // e_pe[loop]
        dram_trips = ext[loop] // top if loop <= depth else spm_trips
        if ext[loop] > e_pe[loop]:
            whole = False
        if not isidx[0, loop]:
            out_reuse *= spm_trips
        if spm_trips == 1 and not (spm_one and dram_trips > 1):
            continue  # never the innermost loop with trips > 1
        comm = loop_noc(isidx, iop, loop)
        if isidx[0, loop]:
            comm_a = min(comm_a, comm)
        else:
            comm_c = min(comm_c, comm)
            if spm_trips > 1:
                comm_b = min(comm_b, comm)
    return output_cases(comm_a, comm_b, comm_c, whole, out_reuse, iop, visits, comp, red, rf_passes)


@njit(cache=True, inline="always")
def block_cycles_bound(isidx, trips, iop, visits, comp, red, rf_passes):  # noqa: PLR0917 - numba kernel: inlined per block, flat args
    """pass_cycles_bound of the block itself (depth -1) from its PE-array tile counts, trips[loop] = ext // e^PE, with
    no division: every loop's SPM factor is still free, so each loop with trips > 1 can be the innermost one."""
    n_loops = isidx.shape[1]
    comm_a = np.inf
    comm_b = np.inf
    comm_c = np.inf
    out_reuse = 1
    whole = True
    for loop in range(n_loops):
        if not isidx[0, loop]:
            out_reuse *= trips[loop]
        if trips[loop] == 1:
            continue
        whole = False
        comm = loop_noc(isidx, iop, loop)
        if isidx[0, loop]:
            comm_a = min(comm_a, comm)
        else:
            comm_c = min(comm_c, comm)
            comm_b = min(comm_b, comm)
    return output_cases(comm_a, comm_b, comm_c, whole, out_reuse, iop, visits, comp, red, rf_passes)


@njit(cache=True, inline="always")
def loop_noc(isidx, iop, loop):
    """The largest NoC time per RF pass (iop[0]) of the operands a loop indexes: comm[1] when it is the innermost
    loop with trips > 1."""
    comm = 0
    for op in range(isidx.shape[0]):
        if isidx[op, loop]:
            comm = max(comm, iop[0, op])
    return comm


@njit(cache=True, inline="always")
def output_cases(comm_a, comm_b, comm_c, whole, out_reuse, iop, visits, comp, red, rf_passes):  # noqa: PLR0917 - numba kernel: inlined, flat args
    """The least cycles over the output's cases of §5.5 (A: SPM reuse 1, not resident; B: reuse r > 1; C: resident),
    given each case's least comm[1] (inf: the case cannot occur), whether one pass covers the layer, the output's
    largest SPM reuse and V(op) (docs/lower-bounds.md §2). An operand above comm[1] raises T at its own reuse, or
    pays the difference in its miss penalty when resident."""
    if whole:  # one pass: every operand has reuse 1 and none is skipped
        comm_a = 0.0
        for op in range(iop.shape[1]):
            comm_a = max(comm_a, float(iop[0, op]))
    cycles = np.inf
    if comm_a < np.inf:  # A: NoC, compute and reduction add up [RB]; an operand above comm[1] once per PE tile
        above = 0.0
        for op in range(iop.shape[1]):
            above = max(above, (iop[0, op] - comm_a) * visits[op])
        cycles = rf_passes * (comm_a + comp + red) + above
    if comm_b < np.inf:  # B: the output's stall and NoC excess once per r <= out_reuse passes
        base = max(comp, comm_b)
        cycles = min(cycles, rf_passes * base + rf_passes * (max(0.0, iop[0, 0] - base) + comp + red) / out_reuse)
    if comm_c < np.inf:  # C: the output's miss penalty pays both once per PE tile of the output
        base = max(comp, comm_c)
        cycles = min(cycles, rf_passes * base + (max(0.0, iop[0, 0] - base) + comp + red) * visits[0])
    return cycles


@njit(cache=True, inline="always")
def least_noc_cycles(op, t, tiles, nterms, tloops, tcoefs, ndims, pi, pf):  # noqa: PLR0917 - numba kernel: inlined per block, flat args
    """A lower bound on op's NoC cycles per RF pass of t's block, e^PE being in tiles[1]: the UNIT and ARRAY kinds of
    its communication profile pi, pf (noc/profile.py) and its latency, computed as cost.terms.pe_terms does (its
    other kinds only raise the maximum), for pass_cycles_bound before the block's per-pass terms (docs/lower-bounds.md
    §2). nterms, tloops, tcoefs: cost.terms.coef_terms."""
    d_rf = 1
    d_pe = 1
    for d in range(ndims[op]):
        d_rf *= dim_extent(nterms, tloops, tcoefs, op, d, t, RF)
        d_pe *= dim_extent(nterms, tloops, tcoefs, op, d, tiles, 1)
    noc = 0
    if pi[op, UNIT] > 0:
        noc = max(noc, edge_cycles(pi[op, UNIT] * d_rf, pf[op, UNIT]))
    if pi[op, ARRAY] > 0:
        noc = max(noc, edge_cycles(pi[op, ARRAY] * d_pe, pf[op, ARRAY]))
    return noc + pi[op, PI_LAT]


@njit(cache=True, inline="always")
def leaf_pass_cycles(n, reps, rslot, groups, spm_passes, dram_passes, comp, red, iop, scratch):  # noqa: PLR0917 - numba kernel: inlined per SPM tile, flat args
    """The smallest TC_DRAM * T over the n SPM representatives reps[rslot] of one SPM tile (§5.5), with every operand
    that can be a skip operand skipped (groups[rslot, i, SG_FULL] of cost.pairs.spm_groups: r_SPM = TC_SPM, when
    TC_DRAM > 1): a lower bound on the cycles of each of its ordering pairs, since skipping more operands never
    lengthens T (docs/lower-bounds.md §2a).
    """
    smallest = np.inf
    for i in range(n):
        skip = groups[rslot, i, SG_FULL] if dram_passes > 1 else 0
        spm_pass, _ = spm_pass_cycles(reps, rslot, i, skip, spm_passes, comp, red, iop, scratch)
        smallest = min(smallest, float(spm_pass * dram_passes))
    return smallest


@njit(cache=True, inline="always")
def dma_cycles_min(nd, di, slot, dram_passes):
    """A lower bound on the cycles of every ordering pair from the DMA alone, over the nd DRAM representatives
    whose entries dram_entry wrote to di[slot] (§5.8; docs/lower-bounds.md §2c).

    For representative j, cycles >= F * spm1 + the DMA parts of the miss penalties, with spm1 >= Cum[1]: each
    operand of a group g >= 2 pays max(0, Cum[g] - spm1) * F / u_g, and its second term max(0, Cum[g] - spm1)
    again for the output [RB] or max(0, Cum[g - 1] - spm1) for the others. The smallest of that convex function
    of spm1 over spm1 >= Cum[1], found at Cum[1] or at a later Cum[g].
    """
    nops = (di.shape[2] - DI_KEYS) // 4
    keys, cums, rdc = DI_KEYS, DI_KEYS + nops, DI_KEYS + 3 * nops
    smallest = np.inf
    for j in range(nd):
        nu = di[slot, j, DI_NU]
        for start in range(nu):  # spm1 at Cum[start]
            spm1 = di[slot, j, cums + start]
            cycles = float(spm1 * dram_passes)
            for g in range(1, nu):
                late = di[slot, j, cums + g] - spm1
                if late <= 0:
                    continue
                early = max(0, di[slot, j, cums + g - 1] - spm1)
                u = di[slot, j, keys + g]
                for op in range(nops):
                    if di[slot, j, rdc + op] == u:
                        second = late if op == 0 else early
                        cycles += (late + second) * dram_passes / u
            smallest = min(smallest, cycles)
    return smallest


@njit(cache=True, inline="always")
def pair_tiles(isidx, trips, out):
    """out[o, w] = the product of the block's trips (ext / e^PE) over the loops indexing o or w: at most the fetches
    of o's PE tile when w has the larger SPM reuse (docs/lower-bounds.md §2b)."""
    nops, n_loops = isidx.shape
    for o in range(nops):
        for w in range(nops):
            product = 1
            for loop in range(n_loops):
                if isidx[o, loop] or isidx[w, loop]:
                    product *= trips[loop]
            out[o, w] = product


@njit(cache=True, inline="always")
def subtree_energy_bound(e_base, dram_floor, fop, visits, pairs, below, index, refetch, fixed):  # noqa: C901, PLR0917 - numba kernel: inlined per node, flat args
    """The energy bound of the SPM tiles of one block under an enumeration node (docs/lower-bounds.md §2b).

    e_base: E_MAC + E_RF; dram_floor: the energy floor's DRAM part; fop[3], fop[4]: a(op) and the resident
    energy A(op) (cost.pairs.pass_energies); visits[op] = V(op) (block_visits); pairs: pair_tiles;
    below[:, :, index]: the minima of spm_tile_minima at the node's tuple; refetch[op]: the product of the
    DRAM factors the node fixes over the loops not indexing op; fixed[op]: an SPM loop the node fixes indexes
    op with trips > 1. The smallest, over the sets σ of operands that can still be skip operands and over the
    operand w outside σ with the largest SPM reuse, of: e_base, the DMA energy, A(op) V(op) for op in σ,
    a(w) V(w) times its refetch product, and for every other op a(op) times the larger of V(op) times its
    refetch product and pairs[op, w].
    """
    nops = visits.shape[0]
    smallest = np.inf
    for skippable in range(1 << nops):
        possible = True
        for op in range(nops):
            if (skippable >> op) & 1 and fixed[op]:
                possible = False
        dma = below[skippable, nops, index]
        if not possible or dma == np.inf:
            continue
        energy = e_base + max(dram_floor, dma)
        for op in range(nops):
            if (skippable >> op) & 1:
                energy += fop[4, op] * visits[op]
        fetched = np.inf if skippable != (1 << nops) - 1 else 0.0  # over the winners w outside σ
        for w in range(nops):
            if (skippable >> w) & 1:
                continue
            part = 0.0
            for op in range(nops):
                if (skippable >> op) & 1:
                    continue
                own = visits[op] * max(refetch[op], below[skippable, op, index])
                part += fop[3, op] * (own if op == w else max(own, pairs[op, w]))
            fetched = min(fetched, part)
        smallest = min(smallest, energy + fetched)
    return smallest


@njit(cache=True, inline="always")
def fetch_energy_bound(n, reps, rslot, spm_passes, dram_passes, fop, visits):  # noqa: PLR0917 - numba kernel: inlined per SPM tile, flat args
    """The smallest SPM-to-PE energy of one SPM tile over its n SPM representatives reps[rslot] (§2a).

    A non-skip operand costs a(op) * TC_DRAM * TC_SPM / r_SPM(op) exactly (§6.2); one whose r_SPM is TC_SPM
    may be a skip operand instead, which costs A(op) * V(op) at least.
    """
    smallest = np.inf
    for i in range(n):
        energy = 0.0
        for op in range(visits.shape[0]):
            r = reps[rslot, i, op]
            fetch = fop[3, op] * (spm_passes / r) * dram_passes
            if r == spm_passes:
                fetch = min(fetch, fop[4, op] * visits[op])
            energy += fetch
        smallest = min(smallest, energy)
    return smallest


@njit(cache=True)
def floor_profile(pis, pfs, pi, pf):  # noqa: C901 - numba kernel: one flat loop over the profile's terms
    """pi, pf = a communication profile (noc/profile.py) that bounds those of pis[k], pfs[k] from below: with it, the
    per-pass terms of every tiling (cost.terms.pe_terms) are at most those of each profile, and so is its block
    bound (block_bound and subtree_energy_bound are non-decreasing in them).

    Term by term: the smallest count, latency and energy per element, the largest bandwidth; the row and column
    kinds, whose footprints depend on the split itself, are dropped (every term of pe_terms is non-negative).
    Floating-point rounding is monotone, so each term of pe_terms computed from these is at most the same term
    computed from any of the profiles."""
    pi[:, :] = pis[0]
    pf[:, :] = pfs[0]
    for k in range(1, pis.shape[0]):
        for op in range(RED):
            for kind in range(N_KINDS):
                pi[op, kind] = min(pi[op, kind], pis[k, op, kind])  # the busiest edge: count over bandwidth
                pf[op, kind] = max(pf[op, kind], pfs[k, op, kind])
                pi[op, PI_EN + kind] = min(pi[op, PI_EN + kind], pis[k, op, PI_EN + kind])  # count times energy
                pf[op, PI_EN + kind] = min(pf[op, PI_EN + kind], pfs[k, op, PI_EN + kind])
            pi[op, PI_LAT] = min(pi[op, PI_LAT], pis[k, op, PI_LAT])
        pi[RED, R_CNT] = min(pi[RED, R_CNT], pis[k, RED, R_CNT])
        pi[RED, R_LAT] = min(pi[RED, R_LAT], pis[k, RED, R_LAT])
        pf[RED, R_BW] = max(pf[RED, R_BW], pfs[k, RED, R_BW])
        for term in (R_UNIT, R_HOP, R_EXTRA):
            pf[RED, term] = min(pf[RED, term], pfs[k, RED, term])
    for op in range(RED):
        for kind in (ROW, COL):
            pi[op, kind] = 0
            pi[op, PI_EN + kind] = 0


def reduction_floors(nest: LoopNest, sps: np.ndarray, pis: np.ndarray, pfs: np.ndarray) -> np.ndarray:
    """Per spatial tuple s, under the communication profile pis[s], pfs[s] of its unrolling: in row 0, the cycles
    every tiling spends on the reduction across PEs on top of its MACs over its PEs; in row 1, the reduction's
    energy (docs/lower-bounds.md §3).

    With G_in > 1 PEs sharing each output, every RF pass reduces, in cnt * D_RF(ω) / bw + latency cycles or more,
    and some V(ω) passes do so one after another; D_RF(ω) * V(ω) = |ω| / G_out when each dim of the output is one
    loop of its own (every operator of the templates). Zeros for any other output, such as one indexed by i + j."""
    dims = [[(loop, coef) for loop, coef in dim.terms if nest.extents[loop] > 1] for dim in nest.operands[0].dims]
    loops = [loop for dim in dims for loop, _ in dim]
    own_loops = all(len(dim) <= 1 and all(coef == 1 for _, coef in dim) for dim in dims)
    if not own_loops or len(set(loops)) != len(loops):
        return np.zeros((2, len(sps)))
    indexes = np.zeros(len(nest.loops), np.bool_)
    indexes[loops] = True
    g_out = np.prod(np.where(indexes, sps, 1), axis=1)
    g_in = np.prod(sps, axis=1) // g_out
    per_group = math.prod(nest.extents[loop] for loop in loops) / g_out  # D_RF(ω) * V(ω)
    cycles = pis[:, RED, R_CNT] * per_group / pfs[:, RED, R_BW] + pis[:, RED, R_LAT]
    energy = per_group * ((g_in - 1) * g_out * pfs[:, RED, R_UNIT] + pfs[:, RED, R_EXTRA])  # E_red * V(ω)
    return np.stack([np.where(g_in > 1, cycles, 0.0), energy])


@njit(cache=True)
def spatial_bounds(sps, macs, e_floor, c_floor, objective, reduction):
    """Bound of each spatial tuple: the energy floor plus its reduction's energy, and the longer of every MAC spread
    over its PEs plus its reduction's cycles and the whole-space cycle floor c_floor (reduction = reduction_floors).
    """
    out = np.empty(sps.shape[0])
    for s in range(sps.shape[0]):
        pes = 1
        for loop in range(sps.shape[1]):
            pes *= sps[s, loop]
        out[s] = bound_value(objective, e_floor + reduction[1, s], max(macs / pes + reduction[0, s], c_floor))
    return out


@njit(cache=True)
def block_bounds_of(tilings, arrays, prof, prune, out):
    """out[b] = block_bound (energy, cycles) of the (spatial, RF) block of tilings[b], whose unrolling has
    the profile prof.*[prof.which[b]] (a Profiles), and in out[b, 2], if out has a third column, the quick cycle
    bound the table search tries first; for checking and measuring the bound tiling by tiling."""
    ct = coef_terms(arrays.dcoef, arrays.ndims)
    nops, n_loops = arrays.isidx.shape
    iop = np.empty((3, nops), np.int64)
    fop = np.empty((5, nops))
    tiles = np.empty((3, n_loops), np.int64)
    ext = np.empty(n_loops, np.int64)
    trips = np.empty(n_loops, np.int64)
    visits = np.empty(nops)
    for b in range(tilings.shape[0]):
        t = tilings[b]
        for loop in range(n_loops):
            ext[loop] = t[0, loop] * t[1, loop] * t[2, loop] * t[3, loop]
            tiles[1, loop] = t[RF, loop] * t[SP, loop]
        block_trips(ext, tiles[1], trips)
        block_visits(arrays.isidx, trips, visits)
        p = prof.which[b]
        if out.shape[1] > 2:  # the quick bound: no reduction, the NoC cycles from least_noc_cycles
            comp = 1
            rf_passes = 1
            for loop in range(n_loops):
                comp *= t[RF, loop]
                rf_passes *= trips[loop]
            for op in range(nops):
                iop[0, op] = least_noc_cycles(
                    op, t, tiles, ct.nterms, ct.tloops, ct.tcoefs, arrays.ndims, prof.pi[p], prof.pf[p]
                )
            out[b, 2] = block_cycles_bound(arrays.isidx, trips, iop, visits, comp, 0, rf_passes)
        red, _, e_red, _, _ = pe_terms(
            t,
            ct.nterms,
            ct.tloops,
            ct.tcoefs,
            arrays.ndims,
            arrays.isidx,
            arrays.fp,
            iop,
            fop,
            tiles,
            prof.pi[p],
            prof.pf[p],
            prof.rowf[p],
        )
        out[b, 0], out[b, 1] = block_bound(t, arrays.isidx, trips, visits, prune, iop, fop, red, e_red)


@njit(cache=True)
def leaf_bounds_of(tilings, arrays, prof, prune, out):
    """out[b] = the leaf bound (energy, cycles) of tilings[b] as the table search applies it, and in out[b, 2]
    the energy bound of a subtree holding its SPM tile alone; for checking the bounds tiling by tiling.

    docs/lower-bounds.md §2a: the smallest DMA energy over its DRAM representatives plus fetch_energy_bound over
    its SPM ones; §2c: the largest of the block's cycle bound, dma_cycles_min over its DRAM representatives,
    leaf_pass_cycles over its SPM ones and pass_cycles_bound under each node of the SPM enumeration on its path;
    §2b: the subtree bound.
    """
    block_bounds_of(tilings, arrays, prof, prune, out)
    nops, n_loops = arrays.isidx.shape
    ncand = arrays.cands.shape[0]
    reps = np.empty((1, ncand, nops), np.int64)
    rep_cand = np.empty(ncand, np.int64)
    iop = np.empty((3, nops), np.int64)
    fop = np.empty((5, nops))
    di = np.empty((1, ncand, DI_KEYS + 4 * nops), np.int64)
    groups = np.empty((1, ncand, SG_GRP + 2 * nops), np.int64)
    scratch = np.empty(3 * nops, np.int64)
    e_spm = np.empty(n_loops, np.int64)
    df = np.empty((1, ncand, DF_Q + 2 * nops))
    visits = np.empty(nops)
    refetch = np.ones(nops)
    fixed = np.zeros(nops, np.bool_)
    below = np.empty((1 << nops, nops + 1, 1))
    pairs = np.empty((nops, nops))
    ext = np.empty(n_loops, np.int64)
    trips = np.empty(n_loops, np.int64)
    for b in range(tilings.shape[0]):
        t = tilings[b]
        p = prof.which[b]
        tt = tiling_terms(t, arrays, Profile(prof.pi[p], prof.pf[p], prof.rowf[p]))
        nd = level_reuse(t[DRAM], arrays.cands, arrays.isidx, reps[0], rep_cand)
        iop[1] = tt.dma
        fop[0] = tt.e_noc
        fop[1] = tt.e_spm
        fop[2] = tt.e_dma
        pass_energies(tt.e_red, fop)
        dram_entry(tt.ti[T_TC_DRAM], tt.ti[T_P_DRAM_OUT], iop, fop, nd, reps, 0, di, df, 0)
        for loop in range(n_loops):
            ext[loop] = t[0, loop] * t[1, loop] * t[2, loop] * t[3, loop]
        block_trips(ext, tt.tiles[1], trips)
        block_visits(arrays.isidx, trips, visits)
        for op in range(nops):
            refetch[op] = 1.0
            fixed[op] = False
            for loop in range(n_loops):
                if not arrays.isidx[op, loop]:
                    refetch[op] *= t[DRAM, loop]
                elif t[SPM, loop] > 1:
                    fixed[op] = True
        dram_floor = prune.e_floor - tt.e_base
        dma = dma_energy_min(nd, df, 0)
        for op in range(nops):  # the tile's own minima, for every σ: subtree_energy_bound skips the σ it rules out
            below[:, op, 0] = refetch[op]
        below[:, nops, 0] = dma
        pair_tiles(arrays.isidx, trips, pairs)
        refetch_bound = subtree_energy_bound(tt.e_base, dram_floor, fop, visits, pairs, below, 0, refetch, fixed)
        dram_energy = max(dram_floor, dma)
        ns = level_reuse(t[SPM], arrays.cands, arrays.isidx, reps[0], rep_cand)
        fetch = fetch_energy_bound(ns, reps, 0, tt.ti[T_TC_SPM], tt.ti[T_TC_DRAM], fop, visits)
        out[b, 0] = tt.e_base + dram_energy + fetch
        out[b, 1] = max(out[b, 1], dma_cycles_min(nd, di, 0, tt.ti[T_TC_DRAM]))
        spm_passes, dram_passes, comp, red = tt.ti[T_TC_SPM], tt.ti[T_TC_DRAM], tt.ti[T_TC_RF], tt.ti[T_RED]
        spm_groups(spm_passes, ns, reps, 0, groups)
        iop[0] = tt.noc
        c_leaf = leaf_pass_cycles(ns, reps, 0, groups, spm_passes, dram_passes, comp, red, iop, scratch)
        for loop in range(n_loops):
            e_spm[loop] = t[SPM, loop] * t[RF, loop] * t[SP, loop]
        for depth in range(n_loops):
            c_node = pass_cycles_bound(
                ext, arrays.isidx, tt.tiles[1], e_spm, depth, iop, visits, comp, red, spm_passes * dram_passes
            )
            c_leaf = max(c_leaf, c_node)
        out[b, 1] = max(out[b, 1], c_leaf)
        out[b, 2] = refetch_bound
