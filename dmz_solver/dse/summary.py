"""report.md of a DSE: the Pareto front, the best point for each objective, and each parameter's sensitivity.

Sensitivity is a main effect: for each value of a parameter, the geometric mean of the objective over the
solved points that have that value (whatever the other parameters); a parameter's spread is the ratio of the
largest of these means to the smallest. On a full grid every value is averaged over the same settings of the
others; on a sample the means are estimates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..vocabulary import OBJECTIVES
from .run import DsePoint


def _setting(point: DsePoint, keys: Sequence[str]) -> str:
    return ", ".join(f"{k}={point.params[k]:g}" for k in keys)


def _figures(point: DsePoint) -> list[str]:
    return [str(int(point.cycles)), f"{point.energy_pj:.4e}", f"{point.edp:.4e}"]


def sensitivity(points: Sequence[DsePoint], key: str, objective: str) -> dict[float, float]:
    """Geometric mean of the objective over the solved points at each value of `key` (values with none left out)."""
    logs: dict[float, list[float]] = {}
    for p in points:
        value = p.value(objective) if p.solved else math.nan
        if value > 0:
            logs.setdefault(p.params[key], []).append(math.log(value))
    return {v: math.exp(math.fsum(ls) / len(ls)) for v, ls in sorted(logs.items())}


def dse_markdown(
    points: Sequence[DsePoint], keys: Sequence[str], objective: str, title: str, plots: Sequence[str], note: str = ""
) -> str:
    """The text of report.md; `plots` are the file names of the figures beside it, `note` how points were chosen."""
    solved = [p for p in points if p.solved]
    lines = [
        f"# {title}",
        "",
        f"{len(points)} points ({len(solved)} solved, {len(points) - len(solved)} infeasible), "
        f"minimise **{objective}**; swept: {', '.join(f'`{k}`' for k in keys)}.{note} Totals count every layer "
        "`instances` times. All figures: [dse.csv](dse.csv).",
        "",
        "## Pareto front",
        "",
        "Points that no other point beats on both cycles and energy, by cycles.",
        "",
        "| " + " | ".join([*keys, "cycles", "energy (pJ)", "EDP"]) + " |",
        "|" + "---:|" * (len(keys) + 3),
    ]
    for p in sorted((p for p in solved if p.pareto), key=lambda p: (p.cycles, p.energy_pj)):
        lines.append("| " + " | ".join([*(f"{p.params[k]:g}" for k in keys), *_figures(p)]) + " |")
    lines += ["", "## Best point for each objective", ""]
    lines += ["| objective | point | cycles | energy (pJ) | EDP |", "|---|---|---:|---:|---:|"]
    for name in OBJECTIVES:
        if solved:
            best = min(solved, key=lambda p, name=name: p.value(name))  # the first of equal points
            lines.append("| " + " | ".join([name, _setting(best, keys), *_figures(best)]) + " |")
    lines += [
        "",
        "## Sensitivity",
        "",
        f"Geometric mean of the {objective} over the solved points at each value of a parameter; the spread is the "
        "largest mean over the smallest. Parameters by spread, largest first.",
        "",
        f"| parameter | spread | best value | mean {objective} at each value |",
        "|---|---:|---:|---|",
    ]
    rows = []
    for key in keys:
        means = sensitivity(points, key, objective)
        if means:
            spread = max(means.values()) / min(means.values())
            best = min(means, key=means.__getitem__)
            shown = ", ".join(f"{v:g}: {m:.4e}" for v, m in means.items())
            rows.append((-spread, key, f"| `{key}` | {spread:.3f} | {best:g} | {shown} |"))
    lines += [row for *_, row in sorted(rows)]
    lines += ["", "## Plots", ""]
    lines += [f"![{name}]({name})" for name in plots]
    return "\n".join(lines) + "\n"
