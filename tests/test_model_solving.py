"""Whole-model solving: the layer cache, parallel workers, instance-counted totals and the Python API."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

import dmz_solver
import dmz_solver.solving as solve_module
from dmz_solver.arch import load_arch
from dmz_solver.cache import SolveKey
from dmz_solver.solving import solve_model
from dmz_solver.workload.loader import load_model

TINY = load_model("tiny")
ARCH = load_arch("dmazerunner")
SMALL = replace(ARCH, name="small", pe_count=64)


def exact(result) -> list[tuple]:
    """Everything a cached result must reproduce exactly, per layer."""
    return [(r.nest, r.mapping, r.cost, r.status, r.lower_bound, r.tilings_evaluated, r.seconds) for r in result.layers]


@pytest.fixture
def count_solves(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every layer the (serial) solver actually solves."""
    solved: list[str] = []
    real = solve_module.solve_layer

    def counting(nest, *args, **kwargs):
        solved.append(nest.name)
        return real(nest, *args, **kwargs)

    monkeypatch.setattr(solve_module, "solve_layer", counting)
    return solved


def test_cache_hit_returns_the_identical_result_without_solving(tmp_path: Path, count_solves: list[str]) -> None:
    first = solve_model(TINY.layers, ARCH, cache_dir=tmp_path, workers=1)
    assert len(count_solves) == len(TINY.layers) and not any(r.cached for r in first.layers)
    second = solve_model(TINY.layers, ARCH, cache_dir=tmp_path, workers=1)
    assert len(count_solves) == len(TINY.layers)  # nothing solved again
    assert all(r.cached for r in second.layers)
    assert exact(second) == exact(first)
    assert second.totals()["edp"] == first.totals()["edp"]


def test_cache_misses_when_the_arch_or_objective_changes(tmp_path: Path, count_solves: list[str]) -> None:
    layers = TINY.layers[:2]
    solve_model(layers, ARCH, cache_dir=tmp_path, workers=1)
    solve_model(layers, SMALL, cache_dir=tmp_path, workers=1)
    solve_model(layers, ARCH, "energy", cache_dir=tmp_path, workers=1)
    assert len(count_solves) == 6
    solve_model(layers, replace(SMALL, name="renamed"), cache_dir=tmp_path, workers=1)  # the name is not a key
    assert len(count_solves) == 6


def test_identical_layers_of_other_models_share_entries(tmp_path: Path, count_solves: list[str]) -> None:
    nest = TINY.layers[0]
    solve_model([nest], ARCH, cache_dir=tmp_path, workers=1)
    other = replace(nest, name="another_model_layer", instances=7)
    (hit,) = solve_model([other], ARCH, cache_dir=tmp_path, workers=1).layers
    assert count_solves == [nest.name]
    assert hit.cached and hit.nest is other


def test_a_corrupt_cache_entry_is_solved_again(tmp_path: Path, count_solves: list[str]) -> None:
    nest = TINY.layers[-1]
    solve_model([nest], ARCH, cache_dir=tmp_path, workers=1)
    for entry in tmp_path.rglob("*.json"):
        entry.write_text("{not json")
    (again,) = solve_model([nest], ARCH, cache_dir=tmp_path, workers=1).layers
    assert len(count_solves) == 2 and not again.cached and again.status == "OPTIMAL"


def test_cache_key_covers_constraints_time_limit_and_knobs() -> None:
    nest = TINY.layers[0]
    base = SolveKey(nest, ARCH, "edp", "cpsat", None, "", None)
    variants = [
        replace(base, constraints_fingerprint="abc"),
        replace(base, time_limit=5.0),
        replace(base, search="exhaustive"),
        replace(base, nest=replace(nest, extents=(1, 8, 4, 3, 3, 3, 1))),
    ]
    assert len({base.digest, *(v.digest for v in variants)}) == 1 + len(variants)
    assert replace(base, nest=replace(nest, name="x", instances=3)).digest == base.digest


def test_no_cache_dir_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    solve_model(TINY.layers[:1], ARCH, cache_dir=None, workers=1)
    assert not any(tmp_path.iterdir())


def test_parallel_workers_give_the_serial_results_in_layer_order() -> None:
    layers = TINY.layers[:3]
    serial = solve_model(layers, ARCH, cache_dir=None, workers=1)
    seen: list[str] = []
    parallel = solve_model(layers, ARCH, cache_dir=None, workers=2, progress=lambda r: seen.append(r.nest.name))
    assert [r.nest for r in parallel.layers] == list(layers)
    assert sorted(seen) == sorted(n.name for n in layers)
    strip = [(r.mapping, r.cost, r.status, r.lower_bound) for r in serial.layers]
    assert [(r.mapping, r.cost, r.status, r.lower_bound) for r in parallel.layers] == strip


def test_model_totals_count_instances(tmp_path: Path) -> None:
    result = solve_model(TINY.layers, ARCH, cache_dir=tmp_path, workers=1)
    instances = {r.nest.name: r.nest.instances for r in result.layers}
    assert instances["tiny_conv1x1"] == 2
    totals = result.totals()
    cycles = sum(r.nest.instances * r.cost.cycles for r in result.layers)
    energy = sum(r.nest.instances * r.cost.energy_pj for r in result.layers)
    assert totals["cycles"] == cycles and math.isclose(totals["energy_pj"], energy)
    assert totals["layers"] == len(result.layers) + 1 and totals["unique_layers"] == len(result.layers)
    assert cycles > sum(r.cost.cycles for r in result.layers)


def test_python_api_accepts_names_and_loaded_objects(tmp_path: Path) -> None:
    by_name = dmz_solver.solve("tiny", "dmazerunner", cache_dir=tmp_path)
    by_object = dmz_solver.solve(TINY, ARCH, "edp", None, cache_dir=tmp_path)
    by_nests = dmz_solver.solve(list(TINY.layers), ARCH.to_seed_json(), cache_dir=tmp_path)
    assert exact(by_object) == exact(by_name) == exact(by_nests)
    assert by_name.model == "tiny" and by_name.totals()["all_optimal"]
    (one,) = dmz_solver.solve("tiny", ARCH, layer="tiny_gemm", cache_dir=tmp_path).layers
    assert one.nest.name == "tiny_gemm"


def test_python_api_rejects_an_unknown_objective() -> None:
    with pytest.raises(dmz_solver.errors.InputError, match="objective"):
        dmz_solver.solve("tiny", "dmazerunner", "latency", cache_dir=None)
