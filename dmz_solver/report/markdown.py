"""The Markdown report of a solved model: totals, links to the plots, and one table row per layer."""

from __future__ import annotations

import math
from pathlib import Path

from ..result import ModelResult
from .text import escaped
from .usage import Usage


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def table_cell(text: str) -> str:
    """`text` as one cell of a Markdown table: on one line (`escaped`), with its `|` escaped."""
    return escaped(text).replace("|", "\\|")


def report_markdown(result: ModelResult, usages: list[Usage | None], plots: dict[str, Path]) -> str:
    """report.md: a summary, the plots (relative links) and a per-layer table."""
    totals = result.totals()
    lines = [
        f"# {escaped(result.model)} on {escaped(result.arch)}",
        "",
        f"Objective: **{result.objective}**. Totals count each layer `instances` times: "
        f"{totals['cycles']} cycles, {totals['energy_pj']:.4e} pJ, EDP {totals['edp']:.4e}; "
        f"{totals['unique_layers']} distinct layers, {totals['layers']} executions; "
        f"all optimal: {'yes' if totals['all_optimal'] else 'no'}. Full result: [result.json](result.json).",
        "",
    ]
    for title, path in plots.items():
        lines += [f"## {title}", "", f"![{title}]({path.name})", ""]
    lines += [
        "## Layers",
        "",
        "Cycles and energy are per execution of the layer; PE = PEs used / PE count (on a 2-D array, with the "
        "PE rows x columns used), RF = RF elements used / RF capacity, SPM = SPM bytes / one SPM buffer.",
        "",
        "| layer | op | instances | status | cycles | energy (pJ) | EDP | PE | RF | SPM |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r, u in zip(result.layers, usages, strict=True):
        cost = r.cost
        figures = [str(int(cost.cycles)), f"{cost.energy_pj:.4e}", f"{cost.edp:.4e}"] if cost else ["-"] * 3
        use = [_pct(u.pe_fraction), _pct(u.rf_fraction), _pct(u.spm_fraction)] if u else ["-"] * 3
        if u and r.mapping.spatial_rows is not None:  # a 2-D array: PE rows x columns used
            use[0] += f" ({math.prod(r.mapping.spatial_rows)} x {math.prod(r.mapping.spatial_cols or ())})"
        cells = [table_cell(r.nest.name), r.nest.op, str(r.nest.instances), r.status, *figures, *use]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
