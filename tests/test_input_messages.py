"""Messages a new user meets with typical mistakes: each says what is wrong and what to give instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dmz_solver.arch import load_arch
from dmz_solver.cli import main
from dmz_solver.constraints.parse import load_constraint_file
from dmz_solver.dse.sweep import arch_points, load_scaling, parse_sweep
from dmz_solver.errors import InputError
from dmz_solver.problem.mapping import mapping_from_json
from dmz_solver.workload.loader import load_model

REPO = Path(__file__).resolve().parent.parent
TINY = str(REPO / "models" / "tiny.json")
GEMM_MAPPING = {
    "loops": ["X", "Y", "K"],
    "tiling": {"DRAM": [1, 1, 1], "SPM": [1, 1, 2], "RF": [2, 1, 16], "SPATIAL": [8, 24, 1]},
}


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--time-limit", "abc", "argument --time-limit: expected a positive number, got 'abc'"),
        ("--time-limit", "-1", "argument --time-limit: must be a positive number, got -1"),
        ("--workers", "2.5", "argument --workers: expected a positive integer, got '2.5'"),
        ("--opt-min-exec-methods", "x", "argument --opt-min-exec-methods: expected an integer, got 'x'"),
    ],
)
def test_a_malformed_number_option_says_what_was_expected(capsys, option: str, value: str, message: str) -> None:
    """argparse used to print `invalid positive_float value: 'abc'`, naming a function of ours."""
    code, out, err = run(capsys, "solve", "--model", TINY, option, value)
    assert (code, out) == (2, "")
    assert err.strip().splitlines()[-1] == f"dmz solve: error: {message}"
    assert "_float" not in err and "_int" not in err


def test_a_malformed_fraction_says_what_was_expected(capsys) -> None:
    code, _, err = run(capsys, "count", "--model", TINY, "--opt-min-utilization", "0.5", "half", "0")
    assert code == 2
    assert (
        err.strip()
        .splitlines()[-1]
        .endswith("argument --opt-min-utilization: expected a number between 0 and 1, got 'half'")
    )


def test_auto_optimize_with_another_search_is_an_error_not_a_silent_switch(capsys) -> None:
    """`--search cpsat --auto-optimize` used to run `auto` without a word."""
    code, out, err = run(capsys, "solve", "--model", TINY, "--search", "cpsat", "--auto-optimize")
    assert (code, out) == (2, "")
    assert err == (
        "error: --auto-optimize: is the seed's heuristic, --search auto, and conflicts with --search cpsat; "
        "give one of the two\n"
    )


def test_auto_optimize_alone_or_with_search_auto_runs_the_heuristic(capsys) -> None:
    for extra in ([], ["--search", "auto"]):
        code, out, _ = run(
            capsys, "solve", "--model", TINY, "--layer", "tiny_gemm", "--no-cache", "--auto-optimize", *extra
        )
        assert code == 0
        assert "search auto" in out.splitlines()[0]


def test_a_result_json_given_as_mapping_points_to_the_layers_mapping(tmp_path: Path) -> None:
    nest = load_model("tiny").layer("tiny_gemm")
    result = {"model": "tiny", "layers": [{"name": "tiny_conv3x3"}, {"name": "tiny_gemm", "mapping": GEMM_MAPPING}]}
    with pytest.raises(InputError) as info:
        mapping_from_json(result, nest, source="result.json")
    assert (info.value.source, info.value.field) == ("result.json", "layers")
    assert "this is a result JSON" in info.value.reason
    assert "save layers[1].mapping (layer tiny_gemm)" in info.value.reason


def test_an_evaluation_json_given_as_mapping_points_to_its_mapping(capsys, tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps(GEMM_MAPPING))
    evaluation = tmp_path / "evaluation.json"
    args = ["evaluate", "--model", TINY, "--layer", "tiny_gemm"]
    assert run(capsys, *args, "--mapping", str(mapping), "--json", str(evaluation))[0] == 0
    code, _, err = run(capsys, *args, "--mapping", str(evaluation))
    assert code == 2
    assert err.startswith(f"error: {evaluation}: mapping: this is an evaluation JSON, not a mapping")
    assert len(err.splitlines()) == 1


def test_a_misspelled_layer_field_fails_the_command_with_one_line(capsys, tmp_path: Path) -> None:
    """The worst defect of the list: `"instance": 4` solved 1 instance with exit 0."""
    model = tmp_path / "model.json"
    layer = {"name": "g", "size_tensor_A": [4, 5], "size_tensor_B": [5, 6], "instance": 4}
    model.write_text(json.dumps({"GEMM": [layer]}))
    code, out, err = run(capsys, "layers", "--model", str(model))
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {model}: GEMM[0].instance: unknown field; did you mean 'instances'?")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name: t\nconstraint:\n  - {name: c, expr: 'RF.X <= 2'}\n",
            "unknown key 'constraint'; did you mean 'constraints'?",
        ),
        ("name: t\nconstraints:\n  - {name: c, xpr: 'RF.X <= 2'}\n", "unknown key 'xpr'; did you mean 'expr'?"),
        ("name: t\nconstraints:\n  - {name: c, expr: ''}\n", "constraint 't.c': 'expr' is empty"),
    ],
)
def test_constraint_file_typos_suggest_the_close_spelling(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_constraint_file(path)
    assert message in info.value.message and info.value.source.startswith(f"{path}:")


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ("RF_SIZ=1", "unknown arch parameter 'RF_SIZ'; did you mean 'RF_SIZE'?"),
        ("networks.inptu.bandwidth=1", "unknown network role 'inptu'; did you mean 'input'?"),
        ("networks.input.bandwith=1", "unknown or non-numeric network field 'bandwith'; did you mean 'bandwidth'?"),
    ],
)
def test_sweep_key_typos_suggest_the_close_spelling(sweep: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_sweep(sweep)
    assert info.value.field == f"--sweep {sweep.split('=')[0]}" and message in info.value.reason


@pytest.mark.parametrize(
    ("rule", "field", "reason"),
    [
        ({"rf_enrgy": {"by": "RF_SIZE", "table": {"256": 1}}}, "rf_enrgy", "did you mean 'rf_energy'?"),
        ({"RF_SIZE": {"by": "CGRA_SIZE", "table": {"256": 1}}}, "RF_SIZE", "unknown field"),  # not an energy
        ({"rf_energy": {"by": "RF_SIZ", "table": {"256": 1}}}, "rf_energy.by", "did you mean 'RF_SIZE'?"),
        ({"rf_energy": {"by": "RF_SIZE", "tabel": {"256": 1}}}, "rf_energy.tabel", "did you mean 'table'?"),
        ({"rf_energy": {"by": "RF_SIZE", "table": {"256": float("nan")}}}, "rf_energy.table.256", "must be finite"),
        ({"rf_energy": {"by": "RF_SIZE", "table": {"256": True}}}, "rf_energy.table.256", "expected a number"),
        ({"rf_energy": {"by": "RF_SIZE", "table": {"big": 1}}}, "rf_energy.table.big", "expected a number"),
        ({"rf_energy": {"by": "RF_SIZE", "table": {"inf": 1}}}, "rf_energy.table.inf", "finite parameter value"),
        ({"rf_energy": {"by": "RF_SIZE", "ref": 0, "exponent": 1}}, "rf_energy.ref", "must be positive"),
        ({"rf_energy": {"by": "RF_SIZE", "ref": 512, "exponent": float("inf")}}, "rf_energy.exponent", "finite"),
        ({"rf_energy": {"by": "RF_SIZE", "ref": 512}}, "rf_energy.exponent", "missing field"),
        ({"rf_energy": {"by": "RF_SIZE", "ref": 2, "exponent": 1, "table": {}}}, "rf_energy.table", "either"),
    ],
)
def test_scaling_file_errors_name_the_file_and_the_field(tmp_path: Path, rule: dict, field: str, reason: str) -> None:
    """NaN energies, booleans as numbers and misspelled keys used to pass the scaling reader."""
    path = tmp_path / "scale.json"
    path.write_text(json.dumps(rule))
    with pytest.raises(InputError) as info:
        load_scaling(str(path))
    assert (info.value.source, info.value.field) == (str(path), field)
    assert reason in info.value.reason


def test_a_power_law_that_overflows_is_an_error_naming_the_energy(tmp_path: Path) -> None:
    path = tmp_path / "scale.json"
    path.write_text(json.dumps({"rf_energy": {"by": "RF_SIZE", "ref": 1, "exponent": 1e6}}))
    with pytest.raises(InputError) as info:
        arch_points(load_arch("dmazerunner"), [parse_sweep("RF_SIZE=512")], load_scaling(str(path)))
    assert info.value.field == "--scale rf_energy" and "RF_SIZE=512" in info.value.reason


PERMUTATION = "expected a permutation of ['X', 'Y', 'K']"


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        ({"DRAM": ["X", "Y", "K"]}, "missing field (an order gives both DRAM and SPM)"),  # said "got None"
        ({"DRAM": ["X", "Y", "K"], "SPM": None}, f"{PERMUTATION}, got null"),
        ({"DRAM": ["X", "Y", "K"], "SPM": ["X", "Y", True]}, f'{PERMUTATION}, got ["X", "Y", true]'),
    ],
)
def test_an_order_level_left_out_is_called_missing_and_a_wrong_one_is_shown_as_json(order: dict, reason: str) -> None:
    with pytest.raises(InputError) as info:
        mapping_from_json({**GEMM_MAPPING, "order": order}, load_model("tiny").layer("tiny_gemm"), source="m.json")
    assert str(info.value) == f"m.json: order.SPM: {reason}"


def test_loops_given_as_null_are_shown_as_json_null() -> None:
    with pytest.raises(InputError) as info:
        mapping_from_json({**GEMM_MAPPING, "loops": None}, load_model("tiny").layer("tiny_gemm"), source="m.json")
    assert str(info.value) == "m.json: loops: expected ['X', 'Y', 'K'] for layer tiny_gemm, got null"
