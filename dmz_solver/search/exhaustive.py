"""Exhaustive search: every valid tiling, every candidate ordering pair, all three objectives.

Each spatial tuple is a task; tasks run on all cores and their results merge in
enumeration order, so the reported tiling is the first minimal one (§7.3) whatever the
thread count.

Everything that depends on one level's factor tuple alone is tabulated once per layer over
all tuples of divisors (indexed in mixed radix over divisor positions): the reuse
representatives of a DRAM or SPM tuple, and the SPM-tile terms (capacity check, DMA, the
DRAM representatives' entries) of an e^SPM tuple, whose DRAM tuple is its complement. The
enumeration then walks divisor positions, so a leaf costs table look-ups and the pair loop.
"""

from __future__ import annotations

import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from ..constraints.compile import leaf_ok
from ..cost import kernel as k
from ..cost.kernel import DRAM, OBJECTIVES, RF, SP, SPM, make_workspace, tiling_minima
from ..errors import InputError
from ..noc.tasks import make_tasks
from ..problem import Problem
from ..problem.space import count_under, next_inner, problem_spatial_tuples, rf_fits, rf_util_ok
from .bounds import block_bound, bound_value

# Largest tables (bytes) the search builds; beyond, it evaluates each tiling from scratch.
MAX_TABLE_BYTES = 1 << 30
COUNT_ONLY = -2
"""`prune` value of search_tables that counts the valid tilings and evaluates none."""


@dataclass(frozen=True)
class Best:
    """The best tiling for one objective and the candidate orders (SPM, DRAM) it uses."""

    value: float
    tiling: np.ndarray  # (4, loops): DRAM, SPM, RF, SPATIAL
    spm_order: int
    dram_order: int
    rows: np.ndarray | None = None  # the row part of each spatial factor (None: the array has one row)


@dataclass(frozen=True)
class ExhaustiveResult:
    """Minima of each objective over the whole space, and how many tilings were valid."""

    best: dict[str, Best]
    tilings: int
    seconds: float


@njit(cache=True)
def search_under(sp, ext, divs, ndivs, dram_one, dcoef, dsize, ndims, isidx, cands, fp, ip, best, best_t, best_pair,
                 prof):  # fmt: skip
    """Evaluate every valid tiling with spatial tuple sp (profile prof); keep the first minimum per objective."""
    n_loops = ext.shape[0]
    t = np.ones((4, n_loops), np.int64)
    t[SP] = sp
    idx = np.full(2 * n_loops, -1, np.int64)
    tile = np.empty(n_loops, np.int64)
    ws = make_workspace(ndims.shape[0], cands.shape[0], n_loops)
    values = np.empty(3)
    pairs = np.empty((3, 4), np.int64)
    best[:] = np.inf
    count = 0
    pos = next_inner(t, 0, idx, ext, divs, ndivs, dram_one, dcoef, ndims, fp, ip, tile)
    while pos >= 0:
        count += 1
        tiling_minima(t, dcoef, dsize, ndims, isidx, cands, fp, ip, values, pairs, ws, prof)
        for obj in range(3):
            if values[obj] < best[obj]:
                best[obj] = values[obj]
                best_t[obj] = t
                best_pair[obj] = pairs[obj]
        pos = next_inner(t, pos, idx, ext, divs, ndivs, dram_one, dcoef, ndims, fp, ip, tile)
    return count


@njit(cache=True)
def divisor_tables(divs, ndivs):
    """Mixed-radix weights and divisor arithmetic by position, per loop.

    radix[l]: weight of loop l's divisor position in a tuple index (the last loop varies fastest).
    mult[l, p, :nmult[l, p]]: positions of the multiples of divisor p, ascending.
    qpos[l, a, b]: position of divs[a] / divs[b] (-1 unless divs[b] divides divs[a]).
    """
    n_loops, width = divs.shape
    radix = np.ones(n_loops, np.int64)
    for loop in range(n_loops - 2, -1, -1):
        radix[loop] = radix[loop + 1] * ndivs[loop + 1]
    mult = np.zeros((n_loops, width, width), np.int64)
    nmult = np.zeros((n_loops, width), np.int64)
    qpos = np.full((n_loops, width, width), -1, np.int64)
    for loop in range(n_loops):
        for b in range(ndivs[loop]):
            for a in range(ndivs[loop]):
                if divs[loop, a] % divs[loop, b] == 0:
                    mult[loop, b, nmult[loop, b]] = a
                    nmult[loop, b] += 1
                    quot = divs[loop, a] // divs[loop, b]
                    for c in range(ndivs[loop]):
                        if divs[loop, c] == quot:
                            qpos[loop, a, b] = c
    return radix, mult, nmult, qpos


@njit(cache=True)
def _decode(index, divs, ndivs, radix, t, row):
    """t[row] = the factor tuple with mixed-radix index `index`."""
    for loop in range(t.shape[1]):
        t[row, loop] = divs[loop, (index // radix[loop]) % ndivs[loop]]


@njit(cache=True)
def level_table(divs, ndivs, radix, cands, isidx, allowed_inner):
    """Reuse representatives of every factor tuple, as a DRAM or SPM tuple (§3.5, §4.1).

    Only candidates whose innermost loop with trip count > 1 is in allowed_inner take part. Returns
    (count, first candidates, vectors, TC / r as doubles, TC, SPM groupings) indexed by tuple.
    """
    nops, n_loops = isidx.shape
    ncand = cands.shape[0]
    size = radix[0] * ndivs[0]
    rstart, rfirst, rnloops, rsloops = k.reuse_structures(cands, isidx, allowed_inner)
    t = np.ones((1, n_loops), np.int64)
    reps = np.empty((1, ncand, nops), np.int64)
    rep_cand = np.empty((1, ncand), np.int64)
    count = np.empty(size, np.int64)
    tc = np.empty(size, np.int64)
    for index in range(size):
        _decode(index, divs, ndivs, radix, t, 0)
        count[index] = k.level_reps(t, 0, cands, isidx, rstart, rfirst, rnloops, rsloops, reps, 0, rep_cand)
        tc[index] = 1
        for loop in range(n_loops):
            tc[index] *= t[0, loop]
    width = max(count.max(), 1)
    lt_r = np.ones((size, width, nops), np.int64)
    lt_c = np.zeros((size, width), np.int64)
    lt_q = np.ones((size, width, nops))
    lt_g = np.zeros((size, width, k.SG_GRP + 2 * nops), np.int64)
    for index in range(size):
        _decode(index, divs, ndivs, radix, t, 0)
        k.level_reps(t, 0, cands, isidx, rstart, rfirst, rnloops, rsloops, lt_r, index, lt_c)
        k.level_quotients(tc[index], count[index], lt_r, index, lt_q)
        k.spm_groups(tc[index], count[index], lt_r, index, lt_g)
    return count, lt_c, lt_r, lt_q, tc, lt_g


@njit(cache=True)
def tile_table(divs, ndivs, radix, ext, dcoef, dsize, ndims, isidx, fp, ip, lt_n, lt_r, lt_tc):
    """SPM-tile terms of every e^SPM tuple E (§3.2, §5.6-§5.8, §6.3), its DRAM tuple being N-1-E.

    Returns (state, DRAM entries (int, float)): state 0 when the tile overflows the SPM, 1 when
    it fits below the SPM utilisation threshold, 2 when valid.
    """
    nops, n_loops = isidx.shape
    size = radix[0] * ndivs[0]
    width = lt_r.shape[1]
    nterms, tloops, tcoefs = k.coef_terms(dcoef, ndims)
    state = np.zeros(size, np.int64)
    de_i = np.zeros((size, width, k.DI_KEYS + 4 * nops), np.int64)
    de_f = np.zeros((size, width, k.DF_Q + 2 * nops))
    e = np.ones((1, n_loops), np.int64)
    iop = np.empty((3, nops), np.int64)
    fop = np.empty((5, nops))
    capacity = ip[k.I_BANKS] * ip[k.I_BANK_BYTES]
    for index in range(size):
        _decode(index, divs, ndivs, radix, e, 0)
        nbytes, banks = k.spm_tile_terms(e, 0, nterms, tloops, tcoefs, ndims, dsize, fp, ip, iop, fop)
        if not (banks <= ip[k.I_BANKS] and nbytes <= capacity):  # as space.spm_fits
            continue
        state[index] = 2 if nbytes / capacity >= fp[k.F_SPM_UTIL] else 1  # as space.spm_util_ok
        dram = size - 1 - index
        p_out = 1
        for loop in range(n_loops):
            if isidx[0, loop]:
                p_out *= ext[loop] // e[0, loop]
        k.dram_entry(lt_tc[dram], p_out, iop, fop, lt_n[dram], lt_r, dram, de_i, de_f, index)
    return state, de_i, de_f


@njit(cache=True, nogil=True)
def search_tables(sp, ext, divs, ndivs, dram_one, dcoef, ndims, isidx, fp, ip, dt, lt, ltd, tt, cons, best, best_t,
                  best_pair, s, prune, cutoff, e_floor, two_indexed, pruned, prof):  # fmt: skip
    """search_under through the layer tables: the same tilings in the same order, the same minima.

    dt, lt, tt are the divisor, level and tile tables (ltd = (count, candidates) of the DRAM level
    table, lt's own unless loop-order constraints differ by level); cons = (kinds, tstart, coefs,
    exps) the constraint relations checked at each leaf (constraints/compile.py); results go to
    best[s], best_t[s], best_pair[s].
    With prune = 0, 1 or 2 (an objective), a (spatial, RF) block is skipped when its lower bound
    (search/bounds.py) exceeds both cutoff and best[s, prune]; pruned[s] counts those blocks. With
    prune = COUNT_ONLY the valid tilings are counted and none is evaluated.
    Pruning is strict, so the first minimal tiling of that objective is still found.
    prof = (pi, pf, rowf): the communication profile of the task's unrolling (noc/profile.py).
    """
    radix, mult, nmult, qpos = dt
    pi, pf, rowf = prof
    lt_n, lt_c, lt_r, lt_q, lt_tc, lt_g = lt
    state, de_i, de_f = tt
    ltd_n, ltd_c = ltd
    ckinds, ctstart, ccoefs, cexps = cons
    catoms = np.empty(cexps.shape[1], np.int64)
    cext = np.empty(isidx.shape[1], np.int64)
    nops, n_loops = isidx.shape
    size = radix[0] * ndivs[0]
    nterms, tloops, tcoefs = k.coef_terms(dcoef, ndims)
    macs = 1
    for loop in range(n_loops):
        macs *= ext[loop]
    e_base = k.base_energy(macs, fp)
    width = lt_r.shape[1]
    iop = np.empty((3, nops), np.int64)
    fop = np.empty((5, nops))
    tiles = np.empty((3, n_loops), np.int64)
    si = np.empty((width, 3), np.int64)
    sf = np.empty((width, k.SF_A + nops))
    scratch = np.empty(6 * nops, np.int64)
    t = np.ones((4, n_loops), np.int64)
    spos = np.empty(n_loops, np.int64)  # divisor positions: spatial factor,
    qp = np.empty(n_loops, np.int64)  # e^PE, the RF enumeration,
    krf = np.full(n_loops, -1, np.int64)
    qe = np.empty(n_loops, np.int64)  # e^SPM and the SPM enumeration
    kspm = np.empty(n_loops, np.int64)
    ebase = np.empty(n_loops, np.int64)
    sbase = np.empty(n_loops, np.int64)
    for loop in range(n_loops):
        t[SP, loop] = sp[loop]
        for c in range(ndivs[loop]):
            if divs[loop, c] == sp[loop]:
                spos[loop] = c
    best[s, :] = np.inf
    count = 0
    # RF factors: e^PE runs over the multiples of the spatial factor; prune as space.next_inner
    lr = 0
    while lr >= 0:
        kk = krf[lr] + 1
        if kk >= nmult[lr, spos[lr]]:
            t[RF, lr] = 1
            lr -= 1
            continue
        krf[lr] = kk
        qp[lr] = mult[lr, spos[lr], kk]
        t[RF, lr] = divs[lr, qp[lr]] // sp[lr]
        if not rf_fits(t, dcoef, ndims, fp):  # larger RF factors only grow the footprint
            t[RF, lr] = 1
            lr -= 1
            continue
        if lr < n_loops - 1:
            lr += 1
            krf[lr] = -1
            continue
        if not rf_util_ok(t, dcoef, ndims, fp):
            continue
        red = 0
        if prune != COUNT_ONLY:
            red, _, e_red, _, _ = k.pe_terms(t, nterms, tloops, tcoefs, ndims, isidx, fp, iop, fop, tiles, pi, pf, rowf)
            if prune >= 0:
                e_lb, c_lb = block_bound(t, ext, ndims, isidx, macs, e_floor, two_indexed, iop, fop, tiles, red, e_red)
                if bound_value(prune, e_lb, c_lb) > min(best[s, prune], cutoff):
                    pruned[s] += 1
                    continue
            k.pass_energies(e_red, fop)
        comp = 1
        base = 0
        for loop in range(n_loops):
            comp *= t[RF, loop]
            base += qp[loop] * radix[loop]
        # SPM factors: e^SPM runs over the multiples of e^PE; its index E gives the tile terms
        ebase[0] = base
        sbase[0] = 0
        kspm[0] = -1
        ls = 0
        while ls >= 0:
            kk = kspm[ls] + 1
            if dram_one[ls]:  # the DRAM factor must be 1: e^SPM is the whole extent
                if kk > 0:
                    ls -= 1
                    continue
                q = ndivs[ls] - 1
            else:
                if kk >= nmult[ls, qp[ls]]:
                    ls -= 1
                    continue
                q = mult[ls, qp[ls], kk]
            kspm[ls] = kk
            index = ebase[ls] + (q - qp[ls]) * radix[ls]
            if state[index] == 0:  # overflows the SPM, and so do larger tiles
                ls -= 1
                continue
            qe[ls] = q
            spm_index = sbase[ls] + qpos[ls, q, qp[ls]] * radix[ls]
            if ls < n_loops - 1:
                ebase[ls + 1] = index
                sbase[ls + 1] = spm_index
                ls += 1
                kspm[ls] = -1
                continue
            if state[index] != 2:
                continue
            dram = size - 1 - index
            if ckinds.shape[0] > 0:
                for loop in range(n_loops):
                    t[SPM, loop] = divs[loop, qe[loop]] // divs[loop, qp[loop]]
                    t[DRAM, loop] = ext[loop] // divs[loop, qe[loop]]
                if not leaf_ok(t, dcoef, ndims, ip[k.I_BYTES_PER_ELEM], ckinds, ctstart, ccoefs, cexps, catoms, cext):
                    continue
            count += 1
            if prune == COUNT_ONLY:
                continue
            spm_passes = lt_tc[spm_index]
            ns = lt_n[spm_index]
            k.spm_entry(spm_passes, comp, red, iop, fop, ns, lt_q, lt_g, spm_index, si, sf, scratch)
            improved = k.pair_minima(ns, lt_r, spm_index, lt_c, si, sf, ltd_n[dram], ltd_c, dram, de_i, de_f, index,
                                     spm_passes, lt_tc[dram], comp, red, iop, fop, e_base, scratch, best, best_pair,
                                     s)  # fmt: skip
            if improved:
                for loop in range(n_loops):
                    t[SPM, loop] = divs[loop, qe[loop]] // divs[loop, qp[loop]]
                    t[DRAM, loop] = ext[loop] // divs[loop, qe[loop]]
                for obj in range(3):
                    if (improved >> obj) & 1:
                        best_t[s, obj] = t
    return count


def _search_all_tables(units, ext, divs, ndivs, dram_one, dcoef, ndims, isidx, fp, ip, dt, lt, ltd, tt, cons, prune):
    """search_tables for every task (a Tasks: spatial tuples and their profiles) on numba.get_num_threads() threads.

    Tasks differ in size by orders of magnitude, so each thread takes the next task when it is
    done with one (search_tables releases the GIL). Python threads rather than prange: the
    results are the same and a parallel numba wrapper would add ~20 s of compilation.
    prune is a Pruning (or None: evaluate every tiling).
    """
    sps, pis, pfs, rowfs = units.sps, units.pi, units.pf, units.rowf
    n = sps.shape[0]
    counts = np.zeros(n, np.int64)
    pruned = np.zeros(n, np.int64)
    best = np.full((n, 3), np.inf)
    best_t = np.ones((n, 3, 4, ext.shape[0]), np.int64)
    best_pair = np.zeros((n, 3, 4), np.int64)
    tasks = itertools.count()  # next() is atomic under the GIL
    objective, cutoff, e_floor, two = (-1, np.inf, 0.0, False) if prune is None else prune

    def work() -> None:
        for s in iter(lambda: next(tasks), None):
            if s >= n:
                return
            counts[s] = search_tables(sps[s], ext, divs, ndivs, dram_one, dcoef, ndims, isidx, fp, ip, dt, lt, ltd, tt,
                                      cons, best, best_t, best_pair, s, objective, cutoff, e_floor, two,
                                      pruned, (pis[s], pfs[s], rowfs[s]))  # fmt: skip

    workers = max(1, min(numba.get_num_threads(), n))
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(work) for _ in range(workers)]:
            future.result()
    return counts, best, best_t, best_pair, pruned


def _table_bytes(divs: np.ndarray, ndivs: np.ndarray, cands: np.ndarray, nops: int) -> int:
    """Upper bound on the bytes of the level and tile tables (at most one representative per candidate)."""
    size = int(np.prod(ndivs))
    return size * cands.shape[0] * 8 * (2 * nops + 1 + k.SG_GRP + 2 * nops + k.DI_KEYS + 4 * nops + k.DF_Q + 2 * nops)


@njit(cache=True, parallel=True)
def search_all(sps, ext, divs, ndivs, dram_one, dcoef, dsize, ndims, isidx, cands, fp, ip, pis, pfs, rowfs):
    """search_under for every spatial tuple, interleaved over the threads for balance.

    The path for layers whose tables would exceed MAX_TABLE_BYTES: each tiling evaluated from scratch.
    """
    n = sps.shape[0]
    counts = np.zeros(n, np.int64)
    best = np.full((n, 3), np.inf)
    best_t = np.ones((n, 3, 4, ext.shape[0]), np.int64)
    best_pair = np.zeros((n, 3, 4), np.int64)
    lanes = 64
    for lane in prange(lanes):
        for s in range(lane, n, lanes):
            counts[s] = search_under(
                sps[s], ext, divs, ndivs, dram_one, dcoef, dsize, ndims, isidx, cands, fp, ip,
                best[s], best_t[s], best_pair[s], (pis[s], pfs[s], rowfs[s]),
            )  # fmt: skip
    return counts, best, best_t, best_pair


@dataclass(frozen=True)
class Pruning:
    """Branch and bound settings: prune blocks whose bound for `objective` exceeds cutoff."""

    objective: int
    cutoff: float
    e_floor: float
    two_indexed: bool

    def __iter__(self):
        return iter((self.objective, self.cutoff, self.e_floor, self.two_indexed))


class TaskSearch:
    """The exhaustive search of one problem, task by task (spatial tuples), optionally pruned.

    Builds the layer tables once; `run` searches a subset of the tasks.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        dcoef, dsize, ndims, isidx, cands, fp, ip = problem.arrays
        self.divs, self.ndivs = problem.divisor_table
        _, self.dram_one = problem.loop_masks
        self.ext = np.array(problem.nest.extents, np.int64)
        sps = problem_spatial_tuples(problem)
        self.tables = None
        compiled = problem.compiled
        self.cons = compiled.arrays
        if compiled.relations:  # spatial relations and DRAM factors pinned to 1 prune early; the rest at leaves
            self.dram_one = self.dram_one | compiled.pinned(DRAM)
            sps = sps[compiled.spatial_ok(sps)]
            n_loops = len(problem.nest.loops)

            def early(r) -> bool:
                pin = compiled.pins_to_one(r)
                return compiled.is_spatial(r) or (pin is not None and pin // n_loops == DRAM)

            self.cons = compiled.arrays_of(tuple(r for r in compiled.relations if not early(r)))
        allowed = compiled.spatial_ok if compiled.has_array_relations else None  # over row/column parts: per split
        self.tasks = make_tasks(sps, isidx, problem.arch, allowed)
        self.sps = self.tasks.sps  # one row per task: a spatial tuple may appear once per row/column split
        allowed_dram, allowed_spm = compiled.allowed_inner
        n_loops = len(problem.nest.loops)
        if compiled.has_order_rules and (n_loops > k.MAX_MASK_LOOPS or (len(cands) << n_loops) > k.MAX_MASK_ROWS):
            raise InputError(f"loop-order constraints need tabulated reuse structures; layer {problem.nest.name} "
                             "has too many loops or candidate orders")  # fmt: skip
        if len(self.sps) and _table_bytes(self.divs, self.ndivs, cands, len(ndims)) <= MAX_TABLE_BYTES:
            dt = divisor_tables(self.divs, self.ndivs)
            lt = level_table(self.divs, self.ndivs, dt[0], cands, isidx, allowed_spm)
            ltd = lt
            if not np.array_equal(allowed_dram, allowed_spm):  # order rules differ by level: a DRAM table
                ltd = level_table(self.divs, self.ndivs, dt[0], cands, isidx, allowed_dram)
            tt = tile_table(self.divs, self.ndivs, dt[0], self.ext, dcoef, dsize, ndims, isidx, fp, ip,
                            ltd[0], ltd[2], ltd[4])  # fmt: skip
            self.tables = (dt, lt, (ltd[0], ltd[1]), tt)
        elif len(self.sps) and (len(compiled.relations) or compiled.has_order_rules):
            raise InputError(f"custom constraints need the table search, and layer {problem.nest.name} is too "
                             "large for its tables")  # fmt: skip

    def count(self) -> int:
        """How many tilings are valid: each spatial tuple's tilings once, whatever its row/column splits."""
        first = np.unique(self.sps, axis=0, return_index=True)[1]
        if self.tables is None:  # layers too large for the tables: the per-tiling enumerator
            dcoef, _, ndims, _, _, fp, ip = self.problem.arrays
            return sum(int(count_under(sp, self.ext, self.divs, self.ndivs, self.dram_one, dcoef, ndims, fp, ip))
                       for sp in self.sps[np.sort(first)])  # fmt: skip
        counts = self.run(np.sort(first), Pruning(COUNT_ONLY, np.inf, 0.0, False))[0]
        return int(counts.sum())

    def run(self, task_ids: np.ndarray, prune: Pruning | None = None):
        """(counts, best, best_t, best_pair, pruned) of the given tasks.

        Without tables (very large layers) every tiling is evaluated: pruning is an optimisation only.
        """
        dcoef, dsize, ndims, isidx, cands, fp, ip = self.problem.arrays
        tasks = self.tasks.subset(task_ids)
        if self.tables is not None:
            dt, lt, ltd, tt = self.tables
            return _search_all_tables(tasks, self.ext, self.divs, self.ndivs, self.dram_one, dcoef, ndims, isidx,
                                      fp, ip, dt, lt, ltd, tt, self.cons, prune)  # fmt: skip
        counts, best, best_t, best_pair = search_all(
            tasks.sps, self.ext, self.divs, self.ndivs, self.dram_one, dcoef, dsize, ndims, isidx, cands, fp, ip,
            tasks.pi, tasks.pf, tasks.rowf,
        )  # fmt: skip
        return counts, best, best_t, best_pair, np.zeros(len(tasks), np.int64)


def count_tilings(problem: Problem) -> int:
    """How many tilings of the problem are valid (the seed's "execution methods evaluated", §3.6)."""
    return TaskSearch(problem).count()


def exhaustive_search(problem: Problem) -> ExhaustiveResult:
    """Minimise energy, cycles and EDP independently over every valid tiling and ordering pair.

    Every valid tiling is evaluated (no pruning), so the search is an oracle for the other solvers.
    """
    start = time.perf_counter()
    search = TaskSearch(problem)
    if len(search.sps) == 0:
        return ExhaustiveResult({}, 0, time.perf_counter() - start)
    counts, best, best_t, best_pair, _ = search.run(np.arange(len(search.sps)))
    total = int(counts.sum())
    found: dict[str, Best] = {}
    if total:
        for obj, name in enumerate(OBJECTIVES):
            s = int(np.argmin(best[:, obj]))  # first minimal task in enumeration order
            spm_order, dram_order = int(best_pair[s, obj, 2]), int(best_pair[s, obj, 3])
            found[name] = Best(float(best[s, obj]), best_t[s, obj].copy(), spm_order, dram_order,
                               search.tasks.rowf[s].copy())  # fmt: skip
    return ExhaustiveResult(found, total, time.perf_counter() - start)
