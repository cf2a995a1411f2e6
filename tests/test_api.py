"""The Python API: what `dmz_solver.solve` accepts, the errors it raises, and what its results offer a caller."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import dmz_solver
from dmz_solver.constraints import load_constraints
from dmz_solver.errors import InputError
from dmz_solver.vocabulary import BREAKDOWN

REPO = Path(__file__).resolve().parent.parent
CONV = "tiny_conv3x3"


def solve(**options):
    return dmz_solver.solve("tiny", "dmazerunner", layer=CONV, cache_dir=None, **options)


@pytest.fixture(scope="module")
def free():
    return solve()


@pytest.fixture(scope="module")
def weight_stationary():
    return solve(constraints=load_constraints(["ws"]))


@pytest.mark.parametrize(
    "given",
    [
        "ws",
        ["ws"],
        str(REPO / "constraints" / "ws.yaml"),
        REPO / "constraints" / "ws.yaml",
        [REPO / "constraints" / "ws.yaml", "ws"],
    ],
    ids=["name", "list", "path-string", "path", "repeated"],
)
def test_constraints_are_taken_as_names_paths_and_lists(given, weight_stationary, free) -> None:
    (found,) = solve(constraints=given).layers
    (expected,) = weight_stationary.layers
    assert (found.mapping, found.cost, found.status) == (expected.mapping, expected.cost, expected.status)
    assert found.mapping != free.layers[0].mapping  # the file changes this layer's optimum
    assert found.status == "OPTIMAL"


def test_constraints_add_to_the_arch_specs_own(tmp_path: Path, weight_stationary) -> None:
    arch = {"name": "restricted", "constraints": ["ws"]}
    (found,) = dmz_solver.solve("tiny", arch, layer=CONV, cache_dir=None).layers
    assert found.cost == weight_stationary.layers[0].cost


def test_a_constraint_argument_of_the_wrong_type_is_an_input_error() -> None:
    with pytest.raises(InputError, match="constraints: expected a constraint file name or path"):
        solve(constraints=42)


def test_an_unknown_search_is_an_input_error_listing_the_searches() -> None:
    with pytest.raises(InputError, match=r"search: unknown search 'foo' \(one of cpsat, exhaustive, auto\)"):
        solve(search="foo")


def test_an_unknown_layer_is_an_input_error_in_the_apis_words() -> None:
    with pytest.raises(InputError) as caught:
        dmz_solver.solve("tiny", layer="tiny_lstm", cache_dir=None)
    assert "--layer" not in caught.value.message
    assert "layer: no layer named 'tiny_lstm' in model tiny (layers: tiny_conv3x3," in caught.value.message


def test_knobs_may_be_a_dict_of_their_fields(free) -> None:
    (found,) = solve(knobs={"pe_util": 0.5}).layers
    assert found.cost != free.layers[0].cost and found.status == "OPTIMAL"
    (by_object,) = solve(knobs=dmz_solver.Knobs(pe_util=0.5)).layers
    assert (found.mapping, found.cost) == (by_object.mapping, by_object.cost)
    with pytest.raises(InputError, match="no_spatial_reductoin: unknown field"):
        solve(knobs={"no_spatial_reductoin": True})


def test_results_print_in_one_short_line(free) -> None:
    text = repr(free)
    assert "\n" not in text and len(text) < 200
    assert text.startswith("ModelResult(tiny on dmazerunner: 1 layers (1 OPTIMAL), total edp 3.")
    layer = repr(free.layers[0])
    assert "\n" not in layer and len(layer) < 200
    assert layer.startswith(f"LayerResult({CONV}: OPTIMAL, edp {free.layers[0].value:.4E}, cycles ")


def test_the_energy_breakdown_is_labelled_and_still_a_tuple(free) -> None:
    cost = free.layers[0].cost
    breakdown = cost.breakdown_pj
    assert breakdown._fields == BREAKDOWN
    assert (breakdown[0], breakdown[4]) == (breakdown.MAC, breakdown.DRAM)
    assert tuple(breakdown) == tuple(breakdown._asdict().values())
    assert cost.to_json()["breakdown_pj"] == dict(zip(BREAKDOWN, breakdown, strict=True))
    assert type(cost)(cost.energy_pj, cost.cycles, tuple(breakdown)) == cost  # a plain tuple is labelled too


def test_layers_are_found_by_name(free) -> None:
    assert free.layer(CONV) is free.layers[0]
    with pytest.raises(InputError, match=f"no layer named 'nope' in the result of tiny \\(layers: {CONV}\\)"):
        free.layer("nope")
    assert dmz_solver.load_model("tiny").layer("tiny_gemm").name == "tiny_gemm"


def test_dir_lists_the_public_api_and_every_name_resolves() -> None:
    names = dir(dmz_solver)
    for name in ("solve", "rerun", "load_model", "load_arch", "load_constraints", "Knobs", "ModelResult", "InputError"):
        assert name in names
    assert "annotations" not in names and "Any" not in names
    assert all(getattr(dmz_solver, name) is not None for name in dmz_solver.__all__)


def test_importing_the_package_loads_no_solver_stack() -> None:
    code = (
        "import sys, dmz_solver\n"
        "dir(dmz_solver)\n"
        "print(sorted(m for m in ('numba', 'sympy', 'networkx', 'ortools', 'numpy') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
