"""PNG plots of a solved model: energy breakdown, cycles and resource utilisation per layer."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..result import ModelResult  # noqa: E402
from ..vocabulary import BREAKDOWN  # noqa: E402
from .usage import Usage  # noqa: E402

COLOURS = {"MAC": "#4c72b0", "RF": "#55a868", "NOC": "#c44e52", "SPM": "#8172b2", "DRAM": "#ccb974"}


def _layer_axis(ax: plt.Axes, names: list[str]) -> None:
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_xlabel("layer")
    ax.grid(axis="y", alpha=0.3)


def _figure(n_layers: int) -> tuple[plt.Figure, plt.Axes]:
    return plt.subplots(figsize=(max(6.0, 0.6 * n_layers + 2.5), 4.8), layout="constrained")


def energy_breakdown_plot(result: ModelResult, path: Path) -> Path:
    """Stacked bars of MAC/RF/NOC/SPM/DRAM energy (pJ) of one execution of each layer."""
    solved = [r for r in result.layers if r.cost is not None]
    names = [r.nest.name for r in solved]
    fig, ax = _figure(len(names))
    bottom = np.zeros(len(solved))
    for i, part in enumerate(BREAKDOWN):
        values = np.array([r.cost.breakdown_pj[i] for r in solved])
        ax.bar(range(len(solved)), values, bottom=bottom, label=part, color=COLOURS[part])
        bottom += values
    _layer_axis(ax, names)
    ax.set_ylabel("energy per layer execution (pJ)")
    ax.set_title(f"Energy breakdown of {result.model} on {result.arch}\n(one execution of each layer, not × instances)")
    ax.legend(title="component", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(fig, path)


def cycles_plot(result: ModelResult, path: Path) -> Path:
    """Bars of the cycles of one execution of each layer."""
    solved = [r for r in result.layers if r.cost is not None]
    fig, ax = _figure(len(solved))
    ax.bar(range(len(solved)), [r.cost.cycles for r in solved], color="#4c72b0", label="cycles per execution")
    _layer_axis(ax, [r.nest.name for r in solved])
    ax.set_ylabel("cycles per layer execution")
    ax.set_title(f"Cycles of {result.model} on {result.arch}\n(one execution of each layer, not × instances)")
    ax.legend(loc="upper left")
    return _save(fig, path)


def utilisation_plot(result: ModelResult, usages: list[Usage | None], path: Path) -> Path:
    """Grouped bars: PE, RF and SPM utilisation (percent of capacity) of each layer's mapping."""
    rows = [(r.nest.name, u) for r, u in zip(result.layers, usages, strict=True) if u is not None]
    fig, ax = _figure(len(rows))
    x = np.arange(len(rows))
    width = 0.27
    series = (
        ("PEs used / PE count", "pe_fraction", "#4c72b0"),
        ("RF elements used / RF capacity", "rf_fraction", "#55a868"),
        ("SPM bytes used / SPM buffer", "spm_fraction", "#8172b2"),
    )
    for k, (label, attr, colour) in enumerate(series):
        ax.bar(x + (k - 1) * width, [100 * getattr(u, attr) for _, u in rows], width, label=label, color=colour)
    _layer_axis(ax, [name for name, _ in rows])
    ax.set_ylabel("utilisation (% of capacity)")
    ax.set_ylim(0, 125)
    ax.set_yticks(range(0, 101, 20))
    ax.set_title(f"Resource utilisation of the mappings\n({result.model} on {result.arch})")
    ax.legend(loc="upper center", ncols=3, fontsize=8)
    return _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
