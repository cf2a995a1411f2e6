"""Exhaustive search finds the seed's true optima (tests/data/oracles.json) and counts the same tilings.

The oracles are the seed tool's own exhaustive optimiser, without pruning, on small layers and two
architectures; each objective is minimised independently.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dmz_solver.arch import arch_from_json
from dmz_solver.cost.evaluate import evaluate_mapping
from dmz_solver.problem import Problem
from dmz_solver.problem.mapping import Mapping
from dmz_solver.search.auto import auto_search
from dmz_solver.search.exhaustive import count_tilings, exhaustive_search
from dmz_solver.vocabulary import LEVELS
from dmz_solver.workload.spec_json import layer_from_json

DATA = json.loads((Path(__file__).parent / "data" / "oracles.json").read_text())
ORACLES = DATA["oracles"]
IDS = [f"{o['layer']['name']}-{o['arch_name']}" for o in ORACLES]
OBJECTIVES = ("edp", "energy", "cycles")


def _problem(oracle: dict) -> Problem:
    layer = oracle["layer"]
    nest = layer_from_json(layer["op"], {**layer["model_json"], "name": layer["name"]}, source="oracles.json", path="")
    arch = arch_from_json(DATA["archs"][oracle["arch_name"]], source="oracles.json", name=oracle["arch_name"])
    return Problem(nest, arch)


@pytest.fixture(scope="module", params=range(len(ORACLES)), ids=IDS)
def searched(request: pytest.FixtureRequest) -> tuple[dict, Problem, object]:
    oracle = ORACLES[request.param]
    problem = _problem(oracle)
    return oracle, problem, exhaustive_search(problem)


def test_exhaustive_search_counts_the_seeds_valid_tilings(searched) -> None:
    oracle, problem, found = searched
    assert found.tilings == oracle["n_tilings_evaluated"]
    assert count_tilings(problem) == oracle["n_tilings_evaluated"]


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_exhaustive_search_finds_the_seeds_optimum(searched, objective: str) -> None:
    oracle, problem, found = searched
    best = found.best[objective]
    assert best.value == oracle["best"][objective]["value"]
    # The winning tiling, rescored on its own, gives the same value.
    mapping = Mapping.from_array(problem.nest.loops, best.tiling)
    _, cost = evaluate_mapping(problem, mapping, objective)
    assert cost.value(objective) == oracle["best"][objective]["value"]


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_seed_winning_tiling_scores_the_optimum(searched, objective: str) -> None:
    oracle, problem, _ = searched
    ref = oracle["best"][objective]
    tiling = np.array([ref["tiling"][level] for level in LEVELS], np.int64)
    _, cost = evaluate_mapping(problem, Mapping.from_array(problem.nest.loops, tiling), objective)
    assert cost.value(objective) == ref["value"]


def test_auto_search_retraces_the_seeds_heuristic(searched) -> None:
    """The --auto-optimize schedule reaches the seed's values, step count and final thresholds (§8)."""
    oracle, problem, found = searched
    result, knobs, evaluated = auto_search(problem)
    auto = oracle["auto_optimize"]
    assert result.tilings == auto["n_tilings_evaluated_reported"]
    assert evaluated == auto["n_tilings_evaluated_all_steps"]
    final = auto["final_params"]
    assert (knobs.pe_util, knobs.rf_util, knobs.spm_util) == (
        final["PE_UTILIZATION"],
        final["RF_UTILIZATION"],
        final["SPM_UTILIZATION"],
    )
    assert (knobs.no_feature_dram, knobs.no_spatial_reduction, knobs.min_exec_methods) == (
        final["PRUNE_NO_FEATURE_DRAM"],
        final["PRUNE_NO_REDUCTION"],
        final["MIN_EXEC_METHODS"],
    )
    for objective in OBJECTIVES:
        assert result.best[objective].value == auto["best"][objective]
        assert found.best[objective].value <= auto["best"][objective]
