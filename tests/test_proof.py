"""The proof record of a branch-and-bound result, and the CP-SAT candidates it starts from."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from dmz_solver.arch import Arch, arch_from_json, load_arch, resolve_arch_path
from dmz_solver.cache import LayerCache, SolveKey
from dmz_solver.errors import InputError
from dmz_solver.problem import Problem
from dmz_solver.problem.space import tiling_violations
from dmz_solver.search.bnb import branch_and_bound
from dmz_solver.search.bounds import dma_calls_floor, dma_cycles_floor, energy_floor
from dmz_solver.search.cpsat_model import TOP_K, cpsat_supply
from dmz_solver.search.exhaustive import TaskSearch, exhaustive_search
from dmz_solver.search.floors import space_floors
from dmz_solver.search.supply import no_supply
from dmz_solver.solving import solve_layer
from dmz_solver.specio import read_json
from dmz_solver.vocabulary import Objective, Status
from dmz_solver.workload.templates import conv_nest, gemm_nest

CONV = conv_nest("c", n=1, m=8, c=8, in_rows=8, in_cols=8, f_rows=3, f_cols=3, stride=(1, 1))
GEMM = gemm_nest("g", x=16, y=12, k=8)


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize("arch", ["dmazerunner", "eyeriss"])
def test_candidates_are_distinct_valid_mappings_under_the_bound(objective: Objective, arch: str) -> None:
    problem = Problem(CONV, load_arch(arch))
    supply = cpsat_supply(problem, objective)
    assert 1 <= len(supply.candidates) <= TOP_K
    keys = {(t.tobytes(), rows) for t, rows in supply.candidates}
    assert len(keys) == len(supply.candidates)
    for tiling, _ in supply.candidates:
        assert tiling_violations(problem, tiling) == []
    optimum = exhaustive_search(problem).best[objective].value
    assert supply.lower_bound is not None and supply.lower_bound <= optimum


SHIPPED = ("dmazerunner", "eyeriss", "tpu_like", "edge_8x8", "tpu_v1_256", "mxu_128")


@pytest.mark.parametrize("arch", SHIPPED)
def test_the_tile_tables_floors_lift_the_root_bound_and_stay_below_every_optimum(arch: str) -> None:
    """docs/lower-bounds.md §1b: CP-SAT's bound over the SPM tile table's floors is at most the exhaustive optimum of
    each objective, and at least the bound over the floors without the table."""
    for nest in (CONV, GEMM):
        problem = Problem(nest, load_arch(arch))
        floors = space_floors(problem, TaskSearch(problem).tables.tiles)
        plain = space_floors(problem)
        assert floors.energy >= plain.energy > energy_floor(problem) and floors.cycles >= plain.cycles
        best = exhaustive_search(problem).best
        for objective in Objective:
            bound = cpsat_supply(problem, objective, floors=floors).lower_bound
            assert bound is not None and bound <= best[objective].value, (nest.name, objective)
            assert bound >= cpsat_supply(problem, objective).lower_bound, (nest.name, objective)


def test_the_root_bound_allows_for_energies_rounded_to_whole_pj() -> None:
    """With a floor of 480.3 pJ a 1-MAC GEMM costs 480 pJ once rounded (docs/cost-model.md §6.4): CP-SAT's energy
    and EDP bounds must stay below, as the block bounds do (a reviewer's case: the bound was 480.33)."""
    spec = read_json(resolve_arch_path("tpu_like"))
    spec["arch_details"].update(communication_energy=0.0, rf_energy=0.0, mac_energy=0.3, spm_energy=0.01)
    for network in spec["networks"].values():
        network["energy"] = 0.0
    problem = Problem(gemm_nest("g", x=1, y=1, k=1), arch_from_json(spec, source="tpu_like.json", name="free_noc"))
    floors = space_floors(problem, TaskSearch(problem).tables.tiles)
    best = exhaustive_search(problem).best
    assert best[Objective.ENERGY].value < floors.energy  # the rounding is what the bound must allow for
    for objective in (Objective.ENERGY, Objective.EDP):
        bound = cpsat_supply(problem, objective, floors=floors).lower_bound
        assert bound is not None and bound <= best[objective].value, objective
        result = branch_and_bound(problem, objective)
        assert result.proof.root_bound <= result.value, objective


def test_the_tile_tables_floors_bring_the_root_bound_of_an_off_chip_layer_within_ten_percent() -> None:
    """A 256 x 256 x 256 GEMM does not fit dmazerunner's 64 KiB SPM, so operands are fetched from DRAM more than
    once. Every touched element once from DRAM leaves CP-SAT's energy bound 24% below the optimum; the smallest
    DMA energy of any SPM tile that fits (§1b) brings it within 6%."""
    problem = Problem(gemm_nest("g", x=256, y=256, k=256), load_arch("dmazerunner"))
    result = branch_and_bound(problem, Objective.ENERGY)
    plain = cpsat_supply(problem, Objective.ENERGY).lower_bound
    assert result.status == Status.OPTIMAL
    assert (result.value - plain) / result.value > 0.2
    assert 0 <= result.proof.root_gap(result.value) < 0.1


def test_candidates_are_the_improving_solutions_best_first() -> None:
    problem = Problem(CONV, load_arch("dmazerunner"))
    supply = cpsat_supply(problem, Objective.CYCLES)
    assert len(supply.candidates) > 1
    pes = [int(tiling[3].prod()) for tiling, _ in supply.candidates]  # CP-SAT maximises the PEs used
    assert pes == sorted(pes, reverse=True)


@pytest.mark.parametrize("objective", list(Objective))
def test_proof_record_tells_how_the_optimum_was_proven(objective: Objective) -> None:
    result = solve_layer(GEMM, load_arch("dmazerunner"), objective)
    assert result.status == Status.OPTIMAL
    proof = result.proof
    assert proof is not None and proof.tilings_evaluated == result.tilings_evaluated > 0
    assert proof.root_bound is not None and proof.root_bound <= result.value
    assert proof.root_gap(result.value) == pytest.approx((result.value - proof.root_bound) / result.value)
    assert proof.rounds >= 1 and proof.candidates_rescored >= 1
    assert set(proof.seconds) == {"tables", "cpsat", "rescore", "seed", "branch_and_bound", "evaluate"}
    assert math.isclose(sum(proof.seconds.values()), result.seconds, abs_tol=0.01)
    text = result.to_json()["proof"]
    assert text["tilings_evaluated"] == result.tilings_evaluated and text["root_bound"] == proof.root_bound


def test_other_searches_have_no_proof_record() -> None:
    assert solve_layer(GEMM, load_arch("dmazerunner"), "edp", search="exhaustive").proof is None


def test_proof_record_survives_the_layer_cache(tmp_path) -> None:
    arch = load_arch("dmazerunner")
    result = solve_layer(GEMM, arch, "edp")
    cache = LayerCache(tmp_path)
    key = SolveKey(GEMM, arch, "edp", "cpsat", None, "", None)
    cache.put(key, result)
    assert cache.get(key).proof == result.proof


@pytest.mark.parametrize("objective", list(Objective))
def test_the_proof_needs_no_supplier(objective: Objective) -> None:
    """Without CP-SAT's candidates and bound the proof reaches the same optimum and mapping (the ablation)."""
    problem = Problem(CONV, load_arch("eyeriss"))
    with_cpsat = branch_and_bound(problem, objective)
    alone = branch_and_bound(problem, objective, supplier=no_supply)
    assert alone.status == with_cpsat.status == Status.OPTIMAL
    assert alone.mapping == with_cpsat.mapping and alone.cost == with_cpsat.cost
    assert alone.proof.root_bound is None and alone.proof.candidates_rescored == 0


def small_spm(arch_name: str) -> Arch:
    """A shipped arch with an SPM of 4 banks of 64 B: optima far above the energy floor."""
    spec = json.loads((Path(__file__).resolve().parent.parent / "archspecs" / f"{arch_name}.json").read_text())
    spec["arch_basic"].update(TOTAL_BANKS_IN_SPM=4, TOTAL_BYTES_IN_BANK=64)
    return arch_from_json(spec, source="test", name=f"{arch_name}-small-spm")


@pytest.mark.parametrize("arch_name", ["dmazerunner", "eyeriss", "tpu_like", "edge_8x8"])
def test_a_proof_that_skips_only_leaves_is_not_a_proof_of_infeasibility(arch_name: str) -> None:
    """Regression: when the leaf bound skipped every tiling of a round, the proof took the empty round for
    an exhausted space and reported INFEASIBLE (found by review on eyeriss with a tiny SPM, energy)."""
    arch = small_spm(arch_name)
    conv = conv_nest("c", n=1, m=8, c=8, in_rows=6, in_cols=6, f_rows=3, f_cols=3, stride=(1, 1))
    for nest in (gemm_nest("g", x=16, y=16, k=16), conv):
        found = exhaustive_search(Problem(nest, arch))
        for objective in Objective:
            result = solve_layer(nest, arch, objective)
            assert result.status == Status.OPTIMAL and result.value == found.best[objective].value, objective


def test_dma_floor_is_every_element_moved_once_plus_one_invocation_per_operand() -> None:
    problem = Problem(GEMM, load_arch("dmazerunner"))  # 500 MHz array, 3200 MHz DMA, 0.24 cycles/byte, 2 B, 291
    elements = 16 * 8 + 8 * 12 + 16 * 12
    assert dma_cycles_floor(problem) == pytest.approx(500 / 3200 * (0.24 * 2 * elements + 291 * 3))


def test_dma_floor_counts_an_invocation_per_input_row_when_no_tile_covers_a_row() -> None:
    """Stride 2 over 8 padded columns with a 3-wide filter reads columns 0..6 only: no SPM tile spans a whole row of
    8, so every transfer makes one invocation per (channel, row) it holds, and the 4 channels x 7 rows read need
    28 at least (docs/cost-model.md §5.6)."""
    nest = conv_nest("s2", n=1, m=4, c=4, in_rows=8, in_cols=8, f_rows=3, f_cols=3, stride=(2, 2))
    extents = tuple(nest.extents)
    assert [dma_calls_floor(op, extents) for op in nest.operands] == [1, 28, 1]  # output, input, weights
    for arch_name in ("dmazerunner", "tpu_v1_256"):
        problem = Problem(nest, load_arch(arch_name))
        arch = problem.arch
        touched = 4 * 3 * 3 + 4 * 7 * 7 + 4 * 4 * 3 * 3
        ratio = arch.accel_mhz / arch.dma_mhz
        expected = ratio * (arch.dma_cycles_per_byte * arch.dma_elem_bytes * touched + arch.dma_init_cycles * 30)
        assert dma_cycles_floor(problem) == pytest.approx(expected)
        assert dma_cycles_floor(problem) <= exhaustive_search(problem).best[Objective.CYCLES].value


def test_cpsat_bound_holds_the_dma_floor_on_a_memory_bound_layer() -> None:
    fc = gemm_nest("fc", x=1, y=1000, k=512)  # one MAC per weight: DMA time decides
    problem = Problem(fc, load_arch("eyeriss"))
    supply = cpsat_supply(problem, Objective.CYCLES)
    optimum = exhaustive_search(problem).best[Objective.CYCLES].value
    assert dma_cycles_floor(problem) > fc.macs / problem.arch.pe_count
    assert dma_cycles_floor(problem) * 0.999 <= supply.lower_bound <= optimum


def test_an_arch_whose_energies_round_to_zero_is_refused_before_any_model_is_built() -> None:
    silent = dataclasses.replace(load_arch("dmazerunner"), mac_energy_pj=1e-9, rf_energy_pj=0.0, dram_energy_pj=0.0)
    with pytest.raises(InputError, match="rounds to 0"):
        Problem(GEMM, silent)


def test_cpsat_gives_up_at_once_when_no_time_is_left() -> None:
    assert cpsat_supply(Problem(GEMM, load_arch("dmazerunner")), Objective.EDP, seconds=0.0).lower_bound is None


def test_auto_whose_schedule_ends_without_a_mapping_is_infeasible_not_unknown() -> None:
    result = solve_layer(GEMM, load_arch("tpu_v1_256"), "edp", search="auto")
    assert result.status == Status.INFEASIBLE and result.mapping is None
    assert "time limit" not in (result.reason or "")
