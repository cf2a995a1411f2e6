"""Layer tables of the exhaustive search: everything that depends on one level's factor tuple alone.

Factor tuples are indexed in mixed radix over divisor positions (the last loop varies fastest).
`level_table` holds the reuse representatives of every tuple as a DRAM or SPM tuple, `tile_table`
the SPM-tile terms of every e^SPM tuple (capacity check, DMA, the entries of its DRAM tuple's
representatives), so that a leaf of the enumeration costs table look-ups and the pair loop.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..cost.pairs import DF_Q, DI_KEYS, SG_GRP, dma_energy_min, dram_entry, pass_energies, spm_groups
from ..cost.reuse import level_quotients, level_reps, reuse_structures
from ..cost.terms import base_energy, coef_terms, dim_extent, spm_tile_terms
from ..jit import njit
from ..layout import F_RF_ELEMS, F_RF_UTIL, F_SPM, RF, NestArrays
from ..problem.space import LoopSpace
from ..problem.validity import full_enough, spm_usage_fits, spm_usage_full_enough, within
from .bounds import block_trips, block_visits, dma_cycles_min, pair_tiles, subtree_energy_bound

MAX_TABLE_BYTES = 1 << 30
"""Largest tables (bytes) the search builds; beyond, it evaluates each tiling from scratch."""

DivisorTable = namedtuple("DivisorTable", "radix mult nmult qpos ppos")
"""Divisor arithmetic by position (see divisor_tables)."""
LevelTable = namedtuple("LevelTable", "count cands reps quot tc groups")
"""Per factor tuple: how many reuse representatives, their first candidates, their vectors, TC / r as
doubles, the trip count TC and the SPM groupings (see level_table)."""
TileTable = namedtuple("TileTable", "state de_i de_f dma_min dma_cycles below")
"""Per e^SPM tuple: fit state, the DRAM entries of its DRAM tuple, the smallest DMA energy and the smallest
TC_DRAM * Cum[1] over those entries (see tile_table), and the minima over the valid tiles it divides that
the subtree bounds read (see spm_tile_minima)."""
LayerTables = namedtuple("LayerTables", "div levels dram_count dram_cands tiles rf pe_energy")
"""All tables of a layer: the SPM level table, the DRAM one's counts and candidates (the SPM table's
own unless loop-order constraints differ by level), the tile table, the valid RF tuples (see rf_table) and the
energy bound of each PE-array tile (see pe_energy_bounds)."""


@njit(cache=True)
def divisor_tables(divs, ndivs):
    """Mixed-radix weights and divisor arithmetic by position, per loop.

    radix[l]: weight of loop l's divisor position in a tuple index (the last loop varies fastest).
    mult[l, p, :nmult[l, p]]: positions of the multiples of divisor p, ascending.
    qpos[l, a, b]: position of divs[a] / divs[b] (-1 unless divs[b] divides divs[a]).
    ppos[l, a, b]: position of divs[a] * divs[b] (-1 unless it divides the extent).
    """
    n_loops, width = divs.shape
    radix = np.ones(n_loops, np.int64)
    for loop in range(n_loops - 2, -1, -1):
        radix[loop] = radix[loop + 1] * ndivs[loop + 1]
    mult = np.zeros((n_loops, width, width), np.int64)
    nmult = np.zeros((n_loops, width), np.int64)
    qpos = np.full((n_loops, width, width), -1, np.int64)
    ppos = np.full((n_loops, width, width), -1, np.int64)
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
                            ppos[loop, c, b] = a
    return DivisorTable(radix, mult, nmult, qpos, ppos)


@njit(cache=True)
def _decode(index, divs, ndivs, radix, t, row):
    """t[row] = the factor tuple with mixed-radix index `index`."""
    for loop in range(t.shape[1]):
        t[row, loop] = divs[loop, (index // radix[loop]) % ndivs[loop]]


@njit(cache=True)
def rep_counts(space, radix, arrays, allowed_inner):
    """(count, tc) of every factor tuple of a LoopSpace: how many reuse representatives it has as a DRAM or SPM
    tuple (§3.5, §4.1; only candidates whose innermost loop with trip count > 1 is in allowed_inner take part) and
    its trip count TC. The largest count sizes the level and tile tables (table_bytes)."""
    divs, ndivs, cands, isidx = space.divs, space.ndivs, arrays.cands, arrays.isidx
    nops, n_loops = isidx.shape
    ncand = cands.shape[0]
    size = radix[0] * ndivs[0]
    rtab = reuse_structures(cands, isidx, allowed_inner)
    t = np.ones((1, n_loops), np.int64)
    reps = np.empty((1, ncand, nops), np.int64)
    rep_cand = np.empty((1, ncand), np.int64)
    count = np.empty(size, np.int64)
    tc = np.empty(size, np.int64)
    for index in range(size):
        _decode(index, divs, ndivs, radix, t, 0)
        count[index] = level_reps(
            t, 0, cands, isidx, rtab.start, rtab.first, rtab.nloops, rtab.sloops, reps, 0, rep_cand
        )
        tc[index] = 1
        for loop in range(n_loops):
            tc[index] *= t[0, loop]
    return count, tc


@njit(cache=True)
def level_table(space, radix, arrays, allowed_inner, count, tc):
    """Reuse representatives of every factor tuple of a LoopSpace, as a DRAM or SPM tuple (§3.5, §4.1), given
    their rep_counts. Returns a LevelTable indexed by tuple."""
    divs, ndivs, cands, isidx = space.divs, space.ndivs, arrays.cands, arrays.isidx
    nops, n_loops = isidx.shape
    size = radix[0] * ndivs[0]
    rtab = reuse_structures(cands, isidx, allowed_inner)
    t = np.ones((1, n_loops), np.int64)
    width = max(count.max(), 1)
    lt_r = np.ones((size, width, nops), np.int64)
    lt_c = np.zeros((size, width), np.int64)
    lt_q = np.ones((size, width, nops))
    lt_g = np.zeros((size, width, SG_GRP + 2 * nops), np.int64)
    for index in range(size):
        _decode(index, divs, ndivs, radix, t, 0)
        level_reps(t, 0, cands, isidx, rtab.start, rtab.first, rtab.nloops, rtab.sloops, lt_r, index, lt_c)
        level_quotients(tc[index], count[index], lt_r, index, lt_q)
        spm_groups(tc[index], count[index], lt_r, index, lt_g)
    return LevelTable(count, lt_c, lt_r, lt_q, tc, lt_g)


@njit(cache=True)
def closure_min(values, state, ndivs, radix, divisors, frozen):
    """below[k, E] = the smallest values[k] over the valid tiles (state 2) that are multiples of E in the loops
    not frozen and equal to E in the frozen ones.

    One pass per loop, each taking the minimum over all multiples of that loop's factor; the passes compose
    to the product order.
    """
    below = np.full(values.shape, np.inf)
    for index in range(values.shape[1]):
        if state[index] == 2:
            below[:, index] = values[:, index]
    mult, nmult = divisors.mult, divisors.nmult
    for loop in range(ndivs.shape[0]):
        if frozen[loop]:
            continue
        for index in range(below.shape[1]):
            p = (index // radix[loop]) % ndivs[loop]
            for k in range(1, nmult[loop, p]):  # mult[loop, p, 0] is p itself
                other = index + (mult[loop, p, k] - p) * radix[loop]
                for row in range(below.shape[0]):
                    below[row, index] = min(below[row, index], below[row, other])
    return below


@njit(cache=True)
def spm_tile_minima(dma_min, dma_cycles, state, refetch, space, isidx, divisors):  # noqa: PLR0917 - numba kernel
    """below[σ, :, E]: the minima the subtree bounds need (docs/lower-bounds.md §2b, §2c).

    For each set σ of operands (a bit mask) that may be skip operands, over the valid tiles that are multiples
    of E and equal to it in every loop indexing an operand of σ: the smallest refetch product of each operand
    (refetch_products, rows 0..nops-1), the smallest DMA energy (dma_min, row nops) and the smallest DMA
    cycles (dma_cycles, row nops + 1). Sets that freeze the same loops share one pass.
    """
    nops, n_loops = isidx.shape
    size = dma_min.shape[0]
    values = np.empty((nops + 2, size))
    values[:nops] = refetch
    values[nops] = dma_min
    values[nops + 1] = dma_cycles
    below = np.empty((1 << nops, nops + 2, size))
    masks = np.zeros(1 << nops, np.int64)
    frozen = np.empty(n_loops, np.bool_)
    for skippable in range(1 << nops):
        frozen[:] = False
        for op in range(nops):
            if (skippable >> op) & 1:
                frozen |= isidx[op]
        for loop in range(n_loops):
            masks[skippable] |= np.int64(frozen[loop]) << loop
        for earlier in range(skippable):
            if masks[earlier] == masks[skippable]:
                below[skippable] = below[earlier]
                break
        else:
            below[skippable] = closure_min(values, state, space.ndivs, divisors.radix, divisors, frozen)
    return below


@njit(cache=True)
def refetch_products(space, radix, isidx):
    """out[op, E] = the product of the DRAM factors ext / e^SPM over the loops that do not index op."""
    ext, divs, ndivs = space.ext, space.divs, space.ndivs
    nops, n_loops = isidx.shape
    size = radix[0] * ndivs[0]
    out = np.ones((nops, size))
    for index in range(size):
        for loop in range(n_loops):
            factor = ext[loop] // divs[loop, (index // radix[loop]) % ndivs[loop]]
            for op in range(nops):
                if not isidx[op, loop]:
                    out[op, index] *= factor
    return out


@njit(cache=True)
def tile_table(space, radix, arrays, dram_levels, divisors):
    """SPM-tile terms of every e^SPM tuple E (§3.2, §5.6-§5.8, §6.3), its DRAM tuple being N-1-E.

    dram_levels is the LevelTable of the DRAM tuples. Returns a TileTable: state 0 when the tile
    overflows the SPM, 1 when it fits below the SPM utilisation threshold, 2 when valid, and the
    DRAM entries (int, float), and dma_min: the smallest DRAM-level energy without skip terms (§6.3, the
    DMA energy with the output's reloads) over the DRAM representatives, for the leaf bound of the search.
    """
    ext, divs, ndivs = space.ext, space.divs, space.ndivs
    ndims, dsize, isidx, fp, ip = arrays.ndims, arrays.dsize, arrays.isidx, arrays.fp, arrays.ip
    lt_n, lt_r, lt_tc = dram_levels.count, dram_levels.reps, dram_levels.tc
    nops, n_loops = isidx.shape
    size = radix[0] * ndivs[0]
    width = lt_r.shape[1]
    ct = coef_terms(arrays.dcoef, ndims)
    state = np.zeros(size, np.int64)
    de_i = np.zeros((size, width, DI_KEYS + 4 * nops), np.int64)
    de_f = np.zeros((size, width, DF_Q + 2 * nops))
    dma_min = np.full(size, np.inf)
    dma_cycles = np.full(size, np.inf)
    e = np.ones((1, n_loops), np.int64)
    iop = np.empty((3, nops), np.int64)
    fop = np.empty((5, nops))
    for index in range(size):
        _decode(index, divs, ndivs, radix, e, 0)
        nbytes, banks = spm_tile_terms(e, 0, ct.nterms, ct.tloops, ct.tcoefs, ndims, dsize, fp, ip, iop, fop)
        if not spm_usage_fits(nbytes, banks, ip):
            continue
        state[index] = 2 if spm_usage_full_enough(nbytes, ip, fp) else 1
        dram = size - 1 - index
        p_out = 1
        for loop in range(n_loops):
            if isidx[0, loop]:
                p_out *= ext[loop] // e[0, loop]
        dram_entry(lt_tc[dram], p_out, iop, fop, lt_n[dram], lt_r, dram, de_i, de_f, index)
        dma_min[index] = dma_energy_min(lt_n[dram], de_f, index)
        dma_cycles[index] = dma_cycles_min(lt_n[dram], de_i, index, lt_tc[dram])
    refetch = refetch_products(space, radix, isidx)
    below = spm_tile_minima(dma_min, dma_cycles, state, refetch, space, isidx, divisors)
    return TileTable(state, de_i, de_f, dma_min, dma_cycles, below)


@njit(cache=True)
def pe_energy_bounds(space, radix, arrays, tiles, e_floor):
    """out[E] = a lower bound on the energy of every tiling whose PE-array tile e^PE is the tuple E
    (docs/lower-bounds.md §2d): the subtree bound of the block (§2b) without its NoC and reduction energies, which
    are the only parts that depend on more than e^PE. e_floor: the layer's energy floor (§1)."""
    divs, ndivs, ext = space.divs, space.ndivs, space.ext
    ndims, isidx, fp = arrays.ndims, arrays.isidx, arrays.fp
    nops, n_loops = isidx.shape
    size = radix[0] * ndivs[0]
    ct = coef_terms(arrays.dcoef, ndims)
    macs = 1
    for loop in range(n_loops):
        macs *= ext[loop]
    e_base = base_energy(macs, fp)
    e_pe = np.ones((2, n_loops), np.int64)
    trips = np.empty(n_loops, np.int64)
    visits = np.empty(nops)
    pairs = np.empty((nops, nops))
    fop = np.zeros((5, nops))  # fop[0], the NoC energy, stays 0
    no_refetch = np.ones(nops)
    unfixed = np.zeros(nops, np.bool_)
    out = np.empty(size)
    for index in range(size):
        _decode(index, divs, ndivs, radix, e_pe, 1)
        block_trips(ext, e_pe[1], trips)
        block_visits(isidx, trips, visits)
        pair_tiles(isidx, trips, pairs)
        for op in range(nops):
            d_pe = 1
            for d in range(ndims[op]):
                d_pe *= dim_extent(ct.nterms, ct.tloops, ct.tcoefs, op, d, e_pe, 1)
            fop[1, op] = d_pe * fp[F_SPM]  # the SPM energy of a pass, as cost.terms.pe_terms
        pass_energies(0.0, fop)  # no reduction energy
        out[index] = subtree_energy_bound(
            e_base, e_floor - e_base, fop, visits, pairs, tiles.below, index, no_refetch, unfixed
        )
    return out


@njit(cache=True, inline="always")
def rf_elems(t, nterms, tloops, tcoefs, ndims):
    """validity.rf_elems_used from the sparse coefficient terms (cost.terms.coef_terms): the same count from a few
    products per operand, not a pass over every loop of every dim (the RF enumeration's check took half the time
    of a search whose every block is pruned)."""
    total = 0
    for op in range(ndims.shape[0]):
        d_rf = 1
        for d in range(ndims[op]):
            d_rf *= dim_extent(nterms, tloops, tcoefs, op, d, t, RF)
        total += d_rf
    return total


@njit(cache=True)
def rf_table(space, arrays):
    """The divisor positions of every valid RF factor tuple (§3.2: it fits the RF and fills it enough), one row
    each, in the enumeration order (the first loop varies slowest, each factor ascending). Validity depends on
    the RF factors alone, so the search of every spatial tuple reads the rows whose products with it divide
    the extents, in the same order as walking its multiples."""
    divs, ndivs, fp = space.divs, space.ndivs, arrays.fp
    n_loops = divs.shape[0]
    ct = coef_terms(arrays.dcoef, arrays.ndims)
    t = np.ones((4, n_loops), np.int64)
    pos = np.full(n_loops, -1, np.int64)
    rows = []
    depth = 0
    while depth >= 0:
        p = pos[depth] + 1
        if p >= ndivs[depth]:
            t[RF, depth] = 1
            pos[depth] = -1
            depth -= 1
            continue
        pos[depth] = p
        t[RF, depth] = divs[depth, p]
        used = rf_elems(t, ct.nterms, ct.tloops, ct.tcoefs, arrays.ndims)
        if not within(used, fp[F_RF_ELEMS]):  # larger factors only grow the footprint
            t[RF, depth] = 1
            pos[depth] = -1
            depth -= 1
            continue
        if depth < n_loops - 1:
            depth += 1
            continue
        if full_enough(used, fp[F_RF_ELEMS], fp[F_RF_UTIL]):
            rows.append(pos.copy())
    out = np.empty((len(rows), n_loops), np.int64)
    for r in range(len(rows)):
        out[r] = rows[r]
    return out


def table_bytes(ndivs: np.ndarray, spm_width: int, dram_width: int, nops: int, *, apart: bool) -> int:
    """Upper bound on the bytes the level, tile and RF tables hold once built: per factor tuple, spm_width and
    dram_width slots of reuse representatives (the largest rep_counts; a DRAM level table of its own when `apart`),
    the tile terms and minima, and at most one RF row."""
    size = int(np.prod(ndivs))
    per_level_slot = 2 * nops + 1 + SG_GRP + 2 * nops  # reps, cands, quot, groups
    per_dram_slot = DI_KEYS + 4 * nops + DF_Q + 2 * nops  # de_i, de_f
    minima = nops + ((nops + 2) << nops)  # refetch_products and spm_tile_minima
    slots = spm_width * per_level_slot + dram_width * (per_dram_slot + (per_level_slot if apart else 0))
    per_tuple = 2 * (1 + apart) + 4 + minima + len(ndivs)  # counts, TC per level table; state, DMA and PE minima; RF
    return size * 8 * (slots + per_tuple)


def build_tables(  # noqa: PLR0917 - the space, its arrays, the order rules of both levels, the floor, the cap
    space: LoopSpace,
    arrays: NestArrays,
    allowed_spm: np.ndarray,
    allowed_dram: np.ndarray,
    e_floor: float,
    max_bytes: int,
) -> LayerTables | None:
    """The layer tables of a LoopSpace whose energy floor is e_floor, or None if they would take more than max_bytes
    (table_bytes, once the representatives are counted); the DRAM level table is built apart only if its order
    rules differ."""
    div = divisor_tables(space.divs, space.ndivs)
    spm_counts = rep_counts(space, div.radix, arrays, allowed_spm)
    apart = not np.array_equal(allowed_dram, allowed_spm)  # order rules differ by level: a DRAM table
    dram_counts = rep_counts(space, div.radix, arrays, allowed_dram) if apart else spm_counts
    widths = (max(int(counts[0].max()), 1) for counts in (spm_counts, dram_counts))
    if table_bytes(space.ndivs, *widths, arrays.isidx.shape[0], apart=apart) > max_bytes:
        return None
    levels = level_table(space, div.radix, arrays, allowed_spm, *spm_counts)
    dram = level_table(space, div.radix, arrays, allowed_dram, *dram_counts) if apart else levels
    tiles = tile_table(space, div.radix, arrays, dram, div)
    pe_energy = pe_energy_bounds(space, div.radix, arrays, tiles, e_floor)
    return LayerTables(div, levels, dram.count, dram.cands, tiles, rf_table(space, arrays), pe_energy)
