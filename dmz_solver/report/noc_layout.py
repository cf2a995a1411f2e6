"""Where the drawing of an arch (noc_plot.py) puts things, and what it says about each network.

The PE array is drawn as a grid; an axis longer than `MAX_DRAWN` PEs shows its first `HEAD` PEs, an
ellipsis and its last PE. PE groups are set apart by a gap. The facts each panel states (how many
segment buses or chains, of how many PEs) are read from the network's tree (noc/graph.py), the same
tree the cost model reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from ..arch import Arch
from ..noc.graph import ROOT, network_tree
from ..noc.spec import BUS, REDUCTION, Network

MAX_DRAWN = 16
"""An axis of at most this many PEs is drawn in full."""
HEAD = 6
"""PEs drawn before the ellipsis on a longer axis."""
GROUP_GAP = 0.6
"""Extra space between two PE groups, in PE pitches."""

SEGMENT_WORDS = {"rows": "row", "columns": "column", "groups": "PE group"}


@dataclass(frozen=True)
class Axis:
    """The PEs drawn along one axis of the array: their indices (None: the elided run) and positions."""

    length: int
    shown: tuple[int | None, ...]
    positions: tuple[float, ...]

    @property
    def elided(self) -> bool:
        return None in self.shown

    @property
    def extent(self) -> float:
        return self.positions[-1]

    def drawn(self) -> list[tuple[int, float]]:
        """(index, position) of every PE drawn."""
        return [(i, p) for i, p in zip(self.shown, self.positions, strict=True) if i is not None]

    def gap_position(self) -> float | None:
        """Where the ellipsis goes, if the axis is elided."""
        return next((p for i, p in zip(self.shown, self.positions, strict=True) if i is None), None)


def array_axis(length: int, group: int) -> Axis:
    """The drawn PEs of an axis of `length` PEs in groups of `group`."""
    shown: tuple[int | None, ...] = tuple(range(length)) if length <= MAX_DRAWN else (*range(HEAD), None, length - 1)
    positions, at, previous = [], 0.0, None
    for index in shown:
        if previous is not None and index is not None and index // group != previous // group and group < length:
            at += GROUP_GAP
        positions.append(at)
        at += 1.0
        previous = index if index is not None else previous
    return Axis(length, shown, tuple(positions))


@dataclass(frozen=True)
class Facts:
    """What a panel states about one role's network, from its tree."""

    role: str
    net: Network
    energy_pj: float
    pes: int
    segments: int  # segment buses (0 without segments)
    pes_per_segment: int
    chains: int  # systolic chains (0 for a bus)
    chain_length: int


def network_facts(arch: Arch, role: str) -> Facts:
    """The network of `role` on `arch`, counted from its tree."""
    spec = arch.noc
    net = spec.network(role)
    tree = network_tree(spec, role, float(arch.noc_energy_pj))
    pes = [n for n, d in tree.nodes(data=True) if d["kind"] == "pe"]
    if net.kind == BUS:
        segments = [n for n in tree.nodes if isinstance(n, tuple) and n[0] == "segment"]
        per_segment = tree.out_degree(segments[0]) if segments else 0
        return Facts(role, net, net.energy_pj(arch.noc_energy_pj), len(pes), len(segments), per_segment, 0, 0)
    heads = list(tree.successors(ROOT))
    length = len(nx.descendants(tree, heads[0])) + 1
    return Facts(role, net, net.energy_pj(arch.noc_energy_pj), len(pes), 0, 0, len(heads), length)


def caption(facts: Facts) -> str:
    """The numbers of the network, in words (the panel's caption)."""
    net = facts.net
    hop = f", {_count(net.latency, 'cycle')} per hop" if net.latency else ""
    if net.kind == BUS:
        cast = "multicast" if net.multicast else "unicast"
        text = (
            f"{cast} bus: {_count(net.bandwidth, 'element')}/cycle, {facts.energy_pj:g} pJ per element delivered{hop}"
        )
        if facts.segments:
            word = SEGMENT_WORDS[net.segments]
            text += (
                f"\n{facts.segments} {word} buses of {facts.pes_per_segment} PEs each: "
                f"{_count(net.segment_bandwidth, 'element')}/cycle, "
                f"{net.segment_energy:g} pJ per element to or from the bus"
            )
        else:
            text += f"\none bus {'between' if facts.role == REDUCTION else 'reaches'} all {facts.pes} PEs"
        return text
    along = "rows" if net.direction == "rows" else "columns"
    entry = "column 0" if net.direction == "rows" else "row 0"
    return (
        f"systolic: {facts.chains} chains along the {along}, {facts.chain_length} PEs each, entered at {entry}\n"
        f"{_count(net.bandwidth, 'element')}/cycle per link, {facts.energy_pj:g} pJ per hop{hop}"
    )


def _count(value: float, noun: str) -> str:
    """'1 element', '4 elements', '0.5 elements'."""
    return f"{value:g} {noun}{'' if value == 1 else 's'}"
