"""The searches by name: each turns (problem, objective, time limit) into a LayerResult.

Adding a search is one entry here: a function with the `SearchFunction` signature and what solving
needs to know about it. The command line's `--search` names are the keys of `SEARCHES`, and `--help`
shows each entry's summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..problem import Problem
from ..result import LayerResult, Monitor
from ..vocabulary import Objective
from .auto import auto
from .bnb import branch_and_bound
from .exhaustive import exhaustive


class SearchFunction(Protocol):
    def __call__(
        self, problem: Problem, objective: Objective, *, time_limit: float | None = None, monitor: Monitor | None = None
    ) -> LayerResult:
        """The best mapping of `problem` for `objective`, and what is proven about it; a search with a proof
        reports its progress to `monitor`."""
        ...


@dataclass(frozen=True)
class SearchMethod:
    """A search, a line for `--help`, and the rules of solving it follows."""

    run: SearchFunction
    summary: str
    applies_min_exec: bool = True
    """Solving drops a layer with fewer valid tilings than `min_exec_methods` (the seed's heuristic applies
    that knob inside its own schedule)."""
    evaluates_every_tiling: bool = False
    """On a one-row array, `tilings_evaluated` counts each valid tiling once, so solving need not count them."""


SEARCHES: dict[str, SearchMethod] = {
    "cpsat": SearchMethod(branch_and_bound, "CP-SAT candidates and bound, then a proof by branch and bound"),
    "exhaustive": SearchMethod(exhaustive, "every valid tiling and ordering pair", evaluates_every_tiling=True),
    "auto": SearchMethod(auto, "the seed's --auto-optimize heuristic, never proven", applies_min_exec=False),
}
