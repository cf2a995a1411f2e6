"""`solve --report DIR`: result.json, valid PNG plots, and report.md with one row per layer."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import matplotlib.image
import pytest

from dmz_solver.arch import load_arch
from dmz_solver.cli import main
from dmz_solver.report.text import format_layer_result
from dmz_solver.report.usage import mapping_usage
from dmz_solver.solving import solve_model
from dmz_solver.workload.loader import load_model

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    cache = tmp_path_factory.mktemp("cache")
    code = main(["solve", "--model", "tiny", "--cache-dir", str(cache), "--report", str(out / "rep")])
    assert code == 0
    return out / "rep"


def test_report_writes_the_result_json_plots_and_markdown(report: Path) -> None:
    names = {p.name for p in report.iterdir()}
    assert {"result.json", "report.md", "energy_breakdown.png", "cycles.png", "utilisation.png"} <= names
    result = json.loads((report / "result.json").read_text())
    assert [layer["name"] for layer in result["layers"]] == [n.name for n in load_model("tiny").layers]


@pytest.mark.parametrize("name", ["energy_breakdown.png", "cycles.png", "utilisation.png"])
def test_report_plots_are_valid_images(report: Path, name: str) -> None:
    path = report / name
    assert path.read_bytes()[:8] == PNG_MAGIC
    height, width, _ = matplotlib.image.imread(path).shape
    assert width > 400 and height > 300


def test_report_markdown_links_the_plots_and_lists_every_layer(report: Path) -> None:
    text = (report / "report.md").read_text()
    for name in ("energy_breakdown.png", "cycles.png", "utilisation.png", "result.json"):
        assert f"({name})" in text
    rows = [line for line in text.splitlines() if line.startswith("| tiny_")]
    assert len(rows) == len(load_model("tiny").layers)
    assert "| tiny_conv1x1 | CONV | 2 | OPTIMAL |" in text


def test_utilisation_of_a_hand_checked_gemm_mapping(tmp_path: Path) -> None:
    arch = load_arch("dmazerunner")
    (result,) = solve_model([load_model("tiny").layer("tiny_gemm")], arch, cache_dir=tmp_path).layers
    usage = mapping_usage(result, arch)
    dram, spm, rf, spatial = result.mapping.factors  # loops X, Y, K
    assert usage.pes_used == math.prod(spatial)
    x, y, k = (rf[i] for i in range(3))
    # RF holds the X x K and K x Y operand tiles and the X x Y output tile (2-byte elements, 256 elements).
    assert usage.rf_elems == x * k + k * y + x * y
    assert usage.rf_fraction == usage.rf_elems / 256
    tile = [rf[i] * spatial[i] * spm[i] for i in range(3)]
    assert usage.spm_bytes == 2 * (tile[0] * tile[2] + tile[2] * tile[1] + tile[0] * tile[1])
    assert 0 < usage.pe_fraction <= 1 and 0 < usage.spm_fraction <= 1


def test_an_energy_beyond_exact_doubles_prints_in_scientific_form_only() -> None:
    result = solve_model(load_model("tiny").layers[:1], load_arch("dmazerunner"), "edp", cache_dir=None).layers[0]
    normal = format_layer_result(result)
    assert f"energy (pJ)   {int(result.cost.energy_pj)}  (" in normal
    huge = replace(result, cost=replace(result.cost, energy_pj=1.664e250))
    line = next(row for row in format_layer_result(huge).splitlines() if "energy (pJ)" in row)
    assert line.split() == ["energy", "(pJ)", "(1.6640E+250)"]
