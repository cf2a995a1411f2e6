"""Run a design-space exploration: solve the model at every arch point and mark the Pareto front."""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..arch import Arch
from ..loopnest import LoopNest
from ..problem.numeric import check_model_range
from ..report.output import write_text
from ..result import ModelResult
from ..solving import solve_model
from ..vocabulary import Objective, Status


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


def run_dse(
    layers: Sequence[LoopNest],
    points: Sequence[tuple[dict, Arch]],
    objective: str,
    *,
    model: str = "model",
    cache_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    progress: Callable[[DsePoint], None] | None = None,
    constraints: object | None = None,
    time_limit: float | None = None,
) -> list[DsePoint]:
    """Solve every layer at every point with the default (proven-optimal) search; Pareto flags set.

    `constraints` (a ConstraintSet: the arch spec's files, as `solve` reads them) hold at every point; each layer's
    search gets `time_limit` seconds. Every point is checked against the cost model's numeric range before any
    is solved.
    """
    for _, arch in points:
        check_model_range(list(layers), arch)
    out = []
    for params, arch in points:
        start = time.perf_counter()
        result = solve_model(
            layers,
            arch,
            objective,
            model=model,
            cache_dir=cache_dir,
            workers=workers,
            constraints=constraints,
            time_limit=time_limit,
        )
        point = point_from_result(params, arch, result, time.perf_counter() - start)
        out.append(point)
        if progress:
            progress(point)
    return mark_pareto(out)


def mark_pareto(points: Sequence[DsePoint]) -> list[DsePoint]:
    """Flag the points no other solved point dominates in (cycles, energy), both minimised."""

    def dominated(p: DsePoint) -> bool:
        return any(
            q.solved
            and q.cycles <= p.cycles
            and q.energy_pj <= p.energy_pj
            and (q.cycles < p.cycles or q.energy_pj < p.energy_pj)
            for q in points
        )

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
