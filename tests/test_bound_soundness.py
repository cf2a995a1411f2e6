"""The lower bounds the proof rests on never exceed an exact value (docs/lower-bounds.md), checked tiling by
tiling: 10,000 valid tilings per shipped arch and per random network configuration, every objective.

For each tiling, the leaf bound of its SPM tile, the subtree bound of a node holding that tile alone, the
bound of its (spatial, RF) block, the bound of its spatial tuple, the bound over the whole space and the floors of
the SPM tile table must each be at most the tiling's exact minimum over its ordering pairs. The tabulated minima
the subtree bound reads are checked against a brute force.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from optimality import network_archs

from dmz_solver.arch import Arch, load_arch
from dmz_solver.cost.batch import evaluate_batch
from dmz_solver.layout import RF, SP
from dmz_solver.loopnest import LoopNest
from dmz_solver.problem import Problem
from dmz_solver.problem.space import LoopSpace, next_inner, problem_spatial_tuples
from dmz_solver.search.bnb import branch_and_bound
from dmz_solver.search.bounds import (
    block_bounds_of,
    bound_value,
    dma_cycles_floor,
    energy_floor,
    global_lower_bound,
    leaf_bounds_of,
    reduction_floors,
    spatial_bounds,
)
from dmz_solver.search.exhaustive import TaskSearch, exhaustive_search
from dmz_solver.search.floors import space_floors
from dmz_solver.search.supply import no_supply
from dmz_solver.search.table_search import Pruning
from dmz_solver.vocabulary import Objective
from dmz_solver.workload.canonical import BlockIter, MacBlock, TensorAccess, canonical_nest
from dmz_solver.workload.templates import conv_nest, gemm_nest

LAYERS = (
    conv_nest("conv3x3", n=1, m=8, c=4, in_rows=8, in_cols=8, f_rows=3, f_cols=3, stride=(1, 1)),
    conv_nest("conv1x1s2", n=2, m=4, c=8, in_rows=7, in_cols=7, f_rows=1, f_cols=1, stride=(2, 2)),
    conv_nest("dw3x3s2", n=1, m=1, c=8, in_rows=9, in_cols=9, f_rows=3, f_cols=3, stride=(2, 2), depthwise=True),
    gemm_nest("gemm", x=16, y=12, k=8),
    # (8 - 3) mod 2 = 1: no SPM tile covers a whole input row, so every row of every channel is one DMA invocation
    conv_nest("conv3x3s2", n=1, m=4, c=4, in_rows=8, in_cols=8, f_rows=3, f_cols=3, stride=(2, 2)),
)
PER_ARCH = 10_000


def valid_tilings(problem: Problem) -> np.ndarray:
    """Every valid tiling of the problem, in enumeration order."""
    divs, ndivs = problem.divisor_table
    ext = np.array(problem.nest.extents, np.int64)
    space = LoopSpace(ext, divs, ndivs, problem.loop_masks[1])
    work = np.empty(len(ext), np.int64)
    out = []
    for sp in problem_spatial_tuples(problem):
        t = np.ones((4, len(ext)), np.int64)
        t[SP] = sp
        idx = np.full(2 * len(ext), -1, np.int64)
        pos = next_inner(t, 0, idx, space, problem.arrays, work)
        while pos >= 0:
            out.append(t.copy())
            pos = next_inner(t, pos, idx, space, problem.arrays, work)
    return np.array(out).reshape(-1, 4, len(ext))


def checked_tilings(nest: LoopNest, arch: Arch, count: int, seed: int) -> int:
    """Check every bound on `count` random valid tilings of `nest`; returns how many were checked."""
    problem = Problem(nest, arch)
    tilings = valid_tilings(problem)
    rng = np.random.default_rng(seed)
    tilings = tilings[np.sort(rng.permutation(len(tilings))[:count])]
    prof = problem.batch_profiles(tilings)
    routed = prof.pi[prof.which].any(axis=(1, 2))  # the tuple has a split on this array
    tilings = tilings[routed]
    if len(tilings) == 0:
        return 0
    prof = problem.batch_profiles(tilings)
    exact = np.zeros((len(tilings), 3))
    evaluate_batch(tilings, problem.arrays, prof, exact, np.zeros((len(tilings), 3, 4), np.int64))
    e_floor = energy_floor(problem)
    tables = TaskSearch(problem).tables
    floors = space_floors(problem, tables.tiles)
    pruning = Pruning(0, np.inf, e_floor)
    reduction = reduction_floors(nest, tilings[:, SP], prof.pi[prof.which], prof.pf[prof.which])
    blocks, leaves = np.zeros((len(tilings), 3)), np.zeros((len(tilings), 3))
    block_bounds_of(tilings, problem.arrays, prof, pruning, blocks)
    assert np.all(blocks[:, 2] <= blocks[:, 1] * (1 + 1e-12))  # the quick cycle bound only loosens the block's
    leaf_bounds_of(tilings, problem.arrays, prof, pruning, leaves)
    assert np.all(leaves[:, 2] >= blocks[:, 0] * (1 - 1e-12))  # the subtree bound only tightens the block's
    assert np.all(leaves[:, 0] >= leaves[:, 2] * (1 - 1e-12))  # and the leaf bound the subtree's
    pe_energy = np.maximum(e_floor, tables.pe_energy[pe_tile_index(problem, tilings, tables.div.radix)])
    assert np.all(pe_energy <= leaves[:, 2] * (1 + 1e-12))  # §2d leaves out parts of the subtree bound
    quick = np.array([bound_value(2, e, c) for e, c in zip(pe_energy, blocks[:, 2], strict=True)])
    assert np.all(quick <= exact[:, 2]), (nest.name, int(np.argmax(quick - exact[:, 2])))  # the search's EDP test
    alone = np.array([bound_value(0, e, 0.0) for e in pe_energy])
    assert np.all(alone <= exact[:, 0]), (nest.name, int(np.argmax(alone - exact[:, 0])))  # and its energy test
    for objective in Objective:
        column = objective.column
        block = np.array([bound_value(column, e, c) for e, c, _ in blocks])
        for energy in (0, 2):
            leaf = np.array([bound_value(column, row[energy], row[1]) for row in leaves])
            assert np.all(leaf <= exact[:, column]), (nest.name, objective, int(np.argmax(leaf - exact[:, column])))
        tuple_bound = spatial_bounds(tilings[:, SP], nest.macs, e_floor, dma_cycles_floor(problem), column, reduction)
        worst = exact[:, column]
        assert np.all(block <= worst), (nest.name, objective, int(np.argmax(block - worst)))
        assert np.all(tuple_bound <= worst), (nest.name, objective)
        assert global_lower_bound(problem, objective) <= worst.min(), (nest.name, objective)
        floor = bound_value(column, floors.energy, floors.cycles)  # §1b: the SPM tile table's floors
        assert np.all(floor <= worst), (nest.name, objective, int(np.argmax(floor - worst)))
        assert np.all(block > 0), (nest.name, objective)  # a real bound, not a vacuous one
    return len(tilings)


def pe_tile_index(problem: Problem, tilings: np.ndarray, radix: np.ndarray) -> np.ndarray:
    """Each tiling's PE-array tile e^PE = t^RF * t^SP as an index of the layer tables (the tuple of its divisor
    positions in their mixed radix)."""
    divs, _ = problem.divisor_table
    e_pe = tilings[:, RF] * tilings[:, SP]
    index = np.zeros(len(tilings), np.int64)
    for loop in range(e_pe.shape[1]):
        index += np.searchsorted(divs[loop, : np.count_nonzero(divs[loop])], e_pe[:, loop]) * radix[loop]
    return index


@pytest.mark.parametrize("arch", ["dmazerunner", "eyeriss", "tpu_like", "edge_8x8", "tpu_v1_256", "mxu_128"])
def test_bounds_hold_on_random_tilings_of_every_shipped_arch(arch: str) -> None:
    checked = sum(checked_tilings(nest, load_arch(arch), PER_ARCH // len(LAYERS), i) for i, nest in enumerate(LAYERS))
    assert checked >= 0.9 * PER_ARCH


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(arch=network_archs())
def test_bounds_hold_on_random_networks(arch: Arch) -> None:
    checked = sum(checked_tilings(nest, arch, PER_ARCH // len(LAYERS), i) for i, nest in enumerate(LAYERS))
    assert checked >= 0.5 * PER_ARCH


@pytest.mark.parametrize("nest", LAYERS[:2] + LAYERS[3:], ids=lambda n: n.name)
def test_tabulated_subtree_minima_equal_a_brute_force_over_the_multiples(nest: LoopNest) -> None:
    """spm_tile_minima (docs/lower-bounds.md §2b): for every tuple E and every set σ of possible skip operands,
    the smallest DMA energy and refetch product over the valid tiles that are multiples of E and equal to it on
    the loops indexing σ."""
    search = TaskSearch(Problem(nest, load_arch("dmazerunner")))
    tiles, space, isidx = search.tables.tiles, search.space, search.problem.arrays.isidx
    radix = search.tables.div.radix
    nops, n_loops = isidx.shape
    positions = np.array([(np.arange(len(tiles.state)) // radix[lp]) % space.ndivs[lp] for lp in range(n_loops)]).T
    factors = np.take_along_axis(space.divs, positions.T, axis=1).T  # factors[E, loop]
    refetch = np.ones((nops, len(tiles.state)))
    for op in range(nops):
        for loop in range(n_loops):
            if not isidx[op, loop]:
                refetch[op] *= space.ext[loop] // factors[:, loop]
    valid = tiles.state == 2
    assert valid.any()
    for skippable in range(1 << nops):
        frozen = np.zeros(n_loops, bool)
        for op in range(nops):
            if (skippable >> op) & 1:
                frozen |= isidx[op]
        for e in range(len(tiles.state)):
            under = (
                valid
                & np.all(factors % factors[e] == 0, axis=1)
                & np.all(factors[:, frozen] == factors[e, frozen], axis=1)
            )
            expected = [refetch[op][under].min() if under.any() else np.inf for op in range(nops)]
            expected.append(tiles.dma_min[under].min() if under.any() else np.inf)
            expected.append(tiles.dma_cycles[under].min() if under.any() else np.inf)
            assert list(tiles.below[skippable, :, e]) == expected, (skippable, e)


def test_dma_cycle_bound_charges_a_reused_output_its_store_and_its_reload() -> None:
    """docs/lower-bounds.md §2c: an output reused over the DRAM passes pays both miss terms of §5.8 ([RB] dma2 =
    Cum[u] for the output). Hand-computed on tpu_v1_256 (200 cycles an invocation, 0.023 a byte, 1 B), with C split
    4 ways at DRAM and every other loop spatial, so T is a few cycles and each pass waits for its DMA:
    input tile 1 x 1 x 7 x 7 in 1 x 4 x 8 x 8 (no tile spans a row of 8): 7 invocations of ceil(200.161) = 201;
    weights 4 x 1 x 3 x 3 in 4 x 4 x 3 x 3: 4 invocations of ceil(200.207) = 201; so Cum[1] = 2,211 a pass;
    output one burst of 36 B, ceil(200.828) = 201, reused over the 4 passes: 4 x 2,211 + 2 x 201 = 9,246 cycles,
    where the output's DMA counted once would give 9,045."""
    nest = LAYERS[4]
    problem = Problem(nest, load_arch("tpu_v1_256"))
    tiling = np.array([[1, 1, 4, 1, 1, 1, 1], [1] * 7, [1] * 7, [1, 4, 1, 3, 3, 3, 3]], np.int64)  # DRAM, SPM, RF, SP
    prof = problem.batch_profiles(tiling[None])
    exact = np.zeros((1, 3))
    evaluate_batch(tiling[None], problem.arrays, prof, exact, np.zeros((1, 3, 4), np.int64))
    leaves = np.zeros((1, 3))
    leaf_bounds_of(tiling[None], problem.arrays, prof, Pruning(1, np.inf, energy_floor(problem)), leaves)
    assert exact[0, 1] == 9246
    assert leaves[0, 1] == 9246


def test_block_cycle_bound_charges_the_output_noc_it_cannot_reuse_away() -> None:
    """docs/lower-bounds.md §2, by hand on the seed's bus (noc = D_PE): a 1x1 convolution, M = 4, C = 8, Ox = 4, with
    M spatial over 4 PEs and Ox whole in each RF. D_PE is 16 for the output, 4 for the input and 4 for the weights;
    comp = 4 and there are 8 RF passes. M and Ox have no trips left, so the output cannot have SPM reuse 1 (case A);
    the innermost loop with trips is C, whose operands put comm[1] at 4, and the output's 16 elements are sent once
    per r <= 8 passes with its stall: 8 x 4 + 8 x ((16 - 4) + 4) / 8 = 48, or resident, 8 x 4 + (4 + 12) x V = 48
    (V = 1 output tile). The old bound took the second smallest NoC time with the output's 4-cycle stall: 36.
    The block holds tilings whose exact cycles are DMA-bound (1,934 with C at DRAM, 190 with C whole in the SPM);
    their leaf bounds (§2a, §2c) reach them."""
    nest = conv_nest("pw", n=1, m=4, c=8, in_rows=4, in_cols=1, f_rows=1, f_cols=1, stride=(1, 1))
    problem = Problem(nest, load_arch("dmazerunner"))
    assert nest.extents == (1, 4, 8, 4, 1, 1, 1)
    blocks = np.array([[1, 1, 8, 1, 1, 1, 1], [1] * 7, [1, 1, 1, 4, 1, 1, 1], [1, 4, 1, 1, 1, 1, 1]], np.int64)
    whole_c = blocks.copy()
    whole_c[[0, 1], 2] = (1, 8)  # C's 8 trips in the SPM, none at DRAM
    tilings = np.stack([blocks, whole_c])
    prof = problem.batch_profiles(tilings)
    bounds = np.zeros((2, 3))
    block_bounds_of(tilings, problem.arrays, prof, Pruning(1, np.inf, energy_floor(problem)), bounds)
    assert list(bounds[:, 1]) == [48, 48]
    assert list(bounds[:, 2]) == [48, 48]  # the quick bound: the same NoC times, no reduction here
    leaves = np.zeros((2, 3))
    leaf_bounds_of(tilings, problem.arrays, prof, Pruning(1, np.inf, energy_floor(problem)), leaves)
    exact = np.zeros((2, 3))
    evaluate_batch(tilings, problem.arrays, prof, exact, np.zeros((2, 3, 4), np.int64))
    assert list(exact[:, 1]) == [1934, 190]
    assert list(leaves[:, 1]) == [1934, 190]


def test_spatial_bound_charges_the_reduction_of_every_output() -> None:
    """docs/lower-bounds.md §3, by hand on the seed's bus: a 16 x 16 x 64 GEMM with K split over 4 PEs. Each of the
    256 outputs has 4 partial sums, 3 of which cross the bus at one element a cycle: 768 cycles on top of 16,384 MACs
    over 4 PEs (4,096). Each addition costs three RF accesses, a NoC hop and a MAC, 3 x 0.96 + 2 + 0.075 = 4.955 pJ:
    3,805.44 pJ. The tuple's best tiling takes 5,120 cycles; without the reduction the bound was 4,096. Tuples that
    do not split K have no reduction."""
    nest = gemm_nest("gemm", x=16, y=16, k=64)
    problem = Problem(nest, load_arch("dmazerunner"))
    search = TaskSearch(problem)
    tasks = search.tasks
    reduction = reduction_floors(nest, tasks.sps, tasks.pi, tasks.pf)
    split_k = np.flatnonzero((tasks.sps == (1, 1, 4)).all(axis=1))
    assert reduction[:, split_k].tolist() == [[768.0], [pytest.approx(3805.44)]]
    assert np.all(reduction[:, tasks.sps[:, 2] == 1] == 0)
    floors = space_floors(problem, search.tables.tiles)
    assert floors.cycles == 1024  # each of the 1,024 weights crosses the bus
    cycles = spatial_bounds(tasks.sps[split_k], nest.macs, floors.energy, floors.cycles, 1, reduction[:, split_k])
    energy = spatial_bounds(tasks.sps[split_k], nest.macs, floors.energy, floors.cycles, 0, reduction[:, split_k])
    best = search.run(split_k).best[0]
    assert cycles[0] == pytest.approx(4864) and best[1] == 5120
    assert energy[0] == pytest.approx(floors.energy + 3805.44 - 1) and energy[0] <= best[0]


def test_an_output_indexed_by_a_sum_of_loops_gets_no_reduction_floor() -> None:
    """out[i + j] += A[i, k] * B[k, j], which the front-end's canonical form accepts as a GEMM: the output's 15
    elements are not its 64 (i, j) pairs, and D_RF is the box t_i + t_j - 1, so §3's identity does not hold and the
    floor must not apply. With it, the proof claimed 29,262,112 optimal on eyeriss (EDP); the optimum is 29,206,416."""
    i, j, k = sympy.symbols("i j k")
    block = MacBlock(
        "diagonal",
        (BlockIter(i, 8, False), BlockIter(j, 8, False), BlockIter(k, 16, True)),
        TensorAccess("O", (i + j,), (15,)),
        (TensorAccess("A", (i, k), (8, 16)), TensorAccess("B", (k, j), (16, 8))),
    )
    nest = canonical_nest(block, "diagonal")
    problem = Problem(nest, load_arch("eyeriss"))
    tasks = TaskSearch(problem).tasks
    assert not reduction_floors(nest, tasks.sps, tasks.pi, tasks.pf).any()
    proved = branch_and_bound(problem, Objective.EDP, supplier=no_supply)
    assert proved.value == exhaustive_search(problem).best["edp"].value == 29_206_416
