"""Adversarial inputs not listed in issue 14 that still give a wrong number, an overrun or a silent choice.

Each test states the fact the product should hold; every one of them failed when it was written (branch h-adv,
on top of the issue-14 merges). Cases that overran run in a subprocess with a wall bound."""

from __future__ import annotations

import csv
import json
import math
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from timing import STARTUP_SECONDS

from dmz_solver.cli import main

REPO = Path(__file__).resolve().parent.parent


def _run_cli(argv: list[str], wall: float) -> tuple[subprocess.CompletedProcess | None, float]:
    """The command line in a subprocess, killed after `wall` seconds (None then); returns it and its wall time."""
    start = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(REPO / "cli.py"), *argv], capture_output=True, text=True, timeout=wall, cwd=REPO
        )
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - start
    return done, time.monotonic() - start


def _write_json(path: Path, content: object) -> str:
    path.write_text(json.dumps(content))
    return str(path)


# ---------------------------------------------------------------------------------------------------------------------
# --time-limit on large PE arrays: the tasks of every spatial tuple are built (noc/tasks.py: build_tasks, one numba
# kernel) before any deadline is checked. ResNet-18's CONV_2_1a on a 64 x 64 array ran for over 60 s under
# --time-limit 2; on a 4096 x 1 array with a systolic input network, 112 s under --time-limit 5.


@pytest.mark.wallclock
@pytest.mark.parametrize(
    "arch",
    [
        {"pe_array": {"rows": 64, "cols": 64}},
        {"pe_array": {"rows": 4096, "cols": 1}, "networks": {"input": {"kind": "systolic", "direction": "columns"}}},
    ],
    ids=["64x64", "4096x1-systolic"],
)
def test_time_limit_holds_on_a_large_pe_array(tmp_path: Path, arch: dict) -> None:
    limit = 2.0
    argv = ["solve", "--model", "resnet18", "--layer", "ResNet18_CONV_2_1a", "--arch",
            _write_json(tmp_path / "arch.json", arch), "--time-limit", str(limit), "--no-cache"]  # fmt: skip
    done, wall = _run_cli(argv, limit + STARTUP_SECONDS + 10)
    assert done is not None, f"killed after {wall:.0f} s under --time-limit {limit}"
    assert done.returncode in (0, 2), done.stderr[-2000:]
    assert wall < limit + STARTUP_SECONDS, wall


# ---------------------------------------------------------------------------------------------------------------------
# Model totals: each layer is checked against the numeric range, but the model's EDP is (sum of instances x energy)
# x (sum of instances x cycles), up to 2^20 instances per layer times several layers. Two GEMMs of 2^20 instances
# on dram_energy 1e290 (each layer's EDP 1.4e296, well inside the per-layer limit) give an infinite total.

HUGE_INSTANCES = {
    "GEMM": [
        {"name": "g1", "size_tensor_A": [16, 32], "size_tensor_B": [32, 24], "instances": 2**20},
        {"name": "g2", "size_tensor_A": [16, 32], "size_tensor_B": [32, 25], "instances": 2**20},
    ]
}


def test_dse_never_writes_an_infinite_edp_with_status_optimal(tmp_path: Path, capsys) -> None:
    out = tmp_path / "dse"
    code = main(["dse", "--model", _write_json(tmp_path / "m.json", HUGE_INSTANCES), "--sweep", "dram_energy=1e290",
                 "--out", str(out), "--no-cache"])  # fmt: skip
    stdout, err = capsys.readouterr()
    if code == 2:  # refusing the point is fine: one line naming the quantity
        assert err.count("\n") == 1 and err.startswith("error: ")
        return
    assert code == 0, err
    assert "INF" not in stdout.upper().split("OPTIMAL")[0], stdout  # the printed table
    with (out / "dse.csv").open() as f:
        row = next(csv.DictReader(f))
    for field in ("cycles", "energy_pj", "edp"):
        assert math.isfinite(float(row[field])), row


def test_solve_total_edp_is_a_finite_number_or_the_model_is_refused(tmp_path: Path, capsys) -> None:
    arch = _write_json(tmp_path / "a.json", {"arch_details": {"dram_energy": 1e290}})
    result = tmp_path / "r.json"
    code = main(["solve", "--model", _write_json(tmp_path / "m.json", HUGE_INSTANCES), "--arch", arch,
                 "--no-cache", "--time-limit", "20", "--json", str(result)])  # fmt: skip
    _, err = capsys.readouterr()
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("error: ")
        return
    assert code == 0, err
    total = json.loads(result.read_text())["total"]
    assert isinstance(total["edp"], float) and math.isfinite(total["edp"]), total  # it is null (inf) now


# ---------------------------------------------------------------------------------------------------------------------
# Energies that round to 0 pJ: the readers refuse mac_energy = rf_energy = dram_energy = 0 because a zero energy makes
# EDP, bounds and gaps meaningless, but mac_energy 1e-9 with the others 0 (or every energy given in joules, a units
# slip: 7.5e-14) passes, every mapping's energy rounds to 0 pJ, and `solve --objective edp` reports OPTIMAL with EDP 0
# for a mapping of 1,165,824 cycles where 800 are possible. It also breaks the property energy >= MACs x
# mac_energy (12288 x 1e-9 > 0).

TINY_ENERGIES = {"mac_energy": 1e-9, "rf_energy": 0, "spm_energy": 0, "dram_energy": 0, "communication_energy": 0}


def test_energies_that_round_to_zero_pj_are_refused_or_kept_positive(tmp_path: Path, capsys) -> None:
    arch = _write_json(tmp_path / "a.json", {"arch_details": TINY_ENERGIES})
    result = tmp_path / "r.json"
    code = main(["solve", "--model", "tiny", "--layer", "tiny_gemm", "--arch", arch, "--objective", "edp",
                 "--no-cache", "--time-limit", "20", "--json", str(result)])  # fmt: skip
    _, err = capsys.readouterr()
    if code == 2:
        assert err.count("\n") == 1 and "mac_energy" in err, err
        return
    layer = json.loads(result.read_text())["layers"][0]
    macs = 16 * 24 * 32
    assert layer["energy_pj"] >= macs * TINY_ENERGIES["mac_energy"] > 0, layer["energy_pj"]


# ---------------------------------------------------------------------------------------------------------------------
# Numeric-range refusals in `solve`: docs/cli.md says such a layer is "refused before any search", but `solve` checks
# each layer only when it reaches it: on tiny with dram_energy 1e293, tiny_conv3x3, tiny_conv3x3_s2 and tiny_conv1x1
# are solved and printed, then tiny_gemm is refused, exit 2, nothing written (on a real model, minutes lost). `dse`
# checks every point first. The line also names neither file: "error: layer tiny_gemm on arch NAME: ...", NAME being
# the spec's free-text `name` (here "eyeriss", a shipped arch this file is not).


def test_solve_refuses_an_out_of_range_layer_before_solving_any(tmp_path: Path, capsys) -> None:
    arch = _write_json(tmp_path / "mine.json", {"name": "eyeriss", "arch_details": {"dram_energy": 1e293}})
    code = main(["solve", "--model", "tiny", "--arch", arch, "--no-cache", "--time-limit", "20"])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert "cycles   " not in out, out  # no layer was solved and printed before the refusal
    assert "mine.json" in err and "dram_energy" in err, err


# ---------------------------------------------------------------------------------------------------------------------
# Output paths that are not regular files: every output is written beside its target and renamed over it, so
# `--json /dev/null` (run as root, as on the team's machine) replaced the device node /dev/null with a regular file
# holding the JSON, and `--json /dev/full` did the same to /dev/full, exit 0 both times (the machine's /dev/null
# had to be re-created with mknod). A FIFO (`mkfifo out; reader < out &`) is replaced the same way: the reader gets
# nothing. A symlink is replaced by a file, its target left as it was. The FIFO stands in for a device here, since
# making a device node needs root.

_SMALL_SOLVE = ["solve", "--model", "tiny", "--layer", "tiny_gemm", "--no-cache", "--time-limit", "20"]


def test_json_to_a_fifo_does_not_replace_the_fifo_with_a_regular_file(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    code = main([*_SMALL_SOLVE, "--json", str(fifo)])
    _, err = capsys.readouterr()
    assert stat.S_ISFIFO(fifo.lstat().st_mode), f"exit {code}: the FIFO became a regular file"
    assert code == 2 and err.count("\n") == 1, err  # refused up front, as for a directory


def test_json_to_a_symlink_keeps_the_link(tmp_path: Path, capsys) -> None:
    target = tmp_path / "run1.json"
    target.write_text("{}")
    link = tmp_path / "latest.json"
    link.symlink_to(target.name)
    code = main([*_SMALL_SOLVE, "--json", str(link)])
    capsys.readouterr()
    assert code in (0, 2)
    assert link.is_symlink(), "the symlink was replaced by a regular file; its target still holds '{}'"


# ---------------------------------------------------------------------------------------------------------------------
# --time-limit beyond what a lock's timeout holds: `solve --time-limit 1e10` (a user's "no limit") reaches
# threading's wait(timeout) in table_search.search_all_tables and ends in "OverflowError: timestamp out of range
# for platform time_t", exit 1; so does `--rerun` of a result whose inputs.time_limit is 1e300.


def test_a_huge_time_limit_is_not_a_traceback(capsys) -> None:
    code = main(["solve", "--model", "tiny", "--layer", "tiny_gemm", "--no-cache", "--time-limit", "1e10"])
    _, err = capsys.readouterr()
    assert code in (0, 2) and "Traceback" not in err, err


# ---------------------------------------------------------------------------------------------------------------------
# --rerun hashes the recorded model path before the readers see it (result.file_sha256: Path.read_bytes()), so the
# readers' refusal of special files is bypassed: inputs.model.path = /dev/zero grew to 2 GB and a MemoryError
# traceback under `ulimit -v 2500000` (over 60 s and unbounded memory without it); a FIFO blocks for ever.


def test_rerun_of_a_result_whose_model_path_is_a_fifo_returns_at_once(tmp_path: Path) -> None:
    result = tmp_path / "r.json"
    done, _ = _run_cli([*_SMALL_SOLVE, "--json", str(result)], 60)
    assert done is not None and done.returncode == 0, done and done.stderr
    record = json.loads(result.read_text())
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    record["inputs"]["model"]["path"] = str(fifo)
    edited = _write_json(tmp_path / "edited.json", record)
    done, wall = _run_cli(["solve", "--rerun", edited, "--no-cache"], 20)
    assert done is not None, f"--rerun blocked on the FIFO for {wall:.0f} s"
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr[-2000:]


# ---------------------------------------------------------------------------------------------------------------------
# A --scale table that names one value twice in two spellings: {"512": 0.96, "512.0": 5} is read without a word and
# the last entry wins (rf_energy 5 at RF_SIZE=512: energy 1.2377E+06 instead of 9.2457E+05). Literal duplicate keys
# are refused since issue 14; numerically equal ones are the same silent choice.


def test_a_scale_table_with_one_value_spelled_twice_is_refused(tmp_path: Path, capsys) -> None:
    scale = _write_json(tmp_path / "s.json", {"rf_energy": {"by": "RF_SIZE", "table": {"512": 0.96, "512.0": 5}}})
    out = tmp_path / "dse"
    code = main(["dse", "--model", "tiny", "--sweep", "RF_SIZE=512", "--scale", scale, "--out", str(out), "--no-cache"])
    _, err = capsys.readouterr()
    assert code == 2 and "s.json" in err and "512" in err, err
    assert not out.exists()


def _file_pair(tmp_path: Path, name: str, source: Path) -> Path:
    """A copy of `source` in tmp_path, to be given both as an input and as an output."""
    path = tmp_path / name
    path.write_bytes(source.read_bytes())
    return path


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["solve", "--model", "{m}", "--json", "{m}"], "{m}: --json would overwrite the model given to --model"),
        (
            ["solve", "--model", "tiny", "--constraints", "{c}", "--json", "{c}"],
            "{c}: --json would overwrite the constraint file given to --constraints",
        ),
        (["layers", "--model", "{m}", "--json", "{m}"], "{m}: --json would overwrite the model given to --model"),
        (["export-spec", "{m}", "-o", "{m}"], "{m}: --output would overwrite the model given to MODEL"),
        (
            ["solve", "--rerun", "{r}", "--report", "{d}", "--no-cache"],
            "{r}: --report would overwrite the result file given to --rerun",
        ),
    ],
)
def test_an_output_that_is_an_input_file_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture, argv: list[str], expected: str
) -> None:
    model = _file_pair(tmp_path, "m.json", REPO / "models" / "tiny.json")
    constraints = _file_pair(tmp_path, "c.yaml", REPO / "constraints" / "os.yaml")
    (tmp_path / "rep").mkdir()
    result = tmp_path / "rep" / "result.json"
    assert main(["solve", "--model", "tiny", "--no-cache", "--json", str(result)]) == 0
    before = {path: path.read_bytes() for path in (model, constraints, result)}
    names = {"m": str(model), "c": str(constraints), "r": str(result), "d": str(tmp_path / "rep")}
    capsys.readouterr()
    code = main([arg.format(**names) for arg in argv])
    captured = capsys.readouterr()
    assert (code, captured.err) == (2, f"error: {expected.format(**names)}\n")
    assert captured.out == ""  # refused before the header of a solve
    assert {path: path.read_bytes() for path in before} == before
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == ["result.json"]


@pytest.mark.parametrize(
    ("argv", "blocked"),
    [
        (["solve", "--model", "tiny", "--no-cache", "--report", "{out}", "--json", "{json}"], "report.md"),
        (["solve", "--model", "tiny", "--no-cache", "--report", "{out}"], "cycles.png"),
        (["dse", "--model", "tiny", "--sweep", "RF_SIZE=256", "--no-cache", "--out", "{out}"], "pareto.png"),
        (["dse", "--model", "tiny", "--sweep", "RF_SIZE=256", "--no-cache", "--out", "{out}"], "edp_vs_RF_SIZE.png"),
    ],
)
def test_a_directory_in_place_of_a_file_of_the_output_directory_is_refused_before_solving(
    tmp_path: Path, capsys: pytest.CaptureFixture, argv: list[str], blocked: str
) -> None:
    out = tmp_path / "out"
    (out / blocked).mkdir(parents=True)
    names = {"out": str(out), "json": str(tmp_path / "r.json")}
    code = main([arg.format(**names) for arg in argv])
    captured = capsys.readouterr()
    reason = "is a directory; the command writes a file of that name there"
    option = "--report" if argv[0] == "solve" else "--out"
    assert (code, captured.err) == (2, f"error: {out / blocked}: {option}: {reason}\n")
    assert captured.out == ""  # nothing solved, not even the header printed
    assert sorted(p.name for p in out.iterdir()) == [blocked]
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("command", [["layers"], ["solve", "--layer", "tiny_gemm", "--no-cache"]])
def test_non_ascii_names_on_an_ascii_stdout_are_written_as_backslash_escapes(tmp_path: Path, command: list) -> None:
    model = tmp_path / "ümlaut dir" / "mödel.json"
    model.parent.mkdir()
    model.write_bytes((REPO / "models" / "tiny.json").read_bytes())
    done = subprocess.run(
        [sys.executable, str(REPO / "cli.py"), command[0], "--model", str(model), *command[1:]],
        capture_output=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    escaped = str(model).encode("ascii", "backslashreplace")
    assert done.stdout.startswith(b"Model m\\xf6del (" + escaped + b")")


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["solve", "--model", "tiny", "--layer", "tiny_gemm", "--report", ""], "--report"),
        (["solve", "--model", "tiny", "--layer", "tiny_gemm", "--cache-dir", ""], "--cache-dir"),
        (["solve", "--model", "tiny", "--layer", "tiny_gemm", "--json", ""], "--json"),
        (["solve", "--model", "tiny", "--constraints", "os", "", "--layer", "tiny_gemm"], "--constraints"),
        (["solve", "--rerun", ""], "--rerun"),
        (["solve", "--model", ""], "--model"),
        (["export-spec", "tiny", "-o", ""], "--output"),
        (["export-spec", ""], "MODEL"),
        (["dse", "--model", "tiny", "--sweep", "RF_SIZE=256", "--out", ""], "--out"),
        (["arch", "dmazerunner", "--draw", ""], "--draw"),
        (["evaluate", "--model", "tiny", "--layer", "tiny_gemm", "--mapping", ""], "--mapping"),
    ],
)
def test_an_empty_path_is_refused_naming_its_option(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, argv: list[str], option: str
) -> None:
    """'' used to mean no option (--report, --rerun), standard output (-o) or the working directory (--cache-dir)."""
    monkeypatch.chdir(tmp_path)
    code = main(argv)
    captured = capsys.readouterr()
    assert (code, captured.err) == (2, f"error: {option}: is an empty path; give a file or directory name\n")
    assert captured.out == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["solve", "--layer", "tiny_gemm"], ["dse", "--sweep", "RF_SIZE=256"]])
@pytest.mark.parametrize(
    ("cache", "reason"),
    [("plain", "exists and is not a directory"), ("plain/sub", "'{tmp}/plain' is not a directory")],
)
def test_a_cache_dir_that_cannot_hold_the_cache_is_refused_before_solving(
    tmp_path: Path, capsys: pytest.CaptureFixture, command: list[str], cache: str, reason: str
) -> None:
    """Such a cache used to be skipped silently, with a misleading warning for every layer."""
    (tmp_path / "plain").write_text("not a directory")
    where = str(tmp_path / cache)
    out = tmp_path / "o"
    extra = ["--out", str(out)] if command[0] == "dse" else ["--json", str(out)]
    code = main([command[0], "--model", "tiny", *command[1:], "--cache-dir", where, *extra])
    captured = capsys.readouterr()
    assert (code, captured.err) == (2, f"error: {where}: --cache-dir: {reason.format(tmp=tmp_path)}\n")
    assert captured.out == "" and not out.exists()


def test_no_cache_ignores_a_cache_dir_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "plain").write_text("not a directory")
    argv = ["solve", "--model", "tiny", "--layer", "tiny_gemm", "--no-cache", "--cache-dir", str(tmp_path / "plain")]
    assert main(argv) == 0


def test_layer_names_with_a_pipe_or_a_newline_keep_the_text_and_markdown_tables_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    layer = {"size_tensor_A": [1, 4, 5, 5], "size_tensor_B": [8, 4, 3, 3], "strides": [1, 1]}
    model = tmp_path / "names.json"
    _write_json(model, {"CONV": [{**layer, "name": "a|b"}, {**layer, "name": "x\ny", "size_tensor_A": [1, 4, 6, 6]}]})
    report = tmp_path / "rep"
    assert main(["solve", "--model", str(model), "--no-cache", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "Layer x\\ny: CONV" in out and "\ny:" not in out
    summary = out[out.index("Summary of") :].splitlines()
    assert [line.split()[0] for line in summary[3:5]] == ["a|b", "x\\ny"]  # one row per layer, each on one line
    table = [line for line in (report / "report.md").read_text().splitlines() if line.startswith("| ")]
    cells = [line.replace("\\|", "") for line in table]
    assert len(table) == 3 and {cell.count("|") for cell in cells} == {11}
    assert table[1].startswith("| a\\|b | CONV |") and table[2].startswith("| x\\ny | CONV |")
