"""The searches by name: each turns (problem, objective, time limit) into a LayerResult.

Adding a search is one entry here: a function with the `SearchFunction` signature, the knobs it
starts from when the user gives none, and a line for `--help`. The command line's `--search` names
are the keys of `SEARCHES`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from ..problem import Knobs, Problem
from ..result import LayerResult
from ..vocabulary import Objective, Status
from .auto import SEED_START, auto
from .bnb import branch_and_bound
from .exhaustive import exhaustive_search
from .outcome import Incumbent, layer_result


class SearchFunction(Protocol):
    def __call__(self, problem: Problem, objective: Objective, *, time_limit: float | None = None) -> LayerResult:
        """The best mapping of `problem` for `objective`, and what is proven about it."""
        ...


@dataclass(frozen=True)
class SearchMethod:
    """A search, the knobs it starts from without user knobs, and what it does in one line."""

    run: SearchFunction
    summary: str
    default_knobs: Knobs = Knobs()


def exhaustive(problem: Problem, objective: Objective, *, time_limit: float | None = None) -> LayerResult:
    """Every valid tiling and ordering pair evaluated: OPTIMAL over the space (the oracle of the tests)."""
    start = time.perf_counter()
    found = exhaustive_search(problem)
    best = found.best.get(Objective(objective))
    incumbent = Incumbent()
    if best is not None:
        rows = None if best.rows is None else tuple(int(r) for r in best.rows)
        incumbent.offer(best.value, best.tiling, (best.spm_order, best.dram_order), rows)
    value = best.value if best is not None else float("inf")
    return layer_result(
        problem,
        objective,
        "exhaustive",
        Status.OPTIMAL,
        incumbent,
        lower_bound=value,
        started=start,
        evaluated=found.tilings,
    )


SEARCHES: dict[str, SearchMethod] = {
    "cpsat": SearchMethod(branch_and_bound, "CP-SAT candidates and bound, then a proof by branch and bound"),
    "exhaustive": SearchMethod(exhaustive, "every valid tiling and ordering pair"),
    "auto": SearchMethod(auto, "the seed's --auto-optimize heuristic (never proven)", SEED_START),
}
