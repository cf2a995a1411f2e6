"""Hand-checked numbers of docs/cost-model.md: the worked example of §9, the candidate orders of §3.4,
the DMA latencies of §5.7 and the auto-optimize schedule of §8."""

from __future__ import annotations

import numpy as np
import pytest

from dmz_solver.arch import Arch
from dmz_solver.cost.batch import make_workspace, tiling_minima
from dmz_solver.cost.evaluate import evaluate_mapping
from dmz_solver.cost.reference import evaluate_pairs, tiling_terms
from dmz_solver.cost.reuse import level_reuse
from dmz_solver.cost.terms import T_G_OUT, T_RED, T_TC_DRAM, T_TC_RF, T_TC_SP, T_TC_SPM, dma_delta
from dmz_solver.layout import DRAM, SP, SPM
from dmz_solver.loopnest import LoopNest
from dmz_solver.problem import Knobs, Problem
from dmz_solver.problem.mapping import Mapping
from dmz_solver.problem.ordering import candidate_orders, order_names, subsequences_postorder
from dmz_solver.problem.space import tiling_violations
from dmz_solver.problem.validity import rf_elems_used, spm_usage
from dmz_solver.search.auto import auto_schedule
from dmz_solver.workload.spec_json import layer_from_json

SEED_ARCH = Arch("dmazerunner")

# §9.1: the layer and its first tiling, over (N, M, C, Ox, Oy, Fx, Fy)
EXAMPLE_LAYER = {"name": "example", "size_tensor_A": [2, 8, 17, 17], "size_tensor_B": [16, 8, 3, 3], "strides": [2, 2]}
TILING_1 = np.array(
    [
        [2, 2, 2, 2, 1, 1, 1],  # DRAM
        [1, 1, 1, 1, 2, 1, 1],  # SPM
        [1, 2, 2, 2, 1, 3, 3],  # RF
        [1, 4, 2, 2, 4, 1, 1],  # SPATIAL
    ],
    np.int64,
)
# §9.9: only the DRAM and SPM factors change
TILING_2 = TILING_1.copy()
TILING_2[DRAM] = [2, 2, 1, 2, 1, 1, 1]
TILING_2[SPM] = [1, 1, 2, 1, 2, 1, 1]


def _nest(op: str, **entry: object) -> LoopNest:
    return layer_from_json(op, {"name": op.lower(), **entry}, source="test", path=op)


@pytest.fixture(scope="module")
def example() -> Problem:
    return Problem(_nest("CONV", **EXAMPLE_LAYER), SEED_ARCH)


def _terms(problem: Problem, tiling: np.ndarray) -> dict[str, object]:
    """Per-tiling quantities of §5.1-§5.7 and §6.1 from the kernel."""
    prof = problem.unrollings(tiling[SP])[0]
    tt = tiling_terms(tiling, problem.arrays, prof)
    return {
        name: getattr(tt, name)
        for name in ("ti", "noc", "dma", "dspm", "e_noc", "e_spm", "e_dma", "tiles", "e_base", "e_red")
    }


def _pairs(problem: Problem, tiling: np.ndarray) -> list[tuple[tuple, tuple, int, float, list[float]]]:
    """Every ordering pair: (DRAM reuse, SPM reuse, energy, cycles, breakdown)."""
    arrays = problem.arrays
    isidx, cands = arrays.isidx, arrays.cands
    prof = problem.unrollings(tiling[SP])[0]
    energy, cycles, breakdown, ids = evaluate_pairs(tiling, arrays, prof)

    def reuse(level: int, cand: int) -> tuple[int, ...]:
        reps, first = np.zeros((1, 3), np.int64), np.zeros(1, np.int64)
        level_reuse(tiling[level], cands[cand : cand + 1], isidx, reps, first)
        return tuple(int(r) for r in reps[0])

    return [
        (reuse(DRAM, ids[i, 1]), reuse(SPM, ids[i, 0]), int(energy[i]), float(cycles[i]), breakdown[i].tolist())
        for i in range(len(energy))
    ]


def test_example_layer_extents_and_macs(example: Problem) -> None:
    nest = example.nest
    assert dict(zip(nest.loops, nest.extents, strict=True)) == {
        "N": 2,
        "M": 16,
        "C": 8,
        "Ox": 8,
        "Oy": 8,
        "Fx": 3,
        "Fy": 3,
    }
    assert nest.macs == 147456


def test_example_footprints_and_validity(example: Problem) -> None:
    """§9.2: footprints per operand (O, I, W) and the capacity checks."""
    terms = _terms(example, TILING_1)
    e_rf, e_pe, e_spm = terms["tiles"]
    assert e_rf.tolist() == [1, 2, 2, 2, 1, 3, 3]
    assert e_pe.tolist() == [1, 8, 4, 4, 4, 3, 3]
    assert e_spm.tolist() == [1, 8, 4, 4, 8, 3, 3]
    assert [op.footprint(tuple(e_rf)) for op in example.nest.operands] == [4, 30, 36]
    assert terms["noc"].tolist() == [128, 324, 288]  # D_PE
    assert terms["dspm"].tolist() == [256, 612, 288]  # D_SPM
    dcoef, ndims = example.arrays.dcoef, example.arrays.ndims
    assert rf_elems_used(TILING_1, dcoef, ndims) == 70
    assert spm_usage(TILING_1, dcoef, ndims, example.int_params, np.zeros(7, np.int64)) == (2312, 3)
    assert tiling_violations(example, TILING_1) == []


def test_example_cycle_and_energy_terms(example: Problem) -> None:
    """§9.4 and §9.7: the per-tiling cycle quantities and energy terms."""
    terms = _terms(example, TILING_1)
    ti = terms["ti"]
    assert (ti[T_TC_DRAM], ti[T_TC_SPM], ti[T_TC_RF], ti[T_TC_SP]) == (16, 2, 72, 64)
    assert ti[T_RED] == 128 and ti[T_G_OUT] == 32
    assert terms["dma"].tolist() == [384, 228, 392]
    assert terms["e_base"] == pytest.approx(11059.2 + 566231.04, rel=1e-15)
    assert terms["e_red"] == pytest.approx(634.24, rel=1e-15)
    assert terms["e_noc"].tolist() == [256, 3840, 4608]
    assert terms["e_spm"].tolist() == [1728, 4374, 3888]
    assert terms["e_dma"].tolist() == [51200, 122400, 57600]


def test_example_candidate_orders_and_reuse(example: Problem) -> None:
    """§9.3: 15 candidates; their three innermost loops are fixed (the rest is hash order in the seed)."""
    printed = [
        "Fx Fy Oy Ox M N C",
        "Fy Oy Ox M N C Fx",
        "C Fy Oy Ox M N Fx",
        "Fx Oy Ox M N C Fy",
        "Oy Ox M N C Fx Fy",
        "C Oy Ox M N Fx Fy",
        "C Fx Oy Ox M N Fy",
        "Fy Oy Fx Ox C N M",
        "Ox Oy Fy Fx C M N",
        "N Oy Fy Fx C M Ox",
        "Oy Fy Fx C M N Ox",
        "N Ox Fy Fx C M Oy",
        "Ox Fy Fx C M N Oy",
        "N Fy Fx C M Ox Oy",
        "Fy Fx C M N Ox Oy",
    ]
    ours = [order_names(example.nest, order) for order in example.orders]
    assert [names[-3:] for names in ours] == [line.split()[-3:] for line in printed]
    pairs = _pairs(example, TILING_1)
    assert [(d, s) for d, s, *_ in pairs] == [
        ((2, 1, 1), (1, 1, 2)),  # D1
        ((1, 1, 2), (1, 1, 2)),  # D2
        ((1, 2, 1), (1, 1, 2)),  # D3
        ((1, 1, 4), (1, 1, 2)),  # D4
    ]


def test_example_pair_energies_and_cycles(example: Problem) -> None:
    """§9.6-§9.7: whole-layer energy and cycles of the four pairs, and the D1 breakdown."""
    pairs = _pairs(example, TILING_1)
    assert [(e, c) for _, _, e, c, _ in pairs] == [
        (4412946, 16768),
        (4703378, 19488),
        (4252946, 20384),
        (4438994, 18128),
    ]
    d1_breakdown = pairs[0][4]
    assert d1_breakdown == pytest.approx([11366.4, 578027.52, 221184, 312768, 3289600], rel=1e-12)
    assert sum(d1_breakdown) == pytest.approx(4412945.92, rel=1e-12)


def test_example_minima_of_both_tilings(example: Problem) -> None:
    """§9.8 and §9.9: the per-tiling minima, each over all pairs."""
    arrays = example.arrays
    workspace = make_workspace(3, arrays.cands.shape[0], 7)
    best, best_pair = np.zeros(3), np.zeros((3, 4), np.int64)
    prof = example.unrollings(TILING_1[SP])[0]
    tiling_minima(TILING_1, arrays, prof, workspace, best, best_pair)
    assert best.tolist() == [4252946, 16768, 73996278528]
    assert best_pair[0, 1] == 2 and best_pair[2, 1] == 0  # energy at D3, EDP at D1: not the same pair
    prof = example.unrollings(TILING_2[SP])[0]
    tiling_minima(TILING_2, arrays, prof, workspace, best, best_pair)
    assert best.tolist() == [3433746, 13568, 47434352128]


def test_second_tiling_cycles_by_spm_representative(example: Problem) -> None:
    """§9.9: 13568 cycles with S1 (output reused over 2 RF passes) for every DRAM rep, 16768 with S2."""
    pairs = _pairs(example, TILING_2)
    by_spm: dict[tuple, set[float]] = {}
    for _, spm_reuse, _, cycles, _ in pairs:
        by_spm.setdefault(spm_reuse, set()).add(cycles)
    assert by_spm == {(2, 1, 1): {13568}, (1, 1, 2): {16768}}


def test_evaluate_mapping_without_orders_reports_the_objectives_best_pair(example: Problem) -> None:
    mapping = Mapping.from_array(example.nest.loops, TILING_1)
    assert evaluate_mapping(example, mapping, "energy")[1].energy_pj == 4252946
    assert evaluate_mapping(example, mapping, "cycles")[1].cycles == 16768
    _, cost = evaluate_mapping(example, mapping, "edp")
    assert (cost.energy_pj, cost.cycles) == (4412946, 16768)


def test_dma_latency_examples() -> None:
    """§5.7: delta(16384 bytes) = 660 and delta(6272 bytes) = 281 accelerator cycles on the seed arch."""
    fp = Problem(_nest("GEMM", size_tensor_A=[2, 2], size_tensor_B=[2, 2]), SEED_ARCH).float_params
    assert dma_delta(16384, fp) == 660
    assert dma_delta(6272, fp) == 281


def test_subsequences_in_post_order() -> None:
    """§3.4: each subsequence comes after all of its own extensions."""
    assert subsequences_postorder(("a", "b", "c")) == [
        ("a", "b", "c"),
        ("a", "b"),
        ("a", "c"),
        ("a",),
        ("b", "c"),
        ("b",),
        ("c",),
    ]
    assert len(subsequences_postorder(tuple(range(5)))) == 2**5 - 1


@pytest.mark.parametrize(
    ("op", "entry", "count"),
    [
        ("CONV", {"size_tensor_A": [2, 4, 6, 6], "size_tensor_B": [8, 4, 3, 3]}, 15),
        ("CONV", {"size_tensor_A": [1, 4, 6, 6], "size_tensor_B": [8, 4, 3, 3]}, 25),
        ("DW_CONV", {"size_tensor_A": [1, 4, 6, 6], "size_tensor_B": [1, 4, 3, 3]}, 33),
        ("DW_CONV", {"size_tensor_A": [2, 4, 6, 6], "size_tensor_B": [1, 4, 3, 3]}, 23),
        ("GEMM", {"size_tensor_A": [4, 6], "size_tensor_B": [6, 8]}, 3),
        ("CONV", {"size_tensor_A": [1, 4, 6, 6], "size_tensor_B": [8, 4, 1, 1]}, 61),
        ("GEMM", {"size_tensor_A": [1, 6], "size_tensor_B": [6, 8]}, 7),
    ],
    ids=["conv-N2", "conv-N1", "dw-N1", "dw-N2", "gemm", "conv1x1-N1", "gemm-X1"],
)
def test_candidate_order_counts(op: str, entry: dict, count: int) -> None:
    assert len(candidate_orders(_nest(op, strides=[1, 1], **entry))) == count


def test_gemm_candidates_outermost_first() -> None:
    nest = _nest("GEMM", size_tensor_A=[4, 6], size_tensor_B=[6, 8])
    assert [order_names(nest, order) for order in candidate_orders(nest)] == [
        ["Y", "X", "K"],
        ["Y", "K", "X"],
        ["K", "X", "Y"],
    ]


def test_auto_schedule_follows_the_seeds_double_arithmetic() -> None:
    """§8: the relaxation steps with the values actually compared; step 8 gives the layer up."""
    steps = [
        (s.pe_util, s.rf_util, s.spm_util, s.no_feature_dram, s.no_spatial_reduction, s.min_exec_methods)
        for s in auto_schedule()
    ]
    assert steps == [
        (0.8, 0.8, 0.5, True, True, 100),
        (0.7000000000000001, 0.7000000000000001, 0.5, True, True, 100),
        (0.6000000000000001, 0.6000000000000001, 0.5, True, True, 100),
        (0.5000000000000001, 0.5000000000000001, 0.4, True, True, 100),
        (0.40000000000000013, 0.40000000000000013, 0.30000000000000004, True, True, 100),
        (0.30000000000000016, 0.30000000000000016, 0.20000000000000004, True, True, 100),
        (0.20000000000000015, 0.20000000000000015, 0.10000000000000003, False, False, 1),
        (0.10000000000000014, 0.10000000000000014, 2.7755575615628914e-17, False, False, 1),
    ]


def test_auto_schedule_starts_from_given_utilisations_with_pruning_forced_on() -> None:
    first = next(auto_schedule(Knobs(0.5, 0.25, 0.0, False, False, 1)))
    assert (first.pe_util, first.rf_util, first.spm_util) == (0.5, 0.25, 0.0)
    assert first.no_feature_dram and first.no_spatial_reduction and first.min_exec_methods == 100
