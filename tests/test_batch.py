"""The batch evaluators agree with the per-tiling one: evaluate_batch, evaluate_batch_parallel and
tiling_minima give the same minima and ordering pairs, bit for bit, on one-row and 2-D arrays."""

from __future__ import annotations

import numpy as np
import pytest

from dmz_solver.arch import load_arch
from dmz_solver.cost.batch import evaluate_batch, evaluate_batch_parallel, make_workspace, tiling_minima
from dmz_solver.layout import SP, Profile
from dmz_solver.problem import Problem
from dmz_solver.problem.space import LoopSpace, next_inner, problem_spatial_tuples
from dmz_solver.workload.templates import conv_nest


def valid_tilings(problem: Problem, per_tuple: int = 40) -> np.ndarray:
    """The first valid tilings of every spatial tuple, in enumeration order."""
    divs, ndivs = problem.divisor_table
    ext = np.array(problem.nest.extents, np.int64)
    space = LoopSpace(ext, divs, ndivs, problem.loop_masks[1])
    out = []
    for sp in problem_spatial_tuples(problem):
        t = np.ones((4, len(ext)), np.int64)
        t[SP] = sp
        idx = np.full(2 * len(ext), -1, np.int64)
        pos = next_inner(t, 0, idx, space, problem.arrays, np.empty(len(ext), np.int64))
        for _ in range(per_tuple):
            if pos < 0:
                break
            out.append(t.copy())
            pos = next_inner(t, pos, idx, space, problem.arrays, np.empty(len(ext), np.int64))
    return np.array(out)


@pytest.mark.parametrize("arch", ["dmazerunner", "eyeriss"])
def test_batch_paths_agree(arch: str) -> None:
    problem = Problem(
        conv_nest("c", n=1, m=8, c=4, in_rows=8, in_cols=8, f_rows=3, f_cols=3, stride=(1, 1)), load_arch(arch)
    )
    tilings = valid_tilings(problem)
    prof = problem.batch_profiles(tilings)
    keep = prof.pi[prof.which].any(axis=(1, 2))  # tilings whose tuple has a split on this array
    tilings = tilings[keep]
    prof = problem.batch_profiles(tilings)
    assert len(tilings) > 500
    arrays = problem.arrays
    serial, serial_pairs = np.zeros((len(tilings), 3)), np.zeros((len(tilings), 3, 4), np.int64)
    parallel, parallel_pairs = np.zeros_like(serial), np.zeros_like(serial_pairs)
    evaluate_batch(tilings, arrays, prof, serial, serial_pairs)
    evaluate_batch_parallel(tilings, arrays, prof, parallel, parallel_pairs)
    assert np.array_equal(serial, parallel) and np.array_equal(serial_pairs, parallel_pairs)
    workspace = make_workspace(arrays.ndims.shape[0], arrays.cands.shape[0], arrays.cands.shape[1])
    best, best_pair = np.zeros(3), np.zeros((3, 4), np.int64)
    for b in range(0, len(tilings), 37):
        u = prof.which[b]
        tiling_minima(tilings[b], arrays, Profile(prof.pi[u], prof.pf[u], prof.rowf[u]), workspace, best, best_pair)
        assert np.array_equal(best, serial[b]) and np.array_equal(best_pair, serial_pairs[b])
