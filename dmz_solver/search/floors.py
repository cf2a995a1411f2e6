"""What every mapping of a layer's space pays, from the layer alone or from the SPM tile table of its enumeration.

The floors are where CP-SAT's bound starts (search/cpsat_model.py); docs/lower-bounds.md §1, §1a, §1b and §1c prove
them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..loopnest import touched_elements, touched_total
from ..noc.spec import BUS, ROLES, Network, NocSpec
from ..problem import Problem
from .bounds import dma_cycles_floor, energy_floor
from .tables import TileTable


@dataclass(frozen=True)
class SpaceFloors:
    """What every mapping of a layer's space pays, in energy (pJ) and in cycles (docs/lower-bounds.md §1b, §1c)."""

    energy: float
    cycles: float


def space_floors(problem: Problem, tiles: TileTable | None = None) -> SpaceFloors:
    """The floors of §1, §1a and §1c, raised by the SPM tile table when there is one (§1b).

    Every touched element is read from the SPM and crosses its network at least once; a mapping's DMA energy and
    time are at least the smallest of any SPM tile that fits.
    """
    nest, arch = problem.nest, problem.arch
    touched = touched_total(nest)
    dram_floor = arch.dram_energy_pj * touched
    dram, cycles = dram_floor, max(dma_cycles_floor(problem), distribution_floor(problem))
    if tiles is not None and np.any(tiles.state > 0):
        fits = tiles.state > 0
        dram = max(dram, float(tiles.dma_min[fits].min()))
        cycles = max(cycles, float(tiles.dma_cycles[fits].min()))
    on_chip = arch.spm_energy_pj * touched + delivery_energy(problem)
    return SpaceFloors(energy_floor(problem) + on_chip + (dram - dram_floor), cycles)


def delivery_energy(problem: Problem) -> float:
    """Energy every mapping spends on its networks (docs/lower-bounds.md §1c): each touched element of a read-only
    operand is delivered into at least one PE, and each output element leaves a PE for the SPM, each time through
    an edge charging the network's energy per element."""
    default = problem.arch.noc_energy_pj
    return sum(touched * net.energy_pj(default) for touched, net in _operand_networks(problem))


def distribution_floor(problem: Problem) -> float:
    """Cycles every mapping spends moving one operand over its network (docs/lower-bounds.md §1c): every element it
    touches passes one of the network's ports (a bus's one port, the head of each systolic chain), each carrying at
    most `bandwidth` elements a cycle; the output's results leave the same way."""
    noc = problem.arch.noc
    return max(touched / (_ports(net, noc) * net.bandwidth) for touched, net in _operand_networks(problem))


def _ports(net: Network, noc: NocSpec) -> int:
    """Where a network's traffic enters it: a bus's one port, or the head of each systolic chain (one per row for
    chains along the rows, one per column otherwise)."""
    return 1 if net.kind == BUS else noc.rows if net.direction == "rows" else noc.cols


def _operand_networks(problem: Problem) -> Iterator[tuple[int, Network]]:
    """Each operand's touched elements and the network that carries it (by position: ROLES)."""
    noc, extents = problem.arch.noc, tuple(problem.nest.extents)
    for operand, role in zip(problem.nest.operands, ROLES, strict=True):
        yield touched_elements(operand, extents), noc.network(role)
