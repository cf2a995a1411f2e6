"""Result files record what produced them (`inputs`), and `solve --rerun RESULT.json` solves it again identically."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

import dmz_solver
from dmz_solver.arch import load_arch
from dmz_solver.cli import main
from dmz_solver.version import __version__

REPO = Path(__file__).resolve().parent.parent
RUN_FIELDS = ("seconds", "proof", "cached")
"""Per-layer fields that describe the run, not the result."""


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def figures(result: dict) -> list[dict]:
    return [{k: v for k, v in layer.items() if k not in RUN_FIELDS} for layer in result["layers"]]


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    """A model, an arch spec with a network section and a constraint file of its own, all copied to tmp_path."""
    model = tmp_path / "tiny.json"
    shutil.copy(REPO / "models" / "tiny.json", model)
    arch = tmp_path / "arch.json"
    spec = json.loads((REPO / "archspecs" / "eyeriss.json").read_text())
    spec.pop("constraints", None)
    arch.write_text(json.dumps({**spec, "constraints": ["mine.yaml"]}))
    (tmp_path / "mine.yaml").write_text("name: mine\nconstraints:\n  - name: no_n\n    expr: SPATIAL.N == 1\n")
    return {"model": model, "arch": arch, "constraints": tmp_path / "mine.yaml"}


def solve_once(capsys, tmp_path: Path, inputs: dict[str, Path]) -> tuple[list[str], dict]:
    out = tmp_path / "first.json"
    argv = [
        "solve",
        "--model",
        str(inputs["model"]),
        "--arch",
        str(inputs["arch"]),
        "--layer",
        "tiny_conv1x1",
        "--objective",
        "energy",
        "--constraints",
        "ws",
        "--opt-no-feature-dram",
        "--no-cache",
        "--json",
        str(out),
    ]
    code, text, err = run(capsys, *argv)
    assert code == 0, err
    assert "restricted to: no feature DRAM tiling, constraints mine (" in text.splitlines()[0]
    assert "constraints ws (" in text.splitlines()[0]
    return argv, json.loads(out.read_text())


def test_the_result_json_records_every_input(capsys, tmp_path: Path, inputs: dict[str, Path]) -> None:
    argv, result = solve_once(capsys, tmp_path, inputs)
    record = result["inputs"]
    assert record["tool"] == "dmz-solver" and record["version"] == __version__
    assert record["command"] == ["dmz", *argv]
    sha = hashlib.sha256(inputs["model"].read_bytes()).hexdigest()
    assert record["model"] == {"name": "tiny", "path": str(inputs["model"]), "sha256": sha, "layer": "tiny_conv1x1"}
    assert record["arch"] == load_arch(str(inputs["arch"])).to_json() and "pe_array" in record["arch"]
    assert (record["objective"], record["search"], record["time_limit"]) == ("energy", "cpsat", 600.0)  # the default
    assert record["knobs"]["no_feature_dram"] is True and record["knobs"]["pe_util"] == 0.0
    files = {c["name"]: c for c in record["constraints"]}
    assert set(files) == {"mine", "ws"}
    assert files["mine"]["sha256"] == hashlib.sha256(inputs["constraints"].read_bytes()).hexdigest()
    assert files["ws"]["path"] == str(REPO / "constraints" / "ws.yaml")
    assert result["restrictions"][0] == "no feature DRAM tiling" and len(result["restrictions"]) == 3


def test_rerun_from_the_json_alone_gives_the_identical_result(capsys, tmp_path: Path, inputs: dict) -> None:
    _, first = solve_once(capsys, tmp_path, inputs)
    inputs["arch"].unlink()  # the arch is recorded in full: its file is not needed again
    again = tmp_path / "again.json"
    code, text, err = run(capsys, "solve", "--rerun", str(tmp_path / "first.json"), "--no-cache", "--json", str(again))
    assert code == 0, err
    second = json.loads(again.read_text())
    assert figures(second) == figures(first) and second["layers"][0]["status"] == "OPTIMAL"
    assert {k: v for k, v in second["inputs"].items() if k != "command"} == {
        k: v for k, v in first["inputs"].items() if k != "command"
    }
    assert second["inputs"]["command"][:3] == ["dmz", "solve", "--rerun"]
    assert text.splitlines()[0].startswith(f"Model tiny ({inputs['model']}) on arch eyeriss: minimise energy")
    api = dmz_solver.rerun(tmp_path / "first.json", cache_dir=None)
    assert figures(api.to_json()) == figures(first)


def test_rerun_refuses_changed_inputs_and_options_it_would_override(
    capsys, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    solve_once(capsys, tmp_path, inputs)
    first = str(tmp_path / "first.json")
    code, _, err = run(capsys, "solve", "--rerun", first, "--objective", "edp")
    assert code == 2 and err.strip() == (
        "error: --rerun: the result file fixes what is solved; leave out --objective (or drop --rerun)"
    )
    inputs["constraints"].write_text(inputs["constraints"].read_text().replace("== 1", "<= 1"))
    code, _, err = run(capsys, "solve", "--rerun", first, "--no-cache")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"error: {first}: inputs.constraints[0].sha256: " in err and "changed since the result was written" in err
    inputs["model"].write_text(inputs["model"].read_text() + "\n")
    code, _, err = run(capsys, "solve", "--rerun", first, "--no-cache")
    assert code == 2 and f"error: {first}: inputs.model.sha256: " in err
    result = json.loads(Path(first).read_text())
    del result["inputs"]
    Path(first).write_text(json.dumps(result))
    code, _, err = run(capsys, "solve", "--rerun", first)
    assert code == 2 and "inputs: missing: not a result JSON of `solve --json`" in err


def test_the_count_json_records_its_inputs(capsys, tmp_path: Path, inputs: dict[str, Path]) -> None:
    argv = ["count", "--model", str(inputs["model"]), "--arch", str(inputs["arch"]), "--layer", "tiny_conv1x1"]
    code, out, _ = run(capsys, *argv, "--opt-no-spatial-reduction", "--json", "-")
    counts = json.loads(out)
    assert code == 0 and counts["layers"][0]["valid_tilings"] > 0
    record = counts["inputs"]
    assert record["model"]["sha256"] == hashlib.sha256(inputs["model"].read_bytes()).hexdigest()
    assert record["arch"]["name"] == "eyeriss" and record["knobs"]["no_spatial_reduction"] is True
    assert [c["name"] for c in record["constraints"]] == ["mine"]
    assert counts["restrictions"] == ["no spatial reduction", f"constraints mine ({inputs['constraints']})"]


@pytest.mark.parametrize("holds_result", [False, True])
def test_rerun_of_a_directory_names_the_option_and_the_path(capsys, tmp_path: Path, holds_result: bool) -> None:
    """`--rerun out/resnet18` (the --report directory) said only `out/resnet18: is a directory, not a regular file`."""
    report = tmp_path / "report"
    report.mkdir()
    if holds_result:
        (report / "result.json").write_text("{}")
    code, out, err = run(capsys, "solve", "--rerun", str(report), "--no-cache")
    hint = f"{report / 'result.json'}, which --report wrote there" if holds_result else "a JSON of solve --json or"
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert err.startswith(f"error: {report}: --rerun: is a directory, not a result file; give {hint}")


def test_rerun_of_a_missing_file_names_the_option(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "solve", "--rerun", str(tmp_path / "gone.json"))
    gone = tmp_path / "gone.json"
    assert code == 2 and err == f"error: {gone}: --rerun: cannot read file (No such file or directory)\n"


def test_a_recorded_layer_of_the_wrong_type_is_shown_as_json(capsys, tmp_path: Path, inputs: dict) -> None:
    """`"layer": true` was echoed as Python's `True`."""
    solve_once(capsys, tmp_path, inputs)
    first = tmp_path / "first.json"
    result = json.loads(first.read_text())
    result["inputs"]["model"]["layer"] = True
    first.write_text(json.dumps(result))
    code, _, err = run(capsys, "solve", "--rerun", str(first), "--no-cache")
    assert code == 2 and err == f"error: {first}: inputs.model.layer: expected a layer name or null, got true\n"
