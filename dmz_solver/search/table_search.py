"""The table-driven enumerator of the exhaustive search, one task (spatial tuple and profile) per call.

It walks divisor positions: RF factors as multiples of the spatial factor, then SPM tiles as
multiples of e^PE, reading the layer tables (search/tables.py) at each leaf and folding the pair
loop into the task's minima. A (spatial, RF) block can be pruned by its lower bound.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor, wait

import numba
import numpy as np

from ..constraints.compile import ConstraintArrays, leaf_ok
from ..cost.pairs import SF_A, DramSide, Minima, PairTerms, SpmSide, pair_minima, pass_energies, spm_entry
from ..cost.terms import base_energy, coef_terms, pe_terms
from ..jit import njit
from ..layout import DRAM, I_BYTES_PER_ELEM, RF, SP, SPM, NestArrays, Profile
from ..noc.tasks import Tasks
from ..problem.space import LoopSpace
from .bounds import (
    ROUNDING_PJ,
    block_bound,
    block_cycles_bound,
    block_visits,
    bound_value,
    fetch_energy_bound,
    floor_profile,
    leaf_pass_cycles,
    least_noc_cycles,
    pair_tiles,
    pass_cycles_bound,
    pruning_bar,
    subtree_energy_bound,
)
from .stopping import stop_flag
from .tables import LayerTables

COUNT_ONLY = -2
"""`objective` of a pruning state that counts the valid tilings and evaluates none."""
STOP_EVERY = 1024
"""SPM-enumeration steps between two looks at the stop flag (a look costs one load; a step at most a pair loop)."""


class Pruning(namedtuple("Pruning", "objective cutoff e_floor")):
    """Branch and bound settings: prune blocks whose bound for `objective` exceeds cutoff.

    e_floor feeds the block bound (search/bounds.py). A namedtuple, so that the
    table search reads it in nopython mode; the fields are coerced to one numba type each.
    """

    __slots__ = ()

    def __new__(cls, objective: int, cutoff: float, e_floor: float) -> Pruning:
        return super().__new__(cls, int(objective), float(cutoff), float(e_floor))


Precedence = namedtuple("Precedence", "order lead")
"""Per task row of a search: order[s], its place in the enumeration order (task-major: a smaller one comes first),
and lead[s], the smallest value of the pruned objective that a task before it has reached (inf: none known).
A tiling of task s that only ties lead[s] is not the first minimum, so s may prune it (bounds.pruning_bar)."""


def no_precedence(n: int) -> Precedence:
    """Tasks in enumeration order with nothing known before them."""
    return Precedence(np.arange(n, dtype=np.int64), np.full(n, np.inf))


class TaskResults(namedtuple("TaskResults", "counts best best_t best_pair pruned floor shared")):
    """What a search of tasks finds, one row per task: valid tilings counted, the first minimum of each objective
    (value, tiling, ordering pair), the blocks, nodes and SPM tiles pruned, and the smallest bound among them
    (inf if none), so that min(best, floor) bounds everything the task holds. A task stopped by the deadline or
    never started has floor -inf: its best is a real value, but nothing is known of the rest. shared: how many of
    the pruned blocks the bound shared by the tasks of its spatial tuple pruned (search_tables)."""

    __slots__ = ()

    @property
    def complete(self) -> np.ndarray:
        """Per task: searched in full (not cut by a deadline)."""
        return self.floor > -np.inf

    @classmethod
    def empty(cls, n: int, n_loops: int) -> TaskResults:
        return cls(
            np.zeros(n, np.int64),
            np.full((n, 3), np.inf),
            np.ones((n, 3, 4, n_loops), np.int64),
            np.zeros((n, 3, 4), np.int64),
            np.zeros(n, np.int64),
            np.full(n, -np.inf),
            np.zeros(n, np.int64),
        )


@njit(cache=True, inline="always")
def pass_lead(value, s, lo, hi, prec, leads):
    """Task s reached value: it becomes the lead of s and of every task of rows lo..hi-1 after s in enumeration
    order, where leads[r - lo] is the smallest value reached by task r or a task before it."""
    for r in range(lo, hi):
        if prec.order[r] >= prec.order[s]:
            leads[r - lo] = min(leads[r - lo], value)


@njit(cache=True, inline="always")
def shared_bar(limit, leads):
    """The highest pruning bar of the tasks whose leads are given: a bound above it prunes for all of them."""
    bar = -np.inf
    for k in range(leads.shape[0]):
        bar = max(bar, pruning_bar(limit, leads[k]))
    return bar


@njit(cache=True, inline="always")
def prune_all(value, lo, hi, out):
    """A block pruned for every task of rows lo..hi-1 by a bound of `value` that they all share."""
    for s in range(lo, hi):
        out.pruned[s] += 1
        out.shared[s] += 1
        out.floor[s] = min(out.floor[s], value)


@njit(cache=True)
def search_tables(sp, space, arrays, tables, cons, prune, profs, out, rows, prec, stop):  # noqa: C901, PLR0912, PLR0915, PLR0917 - numba kernel: one flat enumeration loop, see bench/README.md
    """Every valid tiling of a LoopSpace with spatial tuple sp, through the LayerTables: first minima per objective,
    for each of the tasks rows[0] <= s < rows[1] of sp (one per row/column split).

    Unpruned, the same tilings in the same order and the same minima per task as fallback.search_under. cons: the
    ConstraintArrays checked at each leaf; profs: the Profiles of the tasks' unrollings, stacked (profs.*[k] is
    task rows[0] + k); results go to rows s of out (a TaskResults). With COUNT_ONLY the valid tilings are counted
    and none is evaluated.
    With prune.objective = 0, 1 or 2, a (spatial, RF) block, a node of the SPM enumeration or a valid leaf (SPM
    tile) is skipped when its lower bound (search/bounds.py) exceeds both prune.cutoff and the smallest value of
    that objective any of the tasks has reached so far, or exceeds lead - 1, where lead is the smallest value
    reached by task s or a task before it in enumeration order (prec, a Precedence; pass_lead): exact values are
    whole numbers, so that prunes only ties, which are not first minima (docs/lower-bounds.md §5a). pruned[s]
    counts them, so that a task with nothing pruned is known to be searched in full, and floor[s] keeps the
    smallest of their bounds. Pruning is otherwise strict, so a task whose minimum is the smallest of the call,
    at most the cutoff and below the leads of the tasks before it, still finds its first minimal tiling; the
    others find a value above it or none, and min(best[s], floor[s]) still bounds everything task s holds.
    The tasks share the enumeration of the RF blocks: each block is visited once, and every task searches it in
    turn (each task still sees its own tilings in enumeration order). When several tasks share it, a block is
    first bounded once by its quick bound (no task's split changes it), then under the floor profile of the tasks
    (search/bounds.py: floor_profile), which is at most every task's own block bound; if either exceeds every
    task's pruning limit, the block is pruned for all of them. The quick bound prunes exactly the blocks each task
    would prune with it, but floor[s] then keeps the quick value, which can be below the floor profile's.
    The search looks at stop[0] at every RF step and every STOP_EVERY SPM steps; once another thread sets it,
    the search ends with floor[s] = -inf for every task (what they found stands, the rest is unknown).
    """
    ext, divs, ndivs, dram_one = space.ext, space.divs, space.ndivs, space.dram_one
    best, best_t, best_pair, pruned, floor = out.best, out.best_t, out.best_pair, out.pruned, out.floor
    dcoef, ndims, isidx, fp, ip = arrays.dcoef, arrays.ndims, arrays.isidx, arrays.fp, arrays.ip
    radix, mult, nmult, qpos, ppos = (
        tables.div.radix,
        tables.div.mult,
        tables.div.nmult,
        tables.div.qpos,
        tables.div.ppos,
    )
    rf_pos = tables.rf
    pe_energy = tables.pe_energy
    lt = tables.levels
    lt_n, lt_c, lt_r, lt_q, lt_tc, lt_g = lt.count, lt.cands, lt.reps, lt.quot, lt.tc, lt.groups
    state, de_i, de_f = tables.tiles.state, tables.tiles.de_i, tables.tiles.de_f
    dma_min, dma_cycles, below = tables.tiles.dma_min, tables.tiles.dma_cycles, tables.tiles.below
    ltd_n, ltd_c = tables.dram_count, tables.dram_cands
    lo, hi = rows
    objective, cutoff = prune.objective, prune.cutoff
    catoms = np.empty(cons.exps.shape[1], np.int64)
    cext = np.empty(isidx.shape[1], np.int64)
    nops, n_loops = isidx.shape
    size = radix[0] * ndivs[0]
    ct = coef_terms(dcoef, ndims)
    nterms, tloops, tcoefs = ct.nterms, ct.tloops, ct.tcoefs
    macs = 1
    for loop in range(n_loops):
        macs *= ext[loop]
    e_base = base_energy(macs, fp)
    dram_floor = prune.e_floor - e_base  # the energy floor's DRAM part (§1)
    energy_bounds = objective == 0 or objective == 2  # the SPM-tile bounds bound energy only
    width = lt_r.shape[1]
    iop = np.empty((3, nops), np.int64)
    fop = np.empty((5, nops))
    tiles = np.empty((3, n_loops), np.int64)
    si = np.empty((width, 3), np.int64)
    sf = np.empty((width, SF_A + nops))
    scratch = np.empty(6 * nops, np.int64)
    t = np.ones((4, n_loops), np.int64)
    spos = np.empty(n_loops, np.int64)  # divisor positions: spatial factor,
    qp = np.empty(n_loops, np.int64)  # e^PE, the RF enumeration,
    qe = np.empty(n_loops, np.int64)  # e^SPM and the SPM enumeration
    kspm = np.empty(n_loops, np.int64)
    espm = np.empty(n_loops, np.int64)  # e^SPM of the loops the SPM enumeration has fixed
    ebase = np.empty(n_loops, np.int64)
    sbase = np.empty(n_loops, np.int64)
    for loop in range(n_loops):
        t[SP, loop] = sp[loop]
        for c in range(ndivs[loop]):
            if divs[loop, c] == sp[loop]:
                spos[loop] = c
    for s in range(lo, hi):
        best[s, :] = np.inf
        floor[s] = np.inf
        out.counts[s] = 0
    limit = cutoff  # the cutoff, or the smallest value any of the tasks reached if smaller
    leads = prec.lead[lo:hi].copy()  # per task: the smallest value it or a task before it has reached (pass_lead)
    block_bar = shared_bar(limit, leads)
    shared = hi - lo > 1 and objective >= 0
    fl_pi = np.empty(profs.pi.shape[1:], np.int64)
    fl_pf = np.empty(profs.pf.shape[1:])
    if shared:
        floor_profile(profs.pi, profs.pf, fl_pi, fl_pf)
    steps = 0
    least_noc = np.empty((1, nops), np.int64)  # least_noc_cycles of the block
    stopped = False
    c_lb = 0.0  # the block's cycle bound, and what the SPM-tile bounds need (docs/lower-bounds.md §2a, §2b)
    trips = np.empty(n_loops, np.int64)  # the block's PE-array tiles per loop (bounds.block_trips)
    visits = np.empty(nops)  # V(op) (bounds.block_visits)
    pairs = np.empty((nops, nops))
    refetch = np.ones((n_loops, nops))  # per depth of the SPM enumeration
    fixed = np.zeros((n_loops, nops), np.bool_)
    no_refetch = np.ones(nops)  # the block itself: no SPM factor chosen yet
    unfixed = np.zeros(nops, np.bool_)
    # RF factors: the valid RF tuples (tables.rf) whose product with the spatial factor divides the extent
    for block in range(rf_pos.shape[0]):
        if stop[0] != 0:
            stopped = True
            break
        divides = True
        for loop in range(n_loops):
            q = ppos[loop, rf_pos[block, loop], spos[loop]]
            if q < 0:
                divides = False
                break
            qp[loop] = q
        if not divides:
            continue
        comp = 1
        base = 0
        rf_passes = 1
        for loop in range(n_loops):
            t[RF, loop] = divs[loop, rf_pos[block, loop]]
            tiles[1, loop] = t[RF, loop] * t[SP, loop]
            trips[loop] = divs[loop, qpos[loop, ndivs[loop] - 1, qp[loop]]]  # ext // e^PE, by position
            comp *= t[RF, loop]
            rf_passes *= trips[loop]
            base += qp[loop] * radix[loop]
        block_visits(isidx, trips, visits)
        e_pe = max(prune.e_floor, pe_energy[base])  # §2d: what every tiling with this e^PE spends
        # the quick bound, which no task's split changes: e^PE's energy, and the MACs over the PEs or the DMA time
        # of the block's best SPM tile (§2c)
        quick = bound_value(objective, e_pe, max(float(rf_passes * comp), below[0, nops + 1, base]))
        if shared:  # bounds every task of the block shares: prune it for all when one exceeds what each could use
            if quick > block_bar:
                prune_all(quick, lo, hi, out)
                continue
            red, _, e_red, _, _ = pe_terms(
                t, nterms, tloops, tcoefs, ndims, isidx, fp, iop, fop, tiles, fl_pi, fl_pf, profs.rowf[0]
            )
            pass_energies(e_red, fop)
            e_lb, c_lb = block_bound(t, isidx, trips, visits, prune, iop, fop, red, e_red)
            c_lb = max(c_lb, below[0, nops + 1, base])
            value = bound_value(objective, e_lb, c_lb)
            if energy_bounds and value <= block_bar:
                pair_tiles(isidx, trips, pairs)
                e_sub = subtree_energy_bound(e_base, dram_floor, fop, visits, pairs, below, base, no_refetch, unfixed)
                value = bound_value(objective, max(e_lb, e_sub), c_lb)
            if value > block_bar and e_lb >= ROUNDING_PJ:  # (bound_value is monotone while the energy is)
                prune_all(value, lo, hi, out)
                continue
        for s in range(lo, hi):
            k = s - lo
            pi, pf, rowf = profs.pi[k], profs.pf[k], profs.rowf[k]
            red = 0
            bar = pruning_bar(limit, leads[k])
            if objective >= 0:  # §2, §2d: the quick bounds, before the block's per-pass terms
                value = quick
                if objective > 0 and value <= bar:
                    for op in range(nops):
                        least_noc[0, op] = least_noc_cycles(op, t, tiles, nterms, tloops, tcoefs, ndims, pi, pf)
                    c_noc = block_cycles_bound(isidx, trips, least_noc, visits, comp, 0, rf_passes)
                    value = bound_value(objective, e_pe, max(c_noc, below[0, nops + 1, base]))
                if value > bar:
                    pruned[s] += 1
                    floor[s] = min(floor[s], value)
                    continue
            if objective != COUNT_ONLY:
                red, _, e_red, _, _ = pe_terms(
                    t, nterms, tloops, tcoefs, ndims, isidx, fp, iop, fop, tiles, pi, pf, rowf
                )
                pass_energies(e_red, fop)
                if objective >= 0:
                    e_lb, c_lb = block_bound(t, isidx, trips, visits, prune, iop, fop, red, e_red)
                    c_lb = max(c_lb, below[0, nops + 1, base])  # §2c: the DMA time of the block's best tile
                    value = bound_value(objective, e_lb, c_lb)
                    if energy_bounds and value <= bar:  # the cheap bound first
                        pair_tiles(isidx, trips, pairs)
                        e_sub = subtree_energy_bound(
                            e_base, dram_floor, fop, visits, pairs, below, base, no_refetch, unfixed
                        )
                        value = bound_value(objective, max(e_lb, e_sub), c_lb)
                    if value > bar:
                        pruned[s] += 1  # §2, §2b: the block bound
                        floor[s] = min(floor[s], value)
                        continue
            # SPM factors: e^SPM runs over the multiples of e^PE; its index E gives the tile terms
            ebase[0] = base
            sbase[0] = 0
            kspm[0] = -1
            ls = 0
            while ls >= 0:
                steps += 1
                if steps % STOP_EVERY == 0 and stop[0] != 0:
                    stopped = True
                    break
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
                espm[ls] = divs[ls, q]
                spm_index = sbase[ls] + qpos[ls, q, qp[ls]] * radix[ls]
                if ls < n_loops - 1:
                    if energy_bounds:  # the SPM tiles under this node share loops 0..ls: their DRAM factors,
                        dram_factor = ext[ls] // divs[ls, q]  # and whether an SPM loop indexes an operand
                        for op in range(nops):
                            above_r = refetch[ls - 1, op] if ls > 0 else 1.0
                            above_f = fixed[ls - 1, op] if ls > 0 else False
                            if isidx[op, ls]:
                                refetch[ls, op] = above_r
                                fixed[ls, op] = above_f or q != qp[ls]
                            else:
                                refetch[ls, op] = above_r * dram_factor
                                fixed[ls, op] = above_f
                    if objective >= 0:
                        e_node = 0.0
                        if energy_bounds:
                            e_node = subtree_energy_bound(
                                e_base, dram_floor, fop, visits, pairs, below, index, refetch[ls], fixed[ls]
                            )
                        c_node = max(c_lb, below[0, nops + 1, index])
                        value = bound_value(objective, e_node, c_node)
                        if objective != 0 and value <= bar:  # §2: the output's cases under this node
                            c_pass = pass_cycles_bound(
                                ext, isidx, tiles[1], espm, ls, iop, visits, comp, red, rf_passes
                            )
                            value = bound_value(objective, e_node, max(c_node, c_pass))
                        if value > bar:
                            pruned[s] += 1  # §2b, §2c: no SPM tile under this node can win
                            floor[s] = min(floor[s], value)
                            continue
                    ebase[ls + 1] = index
                    sbase[ls + 1] = spm_index
                    ls += 1
                    kspm[ls] = -1
                    continue
                if state[index] != 2:
                    continue
                dram = size - 1 - index
                if cons.kinds.shape[0] > 0:
                    for loop in range(n_loops):
                        t[SPM, loop] = divs[loop, qe[loop]] // divs[loop, qp[loop]]
                        t[DRAM, loop] = ext[loop] // divs[loop, qe[loop]]
                    if not leaf_ok(t, dcoef, ndims, ip[I_BYTES_PER_ELEM], cons, catoms, cext):
                        continue
                spm_passes = lt_tc[spm_index]
                ns = lt_n[spm_index]
                if objective >= 0:
                    e_leaf = 0.0
                    if energy_bounds:
                        fetch = fetch_energy_bound(ns, lt_r, spm_index, spm_passes, lt_tc[dram], fop, visits)
                        e_leaf = e_base + max(dram_floor, dma_min[index]) + fetch
                    c_leaf = max(c_lb, dma_cycles[index])
                    value = bound_value(objective, e_leaf, c_leaf)
                    if objective != 0 and value <= bar:  # §2a: the SPM pass time of each SPM order
                        c_pass = leaf_pass_cycles(
                            ns, lt_r, spm_index, lt_g, spm_passes, lt_tc[dram], comp, red, iop, scratch
                        )
                        value = bound_value(objective, e_leaf, max(c_leaf, c_pass))
                    if value > bar:
                        pruned[s] += 1  # §2a, §2c: the leaf bound
                        floor[s] = min(floor[s], value)
                        continue
                out.counts[s] += 1
                if objective == COUNT_ONLY:
                    continue
                spm_entry(spm_passes, comp, red, iop, fop, ns, lt_q, lt_g, spm_index, si, sf, scratch)
                improved = pair_minima(
                    SpmSide(ns, lt_r, spm_index, lt_c, si, sf),
                    DramSide(ltd_n[dram], ltd_c, dram, de_i, de_f, index),
                    PairTerms(spm_passes, lt_tc[dram], comp, red, iop, fop, e_base),
                    scratch,
                    Minima(best, best_pair, s),
                )
                if improved:
                    for loop in range(n_loops):
                        t[SPM, loop] = divs[loop, qe[loop]] // divs[loop, qp[loop]]
                        t[DRAM, loop] = ext[loop] // divs[loop, qe[loop]]
                    for obj in range(3):
                        if (improved >> obj) & 1:
                            best_t[s, obj] = t
                    if objective >= 0:
                        limit = min(limit, best[s, objective])
                        pass_lead(best[s, objective], s, lo, hi, prec, leads)
                        bar = pruning_bar(limit, leads[k])
                        block_bar = shared_bar(limit, leads)
            if stopped:
                break
        if stopped:
            break
    if stopped:
        for s in range(lo, hi):
            floor[s] = -np.inf
    return out.counts[lo:hi].sum()


def tuple_runs(sps: np.ndarray) -> np.ndarray:
    """Where the runs of equal spatial tuples start among the rows of sps, and len(sps) last."""
    if len(sps) == 0:
        return np.zeros(1, np.int64)
    change = np.flatnonzero((sps[1:] != sps[:-1]).any(axis=1)) + 1
    return np.concatenate(([0], change, [len(sps)])).astype(np.int64)


def seconds_left(deadline: float) -> float | None:
    """A wait's timeout until `deadline` (time.perf_counter()): None for no deadline, and never more than the
    platform's longest wait (a time limit of 1e10 s is no limit)."""
    if deadline == math.inf:
        return None
    return min(max(0.0, deadline - time.perf_counter()), threading.TIMEOUT_MAX)


def search_all_tables(
    tasks: Tasks,
    space: LoopSpace,
    arrays: NestArrays,
    tables: LayerTables,
    cons: ConstraintArrays,
    prune: Pruning,
    *,
    deadline: float = math.inf,
    prec: Precedence | None = None,
) -> TaskResults:
    """search_tables for every task (a noc.tasks.Tasks) on numba.get_num_threads() threads, under a pruning state
    and the tasks' Precedence (default: the rows are in enumeration order and nothing is known before them).

    Consecutive tasks of one spatial tuple (its row/column splits) go to one call, which enumerates their RF blocks
    once. Calls differ in size by orders of magnitude, so each thread takes the next one when it is done with one
    (search_tables releases the GIL). Python threads rather than prange: the results are the same and a parallel
    numba wrapper would add ~20 s of compilation.
    At `deadline` (time.perf_counter()) this thread raises the stop flag: running calls end within
    a few milliseconds and no new one starts (TaskResults.complete tells which tasks finished).
    """
    sps = tasks.sps
    n = sps.shape[0]
    out = TaskResults.empty(n, space.ext.shape[0])
    prec = no_precedence(n) if prec is None else prec
    starts = tuple_runs(sps)
    ids = itertools.count()  # next() is atomic under the GIL
    if time.perf_counter() >= deadline:
        return out  # no task started: none is complete
    with stop_flag() as stop:

        def work() -> None:
            for g in iter(lambda: next(ids), None):
                if g >= len(starts) - 1 or stop[0]:
                    return
                lo, hi = int(starts[g]), int(starts[g + 1])
                profs = Profile(tasks.pi[lo:hi], tasks.pf[lo:hi], tasks.rowf[lo:hi])
                search_tables(sps[lo], space, arrays, tables, cons, prune, profs, out, (lo, hi), prec, stop)

        workers = max(1, min(numba.get_num_threads(), len(starts) - 1))
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(work) for _ in range(workers)]
            try:
                wait(futures, timeout=seconds_left(deadline))
            finally:
                stop[0] = 1  # past the deadline, or interrupted: whatever still runs ends within milliseconds
            for future in futures:
                future.result()
    return out
