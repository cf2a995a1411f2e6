"""Lower bounds on the exact objective that hold for every valid tiling and ordering pair.

The proofs are in docs/lower-bounds.md. A bound here must never exceed the exact cost
of any mapping it covers: the optimality proof of the CP-SAT search rests on that.
"""

from __future__ import annotations

import math

from ..cost.packing import Problem


def global_lower_bound(problem: Problem, objective: str) -> float:
    """A bound valid over the whole space: every MAC and RF access is paid, every element
    of every operand crosses DRAM once, and at most all PEs compute in parallel."""
    nest, arch = problem.nest, problem.arch
    macs = nest.macs
    e_fixed = macs * arch.mac_energy_pj + 4 * macs * arch.rf_energy_pj
    e_dram = arch.dram_energy_pj * sum(op.footprint(nest.extents) for op in nest.operands)
    energy = e_fixed + e_dram
    cycles = math.ceil(macs / arch.pe_count)
    # Tiny slack keeps the bound below exact values despite float rounding in the kernels.
    energy *= 1 - 1e-12
    return {"energy": energy, "cycles": float(cycles), "edp": energy * cycles}[objective]
