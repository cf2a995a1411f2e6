"""The network trees of an arch as flat arrays for the compiled cost derivation (noc/profile.py).

Nodes are numbered in depth-first preorder from the port (node 0). Per node n > 0, the arrays hold
the edge from its parent: bandwidth, energies and latencies down and up; and the node's own bandwidth
(bus nodes) and scope: which PEs its subtree holds, the whole array, one whole row, one whole
column or anything else. Networks are stacked in role order: output, input, weight, reduction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import networkx as nx
import numpy as np

from .graph import ROOT, group_of, network_tree, transfers_down_ok
from .profile import ARRAY, COL, ROW, UNIT
from .spec import BUS, REDUCTION, ROLES, NocSpec

SCOPE_OTHER, SCOPE_ROW, SCOPE_COL, SCOPE_ARRAY = UNIT, ROW, COL, ARRAY
"""A subtree's PEs (any set, one whole row, one whole column, the array): the profile's footprint kinds."""


@dataclass(frozen=True)
class NocTables:
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
def noc_tables(spec: NocSpec, noc_energy: float) -> NocTables:
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
    return NocTables(
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
