"""The seed's `--auto-optimize` heuristic: exhaustive search under utilisation thresholds that relax step
by step until enough tilings pass (docs/cost-model.md §8). Kept to compare against; never proven."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

from ..problem import Knobs, Problem
from ..result import LayerResult, Monitor
from ..vocabulary import Objective, Status
from .bounds import global_lower_bound
from .exhaustive import ExhaustiveResult, exhaustive_search
from .outcome import Incumbent, layer_result

SEED_START = Knobs(0.8, 0.8, 0.5, True, True, 100)
"""Where the seed's schedule starts when the user gives no utilisation thresholds."""


def auto_schedule(start: Knobs | None = None) -> Iterator[Knobs]:
    """Yield the knob settings of the relaxation schedule from `schedule_start(start)`, in doubles exactly as
    the seed steps them."""
    knobs = schedule_start(start or Knobs())
    knobs = replace(knobs, no_feature_dram=True, no_spatial_reduction=True, min_exec_methods=100)
    while True:
        yield knobs
        pe, rf, spm = knobs.pe_util, knobs.rf_util, knobs.spm_util
        flags, minimum = knobs.no_feature_dram, knobs.min_exec_methods
        if pe > 0 and rf > 0:
            pe, rf = pe - 0.1, rf - 0.1
        if pe <= 0.6 or rf <= 0.6:
            spm -= 0.1
        if pe <= 0.3 or rf <= 0.3:
            flags, minimum = False, 1
        if pe < 0 or rf < 0 or spm < 0:
            return
        knobs = Knobs(pe, rf, spm, flags, flags, minimum)


def auto_search(problem: Problem, start: Knobs | None = None) -> tuple[ExhaustiveResult, Knobs, int]:
    """Run the schedule; returns the last search, its knobs and the tilings evaluated over all steps."""
    evaluated = 0
    result, knobs = None, problem.knobs
    for knobs in auto_schedule(start):
        result = exhaustive_search(Problem(problem.nest, problem.arch, knobs, problem.constraints))
        evaluated += result.tilings
        if result.tilings and result.tilings >= knobs.min_exec_methods:
            break
    assert result is not None
    return result, knobs, evaluated


def schedule_start(knobs: Knobs) -> Knobs:
    """The knobs the schedule starts from: the given utilisation thresholds, or the seed's 0.8/0.8/0.5 when
    none is given (all three zero). The schedule sets the pruning flags and the minimum count itself."""
    given = (knobs.pe_util, knobs.rf_util, knobs.spm_util) != (0.0, 0.0, 0.0)
    return knobs if given else SEED_START


def auto(
    problem: Problem, objective: Objective, *, time_limit: float | None = None, monitor: Monitor | None = None
) -> LayerResult:
    """The search plugin: the schedule from problem.knobs (schedule_start); FEASIBLE, with the whole space's bound
    (no proof to monitor), or INFEASIBLE when even its last step has no valid mapping (no time limit is involved:
    the schedule always runs to its end)."""
    start = time.perf_counter()
    found, knobs, evaluated = auto_search(problem, problem.knobs)
    best = found.best.get(Objective(objective))
    incumbent = best.incumbent() if best else Incumbent()
    last_step = Problem(problem.nest, problem.arch, knobs, problem.constraints)  # the knobs its mapping obeys
    bound = global_lower_bound(problem, objective)
    status = Status.FEASIBLE if incumbent.tiling is not None else Status.INFEASIBLE  # its schedule ran to its end
    return layer_result(
        last_step, objective, "auto", status, incumbent, lower_bound=bound, started=start, evaluated=evaluated
    )
