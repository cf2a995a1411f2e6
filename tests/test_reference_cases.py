"""The cost model reproduces the seed tool's numbers on its 256 public reference cases.

Each case is a layer, an arch and one valid tiling; the reference gives every candidate ordering
pair's energy, cycles and breakdown and the per-tiling minima (tests/data/public_cases.json, derived
from the seed's reference file by make_fixtures.py). Pairs are matched by their reuse vectors
(r_DRAM, r_SPM): which of several equal-reuse orderings prints is hash order in the seed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from dmz_solver.arch import arch_from_json
from dmz_solver.cost.batch import make_workspace, tiling_minima
from dmz_solver.cost.evaluate import BREAKDOWN, evaluate_mapping
from dmz_solver.cost.reference import evaluate_pairs
from dmz_solver.cost.reuse import level_reuse
from dmz_solver.layout import DRAM, SP, SPM
from dmz_solver.problem import Problem
from dmz_solver.problem.mapping import Mapping
from dmz_solver.vocabulary import LEVELS, OBJECTIVES
from dmz_solver.workload.spec_json import layer_from_json

DATA = json.loads((Path(__file__).parent / "data" / "public_cases.json").read_text())
CASES = DATA["cases"]
IDS = [case["case_id"] for case in CASES]


@cache
def _problem(index: int) -> Problem:
    case = CASES[index]
    layer = case["layer"]
    nest = layer_from_json(
        layer["op"], {**layer["model_json"], "name": layer["name"]}, source="public_cases.json", path=case["case_id"]
    )
    arch = arch_from_json(DATA["archs"][case["arch_name"]], source="public_cases.json", name=case["arch_name"])
    return Problem(nest, arch)


def _tiling(case: dict) -> np.ndarray:
    return np.array([case["tiling"][level] for level in LEVELS], np.int64)


def _reuse(problem: Problem, level_factors: np.ndarray, cand: int) -> tuple[int, ...]:
    """The reuse vector (operand order) of one candidate ordering at one level (§4.1)."""
    isidx, cands = problem.arrays.isidx, problem.arrays.cands
    reps = np.zeros((1, isidx.shape[0]), np.int64)
    first = np.zeros(1, np.int64)
    level_reuse(level_factors, cands[cand : cand + 1], isidx, reps, first)
    return tuple(int(r) for r in reps[0])


def _our_pairs(problem: Problem, tiling: np.ndarray) -> dict[tuple, tuple[int, float, list[float]]]:
    """Every ordering pair of the tiling, keyed by its (DRAM, SPM) reuse vectors."""
    arrays = problem.arrays
    prof = problem.unrollings(tiling[SP])[0]
    energy, cycles, breakdown, cand_ids = evaluate_pairs(tiling, arrays, prof)
    pairs = {}
    for i in range(len(energy)):
        spm_cand, dram_cand = cand_ids[i]
        key = (_reuse(problem, tiling[DRAM], dram_cand), _reuse(problem, tiling[SPM], spm_cand))
        assert key not in pairs, f"two pairs with reuse {key}: unique-reuse pruning failed"
        pairs[key] = (int(energy[i]), float(cycles[i]), breakdown[i].tolist())
    return pairs


def _reference_pairs(problem: Problem, case: dict) -> dict[tuple, dict]:
    names = [op.name for op in problem.nest.operands]
    out = {}
    for pair in case["per_ordering_pair"]:
        key = (tuple(pair["reuse_DRAM"][n] for n in names), tuple(pair["reuse_SPM"][n] for n in names))
        out[key] = pair
    return out


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_every_ordering_pair_matches_the_seed(index: int) -> None:
    case = CASES[index]
    problem = _problem(index)
    assert dict(zip(problem.nest.loops, problem.nest.extents, strict=True)) == case["layer"]["loop_extents"]
    ours = _our_pairs(problem, _tiling(case))
    theirs = _reference_pairs(problem, case)
    assert sorted((e, c) for e, c, _ in ours.values()) == sorted(
        (p["energy_pJ"], float(p["cycles"])) for p in case["per_ordering_pair"]
    )
    assert ours.keys() == theirs.keys()
    for key, (energy, cycles, breakdown) in ours.items():
        ref = theirs[key]
        assert energy == ref["energy_pJ"], key
        assert cycles == ref["cycles"], key
        expected = [ref["energy_breakdown"][name] for name in BREAKDOWN]
        assert breakdown == pytest.approx(expected, rel=1e-9, abs=1e-9), key
        assert sum(breakdown) == pytest.approx(ref["energy_unrounded_pJ"], rel=1e-9), key


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_tiling_minima_match_the_seed(index: int) -> None:
    case = CASES[index]
    problem = _problem(index)
    arrays = problem.arrays
    best = np.zeros(3)
    best_pair = np.zeros((3, 4), np.int64)
    workspace = make_workspace(arrays.ndims.shape[0], arrays.cands.shape[0], arrays.cands.shape[1])
    tiling = _tiling(case)
    prof = problem.unrollings(tiling[SP])[0]
    tiling_minima(tiling, arrays, prof, workspace, best, best_pair)
    energy, cycles, edp = best  # OBJECTIVES order
    assert OBJECTIVES == ("energy", "cycles", "edp")
    assert energy == case["min_energy_pJ"]
    assert cycles == case["min_cycles"]
    assert edp == pytest.approx(case["min_edp"], rel=1e-12)


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_evaluate_mapping_reports_the_min_edp_pair(index: int) -> None:
    case = CASES[index]
    problem = _problem(index)
    loops = problem.nest.loops
    mapping = Mapping.from_array(loops, _tiling(case))
    ref = case["min_edp_pair"]

    chosen, cost = evaluate_mapping(problem, mapping, "edp")
    assert (cost.energy_pj, cost.cycles) == (ref["energy_pJ"], ref["cycles"])
    assert cost.edp == pytest.approx(case["min_edp"], rel=1e-12)
    assert sorted(chosen.dram_order) == sorted(loops) and sorted(chosen.spm_order) == sorted(loops)

    given = mapping.with_orders(tuple(ref["DRAM_ordering"]), tuple(ref["SPM_ordering"]))
    used, fixed = evaluate_mapping(problem, given, "edp")
    assert used.dram_order == tuple(ref["DRAM_ordering"])
    assert (fixed.energy_pj, fixed.cycles) == (ref["energy_pJ"], ref["cycles"])
    expected = [ref["energy_breakdown"][name] for name in BREAKDOWN]
    assert list(fixed.breakdown_pj) == pytest.approx(expected, rel=1e-9, abs=1e-9)
