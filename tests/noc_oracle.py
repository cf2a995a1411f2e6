"""An element-level oracle of the on-chip network terms of docs/archspec.md, for tests/test_noc.py.

It enumerates the tensor elements each PE holds and routes them over the networkx trees of
`dmz_solver.noc.graph.network_tree`, without the profile (noc/profile.py) or its tables.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import networkx as nx
import numpy as np

from dmz_solver.arch import Arch
from dmz_solver.loopnest import LoopNest
from dmz_solver.noc.graph import network_tree

ROLES = ("output", "input", "weight")
PORT = "spm"
Pe = tuple[int, int]


@dataclass(frozen=True)
class Terms:
    """Per-RF-pass NoC cycles and energy per operand, and the reduction's cycles, adds and energy."""

    noc: tuple[int, ...]
    e_noc: tuple[float, ...]
    red: int
    adds: int
    e_red: float


def pe_coords(sp: np.ndarray, rowf: np.ndarray) -> dict[Pe, tuple[int, ...]]:
    """Spatial coordinate of every loop on each used PE: mixed radix, first loop most significant."""
    colf = [int(s) // int(f) for s, f in zip(sp, rowf, strict=True)]
    coords = {}
    for r in range(math.prod(int(f) for f in rowf)):
        for c in range(math.prod(colf)):
            rd, cd, rr, cc = [], [], r, c
            for fr, fc in zip(reversed(rowf), reversed(colf), strict=True):
                rd.append(rr % int(fr))
                cd.append(cc % fc)
                rr //= int(fr)
                cc //= fc
            coords[r, c] = tuple(a * fc + b for a, b, fc in zip(reversed(rd), reversed(cd), colf, strict=True))
    return coords


def tile(nest: LoopNest, op: int, coord: tuple[int, ...], rf: np.ndarray) -> frozenset:
    """The elements of operand op a PE touches: its loops run over [coord * rf, (coord + 1) * rf)."""
    dims = [dim.terms for dim in nest.operands[op].dims]
    loops = sorted({loop for terms in dims for loop, _ in terms})
    ranges = [range(coord[lp] * int(rf[lp]), (coord[lp] + 1) * int(rf[lp])) for lp in loops]
    elements = set()
    for values in itertools.product(*ranges):
        at = dict(zip(loops, values, strict=True))
        elements.add(tuple(sum(coef * at[lp] for lp, coef in terms) for terms in dims))
    return frozenset(elements)


def _pes_below(tree: nx.DiGraph) -> dict[object, frozenset[Pe]]:
    """The PEs in each node's subtree (the node included)."""
    below: dict[object, frozenset[Pe]] = {}
    for node in nx.dfs_postorder_nodes(tree, PORT):
        own = {(node[1], node[2])} if tree.nodes[node]["kind"] == "pe" else set()
        below[node] = frozenset(own.union(*(below[child] for child in tree.successors(node))))
    return below


def _is_box(pes: set[Pe], rows: int, cols: int) -> bool:
    """Whether a set of PEs is the whole array, one whole row or one whole column."""
    rs, cs = {r for r, _ in pes}, {c for _, c in pes}
    return len(pes) == rows * cols or (len(rs) == 1 and len(pes) == cols) or (len(cs) == 1 and len(pes) == rows)


def distribution(arch: Arch, op: int, tiles: dict[Pe, frozenset], keys: dict[Pe, tuple]) -> tuple[int, float]:
    """(cycles, energy) of delivering tiles[pe] to each PE (op > 0) or writing them back (op 0).

    keys[pe] is the PE's class: its coordinates on the loops that index the operand.
    """
    noc = arch.noc
    tree = network_tree(noc, ROLES[op], arch.noc_energy_pj)
    net = noc.network(ROLES[op])
    busiest, energy = 0, 0.0
    subtree = _pes_below(tree)
    for _, node, edge in tree.edges(data=True):
        below = subtree[node] & tiles.keys()
        if not below:
            continue
        distinct = {keys[q]: tiles[q] for q in below}
        if net.kind == "bus" and net.multicast and _is_box(set(subtree[node]), noc.rows, noc.cols):
            load = len(frozenset().union(*distinct.values()))
        elif net.kind == "bus" and not net.multicast:
            load = sum(len(tiles[q]) for q in below)
        else:
            load = sum(len(t) for t in distinct.values())
        bandwidth = min(edge["bandwidth"], tree.nodes[node].get("bandwidth", math.inf))
        busiest = max(busiest, math.ceil(load / bandwidth))
        energy += load * (edge["down"] if op > 0 else edge["up"])
    lat = "lat_down" if op > 0 else "lat_up"
    paths = nx.single_source_shortest_path(tree, PORT)
    latency = max(nx.path_weight(tree, paths["pe", *q], lat) for q in tiles)
    return busiest + latency, energy


def _route(tree: nx.DiGraph, paths: dict[object, list], src: object, dst: object) -> tuple[list, list] | None:
    """Edges (parent, child) climbed from src and descended to dst; None if a systolic route must descend.

    paths: each node's path from the port; the two paths part at the lowest common ancestor."""
    common = 0
    while common < min(len(paths[src]), len(paths[dst])) and paths[src][common] == paths[dst][common]:
        common += 1
    up = paths[src][common - 1 :]
    down = paths[dst][common - 1 :]
    if len(down) > 1 and tree.graph["kind"] == "systolic":
        return None
    return list(zip(up, up[1:], strict=False)), list(zip(down, down[1:], strict=False))


def oracle_terms(nest: LoopNest, arch: Arch, t: np.ndarray, rowf: np.ndarray) -> Terms | None:
    """The terms of tiling t with row factors rowf, or None if the reduction cannot be routed."""
    noc = arch.noc
    rf = t[2]
    coords = pe_coords(t[3], rowf)
    tree = network_tree(noc, "reduction", arch.noc_energy_pj)
    depth = nx.shortest_path_length(tree, PORT)
    paths = nx.single_source_shortest_path(tree, PORT)
    classes: dict[frozenset, list[Pe]] = {}
    for q, coord in coords.items():
        classes.setdefault(tile(nest, 0, coord, rf), []).append(q)

    def order(q: Pe) -> tuple[int, int, int]:
        group = (q[0] // noc.group_rows) * (noc.cols // noc.group_cols) + q[1] // noc.group_cols
        on_bus = noc.network("reduction").kind == "bus"  # groups order a bus reduction only
        return group if on_bus else 0, -depth["pe", *q], q[0] * noc.cols + q[1]

    edge_load: dict[tuple, int] = {}
    node_load: dict[object, int] = {}
    hops: list[float] = []
    chain_latency = [0]
    for members in classes.values():
        members.sort(key=order)
        latency = 0
        for src, dst in itertools.pairwise(members):
            route = _route(tree, paths, ("pe", *src), ("pe", *dst))
            if route is None:
                return None
            up, down = route
            for e in up + down:
                edge_load[e] = edge_load.get(e, 0) + 1
            for n in {v for e in up + down for v in e} - {("pe", *src), ("pe", *dst)}:
                node_load[n] = node_load.get(n, 0) + 1
            hops.append(sum(tree.edges[e]["up"] for e in up) + sum(tree.edges[e]["down"] for e in down))
            latency += sum(tree.edges[e]["lat_up"] for e in up) + sum(tree.edges[e]["lat_down"] for e in down)
        chain_latency.append(latency)
    d_out = len(next(iter(classes)))
    red = 0
    if hops:
        loads = [math.ceil(n * d_out / tree.edges[e]["bandwidth"]) for e, n in edge_load.items()]
        loads += [math.ceil(n * d_out / tree.nodes[v].get("bandwidth", math.inf)) for v, n in node_load.items()]
        red = max(loads) + max(chain_latency)
    unit = 3 * arch.rf_energy_pj + arch.mac_energy_pj
    e_red = sum(d_out * (unit + h) for h in hops)
    roots = {members[-1] for members in classes.values()}
    noc_cycles, e_noc = [], []
    for op in range(len(nest.operands)):
        pes = roots if op == 0 else coords.keys()
        loops = sorted({loop for dim in nest.operands[op].dims for loop, _ in dim.terms})
        keys = {q: tuple(coords[q][lp] for lp in loops) for q in pes}
        cycles, energy = distribution(arch, op, {q: tile(nest, op, coords[q], rf) for q in pes}, keys)
        noc_cycles.append(cycles)
        e_noc.append(energy)
    return Terms(tuple(noc_cycles), tuple(e_noc), red, d_out * len(hops), e_red)
