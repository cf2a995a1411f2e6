"""The mapping space: how valid tilings are enumerated (docs/cost-model.md §3.6) and why one is invalid.

Validity itself is stated in validity.py (§3.2); the enumerators here apply its checks level by
level. Footprints only grow with tile extents, so a check that fails on a partial tiling (undecided
factors at 1) fails for every completion: the enumeration prunes on that.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..jit import njit
from ..layout import DRAM, RF, SP, SPM
from .problem import Problem
from .validity import (
    RULES,
    measured_usage,
    pes_fit,
    pes_full_enough,
    rf_fits,
    rf_util_ok,
    spm_fits,
    spm_util_ok,
)

LoopSpace = namedtuple("LoopSpace", "ext divs ndivs dram_one")
"""What the enumeration walks: loop extents, their divisors (divs[loop, :ndivs[loop]], ascending) and
the loops whose DRAM factor is pinned to 1."""


@njit(cache=True)
def spatial_tuples(ext, divs, ndivs, ip, fp, spatial_one):
    """All spatial factor tuples passing the spatial check, in the seed's product order.

    The output grows by doubling: the product of the divisor counts (every tuple, fitting or not) can be far
    beyond memory (seven loops of extent 360 have 24^7 tuples), while the tuples that fit the PEs are few.
    """
    n_loops = ext.shape[0]
    out = np.empty((64, n_loops), np.int64)
    count = 0
    t = np.ones(n_loops, np.int64)
    idx = np.full(n_loops, -1, np.int64)
    pos = 0
    while pos >= 0:
        loop = pos
        j = idx[pos] + 1
        if spatial_one[loop] and j > 0:
            j = ndivs[loop]
        if j >= ndivs[loop]:
            t[loop] = 1
            pos -= 1
            continue
        idx[pos] = j
        t[loop] = divs[loop, j]
        prod = 1
        for i in range(n_loops):
            prod *= t[i] if i <= loop else 1
        if not pes_fit(prod, ip):  # larger divisors only grow the product
            t[loop] = 1
            pos -= 1
            continue
        if loop == n_loops - 1:
            if pes_full_enough(prod, ip, fp):
                if count == out.shape[0]:
                    grown = np.empty((2 * count, n_loops), np.int64)
                    grown[:count] = out
                    out = grown
                out[count] = t
                count += 1
            continue
        pos += 1
        idx[pos] = -1
    return out[:count]


@njit(cache=True)
def next_inner(t, pos, idx, space, arrays, tile):  # noqa: C901 - numba kernel: flat loop, see bench/README.md
    """Advance the RF/SPM enumeration of a LoopSpace under a fixed spatial tuple by one step.

    Positions 0..L-1 choose RF factors, L..2L-1 SPM factors. Returns the new position:
    2L when t holds a complete valid tiling (DRAM factors filled in), -1 when done.
    arrays: the NestArrays; idx (2L) and tile (L) are work arrays.
    """
    ext, divs, ndivs, dram_one = space.ext, space.divs, space.ndivs, space.dram_one
    dcoef, ndims, fp, ip = arrays.dcoef, arrays.ndims, arrays.fp, arrays.ip
    n_loops = ext.shape[0]
    while pos >= 0:
        if pos == 2 * n_loops:
            pos -= 1
        lv = RF if pos < n_loops else SPM
        loop = pos if lv == RF else pos - n_loops
        avail = ext[loop] // t[SP, loop]
        if lv == SPM:
            avail //= t[RF, loop]
        j = idx[pos] + 1
        d = 0
        while j < ndivs[loop]:
            cand = divs[loop, j]
            if cand > avail:
                j = ndivs[loop]
                break
            if avail % cand == 0 and not (lv == SPM and dram_one[loop] and cand != avail):
                d = cand
                break
            j += 1
        if j >= ndivs[loop]:
            t[lv, loop] = 1
            pos -= 1
            continue
        idx[pos] = j
        t[lv, loop] = d
        for later in range(loop + 1, n_loops):
            t[lv, later] = 1
        if lv == RF:
            if not rf_fits(t, dcoef, ndims, fp):
                t[lv, loop] = 1
                pos -= 1
                continue
        elif not spm_fits(t, dcoef, ndims, ip, tile):
            t[lv, loop] = 1
            pos -= 1
            continue
        if loop < n_loops - 1:
            pos += 1
            idx[pos] = -1
            continue
        if lv == RF:
            if rf_util_ok(t, dcoef, ndims, fp):
                t[SPM, :] = 1
                pos += 1
                idx[pos] = -1
            continue
        if spm_util_ok(t, dcoef, ndims, ip, fp, tile):
            for i in range(n_loops):
                t[DRAM, i] = ext[i] // (t[SP, i] * t[RF, i] * t[SPM, i])
            return 2 * n_loops
    return -1


@njit(cache=True)
def count_under(sp, space, arrays):
    """Number of valid tilings of a LoopSpace with the spatial tuple sp."""
    n_loops = space.ext.shape[0]
    t = np.ones((4, n_loops), np.int64)
    t[SP] = sp
    idx = np.full(2 * n_loops, -1, np.int64)
    tile = np.empty(n_loops, np.int64)
    count = 0
    pos = next_inner(t, 0, idx, space, arrays, tile)
    while pos >= 0:
        count += 1
        pos = next_inner(t, pos, idx, space, arrays, tile)
    return count


def problem_spatial_tuples(problem: Problem) -> np.ndarray:
    """The spatial tuples of a problem that pass the spatial check, in enumeration order."""
    divs, ndivs = problem.divisor_table
    spatial_one, _ = problem.loop_masks
    ext = np.array(problem.nest.extents, np.int64)
    return spatial_tuples(ext, divs, ndivs, problem.int_params, problem.float_params, spatial_one)


def tiling_violations(problem: Problem, tiling: np.ndarray) -> list[str]:
    """What a (4 x loops) tiling breaks: factor products, spatial, RF and SPM limits, knobs."""
    nest, arch, knobs = problem.nest, problem.arch, problem.knobs
    dcoef, ndims = problem.arrays.dcoef, problem.arrays.ndims
    problems: list[str] = []
    for i, (name, extent) in enumerate(zip(nest.loops, nest.extents, strict=True)):
        if int(np.prod(tiling[:, i])) != extent:
            problems.append(f"the factors of {name} multiply to {int(np.prod(tiling[:, i]))}, not its extent {extent}")
    if problems:
        return problems
    usage = measured_usage(tiling, dcoef, ndims, problem.int_params)
    for rule in RULES:
        why = rule.violation(usage[rule.usage], arch, knobs)
        if why:
            problems.append(why)
    spatial_one, dram_one = problem.loop_masks
    for i, name in enumerate(nest.loops):
        if spatial_one[i] and tiling[SP, i] != 1:
            problems.append(f"unrolls reduction loop {name} spatially (no-spatial-reduction)")
        if dram_one[i] and tiling[DRAM, i] != 1:
            problems.append(f"tiles window loop {name} at DRAM level (no-feature-DRAM)")
    for name in problem.compiled.check(tiling):
        problems.append(f"breaks constraint {name!r}")
    return problems
