"""The seam between the proof and what feeds it: candidate mappings and a lower bound, known up front.

A supplier (the CP-SAT model today) looks at a problem before the branch and bound starts and
returns a `Supply`. Its candidates are rescored exactly and seed the incumbent; its bound, which must
hold for every mapping of the space, is where the proof's rising cutoffs begin.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..problem import Problem
from ..vocabulary import Objective
from .floors import SpaceFloors

Candidate = tuple[np.ndarray, tuple[int, ...] | None]
"""A (4 x loops) tiling and the row part of each spatial factor (None: let the evaluator choose)."""


@dataclass(frozen=True)
class Supply:
    """Candidates worth rescoring, and a proven lower bound (None: none proven; inf: the space is empty)."""

    candidates: list[Candidate]
    lower_bound: float | None


Supplier = Callable[[Problem, Objective, float, SpaceFloors], Supply]
"""supplier(problem, objective, seconds, floors): what it finds within `seconds` of wall time (inf: its own budget),
knowing the floors every mapping pays (search/floors.py)."""


def no_supply(
    problem: Problem, objective: Objective, seconds: float = math.inf, floors: SpaceFloors | None = None
) -> Supply:
    """A supplier that knows nothing: the proof starts from its own spatial bounds."""
    return Supply([], None)
