"""Ties (docs/lower-bounds.md §5a): a task may prune what only ties a value that it or an earlier task has reached,
and the proof still returns the exhaustive search's first minimum, value and mapping.

On the TPU-class arrays (200 cycles per DMA invocation) a small strided layer is bound by its DMA time, so a great
many tilings share the optimum's cycles exactly: strict pruning alone would evaluate every one of them.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_bound_soundness import valid_tilings

from dmz_solver.arch import load_arch
from dmz_solver.cost.batch import evaluate_batch
from dmz_solver.layout import Profiles
from dmz_solver.problem import Problem
from dmz_solver.search.bounds import energy_floor
from dmz_solver.search.exhaustive import TaskSearch
from dmz_solver.search.table_search import Pruning, tuple_runs
from dmz_solver.solving import solve_layer
from dmz_solver.vocabulary import Objective, Status
from dmz_solver.workload.templates import conv_nest, gemm_nest

LAYERS = (
    conv_nest("conv3x3s2", n=1, m=4, c=4, in_rows=8, in_cols=8, f_rows=3, f_cols=3, stride=(2, 2)),
    conv_nest("conv1x1", n=1, m=8, c=4, in_rows=4, in_cols=4, f_rows=1, f_cols=1, stride=(1, 1)),
    gemm_nest("fc", x=1, y=16, k=32),
)


def tied_tilings(problem: Problem, column: int, value: float) -> int:
    """How many (tiling, task) pairs reach `value` exactly: every valid tiling under every split of its tuple."""
    search = TaskSearch(problem)
    tasks = search.tasks
    tilings = valid_tilings(problem)
    ties = 0
    for s in range(len(tasks)):
        mine = tilings[(tilings[:, 3] == tasks.sps[s]).all(axis=1)]
        prof = Profiles(tasks.pi[s][None], tasks.pf[s][None], tasks.rowf[s][None], np.zeros(len(mine), np.int64))
        exact = np.zeros((len(mine), 3))
        evaluate_batch(mine, problem.arrays, prof, exact, np.zeros((len(mine), 3, 4), np.int64))
        ties += int((exact[:, column] == value).sum())
    return ties


@pytest.mark.parametrize("arch_name", ["tpu_v1_256", "mxu_128"])
@pytest.mark.parametrize("nest", LAYERS, ids=lambda n: n.name)
def test_the_proof_returns_the_first_of_many_tied_optima(arch_name, nest):
    arch = load_arch(arch_name)
    for objective in (Objective.CYCLES, Objective.EDP, Objective.ENERGY):
        exhaustive = solve_layer(nest, arch, objective, search="exhaustive")
        proven = solve_layer(nest, arch, objective)
        assert proven.status == Status.OPTIMAL and proven.value == exhaustive.value, objective
        assert proven.mapping == exhaustive.mapping, objective  # tiling, orders and row/column split
        if objective == Objective.CYCLES:
            ties = tied_tilings(Problem(nest, arch), objective.column, proven.value)
            # strict pruning never prunes a tiling whose exact value is the optimum: it would evaluate them all
            assert proven.proof.tilings_evaluated < ties / 4, (proven.proof.tilings_evaluated, ties)


def cycles_search_of_the_first_layer() -> tuple[TaskSearch, int, Pruning, np.ndarray]:
    """The first layer's task search on tpu_v1_256, cycles pruning with no cutoff, and every task's id."""
    problem = Problem(LAYERS[0], load_arch("tpu_v1_256"))
    search = TaskSearch(problem)
    column = Objective.CYCLES.column
    prune = Pruning(column, np.inf, energy_floor(problem))
    return search, column, prune, np.arange(len(search.sps))


def test_tasks_searched_out_of_enumeration_order_find_the_same_first_minima():
    """A round searches tasks smallest bound first: the splits of one tuple may come in any order, and the tie rule
    follows their places in the enumeration, not the order of the call. Per tuple, the first split reaching the
    tuple's minimum, and its first tiling reaching it, are those of the unpruned search."""
    search, column, prune, ids = cycles_search_of_the_first_layer()
    unpruned = search.run(ids)
    forward = search.run(ids, prune)
    backward = search.run(ids[::-1].copy(), prune)
    back_best, back_t = backward.best[::-1], backward.best_t[::-1]  # rows back in enumeration order
    starts = tuple_runs(search.sps)
    tied = 0
    for lo, hi in zip(starts[:-1], starts[1:], strict=True):
        values = unpruned.best[lo:hi, column]
        first = lo + int(np.argmin(values))
        tied += int((values == values.min()).sum() > 1)
        for best, best_t in ((forward.best, forward.best_t), (back_best, back_t)):
            assert lo + int(np.argmin(best[lo:hi, column])) == first
            assert best[first, column] == values.min()
            assert np.array_equal(best_t[first, column], unpruned.best_t[first, column])
    assert tied > 10  # tuples where several splits reach the tuple's minimum


def test_a_task_after_the_leader_prunes_its_ties_and_one_before_it_finds_them():
    search, column, prune, ids = cycles_search_of_the_first_layer()
    alone = search.run(ids, prune)  # each task's minimum, ties of earlier tasks in its own call aside
    optimum = alone.best[:, column].min()
    winners = np.flatnonzero(alone.best[:, column] == optimum)
    assert len(winners) > 1
    leader = int(winners[len(winners) // 2])
    led = search.run(ids, prune, lead=(optimum, leader))
    reached = np.flatnonzero(led.best[:, column] == optimum)
    assert reached.min() == winners.min()  # the first task reaching the optimum still reaches it, at its
    assert np.array_equal(led.best_t[reached.min(), column], alone.best_t[winners.min(), column])  # first tiling
    assert (reached <= leader).all()  # after the leader, nothing that only ties it is searched out
    assert (led.best[ids > leader, column] > optimum).all()
    assert np.all(np.minimum(led.best[:, column], led.floor) <= alone.best[:, column])  # still a bound per task
