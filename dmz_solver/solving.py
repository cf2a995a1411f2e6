"""Solve layers and models: pick a search, rescore its answer exactly, and say what is proven."""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from typing import Any

import numba

from .arch import Arch
from .cache import DEFAULT_CACHE_DIR, LayerCache, SolveKey
from .constraints.parse import ConstraintSet
from .errors import InputError
from .loopnest import LoopNest
from .problem import Knobs, Problem
from .result import LayerResult, ModelResult
from .search.bounds import global_lower_bound
from .search.exhaustive import count_tilings
from .search.explain import explain_infeasible
from .search.registry import SEARCHES as REGISTRY
from .search.registry import SearchMethod
from .vocabulary import Objective, Status

SEARCHES: tuple[str, ...] = tuple(REGISTRY)
"""Search names, the default first."""
DEFAULT_WORKERS = 1
"""Distinct layers solved at once by default (see docs/reports-and-dse.md for the measurement)."""


def solve_layer(
    nest: LoopNest,
    arch: Arch,
    objective: Objective | str = Objective.EDP,
    *,
    search: str = "cpsat",
    knobs: Knobs | None = None,
    time_limit: float | None = None,
    constraints: ConstraintSet | None = None,
) -> LayerResult:
    """Find the best mapping of one layer for one objective with the named search.

    A result proven optimal only within the space the knobs leave is reported FEASIBLE, with the whole space's
    bound. With `constraints`, the search and its proof cover only the mappings they allow; when none
    does, an InputError names a minimal set of conflicting constraints.
    """
    if search not in REGISTRY:
        raise InputError(f"unknown search {search!r} (one of {', '.join(SEARCHES)})", field="search")
    method = REGISTRY[search]
    problem = Problem(nest, arch, knobs or Knobs(), constraints or None)
    result = method.run(problem, Objective(objective), time_limit=time_limit)
    if result.status == Status.OPTIMAL and problem.knobs != Knobs():
        result = replace(result, status=Status.FEASIBLE, lower_bound=global_lower_bound(problem, result.objective))
    if result.status == Status.INFEASIBLE and constraints:
        raise explain_infeasible(problem)
    return _apply_min_exec(result, problem, method)


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
    return replace(
        result, status=Status.INFEASIBLE, mapping=None, cost=None, lower_bound=math.inf, tilings_evaluated=valid
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
    constraints: object | None = None,
) -> ModelResult:
    """Solve every distinct layer (identical layers are already merged, with `instances`).

    Layers found in the on-disk cache (`cache_dir`; None disables it) are not solved again.
    The others are solved in `workers` processes (default: DEFAULT_WORKERS, at most one per
    layer); with more than one, each process runs its search on one numba thread so that
    processes x threads stays at the core count. `progress` is called in this process for
    each layer as it finishes (cached layers first); the returned layers keep the input order.
    """
    start = time.perf_counter()
    cache = LayerCache(cache_dir) if cache_dir is not None else None
    fingerprint = getattr(constraints, "fingerprint", "") if constraints is not None else ""
    keys = [SolveKey(nest, arch, objective, search, knobs, fingerprint, time_limit) for nest in layers]
    results: list[LayerResult | None] = [None] * len(keys)
    todo = []
    for i, key in enumerate(keys):
        hit = cache.get(key) if cache else None
        if hit is None:
            todo.append(i)
            continue
        results[i] = hit
        if progress:
            progress(hit)
    options = {"search": search, "knobs": knobs, "time_limit": time_limit}
    if constraints is not None:
        options["constraints"] = constraints
    for i, result in _solve_all([layers[i] for i in todo], arch, objective, options, workers, todo):
        result = replace(result, nest=layers[i])  # the caller's nest object, also after a round trip to a process
        results[i] = result
        if cache:
            cache.put(keys[i], result)
        if progress:
            progress(result)
    done = tuple(r for r in results if r is not None)
    return ModelResult(model, arch.name, objective, done, time.perf_counter() - start)


def _solve_all(
    nests: Sequence[LoopNest],
    arch: Arch,
    objective: str,
    options: dict[str, Any],
    workers: int | None,
    ids: Sequence[int],
) -> Iterator[tuple[int, LayerResult]]:
    """(id, result) for each nest, serially in this process or in a pool of processes as they finish."""
    workers = min(workers or DEFAULT_WORKERS, len(nests))
    if workers <= 1:
        for i, nest in zip(ids, nests, strict=True):
            yield i, solve_layer(nest, arch, objective, **options)
        return
    context = multiprocessing.get_context("spawn")  # numba's thread pools are not fork-safe
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread) as pool:
        jobs = zip(ids, nests, strict=True)
        futures = {pool.submit(solve_layer, nest, arch, objective, **options): i for i, nest in jobs}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            pool.shutdown(cancel_futures=True)  # a failed layer (bad input, Ctrl-C) stops the queued ones
            raise


def _one_thread() -> None:
    """Process-pool initializer: one numba thread per process."""

    numba.set_num_threads(1)
