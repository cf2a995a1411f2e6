"""Valid-tiling counts of ResNet-18 layers on the seed's default arch (the seed's "execution methods")."""

from __future__ import annotations

import pytest

from dmz_solver.arch import load_arch
from dmz_solver.cost.packing import Problem
from dmz_solver.search.exhaustive import exhaustive_search
from dmz_solver.space import count_tilings
from dmz_solver.workload.loader import load_model

SEED_COUNTS = {
    "ResNet18_CONV_5_1b": 2_398_874,
    "ResNet18_CONV_5_1a": 2_050_736,
    "ResNet18_FC": 111_419,
}


@pytest.fixture(scope="module")
def resnet18() -> dict[str, Problem]:
    arch = load_arch("dmazerunner")
    return {nest.name: Problem(nest, arch) for nest in load_model("resnet18").layers}


@pytest.mark.parametrize("layer", SEED_COUNTS)
def test_count_tilings_matches_the_seed(resnet18: dict[str, Problem], layer: str) -> None:
    assert count_tilings(resnet18[layer]) == SEED_COUNTS[layer]


def test_exhaustive_search_evaluates_every_counted_tiling(resnet18: dict[str, Problem]) -> None:
    assert exhaustive_search(resnet18["ResNet18_FC"]).tilings == SEED_COUNTS["ResNet18_FC"]
