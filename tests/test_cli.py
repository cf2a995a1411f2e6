"""The command line: outputs, JSON files, and one-line errors with exit status 2 for bad input."""

from __future__ import annotations

import itertools
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
    result = json.loads(out)
    (layer,) = result["layers"]
    assert code == 0
    assert layer["status"] == "OPTIMAL"  # optimal over the space the knobs allow, which the JSON records
    assert result["restrictions"] == ["min utilisation PE 0.5 RF 0 SPM 0", "no spatial reduction"]
    spatial = layer["mapping"]["tiling"]["SPATIAL"]
    assert spatial[2] == 1 and math.prod(spatial) >= 128
    assert layer["edp"] >= GEMM_OPTIMUM["edp"]


def test_default_search_with_knobs_proves_the_optimum_of_the_space_they_allow(capsys) -> None:
    """Knobs define the space as constraint files do: the CP-SAT proof covers it, so the layer is OPTIMAL with gap 0,
    and the exhaustive search over the same knobs finds the same value."""
    knobs = ["--opt-min-utilization", "0", "0.9", "0"]
    code, out, _ = run(capsys, "solve", "--model", TINY, "--layer", "tiny_gemm", *knobs, "--json", "-")
    (layer,) = json.loads(out)["layers"]
    code_ex, out_ex, _ = run(
        capsys, "solve", "--model", TINY, "--layer", "tiny_gemm", *knobs, "--search", "exhaustive", "--json", "-"
    )
    (oracle,) = json.loads(out_ex)["layers"]
    assert code == code_ex == 0 and layer["search"] == "cpsat"
    assert layer["status"] == "OPTIMAL" and layer["edp"] > GEMM_OPTIMUM["edp"]
    assert layer["lower_bound"] == layer["edp"] == oracle["edp"] and layer["gap"] == 0


def test_no_spatial_reduction_knob_and_constraint_file_agree(capsys, tmp_path: Path) -> None:
    """The knob and its constraint-file twin give the same mapping, EDP and status: OPTIMAL with gap 0."""
    base = ["solve", "--model", TINY, "--layer", "tiny_conv3x3", "--no-cache", "--json", "-"]
    code_k, out_k, _ = run(capsys, *base, "--opt-no-spatial-reduction")
    code_c, out_c, _ = run(capsys, *base, "--constraints", "seed_no_spatial_reduction")
    (knob,), (file,) = json.loads(out_k)["layers"], json.loads(out_c)["layers"]
    assert code_k == code_c == 0
    for key in ("status", "mapping", "edp", "cycles", "energy_pj", "lower_bound", "gap"):
        assert knob[key] == file[key], key
    assert knob["status"] == "OPTIMAL" and knob["gap"] == 0


def test_min_exec_methods_keeps_a_proven_optimum_optimal(capsys) -> None:
    """--opt-min-exec-methods narrows nothing: with enough valid tilings the layer is the whole space's optimum."""
    base = ["solve", "--model", TINY, "--layer", "tiny_gemm", "--no-cache", "--json", "-"]
    code_free, out_free, _ = run(capsys, *base)
    code, out, _ = run(capsys, *base, "--opt-min-exec-methods", "2")
    free, (layer,) = json.loads(out_free)["layers"][0], json.loads(out)["layers"]
    assert code == code_free == 0
    assert layer["status"] == free["status"] == "OPTIMAL" and layer["edp"] == free["edp"] == GEMM_OPTIMUM["edp"]
    assert layer["gap"] == 0 and json.loads(out)["restrictions"] == ["min 2 execution methods"]


def test_unrestricted_flag_reports_the_whole_space_beside_the_restricted_optimum(capsys) -> None:
    base = ["solve", "--model", TINY, "--layer", "tiny_gemm", "--no-cache", "--opt-no-spatial-reduction"]
    code, out, _ = run(capsys, *base, "--opt-min-utilization", "0.5", "0", "0", "--unrestricted", "--json", "-")
    (layer,) = json.loads(out)["layers"]
    assert code == 0 and layer["status"] == "OPTIMAL"
    free = layer["unrestricted"]
    assert free["status"] == "OPTIMAL" and free["value"] == free["lower_bound"] == GEMM_OPTIMUM["edp"]
    assert free["gap"] == pytest.approx((layer["edp"] - GEMM_OPTIMUM["edp"]) / layer["edp"])
    code, out, _ = run(capsys, *base)
    assert code == 0 and "unrestricted" not in out  # only on request


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
    figures = {"name", "op", "dims", "mapping", "cycles", "energy_pj", "edp", "breakdown_pj"}
    assert set(evaluation) == figures | {"inputs"}
    assert evaluation["inputs"]["mapping"]["path"] == mapping and len(evaluation["inputs"]["mapping"]["sha256"]) == 64
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


def test_evaluate_refuses_a_mapping_that_breaks_constraint_files(capsys, tmp_path: Path) -> None:
    """evaluate obeys --constraints and the arch spec's constraint files: exit 2, one line naming every rule broken."""
    mydf = tmp_path / "mydf.yaml"
    mydf.write_text(
        "name: mydf\nconstraints:\n  - name: one_weight_per_pe\n    expr: footprint(RF, B) <= 1\n"
        "  - name: busy_array\n    expr: utilization(PE) >= 0.9\n"
    )
    mapping = write(tmp_path / "mapping.json", GEMM_MAPPING)  # 16 weights per RF, 192 of 256 PEs busy
    base = ["evaluate", "--model", TINY, "--layer", "tiny_gemm", "--mapping", mapping]
    code, out, err = run(capsys, *base, "--constraints", str(mydf), "--json", str(tmp_path / "e.json"))
    assert code == 2 and out == "" and not (tmp_path / "e.json").exists()
    (line,) = err.strip().splitlines()
    assert line.startswith(f"error: {mapping}: tiling: ")
    assert "'mydf.one_weight_per_pe'" in line and "'mydf.busy_array'" in line
    arch = write(tmp_path / "arch.json", {"name": "busy", "constraints": ["mydf.yaml"]})
    code, _, err = run(capsys, *base, "--arch", arch)
    assert code == 2 and "'mydf.busy_array'" in err
    assert run(capsys, *base)[0] == 0  # the same mapping without the files


def test_evaluate_picks_the_best_order_the_constraint_files_allow(capsys, tmp_path: Path) -> None:
    """With `innermost(DRAM) in [X]` and no order given, the best allowed pair is reported (brute force over
    every DRAM and SPM permutation of the GEMM); a given order that breaks the rule is refused, naming it."""
    rule = tmp_path / "inner.yaml"
    rule.write_text("name: inner\nconstraints:\n  - name: x_inner\n    expr: innermost(DRAM) in [X]\n")
    tiling = {"DRAM": [2, 1, 2], "SPM": [1, 1, 2], "RF": [1, 1, 8], "SPATIAL": [8, 24, 1]}
    base = ["evaluate", "--model", TINY, "--layer", "tiny_gemm", "--constraints", str(rule), "--json", "-"]
    code, out, _ = run(capsys, *base, "--mapping", write(tmp_path / "open.json", {"tiling": tiling}))
    found = json.loads(out)
    assert code == 0 and found["inputs"]["constraints"][0]["name"] == "inner"
    dram = [loop for loop in found["mapping"]["order"]["DRAM"] if tiling["DRAM"]["XYK".index(loop)] > 1]
    assert dram[-1] == "X"  # the innermost DRAM loop with a trip count above 1
    allowed = []
    for dram_order in itertools.permutations("XYK"):
        for spm_order in itertools.permutations("XYK"):
            order = {"DRAM": list(dram_order), "SPM": list(spm_order)}
            given = write(tmp_path / "given.json", {"tiling": tiling, "order": order})
            code, out, err = run(capsys, *base, "--mapping", given)
            inner = [loop for loop in dram_order if tiling["DRAM"]["XYK".index(loop)] > 1][-1]
            assert (code == 0) == (inner == "X"), err
            if code == 0:
                allowed.append(json.loads(out)["edp"])
            else:
                assert "order: breaks constraint 'inner.x_inner'" in err
    assert found["edp"] == min(allowed) > 617260 * 2044  # above the unconstrained best pair (test above)


def test_evaluate_picks_the_best_row_split_the_constraint_files_allow(capsys, tmp_path: Path) -> None:
    """On eyeriss (12 x 14 PEs) a rule `COLS.M == 1` leaves only splits with M down the rows: without `array`
    the best of those is reported (brute force over every row part), a given split with M across is refused."""
    rule = tmp_path / "c.yaml"
    rule.write_text("name: c\nconstraints:\n  - name: m_down\n    expr: COLS.M == 1\n")
    tiling = {
        "DRAM": [1] * 7,
        "SPM": [1, 2, 1, 1, 1, 1, 1],
        "RF": [1, 1, 4, 3, 3, 3, 1],
        "SPATIAL": [1, 4, 1, 1, 1, 1, 3],
    }
    base = ["evaluate", "--model", TINY, "--layer", "tiny_conv3x3", "--arch", "eyeriss", "--json", "-"]
    code, out, err = run(
        capsys, *base, "--constraints", str(rule), "--mapping", write(tmp_path / "m.json", {"tiling": tiling})
    )
    found = json.loads(out)
    assert code == 0, err
    assert found["mapping"]["array"]["cols"][1] == 1
    allowed = {}
    for m_rows, fy_rows in itertools.product((1, 2, 4), (1, 3)):
        given = write(tmp_path / "g.json", {"tiling": tiling, "array": {"rows": [1, m_rows, 1, 1, 1, 1, fy_rows]}})
        code, out, err = run(capsys, *base, "--constraints", str(rule), "--mapping", given)
        if code == 0:
            allowed[(m_rows, fy_rows)] = json.loads(out)["edp"]
        elif m_rows < 4:
            assert err == f"error: {given}: array: breaks constraint 'c.m_down' ({rule}:3)\n"
        else:
            assert "do not fit" in err
    assert set(allowed) <= {(4, 1), (4, 3)} and found["edp"] == min(allowed.values())


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
        return ["solve", "--model", TINY, "--layer", "tiny_lstm", "--search", "exhaustive"], (
            "--layer: no layer named 'tiny_lstm' in model tiny",
        )
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


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        (["--arch", "SMALL_RF", "--search", "exhaustive"], "no valid mapping of tiny_gemm on arch arch"),
        (
            ["--search", "exhaustive", "--opt-min-exec-methods", "1000000"],
            "tiny_gemm not optimised: 152856 valid tilings, fewer than the 1000000 execution methods asked for",
        ),
    ],
    ids=["infeasible-arch", "too-few-tilings"],
)
def test_an_unmappable_layer_is_reported_and_written_then_exit_2(
    capsys, tmp_path: Path, options: list[str], reason: str
) -> None:
    """A layer with no mapping does not abort the solve: its JSON is written with the layer INFEASIBLE and the reason,
    and the command still fails (status 2) with one line that gives the reason."""
    small_rf = write(tmp_path / "arch.json", {"arch_basic": {"RF_SIZE": 4}})
    options = [small_rf if o == "SMALL_RF" else o for o in options]
    out_json = tmp_path / "out.json"
    argv = ["solve", "--model", TINY, "--layer", "tiny_gemm", "--no-cache", *options, "--json", str(out_json)]
    code, out, err = run(capsys, *argv)
    assert code == 2 and err.strip().splitlines() == [f"error: {TINY}: {reason}"]
    (layer,) = json.loads(out_json.read_text())["layers"]
    assert (layer["status"], layer["reason"]) == ("INFEASIBLE", reason) and "mapping" not in layer
    assert f"status INFEASIBLE: {reason}" in out


def test_one_unmappable_layer_leaves_the_others_solved(capsys, tmp_path: Path) -> None:
    """Two constraint files that conflict on the 3x3 convolutions only: those two are INFEASIBLE with the conflict
    named, the other layers are solved as without the files, the JSON and report hold all five, exit status 2."""
    conv_only = tmp_path / "narrow.yaml"
    conv_only.write_text(
        "name: narrow\napplies_to: [CONV]\nconstraints:\n  - name: rf_narrow\n    expr: RF.Fx <= 1\n"
        "  - name: rf_narrow_y\n    expr: RF.Fy <= 1\n"
    )
    out_json, report = tmp_path / "out.json", tmp_path / "report"
    argv = ["solve", "--model", TINY, "--no-cache", "--json", str(out_json), "--report", str(report)]
    code, out, err = run(capsys, *argv, "--constraints", "ws", str(conv_only))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "no mapping of tiny_conv3x3:" in err and "no mapping of tiny_conv3x3_s2:" in err
    assert "'ws.weights_in_rf'" in err and "(3 other layer(s) solved and reported)" in err
    result = json.loads(out_json.read_text())
    statuses = {layer["name"]: layer["status"] for layer in result["layers"]}
    assert statuses == {
        "tiny_conv3x3": "INFEASIBLE",
        "tiny_conv3x3_s2": "INFEASIBLE",
        "tiny_conv1x1": "OPTIMAL",
        "tiny_gemm": "OPTIMAL",
        "tiny_dwconv3x3": "OPTIMAL",
    }
    gemm = next(layer for layer in result["layers"] if layer["name"] == "tiny_gemm")
    assert gemm["edp"] == GEMM_OPTIMUM["edp"]  # ws and narrow leave this GEMM's optimum alone
    assert json.loads((report / "result.json").read_text())["layers"] == result["layers"]
    assert "without a mapping are not in them" in out


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
