"""The PE array, its groups and its networks as networkx graphs.

Each network is a tree rooted at its SPM port ("spm"): data for the PEs flows away from the root,
results flow towards it, and a transfer between two PEs climbs to their lowest common ancestor and
descends. Nodes are the port, bus nodes (shared media with a bandwidth) and the PEs ("pe", r, c);
each edge (parent -> child) carries the attributes the cost derivation reads:

    bandwidth   elements per cycle across the edge (inf: not a bottleneck)
    down, up    energy per element moved towards the child / towards the parent
    lat_down, lat_up   cycles to cross it towards the child / towards the parent
"""

from __future__ import annotations

import math
from functools import lru_cache

import networkx as nx

from .spec import BUS, Network, NocSpec

ROOT = "spm"


def pe(r: int, c: int) -> tuple[str, int, int]:
    return ("pe", r, c)


def group_of(spec: NocSpec, r: int, c: int) -> int:
    """Index of the PE group holding PE (r, c), row-major over the groups."""
    return (r // spec.group_rows) * (spec.cols // spec.group_cols) + c // spec.group_cols


@lru_cache(maxsize=64)
def network_tree(spec: NocSpec, role: str, noc_energy: float) -> nx.DiGraph:
    """The tree of one role's network (a role of ROLES or REDUCTION)."""
    net = spec.network(role)
    graph = nx.DiGraph(role=role, kind=net.kind)
    graph.add_node(ROOT, kind="port")
    energy = net.energy_pj(noc_energy)
    if net.kind == BUS:
        _bus(graph, spec, net, energy)
    else:
        _systolic(graph, spec, net, energy)
    assert nx.is_arborescence(graph)
    return graph


def _bus(graph: nx.DiGraph, spec: NocSpec, net: Network, energy: float) -> None:
    """A bus from the port; one segment bus per row, column or group if asked; then the PEs.

    Delivery into a PE costs `energy` and so does delivery into the SPM (a write-back); moving
    between the bus and a segment bus costs `segment_energy` either way. Latency, a hop's, is
    charged the same way: on delivery out of a bus.
    """
    lat = net.latency
    graph.add_node("bus", kind="bus", bandwidth=net.bandwidth)
    graph.add_edge(ROOT, "bus", bandwidth=math.inf, down=0.0, up=energy, lat_down=0, lat_up=lat)
    for r in range(spec.rows):
        for c in range(spec.cols):
            parent = "bus"
            if net.segments != "none":
                index = {"rows": r, "columns": c, "groups": group_of(spec, r, c)}[net.segments]
                parent = ("segment", index)
                if parent not in graph:
                    graph.add_node(parent, kind="bus", bandwidth=net.segment_bandwidth)
                    graph.add_edge(
                        "bus",
                        parent,
                        bandwidth=math.inf,
                        down=net.segment_energy,
                        up=net.segment_energy,
                        lat_down=lat,
                        lat_up=lat,
                    )
            graph.add_node(pe(r, c), kind="pe", bandwidth=math.inf)
            graph.add_edge(parent, pe(r, c), bandwidth=math.inf, down=energy, up=0.0, lat_down=lat, lat_up=0)


def _systolic(graph: nx.DiGraph, spec: NocSpec, net: Network, energy: float) -> None:
    """Chains of neighbour links along each row (entered at column 0) or column (at row 0).

    Every hop costs `energy` and `latency`; a link carries `bandwidth` elements per cycle.
    Transfers between PEs move towards the port only.
    """
    along_rows = net.direction == "rows"
    chains, length = (spec.rows, spec.cols) if along_rows else (spec.cols, spec.rows)
    for chain in range(chains):
        parent = ROOT
        for step in range(length):
            node = pe(chain, step) if along_rows else pe(step, chain)
            graph.add_node(node, kind="pe", bandwidth=math.inf)
            graph.add_edge(
                parent, node, bandwidth=net.bandwidth, down=energy, up=energy, lat_down=net.latency, lat_up=net.latency
            )
            parent = node


def transfers_down_ok(graph: nx.DiGraph) -> bool:
    """Whether PE-to-PE transfers may descend the tree (buses: yes; systolic chains: no)."""
    return graph.graph["kind"] == BUS
