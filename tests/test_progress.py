"""A running proof reports where it stands (issue 13, item 11), and cached layers say so."""

from __future__ import annotations

import io
import math

import pytest

from dmz_solver.arch import load_arch
from dmz_solver.cli import main
from dmz_solver.cli import solve as solve_command
from dmz_solver.report.text import format_layer_result, progress_text
from dmz_solver.result import ProofProgress
from dmz_solver.solving import solve_layer, solve_model
from dmz_solver.vocabulary import Status
from dmz_solver.workload.loader import load_model
from dmz_solver.workload.templates import conv_nest


@pytest.mark.parametrize("objective", ["energy", "cycles", "edp"])
def test_the_proof_reports_a_rising_bound_and_a_falling_best_that_meet_at_the_optimum(objective: str) -> None:
    nest = conv_nest("c", n=1, m=16, c=8, in_rows=10, in_cols=10, f_rows=3, f_cols=3, stride=(1, 1))
    seen: list[ProofProgress] = []
    result = solve_layer(nest, load_arch("eyeriss"), objective, monitor=seen.append)
    assert result.status == Status.OPTIMAL
    assert seen
    assert all(a.seconds <= b.seconds for a, b in zip(seen, seen[1:], strict=False))
    assert all(a.bound <= b.bound for a, b in zip(seen, seen[1:], strict=False))
    assert all(a.incumbent >= b.incumbent for a, b in zip(seen, seen[1:], strict=False))
    assert all(s.bound <= result.value <= s.incumbent for s in seen)
    assert seen[-1].incumbent == result.value


def test_progress_line_gives_time_best_bound_and_gap() -> None:
    assert progress_text("L", ProofProgress(12.34, 200.0, 150.0)) == (
        "L 12.3 s: best 2.0000E+02, bound 1.5000E+02, gap 25.00%"
    )
    assert progress_text("L", ProofProgress(0.5, math.inf, 7.0)) == "L 0.5 s: best -, bound 7.0000E+00, gap -"


def test_a_cached_layer_is_marked_in_the_text_output(tmp_path) -> None:
    layers = (load_model("tiny").layer("tiny_gemm"),)
    first = solve_model(layers, load_arch("dmazerunner"), "edp", cache_dir=tmp_path).layers[0]
    again = solve_model(layers, load_arch("dmazerunner"), "edp", cache_dir=tmp_path).layers[0]
    assert not first.cached and "from the layer cache" not in format_layer_result(first)
    assert again.cached and "from the layer cache" in format_layer_result(again)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_solve_on_a_terminal_shows_the_running_proof(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setattr(solve_command, "PROGRESS_EVERY", 0.0)
    assert main(["solve", "--model", "tiny", "--layer", "tiny_conv3x3", "--no-cache"]) == 0
    shown = terminal.getvalue()
    assert "tiny_conv3x3" in shown and "best" in shown and "bound" in shown and "gap" in shown
    assert "best" not in capsys.readouterr().out  # the live line goes to the terminal, not to the results
