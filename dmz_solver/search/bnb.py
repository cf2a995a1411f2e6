"""Branch and bound over the enumeration: the proof that a mapping is optimal.

A supplier (search/supply.py; the CP-SAT model by default) gives candidate mappings and a lower
bound. The candidates, rescored exactly, and a few spatial tuples solved outright (those with the
smallest bounds) give the incumbent U. The proof then raises a cutoff G from the best known bound:
every spatial tuple whose bound is at most G is searched by the exhaustive enumeration, pruning each
(spatial, RF) block whose certified bound (search/bounds.py) exceeds min(G, the tuple's best). If the
best value found is at most G, it is optimal, and it is the exhaustive search's first minimum because
pruning is strict but for ties: a task prunes only what ties a value it or an earlier task has reached
(the leader, docs/lower-bounds.md §5a); otherwise no mapping is worth G or less, G becomes a proven bound,
and G rises.
Each search of a task raises that task's bound to the smaller of its best and the smallest bound it
pruned (docs/lower-bounds.md §5).
Under a time limit the result is FEASIBLE, with the proven bound as its lower bound (UNKNOWN if nothing was found
yet). The deadline is checked before every round and by the enumeration itself, inside long chunks; every round
raises the cutoff, so a proof without a time limit ends too.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from ..cost.batch import evaluate_batch
from ..layout import Profiles
from ..problem import Problem
from ..result import LayerResult, Monitor, Proof, ProofProgress
from ..vocabulary import Objective, Status
from .bounds import energy_floor, reduction_floors, spatial_bounds
from .cpsat_model import cpsat_supply
from .exhaustive import Pruning, TaskSearch
from .floors import space_floors
from .outcome import Incumbent, layer_result
from .supply import Candidate, Supplier

SEED_TASKS = 8
"""Spatial tuples solved outright, best bound first, to seed the incumbent."""
CHUNK = 256
"""Most tasks per call of the enumerator (the enumerator itself stops at the deadline, inside a call)."""
FIRST_CHUNK = 16
"""Tasks in a round's first call: the most promising ones, whose best value prunes the calls after."""
CUTOFF_GROWTH = 20.0
"""Each proof round raises the cutoff to this multiple of the proven lower bound. Since rounds run the most
promising tasks first under the best value so far, a high cutoff costs little, and low ones mostly add failed
rounds: MobileNetV2 EDP went from 13.7 s (1.5) to 8.3 s (20) on dmazerunner and from 14.1 s to 10.3 s on
eyeriss, ResNet-18 unchanged within noise (bench/bench_proofs.py)."""


def branch_and_bound(
    problem: Problem,
    objective: Objective,
    *,
    time_limit: float | None = None,
    supplier: Supplier = cpsat_supply,
    name: str = "cpsat",
    monitor: Monitor | None = None,
) -> LayerResult:
    """Proven-optimal mapping of one layer for one objective (FEASIBLE if the time limit cuts the proof)."""
    start = time.perf_counter()
    deadline = start + time_limit if time_limit else math.inf
    objective = Objective(objective)
    proof = _Proof(problem, objective.column, start, monitor)
    proof.lap("tables")
    supply = supplier(problem, objective, deadline - time.perf_counter(), proof.floors)
    proof.root_bound = supply.lower_bound
    proof.lap("cpsat")
    if supply.lower_bound == math.inf or len(proof.search.sps) == 0:
        return layer_result(
            problem, objective, name, Status.INFEASIBLE, Incumbent(), lower_bound=math.inf, started=start, evaluated=0
        )

    def finish(status: Status, best: Incumbent, lower: float) -> LayerResult:
        proof.lap("branch_and_bound")
        found = layer_result(
            problem, objective, name, status, best, lower_bound=lower, started=start, evaluated=proof.evaluated
        )
        proof.lap("evaluate")
        return replace(found, proof=proof.summary())

    if not problem.compiled.has_order_rules:  # rescoring takes every order, which order rules would restrict
        for candidate in supply.candidates:
            _rescore(problem, candidate, objective.column, proof.incumbent)
            proof.rescored += 1
    proof.lap("rescore")
    proof.run(np.argsort(proof.bounds, kind="stable")[:SEED_TASKS], math.inf, deadline)
    proof.lap("seed")
    lower = float(proof.bounds.min())
    if supply.lower_bound is not None:
        lower = max(lower, supply.lower_bound)
    proof.lower = lower
    proof.tell()
    previous = -math.inf
    while True:
        cutoff = min(proof.incumbent.value, lower * CUTOFF_GROWTH)
        if time.perf_counter() > deadline or not cutoff > previous:  # out of time; or no progress (never with sound
            return finish(Status.FEASIBLE, proof.incumbent, lower)  # bounds: a round at the incumbent ends the proof)
        todo = np.flatnonzero(proof.bounds <= cutoff)
        best, skipped = proof.round(todo, cutoff, deadline)
        proof.rounds += 1
        if best is None:
            return finish(Status.FEASIBLE, proof.incumbent, lower)  # out of time
        if best.value <= cutoff:
            return finish(Status.OPTIMAL, best, best.value)
        if best.value == math.inf and skipped == 0 and len(todo) == len(proof.search.sps):
            return finish(Status.INFEASIBLE, Incumbent(), math.inf)  # everything searched: no valid mapping
        previous = cutoff
        lower = max(lower, cutoff, float(proof.bounds.min()))
        proof.lower = lower
        proof.tell()


class _Proof:
    """The enumeration of one problem under rising cutoffs: the incumbent and the tilings evaluated so far."""

    def __init__(self, problem: Problem, column: int, started: float, monitor: Monitor | None = None) -> None:
        self.column = column
        self.started = started
        self.monitor = monitor
        self.lower = 0.0
        """The proven lower bound so far (the caller raises it)."""
        self._clock = started
        self.root_bound: float | None = None
        self.rescored = 0
        self.rounds = 0
        self.pruned = 0
        self.seconds: dict[str, float] = {}
        self.search = TaskSearch(problem)
        self.e_floor = energy_floor(problem)
        tables = self.search.tables
        self.floors = space_floors(problem, tables.tiles if tables is not None else None)
        """What every mapping pays (search/floors.py), where CP-SAT's bound starts."""
        tasks = self.search.tasks
        reduction = reduction_floors(problem.nest, tasks.sps, tasks.pi, tasks.pf)
        shared = (tasks.sps, problem.nest.macs, self.floors.energy, self.floors.cycles, column)
        self.bounds = spatial_bounds(*shared, reduction)
        """A certified bound of each task (spatial tuple and split): the floors, with every MAC spread over its PEs and
        its reduction floor; a round skips the tasks whose bound exceeds its cutoff."""
        self.rank = spatial_bounds(*shared, np.zeros_like(reduction))
        """The order of the tasks in a round: the same bound without the reduction floor (docs/lower-bounds.md §5)."""
        self.incumbent = Incumbent()
        self.leader = (math.inf, -1)
        """The smallest value the searches have reached and the first task reaching it: a later task need not find
        a tiling that only ties it (docs/lower-bounds.md §5a)."""
        self.evaluated = 0

    def run(self, task_ids: np.ndarray, cutoff: float, deadline: float = math.inf) -> tuple[Incumbent, int, int, bool]:
        """Search tasks under a cutoff until the deadline: their first minimum in enumeration order, how many
        blocks, nodes and SPM tiles their bounds skipped, the minimum's task (-1 if none) and whether every task
        was searched in full (False: the deadline cut the search; what it found still joins the incumbent)."""
        column = self.column
        pruning = Pruning(column, cutoff, self.e_floor)
        results = self.search.run(task_ids, pruning, deadline, self.leader)
        counts, best, best_t, best_pair, pruned, floor, _ = results
        complete = bool(results.complete.all())
        self.evaluated += int(counts.sum())
        self.pruned += int(pruned.sum())
        # what the search learnt: nothing in a task is below its best or its smallest pruned bound
        learnt = np.minimum(best[:, column], floor)
        self.bounds[task_ids] = np.maximum(self.bounds[task_ids], learnt)
        self.rank[task_ids] = np.maximum(self.rank[task_ids], learnt)
        values = best[:, column]
        found = Incumbent()
        if len(values) == 0 or not np.isfinite(values.min()):
            return found, int(pruned.sum()), -1, complete
        ties = np.flatnonzero(values == values.min())
        first = int(ties[np.argmin(task_ids[ties])])  # the first minimum in enumeration order
        rows = tuple(int(r) for r in self.search.tasks.rowf[task_ids[first]])
        orders = (int(best_pair[first, column, 2]), int(best_pair[first, column, 3]))
        found.offer(float(values[first]), best_t[first, column], orders, rows)
        self.incumbent.offer(found.value, found.tiling, found.orders, found.rows)
        self.leader = min(self.leader, (found.value, int(task_ids[first])))
        return found, int(pruned.sum()), int(task_ids[first]), complete

    def tell(self) -> None:
        """Report the incumbent and the bound to the monitor, if any."""
        if self.monitor is not None:
            self.monitor(ProofProgress(time.perf_counter() - self.started, self.incumbent.value, self.lower))

    def lap(self, phase: str) -> None:
        """Book the seconds since the last lap to `phase`."""
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._clock
        self._clock = now

    def summary(self) -> Proof:
        seconds = {phase: round(s, 4) for phase, s in self.seconds.items()}
        return Proof(self.root_bound, self.rescored, self.evaluated, self.pruned, self.rounds, seconds)

    def round(self, todo: np.ndarray, cutoff: float, deadline: float) -> tuple[Incumbent | None, int]:
        """One proof round over `todo` in chunks: its first minimum and how many blocks, nodes and SPM tiles its
        bounds skipped (None: out of time).

        Chunks run smallest rank first (the task bound without its reduction floor), each under the best value of the
        chunks before it, so a good value found early prunes the rest; the result is still the first minimum in
        enumeration order, because pruning is strict but for ties with the leader's value in later tasks. Chunks grow
        from FIRST_CHUNK to CHUNK tasks.
        """
        order = todo[np.argsort(self.rank[todo], kind="stable")]
        best, best_task = Incumbent(), -1
        skipped = 0
        start, size = 0, FIRST_CHUNK
        while start < len(order):
            if time.perf_counter() > deadline:
                return None, skipped
            found, pruned, task, complete = self.run(order[start : start + size], min(cutoff, best.value), deadline)
            if not complete:
                return None, skipped
            skipped += pruned
            if found.value < best.value or (found.value == best.value and task < best_task):
                best, best_task = found, task
            start, size = start + size, min(2 * size, CHUNK)
            self.tell()
        return best, skipped


def _rescore(problem: Problem, candidate: Candidate, column: int, incumbent: Incumbent) -> None:
    """Offer a supplied tiling at its exact value, over every order, for each row/column split it allows."""
    tiling, rows = candidate
    for pi, pf, rowf in problem.unrollings(tiling[3], rows):  # none if its split cannot be routed
        out = np.zeros((1, 3))
        pairs = np.zeros((1, 3, 4), np.int64)
        prof = Profiles(pi[None], pf[None], rowf[None], np.zeros(1, np.int64))
        evaluate_batch(tiling[None], problem.arrays, prof, out, pairs)
        incumbent.offer(float(out[0, column]), tiling, None, tuple(int(r) for r in rowf))
