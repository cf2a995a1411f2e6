"""Write a solved model's report directory: result.json, the PNG plots and report.md."""

from __future__ import annotations

from pathlib import Path

from ..arch import Arch
from ..result import ModelResult
from .markdown import report_markdown
from .output import write_json
from .plots import cycles_plot, energy_breakdown_plot, utilisation_plot
from .usage import mapping_usage


def write_model_report(result: ModelResult, arch: Arch, directory: str | Path) -> list[Path]:
    """Write DIR/result.json, three PNG plots and DIR/report.md; returns the paths written."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    write_json(str(out / "result.json"), result.to_json())
    usages = [mapping_usage(r, arch) for r in result.layers]
    plots = {
        "Energy breakdown per layer": energy_breakdown_plot(result, out / "energy_breakdown.png"),
        "Cycles per layer": cycles_plot(result, out / "cycles.png"),
        "Utilisation per layer": utilisation_plot(result, usages, out / "utilisation.png"),
    }
    report = out / "report.md"
    report.write_text(report_markdown(result, usages, plots))
    return [out / "result.json", *plots.values(), report]
