"""Exhaustive search: every valid tiling, every candidate ordering pair, all three objectives.

Each spatial tuple (per row/column split) is a task; tasks run on all cores and their results
merge in enumeration order, so the reported tiling is the first minimal one (§7.3) whatever the
thread count. Layers whose tables fit (search/tables.py) go through the table-driven enumerator
(search/table_search.py), the others tiling by tiling (search/fallback.py).
"""

from __future__ import annotations

import math
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import numba
import numpy as np

from ..constraints.compile import Relation
from ..cost.reuse import MAX_MASK_LOOPS, MAX_MASK_ROWS
from ..errors import InputError, SlowSearchWarning
from ..layout import DRAM, Profile
from ..noc.tasks import make_tasks
from ..problem import Problem
from ..problem.space import LoopSpace, count_under, problem_spatial_tuples
from ..result import LayerResult, Monitor
from ..vocabulary import OBJECTIVES, Objective, Status
from .bounds import dma_cycles_floor, energy_floor, reduction_floors, spatial_bounds
from .fallback import PARALLEL_LAUNCH, search_all
from .outcome import Incumbent, layer_result
from .stopping import stop_flag
from .table_search import COUNT_ONLY, Precedence, Pruning, TaskResults, search_all_tables, seconds_left
from .tables import MAX_TABLE_BYTES, build_tables


@dataclass(frozen=True)
class Best:
    """The best tiling for one objective and the candidate orders (SPM, DRAM) it uses."""

    value: float
    tiling: np.ndarray  # (4, loops): DRAM, SPM, RF, SPATIAL
    spm_order: int
    dram_order: int
    rows: np.ndarray | None = None  # the row part of each spatial factor (None: the array has one row)

    def incumbent(self) -> Incumbent:
        rows = None if self.rows is None else tuple(int(r) for r in self.rows)
        found = Incumbent()
        found.offer(self.value, self.tiling, (self.spm_order, self.dram_order), rows)
        return found


@dataclass(frozen=True)
class ExhaustiveResult:
    """Minima of each objective over the whole space, and how many tilings were valid."""

    best: dict[str, Best]
    tilings: int
    seconds: float
    lower: dict[str, float] | None = None
    """Per objective, a proven lower bound when a deadline cut the search (None: the search is complete)."""


NO_PRUNING = Pruning(-1, np.inf, 0.0)


class TaskSearch:
    """The exhaustive search of one problem, task by task (spatial tuples), optionally pruned.

    Builds the layer tables once; `run` searches a subset of the tasks.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        arrays = problem.arrays
        self.divs, self.ndivs = problem.divisor_table
        _, self.dram_one = problem.loop_masks
        self.ext = np.array(problem.nest.extents, np.int64)
        sps = problem_spatial_tuples(problem)
        self.tables = None
        compiled = problem.compiled
        self.cons = compiled.arrays
        if compiled.relations:  # spatial relations and DRAM factors pinned to 1 prune early; the rest at leaves
            self.dram_one = self.dram_one | compiled.pinned(DRAM)
            sps = sps[compiled.spatial_ok(sps)]
            n_loops = len(problem.nest.loops)

            def early(r: Relation) -> bool:
                pin = compiled.pins_to_one(r)
                return compiled.is_spatial(r) or (pin is not None and pin // n_loops == DRAM)

            self.cons = compiled.arrays_of(tuple(r for r in compiled.relations if not early(r)))
        self.space = LoopSpace(self.ext, self.divs, self.ndivs, self.dram_one)
        allowed = compiled.spatial_ok if compiled.has_array_relations else None  # over row/column parts: per split
        self.tasks = make_tasks(sps, arrays.isidx, problem.arch, allowed)
        self.sps = self.tasks.sps  # one row per task: a spatial tuple may appear once per row/column split
        allowed_dram, allowed_spm = compiled.allowed_inner
        n_loops = len(problem.nest.loops)
        ncand = len(arrays.cands)
        if compiled.has_order_rules and (n_loops > MAX_MASK_LOOPS or (ncand << n_loops) > MAX_MASK_ROWS):
            raise InputError(
                f"loop-order constraints need tabulated reuse structures; layer {problem.nest.name} "
                "has too many loops or candidate orders"
            )
        if len(self.sps):
            floor = energy_floor(problem)
            self.tables = build_tables(self.space, arrays, allowed_spm, allowed_dram, floor, MAX_TABLE_BYTES)
            if self.tables is None:
                self._refuse_or_warn_untabulated(bool(compiled.relations) or compiled.has_order_rules)

    def _refuse_or_warn_untabulated(self, restricted: bool) -> None:
        """A layer too large for its tables: refused under custom constraints (only the table search applies them),
        otherwise searched tiling by tiling, with a warning."""
        name = self.problem.nest.name
        if restricted:
            raise InputError(f"custom constraints need the table search, and layer {name} is too large for its tables")
        warnings.warn(
            f"layer {name}: its search tables would take more than {MAX_TABLE_BYTES >> 20} MiB, so its tilings are "
            "enumerated one by one, which can be about 1,000 times slower (the result is the same)",
            SlowSearchWarning,
            stacklevel=3,
        )

    def count(self) -> int:
        """How many tilings are valid: each spatial tuple's tilings once, whatever its row/column splits."""
        first = np.sort(np.unique(self.sps, axis=0, return_index=True)[1])
        if self.tables is None:  # layers too large for the tables: the per-tiling enumerator
            return sum(int(count_under(sp, self.space, self.problem.arrays)) for sp in self.sps[first])
        counts = self.run(first, Pruning(COUNT_ONLY, np.inf, 0.0)).counts
        return int(counts.sum())

    def run(
        self,
        task_ids: np.ndarray,
        prune: Pruning | None = None,
        deadline: float = math.inf,
        lead: tuple[float, int] = (math.inf, -1),
    ) -> TaskResults:
        """The TaskResults of the given tasks; at `deadline` (time.perf_counter()) the search stops within a few
        milliseconds, and the tasks it did not finish are not `complete`. lead = (value, task): a tiling of that
        task reaches that value of the pruned objective, so a task after it may prune what only ties it.

        Without tables (very large layers) every tiling is evaluated: pruning is an optimisation only.
        """
        tasks = self.tasks.subset(task_ids)
        arrays = self.problem.arrays
        if self.tables is not None:
            prune = NO_PRUNING if prune is None else prune
            order = np.asarray(task_ids, np.int64)
            prec = Precedence(order, np.where(order > lead[1], lead[0], math.inf))
            return search_all_tables(
                tasks, self.space, arrays, self.tables, self.cons, prune, deadline=deadline, prec=prec
            )
        profs = Profile(tasks.pi, tasks.pf, tasks.rowf)
        threads = numba.get_num_threads()  # a new thread has numba's default, not this thread's setting

        def run_all(stop: np.ndarray) -> tuple:
            numba.set_num_threads(threads)
            with PARALLEL_LAUNCH:
                return search_all(tasks.sps, self.space, arrays, profs, stop)

        with stop_flag() as stop, ThreadPoolExecutor(1) as pool:  # the kernel releases the GIL: this thread can
            future = pool.submit(run_all, stop)  # raise the flag
            try:
                wait([future], timeout=seconds_left(deadline))
            finally:
                stop[0] = 1
            counts, best, best_t, best_pair, done = future.result()
        floor = np.where(done, np.inf, -np.inf)
        zeros = np.zeros(len(tasks), np.int64)
        return TaskResults(counts, best, best_t, best_pair, zeros, floor, zeros.copy())


def count_tilings(problem: Problem) -> int:
    """How many tilings of the problem are valid (the seed's "execution methods evaluated", §3.6)."""
    return TaskSearch(problem).count()


def exhaustive_search(problem: Problem, deadline: float = math.inf) -> ExhaustiveResult:
    """Minimise energy, cycles and EDP independently over every valid tiling and ordering pair.

    Every valid tiling is evaluated (no pruning), so the search is an oracle for the other solvers. At `deadline`
    (time.perf_counter()) it stops: `lower` then holds, per objective, a bound of what it did not search.
    """
    start = time.perf_counter()
    search = TaskSearch(problem)
    if len(search.sps) == 0:
        return ExhaustiveResult({}, 0, time.perf_counter() - start)
    e_floor = energy_floor(problem) if deadline < math.inf else 0.0  # before the deadline: a cut search needs it
    found_all = search.run(np.arange(len(search.sps)), deadline=deadline)
    counts, best, best_t, best_pair = found_all.counts, found_all.best, found_all.best_t, found_all.best_pair
    total = int(counts.sum())
    found: dict[str, Best] = {}
    if total:
        for obj, name in enumerate(OBJECTIVES):
            s = int(np.argmin(best[:, obj]))  # first minimal task in enumeration order
            spm_order, dram_order = int(best_pair[s, obj, 2]), int(best_pair[s, obj, 3])
            rows = search.tasks.rowf[s].copy()
            found[name] = Best(float(best[s, obj]), best_t[s, obj].copy(), spm_order, dram_order, rows)
    lower = None
    if not found_all.complete.all():
        lower = {}
        c_floor = dma_cycles_floor(problem)
        tasks = search.tasks
        reduction = reduction_floors(problem.nest, tasks.sps, tasks.pi, tasks.pf)
        for obj, name in enumerate(OBJECTIVES):
            open_tasks = spatial_bounds(tasks.sps, problem.nest.macs, e_floor, c_floor, obj, reduction)
            open_tasks = open_tasks[~found_all.complete]
            lower[name] = float(min(open_tasks.min(), best[:, obj].min()))
    return ExhaustiveResult(found, total, time.perf_counter() - start, lower)


def exhaustive(
    problem: Problem, objective: Objective, *, time_limit: float | None = None, monitor: Monitor | None = None
) -> LayerResult:
    """The search plugin: every valid tiling and ordering pair evaluated, so OPTIMAL over the space searched (no
    proof to monitor); FEASIBLE, with the bound of the tasks left, when the time limit cuts it."""
    start = time.perf_counter()
    found = exhaustive_search(problem, start + time_limit if time_limit else math.inf)
    best = found.best.get(Objective(objective))
    incumbent = best.incumbent() if best else Incumbent()
    value = best.value if best else math.inf
    status, lower = Status.OPTIMAL, value
    if found.lower is not None:
        status, lower = Status.FEASIBLE, found.lower[Objective(objective)]
    return layer_result(
        problem, objective, "exhaustive", status, incumbent, lower_bound=lower, started=start, evaluated=found.tilings
    )
