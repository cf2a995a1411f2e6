"""Task profiles on arrays whose networks are all systolic chains, assembled from one summary per row and column part.

On such an array each term of a profile (noc/profile.py) reads one axis only, plus a count on the other: a chain
along the rows carries the classes of the columns, one chain per row, and the reduction climbs the chains of one
axis. A layer's splits share few distinct row parts and column parts (MobileNetV2's block2_2_expand on a 256 x 256
array: 176,097 splits, 1,181 row parts, 334 column parts), so `systolic_profiles` summarises each part once and
writes each split's profile from two summaries with the same functions as `task_profile`, bit for bit.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import types
from numba.typed import Dict

from ..jit import njit
from .profile import (
    DIR_COLS,
    DIR_ROWS,
    KIND_SYSTOLIC,
    N_KINDS,
    N_PF,
    N_PI,
    NET_DIR,
    NET_E,
    NET_KIND,
    NET_REDUCTION,
    R_BW,
    RED,
    axis_keys,
    chain_reduction_terms,
    chain_steps,
    chain_terms,
    chain_walk,
    climb_energy,
    count_distinct,
    hop_energies,
    occurrences,
    reset_operand,
)

AxisSummaries = namedtuple("AxisSummaries", "used keys chain occ_count occ_chain walk hop climbs climb_start")
"""Per part u of one axis (row parts or column parts): used[u] positions; per operand, keys[u, op] classes and
chain[u, op] = (head, steps, reach) over all positions; for the output, the same over the first (f = 0) or last
(f = 1) position of each class: occ_count[u, f] positions and occ_chain[u, f]; the reduction's chain_walk over the
output's classes: walk[u] = (busiest, longest, uniform, adds), hop[u], and the links of its adds,
climbs[climb_start[u]:climb_start[u + 1]]."""


def all_systolic(net_i: np.ndarray, nops: int) -> bool:
    """Whether every operand's network and the reduction are systolic chains (the profile's network rows)."""
    return all(net_i[op][NET_KIND] == KIND_SYSTOLIC for op in (*range(nops), NET_REDUCTION))


@njit(cache=True)
def reduction_hops(array):
    """The reduction's hop_energies over the longer side of the array."""
    return hop_energies(array.net_f[NET_REDUCTION, NET_E], max(array.rows, array.cols))


@njit(cache=True)
def axis_summaries(parts, isidx, hd):
    """The AxisSummaries of these parts (one per row), hd: reduction_hops."""
    n_parts, n_loops = parts.shape
    nops = isidx.shape[0]
    used = np.ones(n_parts, np.int64)
    for u in range(n_parts):
        for loop in range(n_loops):
            used[u] *= parts[u, loop]
    most = used.max() if n_parts else 1
    keys = np.empty((n_parts, nops), np.int64)
    chain = np.empty((n_parts, nops, 3), np.int64)
    occ_count = np.empty((n_parts, 2), np.int64)
    occ_chain = np.empty((n_parts, 2, 3), np.int64)
    walk = np.empty((n_parts, 4), np.int64)
    hop = np.empty(n_parts)
    climb_start = np.zeros(n_parts + 1, np.int64)
    climbs = np.empty(int(used.sum()), np.int64)
    key = np.empty((nops, most), np.int64)
    pos = np.arange(most)
    occ = np.empty(most, np.int64)
    occ_keys = np.empty(most, np.int64)
    mark = np.zeros(most + 1, np.int64)
    for u in range(n_parts):
        n = used[u]
        for op in range(nops):
            keys[u, op] = axis_keys(parts[u], isidx[op], n, key[op])
            chain[u, op, 0] = count_distinct(key[op], 0, n, mark)
            chain[u, op, 1] = chain_steps(pos, key[op], n, mark)
            chain[u, op, 2] = n
        for f in range(2):  # the output's first (f = 0) or last position of each class
            m = occurrences(key[0], n, f == 0, occ, mark)
            for i in range(m):
                occ_keys[i] = key[0, occ[i]]
            occ_count[u, f] = m
            occ_chain[u, f, 0] = count_distinct(occ_keys, 0, m, mark)
            occ_chain[u, f, 1] = chain_steps(occ, occ_keys, m, mark)
            occ_chain[u, f, 2] = occ[m - 1] + 1
        start = climb_start[u]
        busiest, longest, h, uniform, adds = chain_walk(key[0], n, hd, climbs[start:])
        walk[u, 0], walk[u, 1], walk[u, 2], walk[u, 3] = busiest, longest, uniform, adds
        hop[u] = h
        climb_start[u + 1] = start + adds
    return AxisSummaries(used, keys, chain, occ_count, occ_chain, walk, hop, climbs, climb_start)


@njit(cache=True)
def _reduction(summary, u, across, hd, energies, array, state):  # noqa: PLR0917 - numba kernel: flat args
    """The reduction's terms, climbing the chains of part u of the summary's axis, `across` chains; energies memoises
    climb_energy by (u, across)."""
    ni, nf = array.net_i[NET_REDUCTION], array.net_f[NET_REDUCTION]
    w = summary.walk[u]
    uniform = w[2] != 0
    total = 0.0
    if not uniform:
        key = u * (max(array.rows, array.cols) + 1) + across
        if key not in energies:
            energies[key] = climb_energy(
                summary.climbs[summary.climb_start[u] : summary.climb_start[u + 1]], across, hd
            )
        total = energies[key]
    chain_reduction_terms((w[0], w[1], summary.hop[u], uniform, w[3]), total, ni, nf, array, state[0], state[1])


@njit(cache=True)
def _operand(op, chains, chain, array, state):
    """One operand's distribution (or the output's write-back) along `chains` chains, chain = (head, steps, reach)."""
    reset_operand(op, state[0], state[1])
    chain_terms(op, chains, (chain[0], chain[1], chain[2]), array.net_i[op], array.net_f[op], state)


@njit(cache=True)
def systolic_profiles(rows, cols, row_of, col_of, array, nops):  # noqa: PLR0917 - numba kernel: flat args
    """pi, pf and ok of each split s (row part rows[row_of[s]], column part cols[col_of[s]]), as task_profile gives
    them on an array whose networks are all systolic (rows, cols: AxisSummaries)."""
    n = row_of.shape[0]
    pi = np.zeros((n, nops + 1, N_PI), np.int64)
    pf = np.zeros((n, nops + 1, N_PF))
    ok = np.ones(n, np.bool_)
    red_down_columns = array.net_i[NET_REDUCTION, NET_DIR] == DIR_COLS
    hd = reduction_hops(array)
    uniform = np.ones(N_KINDS, np.bool_)
    en_w = np.zeros(N_KINDS)
    energies = Dict.empty(key_type=types.int64, value_type=types.float64)
    for s in range(n):
        a, b = row_of[s], col_of[s]
        ru, cu = rows.used[a], cols.used[b]
        state = (pi[s], pf[s], uniform, en_w)
        pf[s, RED, R_BW] = 1.0
        if red_down_columns:  # partial sums of one output must stay in one column chain
            if cols.keys[b, 0] < cu:
                ok[s] = False
                continue
            _reduction(rows, a, cu, hd, energies, array, state)
            row_f, col_f = 0, 1  # the result: nearest the port, last column
        else:
            if rows.keys[a, 0] < ru:
                ok[s] = False
                continue
            _reduction(cols, b, ru, hd, energies, array, state)
            row_f, col_f = 1, 0
        if array.net_i[0, NET_DIR] == DIR_ROWS:  # the write-back from the last PE of each class
            _operand(0, rows.occ_count[a, row_f], cols.occ_chain[b, col_f], array, state)
        else:
            _operand(0, cols.occ_count[b, col_f], rows.occ_chain[a, row_f], array, state)
        for op in range(1, nops):
            if array.net_i[op, NET_DIR] == DIR_ROWS:
                _operand(op, ru, cols.chain[b, op], array, state)
            else:
                _operand(op, cu, rows.chain[a, op], array, state)
    return pi, pf, ok
