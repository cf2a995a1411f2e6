"""The CP-SAT search's proven optimum equals the exhaustive optimum of the same space."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optimality import proven_results, small_layers

from dmz_solver.arch import Arch
from dmz_solver.problem import Knobs, Problem
from dmz_solver.problem.mapping import Mapping
from dmz_solver.problem.space import tiling_violations
from dmz_solver.search.exhaustive import exhaustive_search
from dmz_solver.solving import solve_layer
from dmz_solver.vocabulary import Status
from dmz_solver.workload.templates import conv_nest, gemm_nest

INFEASIBLE, OPTIMAL = Status.INFEASIBLE, Status.OPTIMAL

SEED_ARCH = Arch("dmazerunner")
SMALL_ARCH = replace(
    SEED_ARCH,
    name="small",
    pe_count=16,
    rf_bytes=64,
    spm_banks=4,
    spm_bank_bytes=256,
    dma_init_cycles=100,
    dma_cycles_per_byte=0.5,
    dma_mhz=1600,
    accel_mhz=800,
)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(nest=small_layers(), arch=st.sampled_from([SEED_ARCH, SMALL_ARCH]))
def test_cpsat_optimum_equals_exhaustive_optimum(nest, arch):
    for objective, result, best in proven_results(nest, arch):
        assert tiling_violations(Problem(nest, arch), result.mapping.array()) == []
        # The reported orders reproduce the value (the fast path once returned the wrong DRAM order).
        assert solve_layer(nest, arch, objective, search="exhaustive").value == best


@pytest.mark.parametrize(
    "knobs",
    [Knobs(pe_util=0.5), Knobs(no_spatial_reduction=True, no_feature_dram=True), Knobs(rf_util=0.3, spm_util=0.005)],
)
def test_cpsat_respects_search_knobs(knobs):
    nest = conv_nest("c", n=1, m=4, c=4, in_rows=5, in_cols=5, f_rows=3, f_cols=3, stride=(1, 1))
    problem = Problem(nest, SEED_ARCH, knobs)
    found = exhaustive_search(problem)
    result = solve_layer(nest, SEED_ARCH, "edp", search="cpsat", knobs=knobs)
    assert result.value == found.best["edp"].value
    assert tiling_violations(problem, result.mapping.array()) == []


def test_empty_space_is_reported_infeasible():
    nest = conv_nest("c", n=1, m=4, c=4, in_rows=5, in_cols=5, f_rows=3, f_cols=3, stride=(1, 1))
    knobs = Knobs(spm_util=0.01)  # 280 elements never fill 1% of a 64 KiB SPM
    assert exhaustive_search(Problem(nest, SEED_ARCH, knobs)).tilings == 0
    result = solve_layer(nest, SEED_ARCH, "edp", search="cpsat", knobs=knobs)
    assert result.status == INFEASIBLE and result.mapping is None


def test_time_limited_search_reports_an_honest_bound():
    nest = conv_nest("c", n=1, m=16, c=16, in_rows=10, in_cols=10, f_rows=3, f_cols=3, stride=(1, 1))
    exact = exhaustive_search(Problem(nest, SEED_ARCH)).best["edp"].value
    result = solve_layer(nest, SEED_ARCH, "edp", search="cpsat", time_limit=1e-9)
    assert result.lower_bound <= exact <= result.value
    if result.status != OPTIMAL:
        assert result.gap > 0.0


def test_returned_mapping_is_plain_data_the_evaluator_accepts():
    nest = gemm_nest("g", x=8, y=12, k=16)
    result = solve_layer(nest, SMALL_ARCH, "energy", search="cpsat")
    again = Mapping(result.mapping.loops, result.mapping.factors, result.mapping.dram_order, result.mapping.spm_order)
    assert again.to_json() == result.mapping.to_json()


def test_same_mapping_whatever_the_thread_count():
    import numba

    nest = conv_nest("c", n=2, m=8, c=4, in_rows=6, in_cols=6, f_rows=3, f_cols=3, stride=(1, 1))
    threads = numba.get_num_threads()
    try:
        results = []
        for n in (1, threads):
            numba.set_num_threads(n)
            results.append(solve_layer(nest, SMALL_ARCH, "edp", search="cpsat").to_json())
    finally:
        numba.set_num_threads(threads)
    for r in results:
        r.pop("seconds")
        r["proof"].pop("seconds")
    assert results[0] == results[1]
