"""Exhaustive search against a plain-Python brute force on tiny layers.

The brute force shares nothing with the search but the per-mapping evaluator: it enumerates every
ordered 4-factorisation of every loop with itertools, decides validity with the rules of
docs/cost-model.md §3.2 written out here from the footprint table of §1.5, and scores each valid tiling
with `evaluate_mapping` (the best ordering pair per objective, §7.2).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pytest

from dmz_solver.arch import Arch
from dmz_solver.cost.evaluate import evaluate_mapping
from dmz_solver.problem import Knobs, Problem
from dmz_solver.problem.mapping import Mapping
from dmz_solver.search.exhaustive import exhaustive_search
from dmz_solver.workload.spec_json import layer_from_json

SEED = Arch("seed")
SMALL = Arch("small", pe_count=16, rf_bytes=64, spm_banks=4, spm_bank_bytes=256)
# All knobs at once, with thresholds that cut the space without emptying it (the seed's SPM is huge for these layers).
SEED_PRUNING = Knobs(pe_util=0.03, rf_util=0.05, spm_util=0.001, no_feature_dram=True, no_spatial_reduction=True)
SMALL_PRUNING = Knobs(pe_util=0.25, rf_util=0.1, spm_util=0.01, no_feature_dram=True, no_spatial_reduction=True)


@dataclass(frozen=True)
class Layer:
    op: str
    entry: dict
    extents: dict[str, int]
    stride: int = 1


LAYERS = {
    "conv": Layer(
        "CONV",
        {"size_tensor_A": [1, 2, 4, 4], "size_tensor_B": [4, 2, 3, 3], "strides": [1, 1]},
        {"N": 1, "M": 4, "C": 2, "Ox": 2, "Oy": 2, "Fx": 3, "Fy": 3},
    ),
    "gemm": Layer("GEMM", {"size_tensor_A": [4, 8], "size_tensor_B": [8, 6]}, {"X": 4, "Y": 6, "K": 8}),
    "dwconv": Layer(
        "DW_CONV",
        {"size_tensor_A": [1, 4, 5, 5], "size_tensor_B": [1, 4, 3, 3], "strides": [2, 2]},
        {"N": 1, "M": 1, "C": 4, "Ox": 2, "Oy": 2, "Fx": 3, "Fy": 3},
        stride=2,
    ),
}


def factorisations(n: int) -> list[tuple[int, int, int, int]]:
    """Every ordered (DRAM, SPM, RF, SPATIAL) with product n."""
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    return [(n // (a * b * c), a, b, c) for a, b, c in itertools.product(divisors, repeat=3) if n % (a * b * c) == 0]


def footprints(layer: Layer, e: dict[str, int]) -> list[int]:
    """D(op, e) of docs/cost-model.md §1.5 in operand order (output first)."""
    if layer.op == "GEMM":
        return [e["X"] * e["Y"], e["X"] * e["K"], e["K"] * e["Y"]]
    s = layer.stride
    window = e["N"] * e["C"] * ((e["Ox"] - 1) * s + e["Fx"]) * ((e["Oy"] - 1) * s + e["Fy"])
    if layer.op == "DW_CONV":
        return [e["N"] * e["C"] * e["Ox"] * e["Oy"], window, e["C"] * e["Fx"] * e["Fy"]]
    return [e["N"] * e["M"] * e["Ox"] * e["Oy"], window, e["M"] * e["C"] * e["Fx"] * e["Fy"]]


def is_valid(layer: Layer, arch: Arch, knobs: Knobs, t: dict[str, tuple[int, int, int, int]]) -> bool:
    """The validity rules of docs/cost-model.md §3.2."""
    dram = {loop: f[0] for loop, f in t.items()}
    rf = {loop: f[2] for loop, f in t.items()}
    sp = {loop: f[3] for loop, f in t.items()}
    spm_tile = {loop: f[1] * f[2] * f[3] for loop, f in t.items()}
    pes = math.prod(sp.values())
    if pes > arch.pe_count or pes / arch.pe_count < knobs.pe_util:
        return False
    if knobs.no_spatial_reduction:
        reductions = {"CONV": ("C", "Fx", "Fy"), "DW_CONV": ("Fx", "Fy"), "GEMM": ("K",)}[layer.op]
        if any(sp[loop] != 1 for loop in reductions):
            return False
    rf_elems = arch.rf_bytes / arch.bytes_per_elem
    rf_used = sum(footprints(layer, rf))
    if rf_used > rf_elems or rf_used / rf_elems < knobs.rf_util:
        return False
    spm_bytes = [d * arch.bytes_per_elem for d in footprints(layer, spm_tile)]
    banks = sum(math.ceil(b / arch.spm_bank_bytes) for b in spm_bytes)
    capacity = arch.spm_banks * arch.spm_bank_bytes
    if banks > arch.spm_banks or sum(spm_bytes) > capacity or sum(spm_bytes) / capacity < knobs.spm_util:
        return False
    return not (knobs.no_feature_dram and layer.op != "GEMM" and (dram["Fx"] != 1 or dram["Fy"] != 1))


def brute_force(layer: Layer, problem: Problem) -> tuple[int, dict[str, float]]:
    """(valid tilings, best value per objective) by plain enumeration."""
    loops = list(layer.extents)
    per_loop = [factorisations(layer.extents[loop]) for loop in loops]
    count = 0
    best = {"edp": math.inf, "energy": math.inf, "cycles": math.inf}
    for combo in itertools.product(*per_loop):
        t = dict(zip(loops, combo, strict=True))
        if not is_valid(layer, problem.arch, problem.knobs, t):
            continue
        count += 1
        tiling = np.array([[t[loop][level] for loop in loops] for level in range(4)], np.int64)
        mapping = Mapping.from_array(tuple(loops), tiling)
        for objective in best:
            _, cost = evaluate_mapping(problem, mapping, objective)
            best[objective] = min(best[objective], cost.value(objective))
    return count, best


def test_factorisations_are_complete_and_ordered() -> None:
    assert len(factorisations(1)) == 1
    assert len(factorisations(4)) == 10  # C(2 + 3, 3)
    assert len(factorisations(12)) == 10 * 4
    assert all(math.prod(f) == 12 for f in factorisations(12))


@pytest.mark.parametrize(
    ("layer_name", "arch", "knobs"),
    [
        ("conv", SEED, Knobs()),
        ("conv", SMALL, Knobs()),
        ("conv", SEED, SEED_PRUNING),
        ("conv", SMALL, SMALL_PRUNING),
        ("gemm", SEED, Knobs()),
        ("gemm", SMALL, Knobs()),
        ("gemm", SEED, Knobs(no_spatial_reduction=True)),
        ("gemm", SMALL, SMALL_PRUNING),
        ("dwconv", SEED, Knobs()),
        ("dwconv", SMALL, Knobs()),
        ("dwconv", SEED, Knobs(no_feature_dram=True)),
        ("dwconv", SMALL, Knobs(pe_util=0.25)),
        ("dwconv", SMALL, SMALL_PRUNING),
    ],
    ids=[
        "conv-seed",
        "conv-small",
        "conv-seed-knobs",
        "conv-small-knobs",
        "gemm-seed",
        "gemm-small",
        "gemm-seed-no-reduction",
        "gemm-small-knobs",
        "dw-seed",
        "dw-small",
        "dw-seed-no-feature-dram",
        "dw-small-pe-util",
        "dw-small-knobs",
    ],
)
def test_exhaustive_search_equals_brute_force(layer_name: str, arch: Arch, knobs: Knobs) -> None:
    layer = LAYERS[layer_name]
    nest = layer_from_json(layer.op, {"name": layer_name, **layer.entry}, source="test", path=layer_name)
    assert dict(zip(nest.loops, nest.extents, strict=True)) == layer.extents
    problem = Problem(nest, arch, knobs)
    count, best = brute_force(layer, problem)
    found = exhaustive_search(problem)
    assert count > 0
    assert found.tilings == count
    assert {objective: found.best[objective].value for objective in best} == best
