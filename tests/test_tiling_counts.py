"""Valid-tiling counts of ResNet-18 layers on the seed's default arch (the seed's "execution methods")."""

from __future__ import annotations

import numpy as np
import pytest

from dmz_solver.arch import load_arch
from dmz_solver.cli import main
from dmz_solver.cost.terms import coef_terms
from dmz_solver.errors import SlowSearchWarning
from dmz_solver.layout import RF
from dmz_solver.problem import Problem, divisors
from dmz_solver.problem.validity import rf_elems_used
from dmz_solver.search import exhaustive
from dmz_solver.search.exhaustive import count_tilings, exhaustive_search
from dmz_solver.search.tables import rf_elems
from dmz_solver.workload.loader import load_model
from dmz_solver.workload.templates import conv_nest

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


@pytest.mark.parametrize("arch_name", ["dmazerunner", "tpu_like"])
def test_untabulated_layers_take_the_per_tiling_path_to_the_same_result(arch_name: str, monkeypatch) -> None:
    """Layers too large for the search tables enumerate tiling by tiling (space.next_inner): same count, same optima."""
    nest = conv_nest("c", n=1, m=8, c=4, in_rows=6, in_cols=6, f_rows=3, f_cols=3, stride=(1, 1))
    problem = Problem(nest, load_arch(arch_name))
    tabulated, counted = exhaustive_search(problem), count_tilings(problem)
    monkeypatch.setattr(exhaustive, "MAX_TABLE_BYTES", 0)
    with pytest.warns(SlowSearchWarning, match="layer c: .* enumerated one by one"):
        per_tiling = exhaustive_search(problem)
    with pytest.warns(SlowSearchWarning):
        assert per_tiling.tilings == tabulated.tilings and count_tilings(problem) == counted
    for objective, best in tabulated.best.items():
        assert per_tiling.best[objective].value == best.value
        assert np.array_equal(per_tiling.best[objective].tiling, best.tiling)


def test_the_command_line_says_in_one_line_that_a_layer_goes_the_slow_way(capsys, monkeypatch) -> None:
    """A layer too large for the tables is announced before its search, one `warning:` line naming it; the command
    still succeeds with the table search's count."""
    monkeypatch.setattr(exhaustive, "MAX_TABLE_BYTES", 0)
    code = main(["count", "--model", "tiny", "--layer", "tiny_gemm", "--json", "-"])
    out, err = capsys.readouterr()
    assert code == 0 and '"valid_tilings": 152856' in out
    assert err.splitlines() == [
        "warning: layer tiny_gemm: its search tables would take more than 0 MiB, so its tilings are enumerated one by "
        "one, which can be about 1,000 times slower (the result is the same)"
    ]


@pytest.mark.parametrize(
    "nest",
    [
        conv_nest("slide", n=2, m=6, c=4, in_rows=9, in_cols=9, f_rows=3, f_cols=3, stride=(2, 2)),
        conv_nest("dw", n=1, m=1, c=8, in_rows=8, in_cols=8, f_rows=3, f_cols=3, stride=(1, 1), depthwise=True),
    ],
)
def test_the_table_search_counts_rf_elements_as_the_validity_rule(nest) -> None:
    """tables.rf_elems (sparse terms) equals validity.rf_elems_used (dense coefficients) on random RF tiles."""
    problem = Problem(nest, load_arch("dmazerunner"))
    arrays = problem.arrays
    terms = coef_terms(arrays.dcoef, arrays.ndims)
    rng = np.random.default_rng(3)
    for _ in range(200):
        t = np.ones((4, len(nest.extents)), np.int64)
        t[RF] = [rng.choice(divisors(e)) for e in nest.extents]
        sparse = rf_elems(t, terms.nterms, terms.tloops, terms.tcoefs, arrays.ndims)
        assert sparse == rf_elems_used(t, arrays.dcoef, arrays.ndims)
