"""Output files: every output path is checked before any work, and every file is written atomically
with the mode a plain `open` would give it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from dmz_solver.errors import InputError  # noqa: E402
from dmz_solver.report.output import write_figure, write_json, write_text  # noqa: E402
from dmz_solver.specio import atomic_file  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CLI = str(REPO / "cli.py")
SOLVE = ["solve", "--model", "tiny", "--layer", "tiny_gemm", "--no-cache"]
DSE = ["dse", "--model", "tiny", "--sweep", "RF_SIZE=256", "--no-cache"]


def cli(cwd: Path, *argv: str, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    """Run cli.py in `cwd` (a fresh directory) as a user would, with the given umask."""
    return subprocess.run(
        [sys.executable, CLI, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: os.umask(umask),
    )


def files_under(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


# ----------------------------------------------------------------------------------------------------------------------
# Bad output paths: one line, exit 2, nothing written


BAD_OUTPUTS = {
    "report-is-a-file": ([*SOLVE, "--report", "afile"], "--report: exists and is not a directory"),
    "report-below-a-file": ([*SOLVE, "--report", "afile/sub"], "--report: 'afile' is not a directory"),
    "report-in-proc": ([*SOLVE, "--report", "/proc/foo"], "--report: cannot write in '/proc'"),
    "json-in-proc": ([*SOLVE, "--json", "/proc/x.json"], "--json: cannot write in '/proc'"),
    "json-is-a-directory": ([*SOLVE, "--json", "adir"], "--json: is a directory"),
    "json-then-bad-report": ([*SOLVE, "--json", "a.json", "--report", "afile"], "--report: exists and is not"),
    "count-json-in-proc": (["count", "--model", "tiny", "--json", "/proc/x.json"], "--json: cannot write in"),
    "layers-json-missing-dir": (["layers", "--model", "tiny", "--json", "nodir/x.json"], "--json: directory"),
    "evaluate-json-in-proc": (
        ["evaluate", "--model", "tiny", "--layer", "tiny_gemm", "--mapping", "m.json", "--json", "/proc/x.json"],
        "--json: cannot write in",
    ),
    "export-spec-in-proc": (["export-spec", "tiny", "-o", "/proc/x.json"], "--output: cannot write in"),
    "dse-out-is-a-file": ([*DSE, "--out", "afile"], "--out: exists and is not a directory"),
    "dse-out-in-proc": ([*DSE, "--out", "/proc/dd"], "--out: cannot write in '/proc'"),
    "draw-unknown-type": (["arch", "tpu_like", "--draw", "out.jpgx"], "supported: .png, .svg, .pdf"),
    "draw-no-extension": (["arch", "tpu_like", "--draw", "out"], "(no extension); supported: .png, .svg, .pdf"),
    "draw-in-proc": (["arch", "tpu_like", "--draw", "/proc/x.svg"], "--draw: cannot write in '/proc'"),
    # links that lead nowhere: refused after the solve, or the DSE store, failed with `File exists`
    "report-dangling-link": ([*SOLVE, "--report", "dangling"], "--report: 'dangling' is a symbolic link to 'gone/x'"),
    "report-below-dangling-link": ([*SOLVE, "--report", "dangling/sub"], "'dangling' is a symbolic link to 'gone/x'"),
    "dse-out-looping-link": ([*DSE, "--out", "loop"], "--out: 'loop' is a symbolic link that loops"),
    "json-looping-link": ([*SOLVE, "--json", "loop"], "--json: is a symbolic link that loops"),  # was a traceback
    # the layer cache was skipped without a word (a dangling link) or with a warning per layer (a loop)
    "cache-dir-dangling-link": ([*SOLVE[:-1], "--cache-dir", "dangling"], "--cache-dir: 'dangling' is a symbolic"),
    "cache-dir-looping-link": ([*SOLVE[:-1], "--cache-dir", "loop"], "--cache-dir: 'loop' is a symbolic link that"),
}


@pytest.mark.parametrize("case", sorted(BAD_OUTPUTS))
def test_a_bad_output_path_is_one_line_exit_2_and_nothing_written(tmp_path: Path, case: str) -> None:
    argv, expected = BAD_OUTPUTS[case]
    (tmp_path / "afile").write_text("keep me")
    (tmp_path / "adir").mkdir()
    (tmp_path / "dangling").symlink_to("gone/x")
    (tmp_path / "loop").symlink_to("loop")
    before = files_under(tmp_path)
    proc = cli(tmp_path, *argv)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert files_under(tmp_path) == before  # no a.json, no directory, no temporary file
    assert (tmp_path / "afile").read_text() == "keep me"


@pytest.mark.parametrize(
    "argv",
    [
        [*SOLVE, "--layer", "no_such_layer", "--report", "new/rep"],
        [*DSE, "--sweep", "NO_SUCH_KEY=1", "--out", "new/dse"],
    ],
    ids=["solve-report", "dse-out"],
)
def test_an_output_directory_is_not_created_when_the_input_is_bad(tmp_path: Path, argv: list[str]) -> None:
    proc = cli(tmp_path, *argv)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert files_under(tmp_path) == []


# ----------------------------------------------------------------------------------------------------------------------
# Modes and atomic writes


def test_every_output_file_is_0644_under_umask_022(tmp_path: Path) -> None:
    """JSON, Markdown, PNG (solve --report), CSV (dse), exported spec and drawings: what `open` would make."""
    runs = [
        [*SOLVE, "--json", "result.json", "--report", "rep"],
        [*DSE, "--out", "dse"],
        ["export-spec", "tiny", "-o", "spec.json"],
        ["arch", "edge_8x8", "--draw", "edge.svg"],
    ]
    for argv in runs:
        proc = cli(tmp_path, *argv)
        assert proc.returncode == 0, proc.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    suffixes = {p.suffix for p in written}
    assert {".json", ".md", ".png", ".csv", ".svg"} <= suffixes
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {p.name: 0o644 for p in written}
    assert not [p for p in written if p.name.startswith(".")]  # no temporary file left


def test_output_files_follow_a_stricter_umask(tmp_path: Path) -> None:
    proc = cli(tmp_path, "export-spec", "tiny", "-o", "spec.json", umask=0o077)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE((tmp_path / "spec.json").stat().st_mode) == 0o600


class _Boom(RuntimeError):
    pass


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(_Boom), atomic_file(target) as handle:
        handle.write("half a row,")
        raise _Boom
    assert files_under(tmp_path) == ["out.csv"] and target.read_text() == "old\n"


def test_a_figure_that_fails_to_render_leaves_no_file(tmp_path: Path) -> None:
    fig, ax = plt.subplots()
    ax.set_title("$\\frac{unclosed$")  # mathtext fails only when the figure is drawn, mid-save
    with pytest.raises(ValueError):
        write_figure(fig, tmp_path / "plot.png")
    plt.close(fig)
    assert files_under(tmp_path) == []


def test_a_write_into_a_missing_directory_is_an_input_error(tmp_path: Path) -> None:
    for write in (lambda p: write_text(p, "x"), lambda p: write_json(str(p), {"a": 1})):
        with pytest.raises(InputError, match="cannot write"):
            write(tmp_path / "missing" / "f.txt")
    assert files_under(tmp_path) == []


def test_figures_are_the_same_file_on_every_run(tmp_path: Path) -> None:
    """SVG and PDF carry no date and SVG ids no random salt: two saves of one figure are identical."""
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    for fmt in ("svg", "pdf", "png"):
        write_figure(fig, tmp_path / f"a.{fmt}")
        write_figure(fig, tmp_path / f"b.{fmt}")
        assert (tmp_path / f"a.{fmt}").read_bytes() == (tmp_path / f"b.{fmt}").read_bytes(), fmt
    plt.close(fig)
