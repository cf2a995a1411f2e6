"""Drawing of an arch's PE array and networks from their networkx graph (noc/graph.py)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402

from ..arch import Arch  # noqa: E402
from ..noc.graph import ROOT, arch_graph, group_of  # noqa: E402
from ..noc.spec import REDUCTION, ROLES  # noqa: E402

ROLE_COLOURS = {"input": "#4c72b0", "weight": "#55a868", "output": "#c44e52", REDUCTION: "#8172b2"}
GROUP_COLOURS = ("#f2f2f2", "#dde8f5", "#f5e6dd", "#e3f2dd", "#efe0f2", "#f5f0d5")


def _positions(graph: nx.MultiDiGraph, rows: int, cols: int) -> dict:
    """PEs on their grid; each role's buses in its own band above the array; the SPM port on top."""
    pos = {}
    bands = {role: i for i, role in enumerate((*ROLES, REDUCTION))}
    for node, data in graph.nodes(data=True):
        if node == ROOT:
            pos[node] = ((cols - 1) / 2, rows + 5.5)
        elif data["kind"] == "pe":
            pos[node] = (node[2], rows - 1 - node[1])
        else:  # (role, "bus") or (role, ("segment", index))
            role, bus = node
            shift = 0.18 * bands[role]
            if bus == "bus":
                pos[node] = ((cols - 1) / 2 + 3 * (bands[role] - 1.5), rows + 4)
            else:
                pos[node] = _segment(graph, node, rows, shift)
    return pos


def _segment(graph: nx.MultiDiGraph, node: object, rows: int, shift: float) -> tuple[float, float]:
    """A segment bus sits left of its row, above its column, or at the corner of its group; nudged per role."""
    pes = [v for _, v in graph.out_edges(node) if graph.nodes[v]["kind"] == "pe"]
    if len({v[1] for v in pes}) == 1:
        return (-1.2 - 2 * shift, rows - 1 - pes[0][1] + shift)
    if len({v[2] for v in pes}) == 1:
        return (pes[0][2] + shift, rows + 0.2 + 2 * shift)
    return (min(v[2] for v in pes) - 0.6 + shift, rows - 1 - min(v[1] for v in pes) + 0.6 + shift)


def draw_arch(arch: Arch, path: Path) -> Path:
    """A PNG of the arch's networks: PEs by group, buses, systolic links and the SPM port, coloured by role."""
    spec = arch.noc
    graph = arch_graph(spec, float(arch.noc_energy_pj))
    pos = _positions(graph, spec.rows, spec.cols)
    width = max(6.0, 0.55 * spec.cols + 3)
    height = max(4.5, 0.55 * (spec.rows + 6) + 2)
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    pes = [n for n, d in graph.nodes(data=True) if d["kind"] == "pe"]
    colours = [GROUP_COLOURS[group_of(spec, n[1], n[2]) % len(GROUP_COLOURS)] for n in pes]
    nx.draw_networkx_nodes(
        graph, pos, nodelist=pes, node_color=colours, edgecolors="#444444", node_size=260, node_shape="s", ax=ax
    )
    buses = [n for n, d in graph.nodes(data=True) if d["kind"] == "bus"]
    nx.draw_networkx_nodes(
        graph, pos, nodelist=buses, node_color=[ROLE_COLOURS[n[0]] for n in buses], node_size=90, ax=ax
    )
    nx.draw_networkx_nodes(graph, pos, nodelist=[ROOT], node_color="#333333", node_size=500, node_shape="h", ax=ax)
    for role in (*ROLES, REDUCTION):
        edges = [(u, v) for u, v, d in graph.edges(data=True) if d["role"] == role]
        nx.draw_networkx_edges(
            graph,
            pos,
            edgelist=edges,
            edge_color=ROLE_COLOURS[role],
            alpha=0.45,
            width=0.8,
            arrows=True,
            arrowsize=6,
            ax=ax,
            node_size=260,
        )
    for role, colour in ROLE_COLOURS.items():
        net = spec.network(role)
        label = f"{role}: {net.kind}"
        if net.kind == "bus":
            label += f", {'multicast' if net.multicast else 'unicast'}, {net.bandwidth:g}/cycle"
            if net.segments != "none":
                label += f", segments per {net.segments.rstrip('s')} ({net.segment_bandwidth:g}/cycle)"
        else:
            label += f" along {net.direction}, {net.bandwidth:g}/cycle per link, {net.latency} cycle/hop"
        ax.plot([], [], color=colour, label=label)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize=8, frameon=False)
    grouped = (spec.group_rows, spec.group_cols) != (spec.rows, spec.cols)
    groups = f"groups of {spec.group_rows} x {spec.group_cols} (shaded)" if grouped else "one PE group"
    ax.set_title(
        f"{arch.name}: {spec.rows} x {spec.cols} PEs, {groups}\nSPM port on top; arrows point away from it", fontsize=9
    )
    ax.set_axis_off()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
