"""PNG plots of a DSE: the objective vs each swept parameter, and energy vs cycles with the Pareto front."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from ..report.output import write_figure  # noqa: E402
from .run import DsePoint  # noqa: E402

MAX_LINES = 16
"""Most lines (settings of the other parameters) in a plot of the objective against a parameter."""
OBJECTIVE_LABELS = {"edp": "EDP (pJ × cycles)", "energy": "energy (pJ)", "cycles": "cycles"}


def objective_vs_parameter(
    points: Sequence[DsePoint], keys: Sequence[str], key: str, objective: str, model: str, path: Path
) -> Path:
    """The model's total objective against one swept parameter, one line per setting of the others (a scatter of
    the points when there are more than MAX_LINES settings, as in a sample)."""
    others = [k for k in keys if k != key]
    lines: dict[tuple, list[DsePoint]] = defaultdict(list)
    for p in points:
        if p.solved:
            lines[tuple(p.params[k] for k in others)].append(p)
    fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
    if len(lines) > MAX_LINES:  # a sample: too many settings of the others for a line each
        solved = [p for p in points if p.solved]
        ax.scatter([p.params[key] for p in solved], [p.value(objective) for p in solved], s=12, label="design point")
    for setting, group in lines.items() if len(lines) <= MAX_LINES else ():
        group = sorted(group, key=lambda p: p.params[key])
        label = ", ".join(f"{k}={v:g}" for k, v in zip(others, setting, strict=True)) or "model total"
        ax.plot([p.params[key] for p in group], [p.value(objective) for p in group], marker="o", label=label)
    values = sorted({p.params[key] for p in points})
    if values and min(values) > 0 and max(values) / min(values) >= 4:
        ax.set_xscale("log", base=2)
    ax.set_xticks(values, [f"{v:g}" for v in values])
    ax.set_xlabel(key)
    ax.set_ylabel(f"total {OBJECTIVE_LABELS[objective]}")
    ax.set_title(f"{model}: total {objective} (all layers × instances) vs {key}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(fig, path)


def pareto_plot(points: Sequence[DsePoint], model: str, path: Path) -> Path:
    """Energy against cycles of every solved point; the Pareto-optimal points joined and labelled."""
    solved = [p for p in points if p.solved]
    front = sorted((p for p in solved if p.pareto), key=lambda p: p.cycles)
    fig, ax = plt.subplots(figsize=(7.5, 5.2), layout="constrained")
    ax.scatter([p.cycles for p in solved], [p.energy_pj for p in solved], color="#999999", label="design point")
    ax.step([p.cycles for p in front], [p.energy_pj for p in front], where="post", color="#c44e52", alpha=0.6)
    ax.scatter([p.cycles for p in front], [p.energy_pj for p in front], color="#c44e52", s=60, label="Pareto front")
    at: dict[tuple[float, float], list[str]] = {}  # points with equal totals share one label
    for p in front:
        at.setdefault((p.cycles, p.energy_pj), []).append(", ".join(f"{k}={v:g}" for k, v in p.params.items()))
    for (cycles, energy), settings in at.items():
        ax.annotate("\n".join(settings), (cycles, energy), textcoords="offset points", xytext=(6, 4), fontsize=7)
    ax.margins(0.12, 0.12)  # room for the labels of the extreme points
    ax.set_xlabel("total cycles (all layers × instances)")
    ax.set_ylabel("total energy (pJ)")
    ax.set_title(f"{model}: energy vs cycles of the design points")
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    return _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> Path:
    try:
        return write_figure(fig, path)
    finally:
        plt.close(fig)
