"""The seed's `--auto-optimize` heuristic: exhaustive search under utilisation thresholds that
relax step by step until enough tilings pass (cost-model.md §8). Kept to compare against."""

from __future__ import annotations

from dataclasses import replace

from ..problem import Knobs, Problem
from .exhaustive import ExhaustiveResult, exhaustive_search


def auto_schedule(start: Knobs | None = None):
    """Yield the knob settings of the relaxation schedule, in doubles exactly as the seed steps them."""
    knobs = start or Knobs(0.8, 0.8, 0.5, True, True, 100)
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
