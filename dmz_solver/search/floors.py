"""What every mapping of a layer's space pays, from the layer alone or from the SPM tile table of its enumeration.

The floors are where CP-SAT's bound starts (search/cpsat_model.py); docs/lower-bounds.md §1, §1a and §1b prove them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..loopnest import touched_total
from ..problem import Problem
from .bounds import dma_cycles_floor, energy_floor
from .tables import TileTable


@dataclass(frozen=True)
class SpaceFloors:
    """What every mapping of a layer's space pays, in energy (pJ) and in cycles (docs/lower-bounds.md §1b)."""

    energy: float
    cycles: float


def space_floors(problem: Problem, tiles: TileTable | None = None) -> SpaceFloors:
    """The floors of §1 and §1a, raised by the SPM tile table when there is one (§1b): every touched element is
    read from the SPM at least once, and a mapping's DMA energy and time are at least the smallest of any SPM tile
    that fits."""
    nest, arch = problem.nest, problem.arch
    touched = touched_total(nest)
    dram_floor = arch.dram_energy_pj * touched
    dram, cycles = dram_floor, dma_cycles_floor(problem)
    if tiles is not None and np.any(tiles.state > 0):
        fits = tiles.state > 0
        dram = max(dram, float(tiles.dma_min[fits].min()))
        cycles = max(cycles, float(tiles.dma_cycles[fits].min()))
    energy = energy_floor(problem) + arch.spm_energy_pj * touched + (dram - dram_floor)
    return SpaceFloors(energy, cycles)
