"""The node-by-node derivation of the communication profile, as noc/profile.py did it before it read the
structure of the unrolling: the networkx trees of noc/graph.py flattened into per-node arrays, and every used
PE routed over them. tests/test_noc.py checks that noc/profile.py gives the same arrays, bit for bit.

Its work grows with PEs x network nodes: for small and medium arrays only.
"""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass
from functools import lru_cache

import networkx as nx
import numpy as np
from numba import njit

from dmz_solver.noc.graph import ROOT, group_of, network_tree, transfers_down_ok
from dmz_solver.noc.profile import (
    ARRAY,
    COL,
    N_KINDS,
    N_PF,
    N_PI,
    NET_REDUCTION,
    PI_EN,
    PI_LAT,
    R_BW,
    R_CNT,
    R_EXTRA,
    R_HOP,
    R_LAT,
    R_UNIT,
    RED,
    ROW,
    UNIT,
)
from dmz_solver.noc.spec import BUS, REDUCTION, ROLES, NocSpec

SCOPE_OTHER, SCOPE_ROW, SCOPE_COL, SCOPE_ARRAY = UNIT, ROW, COL, ARRAY
"""A subtree's PEs (any set, one whole row, one whole column, the array): the profile's footprint kinds."""


@dataclass(frozen=True)
class TreeTables:
    """Stacked per-network arrays (network, node); see the module docstring."""

    rows: int
    cols: int
    group: np.ndarray  # (rows * cols,) group index of PE r * cols + c
    parent: np.ndarray
    depth: np.ndarray
    link_bw: np.ndarray
    node_bw: np.ndarray
    e_down: np.ndarray
    e_up: np.ndarray
    lat_down: np.ndarray
    lat_up: np.ndarray
    scope: np.ndarray
    pe_node: np.ndarray  # (network, rows * cols)
    flags: np.ndarray  # (network, 3): multicast, unions of boxes (buses), transfers may descend

    def as_tuple(self) -> tuple:
        return (
            self.group,
            self.parent,
            self.depth,
            self.link_bw,
            self.node_bw,
            self.e_down,
            self.e_up,
            self.lat_down,
            self.lat_up,
            self.scope,
            self.pe_node,
            self.flags,
        )


def _scope(pes: set[tuple[int, int]], spec: NocSpec) -> int:
    if len(pes) == 1 and spec.rows * spec.cols > 1:
        return SCOPE_OTHER  # one PE: its own tile
    if len(pes) == spec.rows * spec.cols:
        return SCOPE_ARRAY
    rows = {r for r, _ in pes}
    cols = {c for _, c in pes}
    if len(rows) == 1 and len(pes) == spec.cols:
        return SCOPE_ROW
    if len(cols) == 1 and len(pes) == spec.rows:
        return SCOPE_COL
    return SCOPE_OTHER


@lru_cache(maxsize=32)
def tree_tables(spec: NocSpec, noc_energy: float) -> TreeTables:
    """Flatten the four network trees of an arch."""
    trees = [network_tree(spec, role, noc_energy) for role in (*ROLES, REDUCTION)]
    width = max(tree.number_of_nodes() for tree in trees)
    shape = (len(trees), width)
    parent = np.zeros(shape, np.int64)
    depth = np.zeros(shape, np.int64)
    link_bw = np.full(shape, np.inf)
    node_bw = np.full(shape, np.inf)
    e_down = np.zeros(shape)
    e_up = np.zeros(shape)
    lat_down = np.zeros(shape, np.int64)
    lat_up = np.zeros(shape, np.int64)
    scope = np.zeros(shape, np.int64)
    pe_node = np.zeros((len(trees), spec.rows * spec.cols), np.int64)
    flags = np.zeros((len(trees), 3), np.bool_)
    for w, tree in enumerate(trees):
        role = tree.graph["role"]
        net = spec.network(role)
        order = list(nx.dfs_preorder_nodes(tree, ROOT))
        number = {node: i for i, node in enumerate(order)}
        for node, i in number.items():
            data = tree.nodes[node]
            node_bw[w, i] = data.get("bandwidth", math.inf)
            if data["kind"] == "pe":
                pe_node[w, node[1] * spec.cols + node[2]] = i
            if node == ROOT:
                continue
            (up,) = tree.predecessors(node)
            edge = tree.edges[up, node]
            parent[w, i] = number[up]
            depth[w, i] = depth[w, number[up]] + 1
            link_bw[w, i] = edge["bandwidth"]
            e_down[w, i], e_up[w, i] = edge["down"], edge["up"]
            lat_down[w, i], lat_up[w, i] = edge["lat_down"], edge["lat_up"]
            below = {(n[1], n[2]) for n in nx.descendants(tree, node) | {node} if tree.nodes[n]["kind"] == "pe"}
            scope[w, i] = _scope(below, spec)
        flags[w] = (net.multicast, net.kind == BUS, transfers_down_ok(tree))
    group = np.array([group_of(spec, r, c) for r in range(spec.rows) for c in range(spec.cols)], np.int64)
    assert (pe_node > 0).all(), "every network reaches every PE"
    return TreeTables(
        spec.rows,
        spec.cols,
        group,
        parent,
        depth,
        link_bw,
        node_bw,
        e_down,
        e_up,
        lat_down,
        lat_up,
        scope,
        pe_node,
        flags,
    )


RefArray = namedtuple("RefArray", "nt rows cols e_rf e_mac")
"""The PE array as the reference reads it: its flattened trees (`TreeTables.as_tuple()`), rows and columns, and
the RF and MAC energies per access (pJ)."""

RefWork = namedtuple("ProfileWork", "pi pf cls seen counts")
"""The profile of one unrolling (pi, pf: the module docstring) and the work arrays that derive it: cls (operands,
PEs), seen (nodes, PEs), counts (2, nodes); see profile_work."""


@njit(cache=True)
def profile_work(nops, nnodes, npes):
    """A RefWork for nops operands on a network of nnodes nodes and npes PEs."""
    return RefWork(
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
    """Fill work.pi, work.pf (module docstring) for one unrolling on a RefArray; work is a RefWork.

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


def reference_profile(
    sp: np.ndarray, rowf: np.ndarray, isidx: np.ndarray, arch
) -> tuple[np.ndarray, np.ndarray] | None:
    """The profile of one unrolling that fits the array, node by node (None if it cannot reduce)."""
    nt = tree_tables(arch.noc, float(arch.noc_energy_pj))
    array = RefArray(nt.as_tuple(), nt.rows, nt.cols, float(arch.rf_energy_pj), float(arch.mac_energy_pj))
    work = profile_work(isidx.shape[0], nt.parent.shape[1], nt.rows * nt.cols)
    ok = task_profile(np.asarray(sp, np.int64), np.asarray(rowf, np.int64), isidx, array, work)
    return (work.pi.copy(), work.pf.copy()) if ok else None
