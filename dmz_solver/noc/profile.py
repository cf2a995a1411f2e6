"""Communication terms of one spatial unrolling, derived from the network trees (docs/archspec.md).

A spatial unrolling gives each loop a factor on the PE rows and one on the columns. PE (r, c)
decodes r and c in mixed radix over the loops' row and column factors (first loop most
significant), which fixes the tile each PE holds. Per operand, PEs at the same coordinates on the
loops indexing it form a class (they hold the same tile). The terms below depend on the unrolling
only; the kernel multiplies them by tile footprints that depend on the RF factors:

* Distribution (read-only operands; the output's write-back): every edge of the tree carries the
  data of the PEs below it. A multicast bus edge whose subtree is the whole array, a row or a
  column carries the union of their tiles: the footprint of that box (kinds ARRAY, ROW, COL);
  any other edge carries one tile per distinct class below it (kind UNIT, the RF footprint), or
  one per PE without multicast. Cycles are the busiest edge's load over its bandwidth plus the
  longest path's latency; energy is the sum over edges of load times the edge's energy.
* Reduction: each output class accumulates its partial sums PE by PE, in order of PE group (on a
  bus), then distance from the port (farthest first), then PE index; the last PE holds the result and
  writes it back. Each step is a transfer routed through the reduction tree. Cycles are the
  busiest edge or bus node over its bandwidth, plus the longest chain of latencies of a class.

Profile layout (per unrolling): pi[op] = cycle counts of the 4 kinds, energy counts of the 4
kinds, latency; pf[op] = cycle bandwidths, energies per element. Row 3 is the reduction:
pi = (count, latency), pf = (bandwidth, unit energy per add, hop energy per add, extra energy).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..jit import njit

UNIT, ROW, COL, ARRAY = 0, 1, 2, 3
N_KINDS = 4
PI_EN = 4  # pi[op, 4:8] energy counts
PI_LAT = 8
N_PI = 9
N_PF = 8
RED = 3  # profile row of the reduction
R_CNT, R_LAT = 0, 1  # pi[RED]
R_BW, R_UNIT, R_HOP, R_EXTRA = 0, 1, 2, 3  # pf[RED]
NET_REDUCTION = 3

PeArray = namedtuple("PeArray", "nt rows cols e_rf e_mac")
"""The PE array as the profile sees it: its network trees (`NocTables.as_tuple()`), rows and columns, and the RF
and MAC energies per access (pJ) of the reduction's per-add unit."""

ProfileWork = namedtuple("ProfileWork", "pi pf cls seen counts")
"""The profile of one unrolling (pi, pf: the module docstring) and the work arrays that derive it: cls (operands,
PEs), seen (nodes, PEs), counts (2, nodes); see profile_work."""


@njit(cache=True)
def profile_work(nops, nnodes, npes):
    """A ProfileWork for nops operands on a network of nnodes nodes and npes PEs."""
    return ProfileWork(
        np.empty((nops + 1, N_PI), np.int64),
        np.empty((nops + 1, N_PF)),
        np.empty((nops, npes), np.int64),
        np.empty((nnodes, npes), np.bool_),
        np.empty((2, nnodes), np.int64),
    )


@njit(cache=True)
def pe_classes(sp, rowf, isidx, rows, cols, cls):
    """cls[op, p] = the class of PE p for operand op (its coordinates on idx(op), in mixed radix), -1 for
    unused PEs; returns the number of PEs used."""
    n_loops = sp.shape[0]
    nops = isidx.shape[0]
    rows_used = 1
    cols_used = 1
    for loop in range(n_loops):
        rows_used *= rowf[loop]
        cols_used *= sp[loop] // rowf[loop]
    cls[:, :] = -1
    for r in range(rows_used):
        for c in range(cols_used):
            p = r * cols + c
            for op in range(nops):
                cls[op, p] = 0
            rr = r
            cc = c
            for loop in range(n_loops - 1, -1, -1):  # the last loop is the least significant digit
                fr = rowf[loop]
                fc = sp[loop] // fr
                coord = (rr % fr) * fc + cc % fc
                rr //= fr
                cc //= fc
                for op in range(nops):
                    if isidx[op, loop]:
                        cls[op, p] = cls[op, p] * sp[loop] + coord
    return rows_used * cols_used


@njit(cache=True)
def _distribution(op, parts, nparts, nt, work):  # noqa: C901 - numba kernel: flat loop, see bench/README.md
    """Cycle and energy terms of one operand's distribution (op > 0) or write-back (op == 0), into work.pi, work.pf.

    The operand's network is network op: roles are stacked in operand order (tables.py).
    """
    cls, pi, pf, seen = work.cls, work.pi, work.pf, work.seen
    ncls, npart = work.counts[0], work.counts[1]
    group, parent, depth, link_bw, node_bw, e_down, e_up, lat_down, lat_up, scope, pe_node, flags = nt
    multicast, boxes = flags[op, 0], flags[op, 1]
    latency = lat_down if op > 0 else lat_up
    nnodes = parent.shape[1]
    seen[:nnodes, :] = False
    ncls[:nnodes] = 0
    npart[:nnodes] = 0
    max_lat = 0
    for i in range(nparts):
        p = parts[i]
        k = cls[op, p]
        node = pe_node[op, p]
        lat = 0
        while node != 0:
            if not seen[node, k]:
                seen[node, k] = True
                ncls[node] += 1
            npart[node] += 1
            lat += latency[op, node]
            node = parent[op, node]
        max_lat = max(max_lat, lat)
    ratio = np.zeros(N_KINDS)
    en_w = np.zeros(N_KINDS)
    uniform = np.ones(N_KINDS, np.bool_)
    for kind in range(N_KINDS):
        pi[op, kind] = 0
        pi[op, PI_EN + kind] = 0
        pf[op, kind] = 1.0
        pf[op, PI_EN + kind] = 0.0
    for node in range(1, nnodes):
        if npart[node] == 0:
            continue
        s = scope[op, node]
        if multicast and boxes and s != UNIT and (op > 0 or s == ARRAY):
            kind, cnt = s, 1  # the union of a box of tiles (outputs: all of them, disjoint)
        else:
            kind, cnt = UNIT, ncls[node] if multicast else npart[node]
        bw = min(link_bw[op, node], node_bw[op, node])
        if cnt / bw > ratio[kind]:
            ratio[kind] = cnt / bw
            pi[op, kind] = cnt
            pf[op, kind] = bw
        e = e_down[op, node] if op > 0 else e_up[op, node]
        if e > 0:
            if pi[op, PI_EN + kind] > 0 and e != pf[op, PI_EN + kind]:
                uniform[kind] = False
            pi[op, PI_EN + kind] += cnt
            pf[op, PI_EN + kind] = e
            en_w[kind] += cnt * e
    for kind in range(N_KINDS):
        if not uniform[kind]:  # mixed energies: one weighted term
            pi[op, PI_EN + kind] = 1
            pf[op, PI_EN + kind] = en_w[kind]
    pi[op, PI_LAT] = max_lat


@njit(cache=True)
def task_profile(sp, rowf, isidx, array, work):  # noqa: C901 - numba kernel: flat loop, see bench/README.md
    """Fill work.pi, work.pf (module docstring) for one unrolling on a PeArray; work is a ProfileWork.

    Returns False when the unrolling uses no PE or a reduction transfer would have to move away from the port.
    """
    nt, rows, cols, e_rf, e_mac = array.nt, array.rows, array.cols, array.e_rf, array.e_mac
    cls, pi, pf = work.cls, work.pi, work.pf
    group, parent, depth, link_bw, node_bw, e_down, e_up, lat_down, lat_up, scope, pe_node, flags = nt
    nops = isidx.shape[0]
    pi[:, :] = 0
    pf[:, :] = 0.0
    npes = rows * cols
    nnodes = parent.shape[1]
    if pe_classes(sp, rowf, isidx, rows, cols, cls) == 0:
        return False
    parts = np.empty(npes, np.int64)
    nparts = 0
    for p in range(npes):
        if cls[0, p] >= 0:
            parts[nparts] = p
            nparts += 1
    # Reduction order: by group (on a bus), then farther from the reduction port first, then PE index.
    w = NET_REDUCTION
    key = np.empty(nparts, np.int64)
    for i in range(nparts):
        p = parts[i]
        g = group[p] if flags[w, 1] else 0
        key[i] = (g * 4096 + (4095 - depth[w, pe_node[w, p]])) * npes + p
    order = parts[np.argsort(key)]
    last = np.full(npes, -1, np.int64)  # per output class: the PE holding its running sum
    chain_lat = np.zeros(npes, np.int64)
    lcnt = np.zeros(nnodes, np.int64)  # transfers per edge (edge into the node from its parent)
    ncnt = np.zeros(nnodes, np.int64)  # transfers passing through each node
    stamp = np.full(nnodes, -1, np.int64)
    adds = 0
    hop = 0.0
    uniform = True
    total = 0.0
    for i in range(nparts):
        p = order[i]
        k = cls[0, p]
        src = last[k]
        last[k] = p
        if src < 0:
            continue
        a0 = pe_node[w, src]
        b0 = pe_node[w, p]
        a, b = a0, b0
        h = 0.0
        lat = 0
        while a != b:  # climb the deeper end until the two meet at their common ancestor
            if depth[w, a] >= depth[w, b]:
                h += e_up[w, a]
                lat += lat_up[w, a]
                lcnt[a] += 1
                a = parent[w, a]
                node = a
            else:
                if not flags[w, 2]:
                    return False  # the transfer would have to move away from the port
                h += e_down[w, b]
                lat += lat_down[w, b]
                lcnt[b] += 1
                b = parent[w, b]
                node = b
            if node != a0 and node != b0 and stamp[node] != adds:
                stamp[node] = adds
                ncnt[node] += 1
        adds += 1
        chain_lat[k] += lat
        total += h
        if adds == 1:
            hop = h
        elif h != hop:
            uniform = False
    best = 0.0
    pi[RED, R_CNT] = 0
    pi[RED, R_LAT] = chain_lat.max() if adds else 0
    pf[RED, R_BW] = 1.0
    for node in range(1, nnodes):
        if lcnt[node] > 0 and lcnt[node] / link_bw[w, node] > best:
            best = lcnt[node] / link_bw[w, node]
            pi[RED, R_CNT] = lcnt[node]
            pf[RED, R_BW] = link_bw[w, node]
        if ncnt[node] > 0 and ncnt[node] / node_bw[w, node] > best:
            best = ncnt[node] / node_bw[w, node]
            pi[RED, R_CNT] = ncnt[node]
            pf[RED, R_BW] = node_bw[w, node]
    if uniform:  # every add moves its operand the same way: the seed's per-add unit (§6.1)
        pf[RED, R_UNIT] = (3 * e_rf + hop) + e_mac
        pf[RED, R_HOP] = hop
        pf[RED, R_EXTRA] = 0.0
    else:
        pf[RED, R_UNIT] = (3 * e_rf + 0.0) + e_mac
        pf[RED, R_HOP] = 0.0
        pf[RED, R_EXTRA] = total  # hop energy of all adds, per element of the RF output tile
    # Write-back of the results (from the last PE of each class), distribution of the read-only operands
    roots = np.empty(npes, np.int64)
    nroots = 0
    for p in range(npes):
        if cls[0, p] >= 0 and last[cls[0, p]] == p:
            roots[nroots] = p
            nroots += 1
    _distribution(0, roots, nroots, nt, work)
    for op in range(1, nops):
        _distribution(op, parts, nparts, nt, work)
    return True
