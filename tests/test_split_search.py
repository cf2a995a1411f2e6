"""The row/column splits of a spatial tuple searched together: the proof equals the exhaustive search (value and
mapping) on arrays up to 16 x 16, the shared bound never exceeds a split's own, and on a TPU-sized array it prunes
most blocks for every split at once."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optimality import network_archs, small_layers

from dmz_solver.arch import load_arch
from dmz_solver.layout import DRAM, RF, SP, SPM, Profiles
from dmz_solver.problem import Problem
from dmz_solver.search.bounds import block_bounds_of, energy_floor, floor_profile
from dmz_solver.search.exhaustive import TaskSearch
from dmz_solver.search.table_search import Pruning, tuple_runs
from dmz_solver.solving import solve_layer
from dmz_solver.vocabulary import Status
from dmz_solver.workload.loader import load_model
from dmz_solver.workload.templates import conv_nest

MEDIUM_ARRAYS = ((4, 4), (4, 8), (8, 4), (8, 8), (8, 16), (16, 8), (16, 16))


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(nest=small_layers(), arch=network_archs(MEDIUM_ARRAYS))
def test_the_proof_returns_the_exhaustive_mapping_on_medium_arrays(nest, arch):
    """Same value, tiling, orders and split as the exhaustive search, which searches every split on its own."""
    for objective in ("edp", "energy", "cycles"):
        proven = solve_layer(nest, arch, objective, search="cpsat")
        truth = solve_layer(nest, arch, objective, search="exhaustive")
        assert proven.status == truth.status
        if truth.status == Status.INFEASIBLE:
            continue
        assert proven.status == Status.OPTIMAL
        assert proven.value == truth.value
        assert proven.mapping == truth.mapping


def _block_tilings(problem: Problem, sp: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    """Tilings with spatial tuple sp and random RF factors (the rest at DRAM): what a block bound reads."""
    ext = np.array(problem.nest.extents, np.int64)
    out = np.ones((count, 4, len(ext)), np.int64)
    for i in range(count):
        for loop, (e, s) in enumerate(zip(ext, sp, strict=True)):
            rest = e // s
            divisors = [d for d in range(1, rest + 1) if rest % d == 0]
            rf = int(rng.choice(divisors))
            out[i, SP, loop], out[i, RF, loop], out[i, SPM, loop], out[i, DRAM, loop] = s, rf, 1, rest // rf
    return out


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(nest=small_layers(), arch=network_archs(MEDIUM_ARRAYS), seed=st.integers(0, 2**16))
def test_the_floor_profile_bounds_the_block_bound_of_every_split(nest, arch, seed):
    """The shared bound prunes a block for every split only if it is at most each split's own block bound."""
    problem = Problem(nest, arch)
    tasks = TaskSearch(problem).tasks
    prune = Pruning(2, np.inf, energy_floor(problem))
    rng = np.random.default_rng(seed)
    starts = tuple_runs(tasks.sps)
    for g in range(min(len(starts) - 1, 12)):
        lo, hi = int(starts[g]), int(starts[g + 1])
        pi, pf = np.empty_like(tasks.pi[0]), np.empty_like(tasks.pf[0])
        floor_profile(tasks.pi[lo:hi], tasks.pf[lo:hi], pi, pf)
        tilings = _block_tilings(problem, tasks.sps[lo], rng, 8)
        which = np.zeros(len(tilings), np.int64)
        shared = np.empty((len(tilings), 2))
        block_bounds_of(
            tilings, problem.arrays, Profiles(pi[None], pf[None], tasks.rowf[lo : lo + 1], which), prune, shared
        )
        for s in range(lo, hi):
            own = np.empty((len(tilings), 2))
            prof = Profiles(tasks.pi[s : s + 1], tasks.pf[s : s + 1], tasks.rowf[s : s + 1], which)
            block_bounds_of(tilings, problem.arrays, prof, prune, own)
            assert (shared <= own).all()  # energy and cycles


def test_one_call_per_tuple_finds_what_one_call_per_split_finds():
    """Unpruned, the splits of a tuple searched together give each split's own counts and first minima."""
    nest = conv_nest("c", n=1, m=8, c=4, in_rows=6, in_cols=6, f_rows=3, f_cols=3, stride=(1, 1))
    search = TaskSearch(Problem(nest, load_arch("tpu_like")))
    ids = np.arange(len(search.sps))
    together = search.run(ids)
    assert len(tuple_runs(search.sps)) - 1 < len(ids)  # some tuple has several splits
    for s in ids:
        alone = search.run(np.array([s]))
        assert alone.counts[0] == together.counts[s]
        assert np.array_equal(alone.best[0], together.best[s])
        assert np.array_equal(alone.best_t[0], together.best_t[s])
        assert np.array_equal(alone.best_pair[0], together.best_pair[s])


@pytest.mark.parametrize("arch_name", ["tpu_v1_256", "mxu_128"])
def test_the_shared_bound_prunes_most_blocks_for_every_split_on_a_tpu_array(arch_name):
    """At the optimum's cutoff, most RF blocks of ResNet-18 CONV_4_1b are pruned once for all splits of their tuple,
    rather than bounded split by split."""
    nest = next(layer for layer in load_model("resnet18").layers if layer.name == "ResNet18_CONV_4_1b")
    arch = load_arch(arch_name)
    optimum = solve_layer(nest, arch, "edp")
    problem = Problem(nest, arch)
    search = TaskSearch(problem)
    prune = Pruning(2, optimum.value, energy_floor(problem))
    found = search.run(np.arange(len(search.sps)), prune)
    assert found.best[:, 2].min() == optimum.value
    several = np.diff(tuple_runs(search.sps)) > 1
    assert several.mean() > 0.5  # most tuples have several splits
    assert found.shared.sum() > 0.8 * found.pruned.sum()
