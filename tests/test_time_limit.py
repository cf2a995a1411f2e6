"""Never a hang: --time-limit bounds every search, inside long chunks too, and a search cut before it found a
mapping says UNKNOWN with its bound, not INFEASIBLE (issue 14, "Hangs")."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
from timing import STARTUP_SECONDS

from dmz_solver.arch import load_arch
from dmz_solver.cli import main
from dmz_solver.dse.run import point_from_result
from dmz_solver.problem import Problem
from dmz_solver.report.text import format_layer_result
from dmz_solver.result import ModelResult
from dmz_solver.search.bnb import branch_and_bound
from dmz_solver.search.exhaustive import exhaustive
from dmz_solver.search.supply import no_supply
from dmz_solver.solving import DEFAULT_TIME_LIMIT
from dmz_solver.vocabulary import Objective, Status
from dmz_solver.workload.templates import conv_nest

REPO = Path(__file__).resolve().parent.parent
# A convolution with batch 720720: on main one 256-task chunk of its proof ran for over 120 s under --time-limit 10.
BIG_BATCH = {"CONV": [{"name": "big_batch", "size_tensor_A": [720720, 16, 10, 10], "size_tensor_B": [16, 16, 3, 3]}]}
MEDIUM = conv_nest("medium", n=1, m=64, c=64, in_rows=58, in_cols=58, f_rows=3, f_cols=3, stride=(1, 1))


@pytest.mark.wallclock
@pytest.mark.parametrize("search", ["cpsat", "exhaustive"])
def test_solve_with_time_limit_5_returns_within_the_limit_on_a_huge_layer(tmp_path: Path, search: str) -> None:
    model = tmp_path / "big.json"
    model.write_text(json.dumps(BIG_BATCH))
    out = tmp_path / "r.json"
    limit = 5.0
    argv = ["cli.py", "solve", "--model", str(model), "--search", search, "--time-limit", f"{limit:g}", "--no-cache"]
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *argv, "--json", str(out)], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    wall = time.perf_counter() - start
    layer = json.loads(out.read_text())["layers"][0]
    assert layer["seconds"] <= limit + 1.0, layer["seconds"]  # the search, from the problem's tables to the result
    assert wall < limit + STARTUP_SECONDS, wall
    assert layer["status"] in (Status.FEASIBLE, Status.UNKNOWN), proc.stderr
    assert math.isfinite(layer["lower_bound"]) and layer["lower_bound"] >= 0


def test_a_proof_cut_before_any_mapping_is_unknown_with_its_bound_not_infeasible() -> None:
    problem = Problem(MEDIUM, load_arch("dmazerunner"))
    result = branch_and_bound(problem, Objective.EDP, time_limit=1e-9, supplier=no_supply)
    assert result.status == Status.UNKNOWN and result.mapping is None
    assert 0 < result.lower_bound < math.inf  # the spatial bound still holds
    assert result.to_json()["status"] == "UNKNOWN" and "mapping" not in result.to_json()
    assert "status UNKNOWN" in format_layer_result(result)


@pytest.mark.wallclock
def test_exhaustive_obeys_the_time_limit() -> None:
    """On main `--search exhaustive` ignored --time-limit and always claimed OPTIMAL."""
    problem = Problem(MEDIUM, load_arch("dmazerunner"))
    start = time.perf_counter()
    result = exhaustive(problem, Objective.EDP, time_limit=0.3)
    assert time.perf_counter() - start < 5
    assert result.status in (Status.FEASIBLE, Status.UNKNOWN)
    assert result.lower_bound <= result.value and math.isfinite(result.lower_bound)


def test_a_time_limit_that_leaves_the_search_time_gives_the_same_optimum_as_none() -> None:
    nest = conv_nest("c", n=1, m=8, c=8, in_rows=10, in_cols=10, f_rows=3, f_cols=3, stride=(1, 1))
    problem = Problem(nest, load_arch("dmazerunner"))
    free = exhaustive(problem, Objective.EDP)
    timed = exhaustive(problem, Objective.EDP, time_limit=600)
    proof = branch_and_bound(problem, Objective.EDP, time_limit=600, supplier=no_supply)
    assert free.status == timed.status == proof.status == Status.OPTIMAL
    assert free.value == timed.value == proof.value and free.mapping == timed.mapping == proof.mapping


def test_an_unknown_layer_makes_an_unknown_dse_point_off_the_pareto_front() -> None:
    problem = Problem(MEDIUM, load_arch("dmazerunner"))
    unknown = branch_and_bound(problem, Objective.EDP, time_limit=1e-9, supplier=no_supply)
    point = point_from_result({}, problem.arch, ModelResult("m", "a", "edp", (unknown,), 0.0), 0.0)
    assert point.status == Status.UNKNOWN and not point.solved


def test_the_command_line_gives_every_layer_a_default_time_limit(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r.json"
    assert main(["solve", "--model", "tiny", "--layer", "tiny_gemm", "--no-cache", "--json", str(out)]) == 0
    capsys.readouterr()
    assert json.loads(out.read_text())["inputs"]["time_limit"] == DEFAULT_TIME_LIMIT == 600
