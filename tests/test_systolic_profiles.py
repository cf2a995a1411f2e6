"""On arrays whose networks are all systolic, the tasks' profiles are assembled from one summary per row part and
column part (noc/systolic.py). They must equal task_profile's, split by split, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmz_solver.arch import arch_from_json, load_arch
from dmz_solver.noc.tasks import build_tasks, enumerate_splits, pe_array, profile_splits
from dmz_solver.problem import Problem
from dmz_solver.problem.space import problem_spatial_tuples
from dmz_solver.workload.templates import conv_nest, gemm_nest

LAYERS = (
    conv_nest("conv3x3", n=2, m=16, c=8, in_rows=14, in_cols=14, f_rows=3, f_cols=3, stride=(1, 1)),
    conv_nest("dw3x3s2", n=1, m=1, c=32, in_rows=15, in_cols=15, f_rows=3, f_cols=3, stride=(2, 2), depthwise=True),
    gemm_nest("gemm", x=48, y=36, k=24),
)


def per_split(problem: Problem) -> tuple[np.ndarray, ...]:
    """Every routable split and its profile, derived split by split by task_profile."""
    array = pe_array(problem.arch)
    sps = np.ascontiguousarray(problem_spatial_tuples(problem), np.int64)
    t_sp, t_row = enumerate_splits(sps, problem.arrays.isidx, array)
    pi, pf, ok = profile_splits(t_sp, t_row, problem.arrays.isidx, array)
    return t_sp[ok], t_row[ok], pi[ok], pf[ok]


def assert_same_tasks(problem: Problem) -> None:
    tasks = build_tasks(problem_spatial_tuples(problem), problem.arrays.isidx, pe_array(problem.arch))
    t_sp, t_row, pi, pf = per_split(problem)
    assert len(tasks) == len(t_sp) > 0
    assert np.array_equal(tasks.sps, t_sp) and np.array_equal(tasks.rowf, t_row)
    assert np.array_equal(tasks.pi, pi)
    assert np.array_equal(tasks.pf.view(np.int64), pf.view(np.int64))  # bits, not float equality


def test_the_shipped_systolic_arrays_get_task_profiles_bit_for_bit() -> None:
    for name in ("tpu_like", "mxu_128"):
        for nest in LAYERS:
            assert_same_tasks(Problem(nest, load_arch(name)))


def systolic(direction: str, bandwidth: float, latency: int, energy: float) -> dict:
    return {"kind": "systolic", "direction": direction, "bandwidth": bandwidth, "latency": latency, "energy": energy}


@st.composite
def systolic_archs(draw):  # noqa: ANN001, ANN201 - a hypothesis strategy
    """Arrays of every shape with systolic networks in random directions, bandwidths, latencies and energies."""
    rows, cols = draw(st.sampled_from([(4, 4), (8, 2), (2, 8), (6, 6), (16, 1), (1, 16), (12, 8)]))

    def network() -> dict:
        return systolic(
            draw(st.sampled_from(["rows", "columns"])),
            draw(st.sampled_from([0.5, 1, 2])),
            draw(st.integers(0, 2)),
            draw(st.sampled_from([0.1, 0.3, 1.0])),
        )

    spec = {
        "arch_basic": {"RF_SIZE": 256, "TOTAL_BANKS_IN_SPM": 8, "TOTAL_BYTES_IN_BANK": 4096},
        "pe_array": {"rows": rows, "cols": cols},
        "networks": {role: network() for role in ("input", "weight", "output", "reduction")},
    }
    return arch_from_json(spec, source="random", name="random")


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(arch=systolic_archs())
def test_random_systolic_arrays_get_task_profiles_bit_for_bit(arch) -> None:  # noqa: ANN001 - an Arch
    """Reduction chains down the columns or along the rows, with adds that climb different distances (their hop
    energies then summed one by one), every direction of the write-back and of the read-only operands."""
    for nest in LAYERS:
        assert_same_tasks(Problem(nest, arch))
