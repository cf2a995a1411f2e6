"""Reuse vectors of a level's factors under the candidate orderings (docs/cost-model.md §3.5, §4.1).

`level_reuse` scans the candidates; `reuse_structures` tabulates, once per layer, which loops
multiply into each operand's reuse for every set of loops with trip count > 1, so that
`level_reps` finds the same representatives with a few products.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..jit import njit

MAX_MASK_LOOPS = 12
MAX_MASK_ROWS = 1 << 22

ReuseTable = namedtuple("ReuseTable", "start first nloops sloops")
"""The reuse structures of a layer (see reuse_structures)."""


@njit(cache=True)
def level_reuse(tl, cands, isidx, reps, rep_cand):  # noqa: C901 - numba kernel: flat loop, see bench/README.md
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


@njit(cache=True, inline="always")
def _inner_allowed(cands, k, m, allowed_inner):
    """Whether candidate k's innermost loop among the mask m (trip count > 1) is allowed innermost."""
    for pos in range(cands.shape[1]):
        loop = cands[k, pos]
        if (m >> loop) & 1:
            return allowed_inner[loop]
    return True


@njit(cache=True)
def reuse_structures(cands, isidx, allowed_inner):  # noqa: C901 - numba kernel: flat loop, see bench/README.md
    """Distinct reuse structures of the candidates for every set of loops with trip count > 1 (§4.1).

    Which loops multiply into each operand's reuse factor depends only on the candidate and on the
    set (mask) of loops with trip count > 1, so it is tabulated once per layer. Returns ReuseTable(start,
    first, nloops, sloops): mask m has structures start[m]..start[m+1]-1, ordered by their first
    candidate first[s]; structure s multiplies the trip counts of sloops[s, op, :nloops[s, op]] into
    r(op). A candidate whose innermost loop with trip count > 1 is not in allowed_inner is left out
    (loop-order constraints). For nests too large to tabulate, start has one entry and callers
    scan the candidates (all of them: callers with loop-order constraints must not get there).
    """
    nops, n_loops = isidx.shape
    ncand = cands.shape[0]
    if n_loops > MAX_MASK_LOOPS or (ncand << n_loops) > MAX_MASK_ROWS:
        return ReuseTable(
            np.zeros(1, np.int64),
            np.zeros(0, np.int64),
            np.zeros((0, nops), np.int64),
            np.zeros((0, nops, n_loops), np.int64),
        )
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
    return ReuseTable(start, first[:count].copy(), nloops, sloops)


@njit(cache=True, inline="always")
def level_reps(t, lv, cands, isidx, start, first, nloops, sloops, reps, slot, rep_cand):  # noqa: PLR0917 - numba kernel: inlined per tiling, flat args, see bench/README.md
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
