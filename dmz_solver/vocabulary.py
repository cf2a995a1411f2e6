"""The words every stage shares: objectives, tiling levels and result statuses, each defined once.

`Objective` lists the objectives in the one order used everywhere: the kernels' result columns,
the command line's choices, the tables. `Level` numbers the rows of a tiling array
t[level, loop], outermost first. `Status` says what is proven about a result.
"""

from __future__ import annotations

import math
from enum import IntEnum, StrEnum


class Objective(StrEnum):
    """What a search minimises; `.column` is its column in the kernels' (energy, cycles, EDP) results."""

    ENERGY = "energy"
    CYCLES = "cycles"
    EDP = "edp"

    @property
    def column(self) -> int:
        return _COLUMNS[self]

    def of(self, energy, cycles):
        """This objective's value from energy and cycles (numbers or numpy arrays); EDP is energy * cycles."""
        if self is Objective.ENERGY:
            return energy
        if self is Objective.CYCLES:
            return cycles
        return energy * cycles


_COLUMNS = {objective: column for column, objective in enumerate(Objective)}
OBJECTIVES: tuple[str, ...] = tuple(o.value for o in Objective)
"""Objective names in column order: ("energy", "cycles", "edp")."""


BREAKDOWN: tuple[str, ...] = ("MAC", "RF", "NOC", "SPM", "DRAM")
"""Categories of the energy breakdown (docs/cost-model.md §6.5), in the kernels' order."""


class Level(IntEnum):
    """Tiling levels, outermost first: the row of a tiling array t[level, loop]."""

    DRAM = 0
    SPM = 1
    RF = 2
    SPATIAL = 3


LEVELS: tuple[str, ...] = tuple(level.name for level in Level)
"""Level names, outermost first: ("DRAM", "SPM", "RF", "SPATIAL")."""
ORDER_LEVELS: tuple[str, ...] = (Level.DRAM.name, Level.SPM.name)
"""The levels whose loop order a mapping chooses, outermost first."""


class Status(StrEnum):
    """What is proven about a layer's result."""

    OPTIMAL = "OPTIMAL"
    """No mapping in the searched space is better: proven."""
    FEASIBLE = "FEASIBLE"
    """A valid mapping, with a proven lower bound and the gap to it."""
    INFEASIBLE = "INFEASIBLE"
    """No mapping of the searched space is valid."""
    UNKNOWN = "UNKNOWN"
    """The time limit ended the search before it found a valid mapping or proved there is none; the lower bound
    still holds."""


def relative_gap(value: float, bound: float) -> float:
    """The gap the reports print: how far `value` lies above `bound`, as a fraction of `value` (inf without a
    finite positive value)."""
    return max(0.0, (value - bound) / value) if math.isfinite(value) and value > 0 else math.inf
