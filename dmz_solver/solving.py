"""Solve layers and models: pick a search, rescore its answer exactly, and say what is proven.

The stages of a whole-model solve (`solve_model`):
1. the cache: layers solved before (same shape, arch numbers, options, code) are read back;
2. the rest are solved, in this process or a pool (`solve_layer`: search, min_exec_methods, why none fits);
3. on request, the same layers are solved again over the whole space, without knobs or constraint files;
4. the results come back in layer order, with a record of what the run read (`RunRecord`).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import replace
from typing import Any, Protocol

import numba

from .arch import Arch
from .cache import DEFAULT_CACHE_DIR, LayerCache, SolveKey
from .constraints.parse import ConstraintSet
from .cost.evaluate import Cost, evaluate_mapping
from .errors import InputError, show_warning
from .loopnest import LoopNest
from .problem import Knobs, Problem
from .problem.mapping import Mapping
from .problem.numeric import check_model_range
from .problem.ordering import order_names
from .problem.space import tiling_violations
from .result import LayerResult, ModelResult, Monitor, ProofProgress, RunRecord, Unrestricted
from .search.exhaustive import count_tilings
from .search.explain import explain_infeasible
from .search.registry import SEARCHES as REGISTRY
from .search.registry import SearchMethod
from .search.stopping import HaltGroup
from .vocabulary import Objective, Status

SEARCHES: tuple[str, ...] = tuple(REGISTRY)
"""Search names, the default first."""
DEFAULT_TIME_LIMIT = 600.0
"""Seconds per layer the command line gives a search when --time-limit is left out: no command runs for ever."""
DEFAULT_WORKERS = 1
"""Processes solving distinct layers by default (see docs/reports-and-dse.md for the measurement)."""
LAYER_THREADS = 2
"""Distinct layers solved at once by threads of one process (the default, DEFAULT_WORKERS = 1), which share numba's
threads. On the 2-core reference machine, idle, two layers on one thread each against one layer on two threads:
MobileNetV2 EDP 3.1 s against 3.7 s on dmazerunner and 2.5 s against 3.0 s on eyeriss, DenseNet-121 4.4 s against
5.1 s, ResNet-18 1.0 s against 1.15 s (EDP on dmazerunner, energy on eyeriss); the same results."""


class LayerRunner(Protocol):
    """Solves layers somewhere else than this process's pool (a Dask cluster: `dse.task.layer_runner`)."""

    def __call__(
        self, nests: Sequence[LoopNest], arch: Arch, objective: str, options: dict[str, Any]
    ) -> Iterator[tuple[int, LayerResult]]:
        """(index in `nests`, result) of each nest as it is solved: `solve_layer(nest, arch, objective, **options)`."""
        ...


def check_search(search: str) -> None:
    """An InputError naming the valid searches when `search` is not one of them."""
    if search not in REGISTRY:
        raise InputError(f"unknown search {search!r} (one of {', '.join(SEARCHES)})", field="search")


def solve_layer(
    nest: LoopNest,
    arch: Arch,
    objective: Objective | str = Objective.EDP,
    *,
    search: str = "cpsat",
    knobs: Knobs | None = None,
    time_limit: float | None = None,
    constraints: ConstraintSet | None = None,
    monitor: Monitor | None = None,
) -> LayerResult:
    """Find the best mapping of one layer for one objective with the named search (its proof reports to `monitor`).

    The knobs and the constraint files define the space: the search and its proof cover only the mappings they
    allow, so a result proven optimal there is OPTIMAL, with that space's bound. A layer with no mapping comes
    back INFEASIBLE with the `reason` (with constraint files: a minimal set of them that conflict).
    """
    check_search(search)
    method = REGISTRY[search]
    problem = Problem(nest, arch, knobs or Knobs(), constraints or None)
    result = method.run(problem, Objective(objective), time_limit=time_limit, monitor=monitor)
    result = _apply_min_exec(result, problem, method)
    if result.status == Status.INFEASIBLE and result.reason is None:
        result = replace(result, reason=_why_infeasible(problem, search))
    if result.status == Status.UNKNOWN and result.reason is None:
        limit = f"the time limit of {time_limit:g} s" if time_limit else "the time limit"
        result = replace(result, reason=f"{limit} ended the search of {nest.name} before it found a valid mapping")
    return result


def _why_infeasible(problem: Problem, search: str) -> str:
    """Why no mapping of the problem was found, in one sentence that names the layer."""
    if problem.constraints:
        return explain_infeasible(problem).reason
    none = f"no valid mapping of {problem.nest.name} on arch {problem.arch.name}"
    if search == "auto":
        return none + " (the seed's heuristic gave up after relaxing its knobs)"
    knobs = problem.knobs.restrictions()
    return none + (f" under the knobs ({', '.join(knobs)})" if knobs else "")


def _apply_min_exec(result: LayerResult, problem: Problem, method: SearchMethod) -> LayerResult:
    """A layer with fewer valid tilings than the min_exec_methods knob is not optimised (the seed's rule).

    Valid tilings are counted as `count` does: once per tiling, whatever its row/column splits.
    """
    knobs = problem.knobs
    if not method.applies_min_exec or knobs.min_exec_methods <= 1 or result.mapping is None:
        return result
    counted = method.evaluates_every_tiling and problem.arch.noc.rows == 1
    valid = result.tilings_evaluated if counted else count_tilings(problem)
    if valid >= knobs.min_exec_methods:
        return result
    few = f"{valid} valid tilings, fewer than the {knobs.min_exec_methods} execution methods asked for"
    reason = f"{problem.nest.name} not optimised: {few}"
    return replace(
        result,
        status=Status.INFEASIBLE,
        mapping=None,
        cost=None,
        lower_bound=math.inf,
        tilings_evaluated=valid,
        reason=reason,
    )


def solve_model(
    layers: Sequence[LoopNest],
    arch: Arch,
    objective: str = "edp",
    *,
    model: str = "model",
    search: str = "cpsat",
    knobs: Knobs | None = None,
    time_limit: float | None = None,
    progress: Callable[[LayerResult], None] | None = None,
    workers: int | None = None,
    cache_dir: str | os.PathLike[str] | None = DEFAULT_CACHE_DIR,
    constraints: ConstraintSet | None = None,
    unrestricted: bool = False,
    monitor: Callable[[LoopNest, ProofProgress], None] | None = None,
    runner: LayerRunner | None = None,
) -> ModelResult:
    """Solve every distinct layer (identical layers are already merged, with `instances`).

    Layers found in the on-disk cache (`cache_dir`; None disables it) are not solved again.
    The others are solved in `workers` processes (default: DEFAULT_WORKERS, at most one per
    layer); with more than one, each process runs its search on one numba thread so that
    processes x threads stays at the core count. `progress` is called in this process for
    each layer as it finishes (cached layers first); the returned layers keep the input order.
    With `unrestricted` and knobs or constraint files in force, every layer is first solved over
    the whole space as well (the default search, no knobs, no constraint files), and each result
    carries that optimum and bound as `unrestricted`. `monitor(nest, progress)` follows each proof as it runs,
    when the layers are solved in this process (one worker). A `runner` solves the layers the cache lacks
    instead of this process or its pool (`workers` is then unused).
    """
    check_search(search)
    start = time.perf_counter()
    knobs = knobs or Knobs()
    check_model_range(list(layers), arch)  # every layer and the totals hold in the kernels' numbers, before any solve
    for nest in layers if constraints else ():  # a file that names what a layer lacks fails before any solve
        _ = Problem(nest, arch, knobs, constraints).compiled
    record = RunRecord(arch, str(objective), search, time_limit, knobs, constraints or None)
    free: Sequence[LayerResult] = ()
    if unrestricted and record.restrictions():
        whole = dict(objective=objective, time_limit=time_limit, workers=workers, cache_dir=cache_dir, runner=runner)
        free = solve_model(layers, arch, model=model, **whole).layers
    options = {"search": search, "knobs": knobs, "time_limit": time_limit, "constraints": constraints or None}
    results: list[LayerResult | None] = [None] * len(layers)

    def finish(i: int, result: LayerResult) -> None:
        if free:
            result = replace(result, unrestricted=Unrestricted(free[i].status, free[i].value, free[i].lower_bound))
        results[i] = result
        if progress:
            progress(result)

    how = {"monitor": monitor, "runner": runner}
    for i, result in _solve_cached(layers, arch, objective, options, cache_dir, workers, **how):
        finish(i, result)
    done = tuple(r for r in results if r is not None)
    return ModelResult(model, arch.name, objective, done, time.perf_counter() - start, record)


def reproducible(result: LayerResult) -> bool:
    """Whether solving again gives this result: not when a time limit cut a proof (FEASIBLE or UNKNOWN from a
    search that proves), which depends on the machine's speed."""
    return result.status in (Status.OPTIMAL, Status.INFEASIBLE) or result.search == "auto"


def worth_caching(result: LayerResult) -> bool:
    """Whether a solved layer goes to the layer cache: it has a mapping (a result without one carries a reason
    naming the layer and the constraint files, which the cache key leaves out) and is reproducible."""
    return result.reason is None and reproducible(result)


def _solve_cached(
    layers: Sequence[LoopNest],
    arch: Arch,
    objective: str,
    options: dict[str, Any],
    cache_dir: str | os.PathLike[str] | None,
    workers: int | None,
    *,
    monitor: Callable[[LoopNest, ProofProgress], None] | None = None,
    runner: LayerRunner | None = None,
) -> Iterator[tuple[int, LayerResult]]:
    """(index, result) of each layer: the cached ones first, then the others as they are solved.

    A layer without a mapping is not cached: its reason names the layer and the constraint files, which the
    cache key leaves out. A cached result is used only if the cost model gives its mapping the stored figures.
    """
    cache = LayerCache(cache_dir) if cache_dir is not None else None
    constraints = options["constraints"]
    fingerprint = constraints.fingerprint if constraints else ""
    keys = [
        SolveKey(nest, arch, objective, options["search"], options["knobs"], fingerprint, options["time_limit"])
        for nest in layers
    ]
    todo = []
    for i, key in enumerate(keys):
        hit = cache.get(key, constraints) if cache else None  # re-evaluated, discarded with a warning if wrong
        if hit is None:
            todo.append(i)
        else:
            yield i, hit
    nests = [layers[i] for i in todo]
    if runner is None:
        solved = _solve_all(nests, arch, objective, options, workers, todo, monitor=monitor)
    else:
        solved = ((todo[j], result) for j, result in (runner(nests, arch, objective, options) if nests else ()))
    for i, result in solved:
        result = replace(result, nest=layers[i])  # the caller's nest object, also after a round trip to a process
        if cache and worth_caching(result):
            cache.put(keys[i], result)
        yield i, result


def _solve_all(
    nests: Sequence[LoopNest],
    arch: Arch,
    objective: str,
    options: dict[str, Any],
    workers: int | None,
    ids: Sequence[int],
    *,
    monitor: Callable[[LoopNest, ProofProgress], None] | None = None,
) -> Iterator[tuple[int, LayerResult]]:
    """(id, result) for each nest: in this process, in order (by default LAYER_THREADS at a time; one with
    workers=1), or in a pool of processes as they finish."""
    threads = 1 if workers == 1 else LAYER_THREADS
    workers = min(workers or DEFAULT_WORKERS, len(nests))
    if workers <= 1:
        yield from _solve_here(nests, arch, objective, options, ids, threads, monitor=monitor)
        return
    context = multiprocessing.get_context("spawn")  # numba's thread pools are not fork-safe
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread) as pool:
        jobs = zip(ids, nests, strict=True)
        futures = {pool.submit(solve_layer, nest, arch, objective, **options): i for i, nest in jobs}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            _stop_pool(pool)  # a failed layer (bad input, Ctrl-C) stops the queued ones and the running ones
            raise


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel the queued layers and end the worker processes now: a shutdown alone waits for the running
    searches, which may take the whole time limit (a Ctrl-C must not). The workers hold no result worth keeping."""
    workers = list((pool._processes or {}).values())  # the executor has no public handle on its processes
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.terminate()
    for process in workers:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()


def _solve_here(
    nests: Sequence[LoopNest],
    arch: Arch,
    objective: str,
    options: dict[str, Any],
    ids: Sequence[int],
    threads: int,
    *,
    monitor: Callable[[LoopNest, ProofProgress], None] | None = None,
) -> Iterator[tuple[int, LayerResult]]:
    """(id, result) for each nest in order, solved in this process, `threads` layers at a time.

    A layer's serial parts (its tables, CP-SAT, the set-up of its proof) then overlap another layer's search; the
    layers share numba's threads (one each on two cores). On an
    exception here (a layer's bad input, a Ctrl-C, the caller closing this generator) the searches of its layers
    are halted (search/stopping.py; no other caller's), the queued layers are dropped, and the exception goes on
    once the running layers have returned: within a few seconds, as a CP-SAT call or a layer's tables that have
    started run to their end.
    """
    threads = min(threads, len(nests))
    lock = threading.Lock()

    def follow(nest: LoopNest) -> Monitor | None:
        if monitor is None:
            return None

        def report(state: ProofProgress) -> None:
            with lock:  # proofs in several threads report to one monitor
                monitor(nest, state)

        return report

    def solve(nest: LoopNest) -> LayerResult:
        return solve_layer(nest, arch, objective, **options, monitor=follow(nest))

    if threads <= 1:
        for i, nest in zip(ids, nests, strict=True):
            yield i, solve(nest)
        return
    share = max(1, numba.get_num_threads() // threads)
    group = HaltGroup()

    def enter() -> None:
        numba.set_num_threads(share)
        group.join()

    pool = ThreadPoolExecutor(threads, thread_name_prefix="layer", initializer=enter)
    futures = [pool.submit(solve, nest) for nest in nests]
    try:
        for i, future in zip(ids, futures, strict=True):
            yield i, future.result()
    except BaseException:
        group.halt()  # this solve's running layers end as at a deadline; their results are dropped
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _one_thread() -> None:
    """Process-pool initializer: one numba thread per process, and dmz-solver's warnings shown as the CLI shows them."""

    numba.set_num_threads(1)
    warnings.showwarning = show_warning


def evaluate_layer(
    problem: Problem, mapping: Mapping, objective: str = "edp", *, source: str = "mapping"
) -> tuple[Mapping, Cost]:
    """Exact cost of a given mapping, which must obey the problem's knobs and constraint files.

    The tiling, and the orders and row/column split the mapping gives, must obey every rule; where it leaves
    the orders or the split open and rules apply to them, only the orders and splits the files allow compete
    (the first best in split order, then in the seed's pair order). A mapping that breaks a constraint is an
    InputError naming every constraint it breaks.
    """
    violations = tiling_violations(problem, mapping.array())  # as evaluate_mapping checks it, before any order
    if violations:
        raise InputError("; ".join(violations), source=source, field="tiling")
    compiled = problem.compiled
    given_orders = None if mapping.dram_order is None else (mapping.dram_order, mapping.spm_order)
    _refuse(problem, compiled.check(mapping.array(), given_orders, mapping.spatial_rows), "breaks", source)
    open_orders = given_orders is None and compiled.has_order_rules
    open_rows = mapping.spatial_rows is None and problem.arch.noc.rows > 1 and compiled.has_array_relations
    if not (open_orders or open_rows):
        return evaluate_mapping(problem, mapping, objective, source=source)
    best: tuple[float, Mapping, Cost] | None = None
    broken: list[str] = []
    for choice in _choices(problem, mapping, open_orders, open_rows):
        orders = None if choice.dram_order is None else (choice.dram_order, choice.spm_order)
        names = compiled.check(choice.array(), orders, choice.spatial_rows)
        broken += [n for n in names if n not in broken]
        if not names:
            used, cost = evaluate_mapping(problem, choice, objective, source=source)
            if best is None or cost.value(objective) < best[0]:
                best = (cost.value(objective), used, cost)
    if best is None:
        what = " or ".join(word for word, left in (("loop order", open_orders), ("row split", open_rows)) if left)
        _refuse(problem, broken, f"no {what} of this tiling satisfies", source)
        return evaluate_mapping(problem, mapping, objective, source=source)  # no split fits: the model says why
    return best[1], best[2]


def _choices(problem: Problem, mapping: Mapping, open_orders: bool, open_rows: bool) -> Iterator[Mapping]:
    """The mapping with each row split and each (DRAM, SPM) order pair that constraint rules leave to choose."""
    pairs: list[tuple[tuple[str, ...] | None, tuple[str, ...] | None]] = [(mapping.dram_order, mapping.spm_order)]
    if open_orders:
        names = [tuple(order_names(problem.nest, order)) for order in problem.orders]
        pairs = [(dram, spm) for spm in names for dram in names]  # the seed's pair order (cost/reference.py)
    splits = [mapping.spatial_rows]
    if open_rows:
        splits = [tuple(int(r) for r in prof.rowf) for prof in problem.unrollings(mapping.array()[-1])]
    for rows in splits:
        for dram, spm in pairs:
            yield Mapping(mapping.loops, mapping.factors, dram, spm, rows)


def _refuse(problem: Problem, broken: Sequence[str], text: str, source: str) -> None:
    """An InputError `<text> constraint(s) ...` if any constraint is broken; the field says what breaks it."""
    if not broken:
        return
    compiled = problem.compiled
    on_orders = {c.name for c in compiled.order_rules}
    on_array = {r.constraint.name for r in compiled.relations if compiled.on_array(r)}
    field = "order" if on_orders & set(broken) else "array" if on_array & set(broken) else "tiling"
    raise InputError(f"{text} {_quote(problem, broken)}", source=source, field=field)


def _quote(problem: Problem, names: Sequence[str]) -> str:
    """Constraint names with where each is written: `constraint 'f.x' (f.yaml:3)`, joined by commas."""
    by_name = {c.name: c for c in problem.compiled.named}
    word = "constraint" if len(names) == 1 else "constraints"
    return word + " " + ", ".join(f"{n!r} ({by_name[n].source})" if n in by_name else repr(n) for n in names)
