"""Run a design-space exploration: solve the model at every arch point and mark the Pareto front.

A DSE is a set of (arch point, distinct layer) pairs. Results come from the DSE's store (a resumed run), then
from the layer cache, and the rest are solved as tasks on a back-end (in this process or on a Dask cluster),
each stored as it arrives. A point's totals are computed from its layers' results in the model's layer order,
so they do not depend on where or in which order the layers were solved.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..arch import Arch
from ..cache import LayerCache, SolveKey, code_fingerprint
from ..cache.check import check_answers, check_result
from ..constraints.parse import ConstraintSet
from ..loopnest import LoopNest
from ..problem import Knobs, Problem
from ..problem.numeric import check_model_range
from ..report.output import write_text
from ..result import LayerResult, ModelResult
from ..solving import worth_caching
from ..vocabulary import Objective, Status
from .store import DseStore
from .task import Backend, InProcess, Task

SHOWN_REJECTED = 5
"""Stored results named in the warning about those not used (the others are counted)."""
SEARCH = "cpsat"
"""Every point is solved with the default search, proven optimal."""


@dataclass(frozen=True)
class DsePoint:
    """One arch point: its swept parameters and the model's totals (instances counted)."""

    params: dict[str, float | int]
    arch: Arch
    cycles: float
    energy_pj: float
    status: Status
    seconds: float
    pareto: bool = False

    @property
    def edp(self) -> float:
        return self.cycles * self.energy_pj

    def value(self, objective: Objective | str) -> float:
        return Objective(objective).of(self.energy_pj, self.cycles)

    @property
    def solved(self) -> bool:
        return self.status not in (Status.INFEASIBLE, Status.UNKNOWN)


def point_from_result(params: dict, arch: Arch, result: ModelResult, seconds: float) -> DsePoint:
    """Totals of a solved model; INFEASIBLE when some layer has no mapping at this point (UNKNOWN when the time
    limit ended a search before any was found)."""
    if any(r.cost is None for r in result.layers):
        unknown = any(r.status == Status.UNKNOWN for r in result.layers)
        status = Status.UNKNOWN if unknown else Status.INFEASIBLE
        return DsePoint(params, arch, float("nan"), float("nan"), status, seconds)
    totals = result.totals()
    status = Status.OPTIMAL if totals["all_optimal"] else Status.FEASIBLE
    return DsePoint(params, arch, float(totals["cycles"]), float(totals["energy_pj"]), status, seconds)


@dataclass(frozen=True)
class DseProgress:
    """Where a running DSE stands, after a point was completed."""

    point: DsePoint
    done: int
    total: int
    front: int
    """Points on the Pareto front of the points done so far."""


class ParetoFront:
    """The Pareto front of the points seen so far (cycles and energy minimised), kept as points arrive."""

    def __init__(self) -> None:
        self.members: list[tuple[float, float]] = []

    def add(self, point: DsePoint) -> None:
        if not point.solved:
            return
        new = (point.cycles, point.energy_pj)
        if any(_dominates(old, new) for old in self.members):
            return
        self.members = [old for old in self.members if not _dominates(new, old)] + [new]

    def __len__(self) -> int:
        return len(self.members)


def _dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[0] and a[1] <= b[1] and a != b


def dse_identity(
    layers: Sequence[LoopNest], points: Sequence[tuple[dict, Arch]], objective: str, constraints: ConstraintSet | None
) -> dict[str, str]:
    """What a DSE's results depend on, part by part (hashes): its store must have been made for the same."""

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    fingerprint = constraints.fingerprint if constraints else ""
    return {
        "points": digest(repr([(sorted(params.items()), arch) for params, arch in points])),
        "model": digest(repr(list(layers))),
        "objective": str(objective),
        "options": digest(repr((SEARCH, Knobs(), fingerprint, None))),
        "code": code_fingerprint(),
    }


class Dse:
    """A DSE under way: the results so far (from the store, the layer cache, the solves) by (point, layer).

    Every (point, distinct layer) pair is solved with the default search; each result goes to the store (if
    any) as it arrives, and to the layer cache (if any) when it was solved here.
    """

    def __init__(
        self,
        layers: Sequence[LoopNest],
        points: Sequence[tuple[dict, Arch]],
        objective: str,
        *,
        model: str = "model",
        constraints: ConstraintSet | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        store: DseStore | None = None,
        time_limit: float | None = None,
    ) -> None:
        self.layers = list(layers)
        self.points = list(points)
        self.time_limit = time_limit
        self.objective = str(objective)
        self.model = model
        self.constraints = constraints or None
        self.cache = LayerCache(cache_dir) if cache_dir is not None else None
        self.store = store
        for nest in self.layers if constraints and self.points else ():  # a file naming what a layer lacks
            _ = Problem(nest, self.points[0][1], Knobs(), constraints).compiled
        self.results: dict[tuple[int, int], LayerResult] = {}
        self.discarded = 0
        """Stored results this run found wrong (the cost model disagrees, or they do not read) and solves again."""
        if store:
            self._read_store(store)
        self.stored_points = self.done_points()
        """Points complete in the store when the DSE was opened."""
        self.solved = 0
        """Tasks solved by this run."""

    def _read_store(self, store: DseStore) -> None:
        """Take the store's results, each re-evaluated with the exact cost model: one that does not give the
        stored figures bit for bit, or that cannot be read, is deleted from the store (it is solved again) and
        named in one warning line."""
        self.results, rejected = store.results(self.layers, len(self.points), self._check_stored)
        if not rejected:
            return
        store.discard(rejected)
        self.discarded = len(rejected)
        named = [f"point {p} layer {self.layers[layer].name} ({why})" for (p, layer), why in sorted(rejected.items())]
        more = f"; and {len(named) - SHOWN_REJECTED} more" if len(named) > SHOWN_REJECTED else ""
        print(
            f"warning: {store.path}: {len(named)} stored result(s) not used, solved again: "
            f"{'; '.join(named[:SHOWN_REJECTED])}{more}",
            file=sys.stderr,
        )

    def _check_stored(self, point: int, layer: int, result: LayerResult) -> None:
        """A BadEntry unless the stored `result` answers this pair: a mapping the cost model prices exactly as
        stored (the layer cache's check), or no mapping with a reason."""
        key = self._key(point, layer)
        if result.mapping is not None:
            check_result(result, key, self.constraints)
        else:
            check_answers(result, key)

    @property
    def pairs(self) -> int:
        return len(self.points) * len(self.layers)

    def done_points(self) -> int:
        return sum(self._complete(p) for p in range(len(self.points)))

    def _complete(self, point: int) -> bool:
        return all((point, layer) in self.results for layer in range(len(self.layers)))

    def _key(self, point: int, layer: int) -> SolveKey:
        fingerprint = self.constraints.fingerprint if self.constraints else ""
        arch = self.points[point][1]
        return SolveKey(self.layers[layer], arch, self.objective, SEARCH, Knobs(), fingerprint, self.time_limit)

    def _record(self, point: int, layer: int, result: LayerResult, source: str) -> None:
        result = replace(result, nest=self.layers[layer])
        if self.store:
            self.store.put(point, layer, result, source)
        self.results[point, layer] = result

    def take_cached(self) -> int:
        """Store the pairs the layer cache holds (each re-evaluated before it is believed); how many."""
        if self.cache is None:
            return 0
        found = 0
        for point, layer in self._missing():
            hit = self.cache.get(self._key(point, layer), self.constraints)
            if hit is not None:
                self._record(point, layer, hit, "cache")
                found += 1
        return found

    def _missing(self) -> list[tuple[int, int]]:
        """The pairs without a result, point by point."""
        return [
            (p, layer)
            for p in range(len(self.points))
            for layer in range(len(self.layers))
            if (p, layer) not in self.results
        ]

    def tasks(self) -> tuple[list[Task], dict[str, list[tuple[int, int]]]]:
        """The solves left, one task per distinct solve key, in point order, and the pairs each task answers."""
        waiting: dict[str, list[tuple[int, int]]] = {}
        tasks = []
        for point, layer in self._missing():
            key = self._key(point, layer)
            digest = key.digest
            if digest not in waiting:
                waiting[digest] = []
                tasks.append(Task(digest, key.nest, key.arch, self.objective, self.constraints, self.time_limit))
            waiting[digest].append((point, layer))
        return tasks, waiting

    def solve(self, backend: Backend, progress: Callable[[DseProgress], None] | None = None) -> None:
        """Solve what is left on `backend`, storing each result as it comes back."""
        tasks, waiting = self.tasks()
        front = ParetoFront()
        for point in range(len(self.points)):
            if self._complete(point):
                front.add(self.point(point))
        done = self.done_points()
        for task, result in backend.run(tasks):
            self.solved += 1
            if self.cache and worth_caching(result):
                self.cache.put(self._key(*waiting[task.key][0]), result)
            for point, layer in waiting[task.key]:
                self._record(point, layer, result, "solved")
                if self._complete(point):
                    finished = self.point(point)
                    front.add(finished)
                    done += 1
                    if progress:
                        progress(DseProgress(finished, done, len(self.points), len(front)))

    def point(self, index: int) -> DsePoint:
        """The totals of a point whose layers all have results; its seconds are its layers' solve times."""
        params, arch = self.points[index]
        layers = tuple(self.results[index, layer] for layer in range(len(self.layers)))
        seconds = sum(r.seconds for r in layers)
        return point_from_result(
            params, arch, ModelResult(self.model, arch.name, self.objective, layers, seconds), seconds
        )

    def finish(self) -> list[DsePoint]:
        """Every point's totals, in point order, with the Pareto flags."""
        return mark_pareto([self.point(p) for p in range(len(self.points))])


def run_dse(
    layers: Sequence[LoopNest],
    points: Sequence[tuple[dict, Arch]],
    objective: str,
    *,
    model: str = "model",
    cache_dir: str | os.PathLike[str] | None = None,
    backend: Backend | None = None,
    store: DseStore | None = None,
    progress: Callable[[DseProgress], None] | None = None,
    constraints: ConstraintSet | None = None,
    time_limit: float | None = None,
) -> list[DsePoint]:
    """Solve every layer at every point with the default (proven-optimal) search; Pareto flags set.

    `constraints` (a ConstraintSet: the arch spec's files, as `solve` reads them) hold at every point; each layer's
    search gets `time_limit` seconds. Every point is checked against the cost model's numeric range before any is
    solved. Results already in `store` are taken from it, then those in the layer cache; the rest are solved on
    `backend` (default: in this process).
    """
    for _, arch in points:  # every point in the cost model's numeric range, before any is solved
        check_model_range(list(layers), arch)
    dse = Dse(
        layers,
        points,
        objective,
        model=model,
        constraints=constraints,
        cache_dir=cache_dir,
        store=store,
        time_limit=time_limit,
    )
    dse.take_cached()
    dse.solve(backend or InProcess(), progress)
    return dse.finish()


def mark_pareto(points: Sequence[DsePoint]) -> list[DsePoint]:
    """Flag the points no other solved point dominates in (cycles, energy), both minimised."""

    def dominated(p: DsePoint) -> bool:
        return any(q.solved and _dominates((q.cycles, q.energy_pj), (p.cycles, p.energy_pj)) for q in points)

    return [replace(p, pareto=p.solved and not dominated(p)) for p in points]


CSV_TOTALS = ("cycles", "energy_pj", "edp", "status", "seconds", "pareto")


def write_csv(points: Sequence[DsePoint], keys: Sequence[str], path: Path) -> Path:
    """dse.csv: one row per point, the swept parameters then the totals (written atomically)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([*keys, *CSV_TOTALS])
    for p in points:
        figures = [int(p.cycles), repr(p.energy_pj), repr(p.edp)] if p.solved else ["", "", ""]
        writer.writerow([*(p.params[k] for k in keys), *figures, p.status, f"{p.seconds:.3f}", int(p.pareto)])
    write_text(path, text.getvalue())
    return path
