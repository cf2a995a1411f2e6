"""The command line: outputs, JSON files, and one-line errors with exit status 2 for bad input."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numba
import pytest
from onnx_models import GraphBuilder

from dmz_solver.cli import main
from dmz_solver.errors import InputError
from dmz_solver.report.output import write_json
from dmz_solver.workload.spec_json import load_spec

REPO = Path(__file__).resolve().parent.parent
TINY = str(REPO / "models" / "tiny.json")
GEMM_MAPPING = {
    "loops": ["X", "Y", "K"],
    "tiling": {"DRAM": [1, 1, 1], "SPM": [1, 1, 2], "RF": [2, 1, 16], "SPATIAL": [8, 24, 1]},
}
# The seed's exhaustive optimum and --auto-optimize result for this GEMM (16x24x32) on its default arch.
GEMM_OPTIMUM = {"edp": 357564800, "energy": 407724, "cycles": 800}
GEMM_AUTO_ENERGY = 416282


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, obj: object) -> str:
    path.write_text(json.dumps(obj))
    return str(path)


def test_repo_root_script_runs_without_installing() -> None:
    proc = subprocess.run([sys.executable, "cli.py", "--help"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for command in ("solve", "evaluate", "layers", "export-spec", "count"):
        assert command in proc.stdout


def test_help_leaves_the_solver_stack_unloaded() -> None:
    """`dmz --help` loads no command; `dmz layers` loads the front-end (sympy) but not numba or matplotlib."""
    code = (
        "import sys, contextlib, io\n"
        "from dmz_solver.cli import main\n"
        "heavy = ('numba', 'sympy', 'networkx', 'matplotlib', 'ortools')\n"
        "for argv in (['--help'], ['layers', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert main(argv) == 0\n"
        "    print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["[]", "['sympy']"]


def test_usage_errors_exit_2(capsys) -> None:
    assert run(capsys, "frobnicate")[0] == 2
    assert run(capsys, "solve")[0] == 2  # --model is required
    assert run(capsys, "solve", "--model", TINY, "--objective", "area")[0] == 2
    assert run(capsys, "solve", "--model", TINY, "--opt-min-utilization", "0.5", "2", "0")[0] == 2


# ---------------------------------------------------------------------------------------------------------------------
# layers, count, export-spec


def test_layers_of_tiny_model(capsys) -> None:
    code, out, err = run(capsys, "layers", "--model", TINY)
    assert code == 0 and err == ""
    for name in ("tiny_conv3x3", "tiny_conv3x3_s2", "tiny_conv1x1", "tiny_gemm", "tiny_dwconv3x3"):
        assert name in out
    code, out, _ = run(capsys, "layers", "--model", TINY, "--json", "-")
    listed = json.loads(out)
    assert [(entry["name"], entry["instances"]) for entry in listed["layers"]] == [
        ("tiny_conv3x3", 1),
        ("tiny_conv3x3_s2", 1),
        ("tiny_conv1x1", 2),
        ("tiny_gemm", 1),
        ("tiny_dwconv3x3", 1),
    ]
    assert listed["layers"][3] == {
        "name": "tiny_gemm",
        "op": "GEMM",
        "dims": {"X": 16, "Y": 24, "K": 32},
        "instances": 1,
    }
    assert listed["layers"][1]["dims"]["stride"] == 2
    assert listed["ignored"] == []


def test_layers_of_resnet18_by_name(capsys) -> None:
    code, out, _ = run(capsys, "layers", "--model", "resnet18", "--json", "-")
    layers = json.loads(out)["layers"]
    assert code == 0 and len(layers) == 9
    assert sum(entry["instances"] for entry in layers) == 18
    by_name = {entry["name"]: entry for entry in layers}
    assert by_name["ResNet18_CONV_2_1a"]["instances"] == 4
    assert by_name["ResNet18_FC"]["dims"] == {"X": 1, "Y": 1000, "K": 25088}
    code, out, _ = run(capsys, "layers", "--model", "resnet18")
    assert "9 layers, 18 instances" in out


@pytest.fixture(scope="module")
def small_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    g = GraphBuilder("small")
    x = g.input("image", [1, 4, 6, 6])
    x = g.relu(g.conv(x, "conv", 4, 8, 3, pad=1), "relu")
    x = g.global_avgpool_flat(x, "flatten")
    return g.save(g.gemm(x, "fc", 8, 10), tmp_path_factory.mktemp("onnx") / "small.onnx")


def test_layers_and_export_spec_of_an_onnx_model(capsys, small_onnx: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "layers", "--model", str(small_onnx), "--json", "-")
    listed = json.loads(out)
    assert code == 0
    assert [(e["op"], e["dims"]) for e in listed["layers"]] == [
        ("CONV", {"N": 1, "M": 8, "C": 4, "Ox": 6, "Oy": 6, "Fx": 3, "Fy": 3, "stride": 1}),
        ("GEMM", {"X": 1, "Y": 10, "K": 8}),
    ]
    assert listed["ignored"], "the ReLU and pooling have no MACs and are listed as ignored"
    code, out, _ = run(capsys, "layers", "--model", str(small_onnx))
    assert "Ignored" in out

    spec_path = tmp_path / "small.json"
    assert run(capsys, "export-spec", str(small_onnx), "-o", str(spec_path)) == (0, "", "")
    spec = json.loads(spec_path.read_text())
    assert spec["CONV"][0]["size_tensor_A"] == [1, 4, 8, 8]  # padded input
    assert [(n.op, n.extents) for n in load_spec(spec_path)] == [
        ("CONV", (1, 8, 4, 6, 6, 3, 3)),
        ("GEMM", (1, 10, 8)),
    ]
    code, out, _ = run(capsys, "export-spec", str(small_onnx))
    assert code == 0 and json.loads(out) == spec


def test_count_valid_tilings(capsys) -> None:
    code, out, _ = run(capsys, "count", "--model", TINY, "--layer", "tiny_gemm", "--json", "-")
    assert code == 0
    assert json.loads(out)["layers"][0]["valid_tilings"] == 152856  # the seed's count for this GEMM
    code, out, _ = run(capsys, "count", "--model", TINY, "--layer", "tiny_gemm", "--opt-no-spatial-reduction")
    assert code == 0 and "152856" not in out and "no spatial reduction" in out


# ---------------------------------------------------------------------------------------------------------------------
# solve


@pytest.fixture(scope="module")
def gemm_result(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict]:
    out = tmp_path_factory.mktemp("solve") / "result.json"
    code = main(["solve", "--model", TINY, "--layer", "tiny_gemm", "--search", "exhaustive", "--json", str(out)])
    return code, json.loads(out.read_text())


def test_solve_writes_the_result_json(gemm_result: tuple[int, dict]) -> None:
    code, result = gemm_result
    assert code == 0
    assert {"model", "arch", "objective", "layers", "total"} <= result.keys()
    assert (result["model"], result["arch"], result["objective"]) == ("tiny", "dmazerunner", "edp")
    (layer,) = result["layers"]
    expected = {
        "name",
        "op",
        "dims",
        "instances",
        "status",
        "mapping",
        "cycles",
        "energy_pj",
        "edp",
        "breakdown_pj",
        "lower_bound",
        "gap",
        "seconds",
    }
    assert expected <= layer.keys()
    assert (layer["name"], layer["op"], layer["status"], layer["gap"]) == ("tiny_gemm", "GEMM", "OPTIMAL", 0.0)
    assert layer["edp"] == GEMM_OPTIMUM["edp"] == layer["lower_bound"]
    assert layer["edp"] == layer["energy_pj"] * layer["cycles"]
    assert abs(sum(layer["breakdown_pj"].values()) - layer["energy_pj"]) <= 0.5  # the energy is rounded
    factors = layer["mapping"]["tiling"]
    for i, extent in enumerate((16, 24, 32)):
        assert math.prod(factors[level][i] for level in ("DRAM", "SPM", "RF", "SPATIAL")) == extent
    assert sorted(layer["mapping"]["order"]["DRAM"]) == ["K", "X", "Y"]
    assert result["total"]["cycles"] == layer["cycles"] and result["total"]["energy_pj"] == layer["energy_pj"]


def test_solve_text_report(capsys) -> None:
    code, out, err = run(capsys, "solve", "--model", TINY, "--layer", "tiny_gemm", "--search", "exhaustive")
    assert code == 0 and "Traceback" not in err
    for text in ("tiny_gemm", "OPTIMAL", "3.5756E+08", "SPATIAL", "DRAM order", "SPM order", "gap 0.00%", "152856"):
        assert text in out
    for category in ("MAC", "RF", "NOC", "SPM", "DRAM"):
        assert f"{category} " in out


def test_solve_json_to_stdout_prints_nothing_else(capsys) -> None:
    code, out, _ = run(
        capsys,
        "solve",
        "--model",
        TINY,
        "--layer",
        "tiny_gemm",
        "--search",
        "exhaustive",
        "--objective",
        "energy",
        "--json",
        "-",
    )
    assert code == 0
    result = json.loads(out)
    assert result["objective"] == "energy"
    assert result["layers"][0]["energy_pj"] == GEMM_OPTIMUM["energy"]


def test_solve_totals_count_instances(capsys, tmp_path: Path) -> None:
    gemm = {"name": "g", "size_tensor_A": [16, 32], "size_tensor_B": [32, 24], "instances": 2}
    conv = {"name": "c", "size_tensor_A": [1, 4, 7, 7], "size_tensor_B": [4, 4, 3, 3], "strides": [2, 2]}
    model = write(tmp_path / "model.json", {"GEMM": [gemm, {**gemm, "name": "g_again"}], "CONV": [conv]})
    code, out, _ = run(
        capsys, "solve", "--model", model, "--search", "exhaustive", "--objective", "cycles", "--json", "-"
    )
    result = json.loads(out)
    assert code == 0
    assert [(layer["name"], layer["instances"]) for layer in result["layers"]] == [("c", 1), ("g", 4)]
    conv_cycles, gemm_cycles = (layer["cycles"] for layer in result["layers"])
    assert gemm_cycles == GEMM_OPTIMUM["cycles"]
    assert result["total"]["cycles"] == conv_cycles + 4 * gemm_cycles
    assert result["total"]["layers"] == 5
    code, out, _ = run(capsys, "solve", "--model", model, "--search", "exhaustive", "--objective", "cycles")
    assert "Summary" in out and "total (5 layers)" in out


def test_auto_optimize_is_the_seeds_heuristic(capsys) -> None:
    code, out, _ = run(
        capsys,
        "solve",
        "--model",
        TINY,
        "--layer",
        "tiny_gemm",
        "--auto-optimize",
        "--objective",
        "energy",
        "--json",
        "-",
    )
    (layer,) = json.loads(out)["layers"]
    assert code == 0
    assert (layer["search"], layer["status"]) == ("auto", "FEASIBLE")
    assert layer["energy_pj"] == GEMM_AUTO_ENERGY > GEMM_OPTIMUM["energy"]
    assert layer["lower_bound"] <= GEMM_OPTIMUM["energy"] and layer["gap"] > 0


def test_knobs_restrict_the_search(capsys) -> None:
    knobs = ["--opt-no-spatial-reduction", "--opt-min-utilization", "0.5", "0", "0"]
    code, out, _ = run(
        capsys, "solve", "--model", TINY, "--layer", "tiny_gemm", "--search", "exhaustive", *knobs, "--json", "-"
    )
    (layer,) = json.loads(out)["layers"]
    assert code == 0
    assert layer["status"] == "FEASIBLE"  # optimal only within the pruned space
    spatial = layer["mapping"]["tiling"]["SPATIAL"]
    assert spatial[2] == 1 and math.prod(spatial) >= 128
    assert layer["edp"] >= GEMM_OPTIMUM["edp"]


def test_default_search_with_knobs_is_not_claimed_optimal(capsys) -> None:
    """With knobs the CP-SAT proof covers only the pruned space: the status must say FEASIBLE."""
    code, out, _ = run(
        capsys,
        "solve",
        "--model",
        TINY,
        "--layer",
        "tiny_gemm",
        "--opt-min-utilization",
        "0",
        "0.9",
        "0",
        "--json",
        "-",
    )
    (layer,) = json.loads(out)["layers"]
    assert code == 0 and layer["search"] == "cpsat"
    assert layer["status"] == "FEASIBLE" and layer["edp"] > GEMM_OPTIMUM["edp"]
    assert layer["lower_bound"] <= GEMM_OPTIMUM["edp"] and 0 < layer["gap"] < 1


@pytest.fixture
def restore_threads():
    yield
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


def test_workers_option_limits_threads(capsys, restore_threads) -> None:
    code, out, _ = run(
        capsys,
        "solve",
        "--model",
        TINY,
        "--layer",
        "tiny_gemm",
        "--search",
        "exhaustive",
        "--workers",
        "1",
        "--json",
        "-",
    )
    assert code == 0 and json.loads(out)["layers"][0]["edp"] == GEMM_OPTIMUM["edp"]
    assert numba.get_num_threads() == 1


# ---------------------------------------------------------------------------------------------------------------------
# evaluate


def test_evaluate_without_order_takes_the_best_pair(capsys, tmp_path: Path) -> None:
    mapping = write(tmp_path / "mapping.json", GEMM_MAPPING)
    code, out, _ = run(capsys, "evaluate", "--model", TINY, "--layer", "tiny_gemm", "--mapping", mapping, "--json", "-")
    evaluation = json.loads(out)
    assert code == 0
    assert set(evaluation) == {"name", "op", "dims", "mapping", "cycles", "energy_pj", "edp", "breakdown_pj"}
    assert (evaluation["cycles"], evaluation["energy_pj"]) == (800, 446956)
    assert evaluation["edp"] == GEMM_OPTIMUM["edp"]
    assert evaluation["mapping"]["tiling"] == GEMM_MAPPING["tiling"]
    assert set(evaluation["mapping"]["order"]) == {"DRAM", "SPM"}


def test_evaluate_with_given_order(capsys, tmp_path: Path, gemm_result: tuple[int, dict]) -> None:
    _, result = gemm_result
    solved = result["layers"][0]
    mapping = write(tmp_path / "mapping.json", solved["mapping"])
    code, out, _ = run(capsys, "evaluate", "--model", TINY, "--layer", "tiny_gemm", "--mapping", mapping, "--json", "-")
    evaluation = json.loads(out)
    assert code == 0
    assert evaluation["mapping"] == solved["mapping"]
    assert (evaluation["cycles"], evaluation["energy_pj"]) == (solved["cycles"], solved["energy_pj"])
    # A tiling with DRAM-level loops: the best pair keeps C resident over K (Y X K); the given K X Y does not.
    tiling = {"DRAM": [2, 1, 2], "SPM": [1, 1, 2], "RF": [1, 1, 8], "SPATIAL": [8, 24, 1]}
    best = write(tmp_path / "best.json", {"tiling": tiling})
    code, out, _ = run(capsys, "evaluate", "--model", TINY, "--layer", "tiny_gemm", "--mapping", best, "--json", "-")
    evaluation = json.loads(out)
    assert (evaluation["energy_pj"], evaluation["cycles"]) == (617260, 2044)
    assert evaluation["mapping"]["order"]["DRAM"] == ["Y", "X", "K"]
    order = {"DRAM": ["K", "X", "Y"], "SPM": ["Y", "X", "K"]}
    given = write(tmp_path / "given.json", {"tiling": tiling, "order": order})
    code, out, _ = run(capsys, "evaluate", "--model", TINY, "--layer", "tiny_gemm", "--mapping", given, "--json", "-")
    evaluation = json.loads(out)
    assert code == 0 and evaluation["mapping"]["order"] == order
    assert (evaluation["energy_pj"], evaluation["cycles"]) == (635116, 2134)
    code, out, _ = run(capsys, "evaluate", "--model", TINY, "--layer", "tiny_gemm", "--mapping", mapping)
    assert code == 0 and "orders: given" in out


# ---------------------------------------------------------------------------------------------------------------------
# Bad input: exit 2, one line naming the file and field, no traceback, no output file

CONV = {"name": "c", "size_tensor_A": [1, 4, 5, 5], "size_tensor_B": [8, 4, 3, 3], "strides": [1, 1]}


def _bad_model(tmp_path: Path, case: str) -> tuple[list[str], tuple[str, ...]]:
    """Arguments of a solve run with one bad input, and the texts its error line must contain."""
    model = tmp_path / "model.json"
    arch = tmp_path / "arch.json"
    mapping = tmp_path / "mapping.json"
    solve = ["solve", "--model", str(model), "--search", "exhaustive"]
    evaluate = ["evaluate", "--model", TINY, "--layer", "tiny_gemm", "--mapping", str(mapping)]
    if case == "malformed-json":
        model.write_text('{"CONV": [')
        return solve, (str(model), "invalid JSON")
    if case == "missing-field":
        write(model, {"CONV": [{k: v for k, v in CONV.items() if k != "size_tensor_B"}]})
        return solve, (str(model), "CONV[0].size_tensor_B", "missing field")
    if case == "unknown-field":
        write(model, {"CONV": [CONV]})
        write(arch, {"arch_basic": {"CGRA_SIZ": 64}})
        return [*solve, "--arch", str(arch)], (str(arch), "arch_basic.CGRA_SIZ", "unknown field")
    if case == "unknown-section":
        write(model, {"CONV": [CONV], "LSTM": []})
        return solve, (str(model), "LSTM", "unknown field")
    if case == "non-positive-size":
        write(model, {"CONV": [{**CONV, "size_tensor_A": [1, 4, 0, 5]}]})
        return solve, (str(model), "CONV[0].size_tensor_A", "positive")
    if case == "filter-larger-than-input":
        write(model, {"CONV": [{**CONV, "size_tensor_A": [1, 4, 2, 2]}]})
        return solve, (str(model), "CONV[0].size_tensor_B", "does not fit")
    if case == "unknown-layer":
        return ["solve", "--model", TINY, "--layer", "tiny_lstm", "--search", "exhaustive"], ("--layer", "tiny_lstm")
    if case == "unknown-model-name":
        return ["solve", "--model", "resnet1800", "--search", "exhaustive"], ("resnet1800", "no such model")
    if case == "unknown-arch-name":
        return ["solve", "--model", TINY, "--arch", "tpu9", "--search", "exhaustive"], ("tpu9", "no such arch")
    if case == "mapping-product":
        write(mapping, {**GEMM_MAPPING, "tiling": {**GEMM_MAPPING["tiling"], "RF": [2, 1, 8]}})
        return evaluate, (str(mapping), "tiling.K", "multiply to 16")
    if case == "mapping-exceeds-rf":
        tiling = {"DRAM": [1, 1, 1], "SPM": [1, 1, 1], "RF": [16, 1, 32], "SPATIAL": [1, 24, 1]}
        write(mapping, {**GEMM_MAPPING, "tiling": tiling})
        return evaluate, (str(mapping), "tiling", "RF")
    if case == "infeasible-arch":
        write(arch, {"arch_basic": {"RF_SIZE": 4}})
        return ["solve", "--model", TINY, "--layer", "tiny_gemm", "--arch", str(arch), "--search", "exhaustive"], (
            "tiny_gemm",
            "no valid mapping",
        )
    if case == "too-few-tilings":
        return [
            "solve",
            "--model",
            TINY,
            "--layer",
            "tiny_gemm",
            "--search",
            "exhaustive",
            "--opt-min-exec-methods",
            "1000000",
        ], ("tiny_gemm", "no valid mapping")
    raise AssertionError(case)


BAD_CASES = [
    "malformed-json",
    "missing-field",
    "unknown-field",
    "unknown-section",
    "non-positive-size",
    "filter-larger-than-input",
    "unknown-layer",
    "unknown-model-name",
    "unknown-arch-name",
    "mapping-product",
    "mapping-exceeds-rf",
    "infeasible-arch",
    "too-few-tilings",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_exits_2_with_one_line(capsys, tmp_path: Path, case: str) -> None:
    argv, expected = _bad_model(tmp_path, case)
    out_json = tmp_path / "out.json"
    code, _, err = run(capsys, *argv, "--json", str(out_json))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for text in expected:
        assert text in lines[0]
    assert "Traceback" not in err
    assert not out_json.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.json")] == []


def test_unwritable_output_fails_before_solving(capsys, tmp_path: Path) -> None:
    target = tmp_path / "missing_dir" / "out.json"
    code, out, err = run(capsys, "solve", "--model", TINY, "--search", "exhaustive", "--json", str(target))
    assert code == 2 and out == ""
    assert "--json" in err and "does not exist" in err


def test_json_output_is_readable_by_all_and_never_partial(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_json(str(target), {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1} and (target.stat().st_mode & 0o777) == 0o644
    with pytest.raises(InputError, match="cannot write"):
        write_json(str(tmp_path / "missing" / "out.json"), {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_an_unwritable_output_directory_fails_before_any_work(capsys) -> None:
    code, out, err = run(capsys, "solve", "--model", TINY, "--json", "/proc/x.json")
    assert code == 2 and out == "" and "--json: cannot write in '/proc'" in err and "Traceback" not in err
