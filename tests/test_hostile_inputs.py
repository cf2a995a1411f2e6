"""Hostile and out-of-range input (issue 14): every reader refuses it with one line naming the file and the
field, exit status 2, no traceback, in a second or two. Cases that used to hang or exhaust memory run in a
subprocess with a time and memory bound."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dmz_solver.cli import main
from dmz_solver.noc.spec import MAX_PES
from dmz_solver.specio import MAX_NESTING, MAX_SPEC_BYTES
from dmz_solver.workload.limits import MAX_EXTENT, MAX_INSTANCES

REPO = Path(__file__).resolve().parent.parent
GEMM = {"name": "g", "size_tensor_A": [16, 32], "size_tensor_B": [32, 24]}
GEMM_MAPPING = {
    "loops": ["X", "Y", "K"],
    "tiling": {"DRAM": [1, 1, 1], "SPM": [1, 1, 2], "RF": [2, 1, 16], "SPATIAL": [8, 24, 1]},
}
SUBPROCESS_SECONDS = 30
"""Wall bound of a subprocess case: the refusal itself takes about a second after start-up (numba, OR-Tools)."""
MEMORY_BYTES = 3 << 30
"""Address-space bound of a subprocess case, so that a regression fails with MemoryError, not a swapping host."""


def refused(capsys: pytest.CaptureFixture, *argv: str) -> str:
    """Run the CLI in this process; it must exit 2 with exactly one `error:` line on stderr. Returns that line."""
    status = main(list(argv))
    err = capsys.readouterr().err
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def refused_in_subprocess(*argv: str, cwd: Path | None = None) -> str:
    """As `refused`, in a subprocess bounded in time and memory (for inputs that used to hang or blow up)."""
    start = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(REPO / "cli.py"), *argv],
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_SECONDS,
            cwd=cwd,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(argv)} ran over {SUBPROCESS_SECONDS} s")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr[-2000:]
    assert time.monotonic() - start < SUBPROCESS_SECONDS
    return lines[0]


def _write(path: Path, content: str | bytes) -> str:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


def _model(tmp_path: Path, text: str | bytes) -> str:
    return _write(tmp_path / "model.json", text)


def _constraints(tmp_path: Path, expr: str) -> str:
    return _write(tmp_path / "c.yaml", f"name: c\nconstraints:\n  - name: rule\n    expr: {expr}\n")


# ---------------------------------------------------------------------------------------------------------------------
# JSON and YAML syntax


@pytest.mark.parametrize(
    ("literal", "shown"), [("NaN", "got NaN"), ("Infinity", "got Infinity"), ("-Infinity", "got -Infinity")]
)
def test_nan_and_infinity_literals_in_a_model_spec_are_refused_naming_the_field(
    capsys, tmp_path: Path, literal: str, shown: str
) -> None:
    path = _model(
        tmp_path,
        f'{{"GEMM": [{{"name": "g", "size_tensor_A": [16, 32], "size_tensor_B": [32, 24], "instances": {literal}}}]}}',
    )
    line = refused(capsys, "layers", "--model", path)
    assert f"{path}: GEMM[0].instances: must be finite, {shown}" in line


def test_a_number_beyond_a_double_is_refused_not_read_as_infinity(capsys, tmp_path: Path) -> None:
    path = _write(tmp_path / "arch.json", '{"arch_details": {"dram_energy": 1e999}}')
    assert f"{path}: arch_details.dram_energy: must be finite, got 1e999" in refused(capsys, "arch", path)


@pytest.mark.parametrize(
    ("name", "text", "field"),
    [
        ("arch.json", '{"arch_details": {"dma_init_cycles": NaN}}', "arch_details.dma_init_cycles"),
        ("scale.json", '{"rf_energy": {"by": "RF_SIZE", "ref": 512, "exponent": NaN}}', "rf_energy.exponent"),
        ("mapping.json", json.dumps(GEMM_MAPPING).replace("16]", "NaN]", 1), "tiling.RF[2]"),
    ],
)
def test_nan_is_refused_in_arch_scale_and_mapping_files(
    capsys, tmp_path: Path, name: str, text: str, field: str
) -> None:
    path = _write(tmp_path / name, text)
    tiny = str(REPO / "models" / "tiny.json")
    argv = {
        "arch.json": ["arch", path],
        "scale.json": ["dse", "--model", tiny, "--sweep", "RF_SIZE=256", "--scale", path, "--out", str(tmp_path / "o")],
        "mapping.json": ["evaluate", "--model", tiny, "--layer", "tiny_gemm", "--mapping", path],
    }[name]
    assert f"{path}: {field}: must be finite, got NaN" in refused(capsys, *argv)


def test_a_model_with_two_gemm_sections_is_refused_naming_the_key(capsys, tmp_path: Path) -> None:
    other = {**GEMM, "name": "h"}
    path = _model(tmp_path, f'{{"GEMM": [{json.dumps(GEMM)}], "GEMM": [{json.dumps(other)}]}}')
    assert f"{path}: GEMM: given twice" in refused(capsys, "layers", "--model", path)


def test_a_duplicate_key_inside_a_section_names_the_full_field(capsys, tmp_path: Path) -> None:
    path = _write(tmp_path / "arch.json", '{"arch_details": {"mac_energy": 1, "mac_energy": 2}}')
    assert f"{path}: arch_details.mac_energy: given twice" in refused(capsys, "arch", path)


def test_a_constraint_file_with_constraints_twice_is_refused_naming_both_lines(capsys, tmp_path: Path) -> None:
    text = "name: c\nconstraints:\n  - name: a\n    expr: RF.X <= 4\nconstraints:\n  - name: b\n    expr: RF.X <= 8\n"
    path = _write(tmp_path / "c.yaml", text)
    line = refused(capsys, "count", "--model", "tiny", "--layer", "tiny_gemm", "--constraints", path)
    assert "c.yaml:5: key 'constraints' given twice (also on line 2)" in line


def test_json_nested_ten_thousand_deep_is_refused(capsys, tmp_path: Path) -> None:
    path = _model(tmp_path, "[" * 10_000 + "]" * 10_000)
    assert f"{path}: nested more than {MAX_NESTING} levels deep" in refused(capsys, "layers", "--model", path)


def test_json_nested_beyond_the_cap_but_parsable_names_the_field(capsys, tmp_path: Path) -> None:
    path = _model(tmp_path, '{"GEMM": ' + "[" * 100 + "]" * 100 + "}")
    assert f"{path}: GEMM" in refused(capsys, "layers", "--model", path)


def test_yaml_nested_twenty_thousand_deep_is_refused(capsys, tmp_path: Path) -> None:
    path = _write(tmp_path / "c.yaml", "name: c\nconstraints: " + "[" * 20_000 + "]" * 20_000 + "\n")
    line = refused(capsys, "count", "--model", "tiny", "--layer", "tiny_gemm", "--constraints", path)
    assert f"c.yaml:2: nested more than {MAX_NESTING} levels deep" in line


def test_a_non_utf8_byte_is_refused_with_its_place(capsys, tmp_path: Path) -> None:
    path = _model(tmp_path, b'{"GEMM": [{"name": "\xff"}]}')
    assert f"{path}: not UTF-8 text: byte 0xff at line 1 column 21" in refused(capsys, "layers", "--model", path)


def test_a_non_utf8_byte_in_a_constraint_file_is_refused(capsys, tmp_path: Path) -> None:
    path = _write(tmp_path / "c.yaml", b"name: \xfe\nconstraints: []\n")
    line = refused(capsys, "count", "--model", "tiny", "--layer", "tiny_gemm", "--constraints", path)
    assert "not UTF-8 text: byte 0xfe at line 1 column 7" in line


# ---------------------------------------------------------------------------------------------------------------------
# Special and huge files


def test_dev_zero_as_a_model_is_refused_at_once() -> None:
    assert "error: /dev/zero: is a character device, not a regular file" in refused_in_subprocess(
        "layers", "--model", "/dev/zero"
    )


def test_a_fifo_as_a_model_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    assert f"{fifo}: is a FIFO, not a regular file" in refused_in_subprocess("layers", "--model", str(fifo))


@pytest.mark.parametrize("option", ["--model", "--arch", "--constraints", "--mapping"])
def test_a_directory_given_as_an_input_file_is_refused(capsys, tmp_path: Path, option: str) -> None:
    folder = tmp_path / "inputs.json"
    folder.mkdir()
    argv = {"--model": str(folder), "--arch": "dmazerunner", "--constraints": None, "--mapping": None}
    args = ["evaluate", "--model", argv["--model"] if option == "--model" else "tiny", "--layer", "tiny_gemm"]
    args += ["--arch", str(folder) if option == "--arch" else "dmazerunner"]
    args += [
        "--mapping",
        str(folder) if option == "--mapping" else _write(tmp_path / "m.json", json.dumps(GEMM_MAPPING)),
    ]
    if option == "--constraints":
        args += ["--constraints", str(folder)]
    assert f"{folder}: is a directory, not a regular file" in refused(capsys, *args)


def test_a_result_file_given_to_rerun_must_be_a_regular_file(capsys, tmp_path: Path) -> None:
    assert "--rerun: is a directory, not a result file" in refused(capsys, "solve", "--rerun", str(tmp_path))


def test_an_onnx_path_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "model.onnx"
    os.mkfifo(fifo)
    assert f"{fifo}: is a FIFO, not a regular file" in refused_in_subprocess("layers", "--model", str(fifo))


@pytest.mark.wallclock
def test_a_model_spec_over_the_size_cap_is_refused_before_it_is_parsed(capsys, tmp_path: Path) -> None:
    text = json.dumps({"GEMM": [GEMM], "_padding": "x" * MAX_SPEC_BYTES})
    path = _model(tmp_path, text)
    start = time.monotonic()
    assert f"{path}: is larger than 1 MiB" in refused(capsys, "layers", "--model", path)
    assert time.monotonic() - start < 1.0


# ---------------------------------------------------------------------------------------------------------------------
# Value ranges


def test_instances_with_hundreds_of_digits_are_refused_briefly(capsys, tmp_path: Path) -> None:
    path = _model(tmp_path, json.dumps({"GEMM": [GEMM]}).replace('"g",', '"g", "instances": ' + "9" * 5000 + ","))
    line = refused(capsys, "layers", "--model", path)
    assert f"{path}: GEMM[0].instances: an integer of 5000 digits is far too large" in line
    assert len(line) < 200


def test_instances_are_capped(capsys, tmp_path: Path) -> None:
    path = _model(tmp_path, json.dumps({"GEMM": [{**GEMM, "instances": MAX_INSTANCES + 1}]}))
    assert f"GEMM[0].instances: must be at most {MAX_INSTANCES}" in refused(capsys, "layers", "--model", path)


def test_instances_summed_by_merging_are_capped(capsys, tmp_path: Path) -> None:
    doc = {"GEMM": [{**GEMM, "instances": MAX_INSTANCES}, {**GEMM, "name": "h", "instances": 1}]}
    path = _model(tmp_path, json.dumps(doc))
    assert "GEMM[1].instances: merged with g" in refused(capsys, "layers", "--model", path)


def test_an_extent_beyond_the_cap_is_refused_naming_the_loop(capsys, tmp_path: Path) -> None:
    path = _model(tmp_path, json.dumps({"GEMM": [{**GEMM, "size_tensor_A": [MAX_EXTENT + 1, 32]}]}))
    line = refused(capsys, "layers", "--model", path)
    assert "GEMM[0].size_tensor_A: layer g is too large to solve: loop X has extent 1048577" in line


def test_a_layer_of_2_to_the_60_macs_is_refused(capsys, tmp_path: Path) -> None:
    side = 1 << 20
    path = _model(
        tmp_path, json.dumps({"GEMM": [{**GEMM, "size_tensor_A": [side, side], "size_tensor_B": [side, side]}]})
    )
    assert "1.153E+18 MACs; a layer has at most 2.815E+14" in refused(capsys, "layers", "--model", path)


def test_the_largest_accepted_extent_is_read(capsys, tmp_path: Path) -> None:
    path = _model(tmp_path, json.dumps({"GEMM": [{**GEMM, "size_tensor_A": [MAX_EXTENT, 32]}]}))
    assert main(["layers", "--model", path]) == 0
    assert f"X={MAX_EXTENT}" in capsys.readouterr().out


@pytest.mark.parametrize("pes", [MAX_PES + 1, 4 * MAX_PES, 1_000_000])
def test_cgra_size_without_pe_array_is_capped_by_max_pes(capsys, tmp_path: Path, pes: int) -> None:
    path = _write(tmp_path / "arch.json", json.dumps({"arch_basic": {"CGRA_SIZE": pes}}))
    assert f"arch_basic.CGRA_SIZE: {pes} PEs: at most {MAX_PES}" in refused(capsys, "arch", path)


def test_a_pe_array_beyond_max_pes_is_refused(capsys, tmp_path: Path) -> None:
    path = _write(tmp_path / "arch.json", json.dumps({"pe_array": {"rows": 512, "cols": 256}}))
    assert f"at most {MAX_PES} are supported" in refused(capsys, "arch", path)


def test_mac_rf_and_dram_energies_all_zero_are_refused(capsys, tmp_path: Path) -> None:
    spec = {"arch_details": {"mac_energy": 0, "rf_energy": 0, "dram_energy": 0}}
    path = _write(tmp_path / "arch.json", json.dumps(spec))
    assert "mac_energy, rf_energy and dram_energy are all 0" in refused(capsys, "arch", path)


def test_one_positive_floor_energy_is_enough(capsys, tmp_path: Path) -> None:
    path = _write(tmp_path / "arch.json", json.dumps({"arch_details": {"mac_energy": 0, "rf_energy": 0}}))
    assert main(["arch", path]) == 0
    assert "MAC 0, RF 0," in capsys.readouterr().out


@pytest.mark.parametrize("loops", ["5", "null", '"X"'])
def test_a_mapping_whose_loops_is_not_a_list_is_refused(capsys, tmp_path: Path, loops: str) -> None:
    path = _write(tmp_path / "m.json", json.dumps(GEMM_MAPPING).replace('["X", "Y", "K"]', loops, 1))
    line = refused(capsys, "evaluate", "--model", "tiny", "--layer", "tiny_gemm", "--mapping", path)
    assert f"{path}: loops: expected ['X', 'Y', 'K'] for layer tiny_gemm" in line


def test_a_scale_exponent_that_overflows_is_refused(capsys, tmp_path: Path) -> None:
    path = _write(tmp_path / "s.json", json.dumps({"rf_energy": {"by": "RF_SIZE", "ref": 1, "exponent": 1000}}))
    argv = ["dse", "--model", "tiny", "--sweep", "RF_SIZE=256", "--scale", path, "--out", str(tmp_path / "o")]
    assert "--scale rf_energy: the power law gives an energy beyond any number" in refused(capsys, *argv)


# ---------------------------------------------------------------------------------------------------------------------
# Constraint expressions


@pytest.mark.parametrize("expr", ["RF.M <= 9**9**9**9", "RF.M <= 10**10**8", "RF.M <= RF.C**RF.N"])
def test_a_power_whose_exponent_is_not_a_number_is_refused_without_evaluating(tmp_path: Path, expr: str) -> None:
    line = refused_in_subprocess(
        "count", "--model", "tiny", "--layer", "tiny_gemm", "--constraints", _constraints(tmp_path, expr)
    )
    assert "constraint 'c.rule': a power's exponent must be an integer number" in line


def test_a_power_of_a_power_forming_a_huge_number_is_refused(tmp_path: Path) -> None:
    path = _constraints(tmp_path, "RF.M <= ((((10**64)**64)**64)**64)**64")
    line = refused_in_subprocess("count", "--model", "tiny", "--layer", "tiny_gemm", "--constraints", path)
    assert "constraint 'c.rule': too large: the expression forms numbers of more than 4096 bits" in line


def test_a_product_that_multiplies_out_to_millions_of_terms_is_refused_before_expanding(tmp_path: Path) -> None:
    nine = "(" + " + ".join(f"RF.{loop}" for loop in ("N", "M", "C", "Ox", "Oy", "Fx", "Fy")) + " + SPM.N + SPM.M)"
    path = _constraints(tmp_path, "*".join([nine] * 45) + " <= 5")
    assert len(Path(path).read_text()) > 3000
    line = refused_in_subprocess("count", "--model", "tiny", "--layer", "tiny_conv3x3", "--constraints", path)
    assert "constraint 'c.rule': too large: the expression multiplies out to more than 4096 terms" in line


def test_a_high_power_of_a_sum_is_refused_by_degree(capsys, tmp_path: Path) -> None:
    path = _constraints(tmp_path, "(RF.X + 1)**65 <= 4")
    line = refused(capsys, "count", "--model", "tiny", "--layer", "tiny_gemm", "--constraints", path)
    assert "raises an expression to the power 65; the degree is at most 64" in line


def test_zero_divided_by_zero_is_refused_like_one_divided_by_zero(capsys, tmp_path: Path) -> None:
    path = _constraints(tmp_path, "RF.X <= 0/0")
    line = refused(capsys, "count", "--model", "tiny", "--layer", "tiny_gemm", "--constraints", path)
    assert "constraint 'c.rule': '0/0' divides by zero" in line


def test_a_moderate_polynomial_constraint_is_still_accepted(capsys, tmp_path: Path) -> None:
    path = _constraints(tmp_path, "(RF.X + RF.K)**3 / (SPATIAL.Y + 1) <= 100 * utilization(PE) + 0.5")
    assert main(["count", "--model", "tiny", "--layer", "tiny_gemm", "--constraints", path]) == 0


# ---------------------------------------------------------------------------------------------------------------------
# Silent choices


@pytest.mark.parametrize("command", ["solve", "count", "evaluate"])
def test_layer_given_twice_is_refused_naming_both(capsys, tmp_path: Path, command: str) -> None:
    argv = [command, "--model", "tiny", "--layer", "tiny_gemm", "--layer", "tiny_conv3x3"]
    if command == "evaluate":
        argv += ["--mapping", _write(tmp_path / "m.json", json.dumps(GEMM_MAPPING))]
    assert "error: --layer: given 2 times (tiny_gemm, tiny_conv3x3); give it once" in refused(capsys, *argv)


def test_a_folder_named_like_a_shipped_model_does_not_shadow_it(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "resnet18").mkdir()
    assert main(["layers", "--model", "resnet18"]) == 0
    assert str(REPO / "models" / "resnet18.json") in capsys.readouterr().out


def test_a_file_named_like_a_shipped_arch_does_not_shadow_it_but_dot_slash_reads_it(
    capsys, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "eyeriss").write_text("{}")
    assert main(["arch", "eyeriss"]) == 0
    assert "12 x 14 PEs" in capsys.readouterr().out
    assert main(["arch", "./eyeriss"]) == 0
    assert "1 x 256 PEs" in capsys.readouterr().out


def test_a_bare_name_that_is_only_a_local_file_says_how_to_read_it(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mynet").write_text(json.dumps({"GEMM": [GEMM]}))
    line = refused(capsys, "layers", "--model", "mynet")
    assert "mynet: no such model among the shipped ones" in line
    assert "write ./mynet" in line
