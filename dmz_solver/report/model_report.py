"""Write a solved model's report directory: result.json, the PNG plots and report.md."""

from __future__ import annotations

from pathlib import Path

from ..arch import Arch
from ..result import ModelResult
from .markdown import report_markdown
from .output import REPORT_FILES, make_directory, write_json, write_text
from .plots import cycles_plot, energy_breakdown_plot, utilisation_plot
from .usage import mapping_usage


def write_model_report(result: ModelResult, arch: Arch, directory: str | Path) -> list[Path]:
    """Write DIR/result.json, three PNG plots and DIR/report.md; returns the paths written."""
    out = make_directory(directory)
    data, energy, cycles, utilisation, report = (out / name for name in REPORT_FILES)
    write_json(str(data), result.to_json())
    usages = [mapping_usage(r, arch) for r in result.layers]
    plots = {
        "Energy breakdown per layer": energy_breakdown_plot(result, energy),
        "Cycles per layer": cycles_plot(result, cycles),
        "Utilisation per layer": utilisation_plot(result, usages, utilisation),
    }
    write_text(report, report_markdown(result, usages, plots))
    return [data, *plots.values(), report]
