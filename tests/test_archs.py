"""Shipped architectures: the proven optimum equals the exhaustive optimum; arch specs with networks
read (or fail) as documented; row/column splits reach the CLI, JSON and evaluator."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from optimality import network_archs, proven_results, small_layers

from dmz_solver.arch import arch_from_json, load_arch
from dmz_solver.cli import main
from dmz_solver.cost.evaluate import evaluate_mapping
from dmz_solver.dse.sweep import Sweep, arch_points, parse_sweep
from dmz_solver.errors import InputError
from dmz_solver.problem import Problem
from dmz_solver.problem.mapping import mapping_from_json
from dmz_solver.search.exhaustive import exhaustive_search
from dmz_solver.solving import solve_layer
from dmz_solver.vocabulary import Status
from dmz_solver.workload.templates import conv_nest, gemm_nest

SHIPPED = ("dmazerunner", "eyeriss", "tpu_like", "edge_8x8", "tpu_v1_256", "mxu_128")
ARCHS = {name: load_arch(name) for name in SHIPPED}


@pytest.mark.parametrize("name", SHIPPED)
@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(nest=small_layers())
def test_proven_optimum_equals_exhaustive_optimum(name, nest):
    arch = ARCHS[name]
    for objective, result, _ in proven_results(nest, arch):
        # The reported mapping (tiling, orders and split) reproduces the value through the evaluator.
        _, cost = evaluate_mapping(Problem(nest, arch), result.mapping, objective)
        assert cost.value(objective) == result.value
        split = result.mapping.spatial_rows
        assert (split is None) == (arch.noc.rows == 1)
        if split is not None:
            assert np.prod(split) <= arch.noc.rows and np.prod(result.mapping.spatial_cols) <= arch.noc.cols


def test_a_larger_layer_on_every_shipped_arch():
    nest = conv_nest("c", n=1, m=16, c=8, in_rows=10, in_cols=10, f_rows=3, f_cols=3, stride=(1, 1))
    for arch in ARCHS.values():
        found = exhaustive_search(Problem(nest, arch))
        result = solve_layer(nest, arch, "edp", search="cpsat")
        assert result.status == Status.OPTIMAL and result.value == found.best["edp"].value, arch.name


def test_systolic_reduction_keeps_partial_sums_in_their_column():
    """tpu_like reduces down the columns: a reduction loop unrolled over columns has no valid split."""
    arch = ARCHS["tpu_like"]
    nest = gemm_nest("g", x=4, y=4, k=16)  # K (index 2) is the reduction loop
    problem = Problem(nest, arch)
    sp = np.array([1, 1, 16], np.int64)
    assert problem.unrollings(sp, (16, 1, 1)) == []  # not a divisor split
    assert problem.unrollings(sp, (1, 1, 1)) == []  # K over the columns: sums cross columns
    assert len(problem.unrollings(sp, (1, 1, 16))) == 1  # K down the columns
    assert len(problem.unrollings(sp)) == 1


def test_seed_arch_has_one_split_per_tuple():
    nest = conv_nest("c", n=1, m=8, c=4, in_rows=6, in_cols=6, f_rows=3, f_cols=3, stride=(1, 1))
    problem = Problem(nest, ARCHS["dmazerunner"])
    for sp in ([1, 8, 4, 2, 2, 1, 1], [1, 2, 1, 1, 1, 3, 3]):
        assert len(problem.unrollings(np.array(sp))) == 1


# ---------------------------------------------------------------------------------------------------------------------
# Arch spec sections


def _spec(**sections) -> dict:
    return {"arch_basic": {"RF_SIZE": 512}, **sections}


@pytest.mark.parametrize(
    ("sections", "field", "reason"),
    [
        (
            {"pe_array": {"rows": 4, "cols": 4}, "arch_basic": {"CGRA_SIZE": 32}},
            "arch_basic.CGRA_SIZE",
            "is 32 but pe_array is 4 x 4 = 16 PEs",
        ),
        ({"pe_array": {"rows": 4}}, "pe_array.cols", "missing field"),
        (
            {"pe_array": {"rows": 4, "cols": 6}, "pe_groups": {"rows": 3, "cols": 2}},
            "pe_groups.rows",
            "a 3 x 2 group does not tile the 4 x 6 array",
        ),
        ({"networks": {"input": {"kind": "mesh"}}}, "networks.input.kind", "unknown network kind 'mesh'"),
        ({"networks": {"weights": {}}}, "networks.weights", "unknown field"),
        (
            {"networks": {"input": {"kind": "systolic", "multicast": False}}},
            "networks.input.multicast",
            "applies to bus networks only",
        ),
        ({"networks": {"input": {"direction": "rows"}}}, "networks.input.direction", "applies to systolic"),
        (
            {"networks": {"input": {"kind": "systolic", "direction": "diagonal"}}},
            "networks.input.direction",
            "expected rows or columns",
        ),
        ({"networks": {"input": {"bandwidth": 0}}}, "networks.input.bandwidth", "must be positive"),
        ({"networks": {"input": {"segments": "groups"}}}, "networks.input", "needs a pe_groups section"),
    ],
)
def test_bad_network_sections_name_the_field(sections, field, reason):
    spec = _spec()
    for key, value in sections.items():
        spec[key] = {**spec.get(key, {}), **value}
    with pytest.raises(InputError) as info:
        arch_from_json(spec, source="bad.json", name="bad")
    assert info.value.source == "bad.json" and info.value.field == field
    assert reason in info.value.reason


def test_omitted_sections_are_the_seed():
    arch = arch_from_json({"arch_basic": {"CGRA_SIZE": 64}}, source="s.json", name="s")
    assert arch.noc_spec is None and (arch.noc.rows, arch.noc.cols) == (1, 64)
    shaped = arch_from_json(_spec(pe_array={"rows": 4, "cols": 4}), source="s.json", name="s")
    assert shaped.pe_count == 16 and shaped.noc.network("input").kind == "bus"


def test_default_network_applies_to_unlisted_roles():
    spec = _spec(networks={"default": {"bandwidth": 2}, "weight": {"kind": "systolic"}})
    noc = arch_from_json(spec, source="s.json", name="s").noc
    assert noc.network("input").bandwidth == 2 and noc.network("reduction").bandwidth == 2
    assert noc.network("weight").kind == "systolic"


def test_dse_keeps_the_network_and_refuses_to_sweep_its_pe_count():
    base = ARCHS["eyeriss"]
    points = arch_points(base, [Sweep("RF_SIZE", "rf_bytes", (256, 520))])
    assert [p[1].rf_bytes for p in points] == [256, 520] and all(p[1].noc == base.noc for p in points)
    with pytest.raises(InputError, match="cannot be swept"):
        arch_points(base, [Sweep("CGRA_SIZE", "pe_count", (64, 168))])


# ---------------------------------------------------------------------------------------------------------------------
# The split in the CLI, the JSON and the evaluator

REPO = Path(__file__).resolve().parent.parent
TINY = str(REPO / "models" / "tiny.json")


def test_arch_command_describes_and_draws(capsys, tmp_path):
    png = tmp_path / "tpu.png"
    assert main(["arch", "tpu_like", "--draw", str(png)]) == 0
    out = capsys.readouterr().out
    assert "16 x 16 PEs" in out and "systolic along rows" in out and "systolic along columns" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["arch", "no_such_arch"]) == 2
    assert "no such arch spec" in capsys.readouterr().err


def test_solve_reports_the_split(capsys, tmp_path):
    out_json = tmp_path / "r.json"
    code = main(
        ["solve", "--model", TINY, "--arch", "tpu_like", "--layer", "tiny_gemm", "--no-cache", "--json", str(out_json)]
    )
    text = capsys.readouterr().out
    assert code == 0 and "  rows" in text and "  cols" in text and "OPTIMAL" in text
    mapping = json.loads(out_json.read_text())["layers"][0]["mapping"]
    rows, cols = mapping["array"]["rows"], mapping["array"]["cols"]
    assert [r * c for r, c in zip(rows, cols, strict=True)] == mapping["tiling"]["SPATIAL"]
    assert np.prod(rows) <= 16 and np.prod(cols) <= 16


def test_evaluate_checks_the_split(tmp_path):
    arch = ARCHS["tpu_like"]
    nest = gemm_nest("g", x=4, y=8, k=16)
    problem = Problem(nest, arch)
    base = {
        "loops": ["X", "Y", "K"],
        "tiling": {"DRAM": [1, 1, 1], "SPM": [1, 1, 1], "RF": [1, 4, 4], "SPATIAL": [4, 2, 4]},
    }
    free, _ = evaluate_mapping(problem, mapping_from_json(base, nest, source="m"), "edp")
    assert free.spatial_rows is not None  # the best split was chosen and reported
    given = mapping_from_json({**base, "array": {"rows": list(free.spatial_rows)}}, nest, source="m")
    assert evaluate_mapping(problem, given, "edp")[1] == evaluate_mapping(problem, free, "edp")[1]
    across = mapping_from_json({**base, "array": {"rows": [4, 2, 1]}}, nest, source="m")  # K over columns
    with pytest.raises(InputError, match="cannot be reduced"):
        evaluate_mapping(problem, across, "edp")
    with pytest.raises(InputError, match="is not its spatial factor"):
        mapping_from_json({**base, "array": {"rows": [4, 2, 1], "cols": [1, 1, 1]}}, nest, source="m")


def test_seed_arch_json_has_no_split():
    result = solve_layer(gemm_nest("g", x=4, y=4, k=4), replace(ARCHS["dmazerunner"]), "edp")
    assert "array" not in result.mapping.to_json()


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(nest=small_layers(), arch=network_archs())
def test_proven_optimum_equals_exhaustive_optimum_on_random_networks(nest, arch):
    """The block bounds stay valid whatever the networks: the proof never prunes the optimum away."""
    assert all(result.value == best for _, result, best in proven_results(nest, arch))


# ---------------------------------------------------------------------------------------------------------------------
# Review findings: DSE defaults, unshaped arrays, the min-exec knob, one-row JSON, limits


def test_dse_default_network_reaches_the_roles_without_their_own(tmp_path):
    spec = _spec(
        pe_array={"rows": 4, "cols": 4},
        networks={"default": {"segments": "rows", "bandwidth": 2}, "input": {"bandwidth": 4}},
    )
    base = arch_from_json(spec, source="mixed.json", name="mixed")
    (_, low), (_, high) = arch_points(base, [parse_sweep("networks.default.bandwidth=1,8")])
    assert [a.noc.network("weight").bandwidth for a in (low, high)] == [1, 8]
    assert [a.noc.network("input").bandwidth for a in (low, high)] == [4, 4]
    assert low.noc.network("reduction").segments == "rows"


def test_dse_sweeps_the_pe_count_of_an_arch_without_pe_array():
    base = arch_from_json(
        {"arch_basic": {"CGRA_SIZE": 256}, "networks": {"input": {"latency": 1}}}, source="net.json", name="net"
    )
    points = arch_points(base, [parse_sweep("CGRA_SIZE=64,128")])
    assert [(a.pe_count, a.noc.rows, a.noc.cols) for _, a in points] == [(64, 1, 64), (128, 1, 128)]
    assert all(a.noc.network("input").latency == 1 for _, a in points)


def test_min_exec_knob_counts_tilings_once_whatever_the_search(capsys):
    statuses = []
    for search in ("exhaustive", "cpsat"):
        code = main(
            [
                "solve",
                "--model",
                TINY,
                "--arch",
                "edge_8x8",
                "--layer",
                "tiny_conv1x1",
                "--search",
                search,
                "--opt-min-exec-methods",
                "50000",
                "--no-cache",
                "--json",
                "-",
            ]
        )
        out = capsys.readouterr().out
        statuses.append((code, json.loads(out)["layers"][0]["status"] if out else None))
    assert statuses[0] == statuses[1]


def test_one_row_evaluation_has_no_split():
    nest = gemm_nest("g", x=4, y=4, k=4)
    obj = {
        "loops": ["X", "Y", "K"],
        "tiling": {"DRAM": [1, 1, 1], "SPM": [1, 1, 1], "RF": [1, 1, 4], "SPATIAL": [4, 4, 1]},
        "array": {"rows": [1, 1, 1]},
    }
    mapping, _ = evaluate_mapping(Problem(nest, ARCHS["dmazerunner"]), mapping_from_json(obj, nest, source="m"))
    assert mapping.spatial_rows is None and "array" not in mapping.to_json()
    with pytest.raises(InputError) as info:
        mapping_from_json({**obj, "array": {"rows": [1, 1, 1], "cols": [4, 2, 1]}}, nest, source="m")
    assert info.value.field == "array.cols"


def test_array_size_and_bandwidths_are_bounded():
    with pytest.raises(InputError, match="at most 65536"):
        arch_from_json(_spec(pe_array={"rows": 512, "cols": 256}), source="big.json", name="big")
    assert arch_from_json(_spec(pe_array={"rows": 256, "cols": 256}), source="tpu.json", name="tpu").pe_count == 65536
    with pytest.raises(InputError, match="must be finite"):
        arch_from_json(_spec(networks={"input": {"bandwidth": float("inf")}}), source="inf.json", name="inf")


def test_equal_splits_merge_even_with_a_reduction_latency():
    """Only row and column unions of the operands keep equally costly splits apart: with buses elsewhere,
    the splits of X and Y that keep K (the reduction) down the columns all cost the same."""
    arch = arch_from_json(
        _spec(pe_array={"rows": 4, "cols": 4}, networks={"reduction": {"kind": "systolic", "direction": "columns"}}),
        source="s.json",
        name="s",
    )
    problem = Problem(gemm_nest("g", x=4, y=8, k=8), arch)
    sp = np.array([2, 2, 2])
    valid = [rows for rows in ((1, 1, 2), (2, 1, 2), (1, 2, 2)) if problem.unrollings(sp, rows)]
    profiles = {tuple(problem.unrollings(sp, rows)[0][0].ravel()) for rows in valid}
    assert len(valid) == 3 and len(profiles) == 1
    assert [tuple(o[2]) for o in problem.unrollings(sp)] == [(1, 1, 2)]
