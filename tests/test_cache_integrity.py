"""A layer cache that cannot lie (issue 14, item 4): an entry is believed only if its checksum, its key and the
exact cost model all agree with it; anything else is discarded with one warning line and solved again."""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

import dmz_solver.cache as cache_module
import dmz_solver.solving as solve_module
from dmz_solver.arch import load_arch
from dmz_solver.cache import LayerCache, SolveKey
from dmz_solver.cache.entry import checksum
from dmz_solver.cli import main
from dmz_solver.constraints.parse import load_constraints
from dmz_solver.problem import Knobs
from dmz_solver.solving import solve_layer, solve_model
from dmz_solver.workload.loader import load_model

TINY = load_model("tiny")
GEMM = TINY.layer("tiny_gemm")  # X, Y, K = 16, 24, 32
CONV = TINY.layer("tiny_conv3x3")
ARCH = load_arch("dmazerunner")


def key_of(nest) -> SolveKey:
    """The key solve_model uses for `nest` with the default options."""
    return SolveKey(nest, ARCH, "edp", "cpsat", Knobs(), "", None)


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A cache holding GEMM and CONV, and each layer's result JSON as first solved."""
    directory = tmp_path_factory.mktemp("cache")
    first = solve_model([GEMM, CONV], ARCH, cache_dir=directory, workers=1)
    return directory, {r.nest.name: r.to_json() for r in first.layers}


@pytest.fixture
def cache_dir(solved: tuple[Path, dict], tmp_path: Path) -> Path:
    """A private copy of the solved cache, free to spoil."""
    copy = tmp_path / "cache"
    shutil.copytree(solved[0], copy)
    return copy


@pytest.fixture
def solves(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The layers the (serial) solver actually solves."""
    solved: list[str] = []

    def counting(nest, *args, **kwargs):
        solved.append(nest.name)
        return solve_layer(nest, *args, **kwargs)

    monkeypatch.setattr(solve_module, "solve_layer", counting)
    return solved


def entry_path(cache_dir: Path, nest=GEMM) -> Path:
    return LayerCache(cache_dir).path(key_of(nest))


def forge(cache_dir: Path, change: Callable[[dict], None]) -> Path:
    """Edit GEMM's stored result and recompute its checksum, as a careful hand would: only the model can tell."""
    path = entry_path(cache_dir)
    entry = json.loads(path.read_text())
    change(entry["result"])
    entry["checksum"] = checksum(entry["key"], entry["result"])
    path.write_text(json.dumps(entry))
    return path


def rerun_discards(
    cache_dir: Path, solves: list[str], capsys: pytest.CaptureFixture[str], solved: tuple[Path, dict]
) -> str:
    """Solve GEMM again over the spoilt entry: it must be solved anew, give the first result, warn once with the
    entry's path, and leave a good entry behind. Returns the warning."""
    (again,) = solve_model([GEMM], ARCH, cache_dir=cache_dir, workers=1).layers
    warning = capsys.readouterr().err
    assert solves == ["tiny_gemm"] and not again.cached
    assert {**again.to_json(), "seconds": 0, "proof": 0} == {**solved[1]["tiny_gemm"], "seconds": 0, "proof": 0}
    assert warning.count("\n") == 1 and str(entry_path(cache_dir)) in warning and "Traceback" not in warning
    (third,) = solve_model([GEMM], ARCH, cache_dir=cache_dir, workers=1).layers  # the entry was rewritten
    assert third.cached and solves == ["tiny_gemm"] and capsys.readouterr().err == ""
    return warning


def test_a_good_entry_is_served_as_it_was_solved(cache_dir, solves, capsys, solved) -> None:
    again = solve_model([GEMM, CONV], ARCH, cache_dir=cache_dir, workers=1)
    assert solves == [] and all(r.cached for r in again.layers)
    assert {r.nest.name: {**r.to_json(), "cached": False} for r in again.layers} == solved[1]
    assert capsys.readouterr().err == ""


def test_an_edited_energy_is_caught_by_the_cost_model(cache_dir, solves, capsys, solved) -> None:
    forge(cache_dir, lambda r: r["cost"].update(energy_pj=1.0))
    warning = rerun_discards(cache_dir, solves, capsys, solved)
    assert "energy_pj 1.0 is not the cost model's" in warning


def test_edited_cycles_that_still_fit_the_bound_are_caught(cache_dir, solves, capsys, solved) -> None:
    def fewer_cycles(result: dict) -> None:
        result["cost"]["cycles"] -= 1
        result["lower_bound"] = result["cost"]["energy_pj"] * result["cost"]["cycles"]  # OPTIMAL stays consistent

    forge(cache_dir, fewer_cycles)
    assert "cycles" in rerun_discards(cache_dir, solves, capsys, solved)


def test_negative_cycles_with_a_factor_beyond_the_extent_are_refused(cache_dir, solves, capsys, solved) -> None:
    def hostile(result: dict) -> None:
        result["cost"]["cycles"] = -5
        result["mapping"]["factors"][3][0] = 999  # X has extent 16

    forge(cache_dir, hostile)
    warning = rerun_discards(cache_dir, solves, capsys, solved)
    assert "result.mapping.factors[3] holds 999, not a factor between 1 and its loop's extent 16" in warning


def test_negative_cycles_are_refused(cache_dir, solves, capsys, solved) -> None:
    forge(cache_dir, lambda r: r["cost"].update(cycles=-5))
    assert "result.cost.cycles is -5, not a finite non-negative number" in rerun_discards(
        cache_dir, solves, capsys, solved
    )


def test_factors_that_do_not_multiply_to_the_extent_are_refused(cache_dir, solves, capsys, solved) -> None:
    forge(cache_dir, lambda r: r["mapping"]["factors"][0].__setitem__(1, 2))  # Y's factors now multiply to 48
    warning = rerun_discards(cache_dir, solves, capsys, solved)
    assert "its mapping is not valid here" in warning and "multiply to 48, not its extent 24" in warning


def test_an_optimal_status_above_its_bound_is_refused(cache_dir, solves, capsys, solved) -> None:
    forge(cache_dir, lambda r: r.update(lower_bound=r["lower_bound"] / 2))
    assert "it is OPTIMAL but its lower bound" in rerun_discards(cache_dir, solves, capsys, solved)


@pytest.mark.parametrize("above", [lambda v: math.nextafter(v, math.inf), lambda v: 2 * v], ids=["one_ulp", "twice"])
def test_a_root_bound_above_the_value_is_refused(cache_dir, solves, capsys, solved, above) -> None:
    """CP-SAT's root bound is a lower bound: above the value (even by one ulp) it cannot come from a sound proof."""

    def root_above(result: dict) -> None:
        assert 0 < result["proof"]["root_bound"] <= result["lower_bound"]  # the genuine entry's
        result["proof"]["root_bound"] = above(result["lower_bound"])  # OPTIMAL: lower_bound is the value

    forge(cache_dir, root_above)
    assert "its proof's root bound" in rerun_discards(cache_dir, solves, capsys, solved)


def test_a_mistyped_field_is_refused(cache_dir, solves, capsys, solved) -> None:
    forge(cache_dir, lambda r: r["cost"].update(cycles=str(r["cost"]["cycles"])))
    assert "result.cost.cycles is a str, not a number" in rerun_discards(cache_dir, solves, capsys, solved)


def test_nan_in_an_entry_is_refused_without_a_traceback(cache_dir, solves, capsys, solved) -> None:
    path = entry_path(cache_dir)
    entry = json.loads(path.read_text())
    entry["result"]["lower_bound"] = float("nan")
    path.write_text(json.dumps(entry))  # Python writes NaN, which is not JSON
    assert "it holds NaN" in rerun_discards(cache_dir, solves, capsys, solved)


def test_an_entry_copied_to_another_key_is_refused(cache_dir, solves, capsys, solved) -> None:
    shutil.copyfile(entry_path(cache_dir, CONV), entry_path(cache_dir, GEMM))
    assert "it answers another key" in rerun_discards(cache_dir, solves, capsys, solved)


def test_a_key_edited_to_match_its_new_name_fails_the_checksum(cache_dir, solves, capsys, solved) -> None:
    entry = json.loads(entry_path(cache_dir, CONV).read_text())
    entry["key"] = key_of(GEMM).digest
    entry_path(cache_dir, GEMM).write_text(json.dumps(entry))
    assert "its checksum does not match its content" in rerun_discards(cache_dir, solves, capsys, solved)


def test_an_edit_without_its_checksum_is_refused(cache_dir, solves, capsys, solved) -> None:
    path = entry_path(cache_dir)
    entry = json.loads(path.read_text())
    entry["result"]["seconds"] = 0.001
    path.write_text(json.dumps(entry))
    assert "its checksum does not match its content" in rerun_discards(cache_dir, solves, capsys, solved)


def test_a_truncated_entry_is_refused(cache_dir, solves, capsys, solved) -> None:
    path = entry_path(cache_dir)
    path.write_bytes(path.read_bytes()[:100])
    assert "it is not complete JSON" in rerun_discards(cache_dir, solves, capsys, solved)


def test_a_directory_in_place_of_an_entry_is_refused(cache_dir, solves, capsys, solved) -> None:
    path = entry_path(cache_dir)
    path.unlink()
    path.mkdir()
    (again,) = solve_model([GEMM], ARCH, cache_dir=cache_dir, workers=1).layers
    warning = capsys.readouterr().err
    assert solves == ["tiny_gemm"] and not again.cached and "it is not a regular file" in warning


def test_a_missing_entry_is_a_silent_miss(cache_dir, solves, capsys) -> None:
    entry_path(cache_dir).unlink()
    solve_model([GEMM], ARCH, cache_dir=cache_dir, workers=1)
    assert solves == ["tiny_gemm"] and capsys.readouterr().err == ""


def test_an_entry_must_obey_the_constraint_files_of_its_key(tmp_path: Path, capsys) -> None:
    """The key holds only the files' fingerprint; the stored mapping is checked against the files themselves."""
    rule = tmp_path / "narrow.yaml"
    rule.write_text("name: narrow\nconstraints:\n  - name: y\n    expr: SPATIAL.Y <= 8\n")
    constraints = load_constraints([str(rule)])
    key = SolveKey(GEMM, ARCH, "edp", "cpsat", Knobs(), constraints.fingerprint, None)
    cache = LayerCache(tmp_path / "cache")
    cache.put(key, solve_layer(GEMM, ARCH, "edp", constraints=constraints))
    assert cache.get(key, constraints).cached
    unconstrained = solve_layer(GEMM, ARCH, "edp")
    assert unconstrained.mapping.factors[3][1] == 24  # the whole space's optimum unrolls all of Y
    cache.put(key, unconstrained)
    assert cache.get(key, constraints) is None
    assert "breaks constraint 'narrow.y'" in capsys.readouterr().err


def test_entries_are_0644_under_umask_022(tmp_path: Path, solved) -> None:
    result = LayerCache(solved[0]).get(key_of(GEMM))
    old = os.umask(0o022)
    try:
        LayerCache(tmp_path).put(key_of(GEMM), result)
    finally:
        os.umask(old)
    (entry,) = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert stat.S_IMODE(entry.stat().st_mode) == 0o644


class _Crash(BaseException):
    """Stands for a crash or a Ctrl-C in the middle of writing an entry."""


def test_a_write_cut_short_leaves_no_entry_and_no_temporary_file(
    tmp_path: Path, solved, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = LayerCache(solved[0]).get(key_of(GEMM))

    def crash(*args: object) -> None:
        raise _Crash

    monkeypatch.setattr(cache_module.os, "replace", crash)
    with pytest.raises(_Crash):
        LayerCache(tmp_path).put(key_of(GEMM), result)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_the_command_line_prints_the_model_s_figures_and_one_warning(tmp_path: Path, capsys) -> None:
    """The issue's case end to end: an edited entry is neither printed nor marked cached."""
    argv = ["solve", "--model", "tiny", "--layer", "tiny_gemm", "--cache-dir", str(tmp_path), "--json", "-"]
    assert main(argv) == 0
    (first,) = json.loads(capsys.readouterr().out)["layers"]
    (path,) = tmp_path.rglob("*.json")
    entry = json.loads(path.read_text())
    entry["result"]["cost"]["energy_pj"] = 1.0
    entry["checksum"] = checksum(entry["key"], entry["result"])
    path.write_text(json.dumps(entry))
    assert main(argv) == 0
    out, err = capsys.readouterr()
    (again,) = json.loads(out)["layers"]
    assert again["energy_pj"] == first["energy_pj"] != 1 and again["cached"] is False
    assert err.startswith(f"warning: layer cache entry {path} not used: ") and err.count("\n") == 1


def test_a_proof_cut_by_its_time_limit_is_not_cached(tmp_path: Path) -> None:
    nests = [load_model("resnet18").layers[1]]
    arch = load_arch("eyeriss")
    cut = solve_model(nests, arch, "edp", time_limit=1e-6, cache_dir=tmp_path).layers[0]
    assert cut.status in ("FEASIBLE", "UNKNOWN")  # the limit ended it: another machine would get further
    assert not list(tmp_path.rglob("*.json"))
    proven = solve_model(nests, arch, "edp", time_limit=600, cache_dir=tmp_path).layers[0]
    assert proven.status == "OPTIMAL" and len(list(tmp_path.rglob("*.json"))) == 1
