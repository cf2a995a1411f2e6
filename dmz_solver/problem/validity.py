"""What makes a tiling valid, stated once (docs/cost-model.md §3.2).

Each rule compares one usage of a tiling with a capacity of the arch; a utilisation knob may also
ask for a floor, a fraction of that capacity:

| rule | usage | capacity | floor knob |
|---|---|---|---|
| `spatial_capacity` | PEs used: the product of the spatial factors | `arch.pe_count` | `pe_util` |
| `rf_capacity` | RF elements per PE: the RF footprints of all operands | `arch.rf_elems` | `rf_util` |
| `spm_banks` | SPM banks: whole banks per operand | `arch.spm_banks` | |
| `spm_bytes` | SPM bytes: the SPM footprints of all operands | `arch.spm_bytes` | `spm_util` |

`RULES` is read by `space.tiling_violations` (through `measured_usage`) and by the CP-SAT model (its
capacity constraints, under the same names, over the same usages). The enumerators and the table builder
are numba code: they compare usages with `within` and `full_enough`, the one form of each comparison,
through the checks below; the table builder takes a tile's SPM usage from cost.terms.spm_tile_terms,
which measures it along with the tile's DMA terms. The kernels read the capacities from the parameter
slots (layout.py, filled by problem.Problem from the same Arch fields; the SPM's bytes are its banks
times the bytes per bank). Adding a rule means a row here, its usage in `measured_usage`, in the checks
below and in the CP-SAT model, and a slot for its capacity.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..arch import Arch
from ..jit import njit
from ..layout import (
    F_PE_UTIL,
    F_RF_ELEMS,
    F_RF_UTIL,
    F_SPM_UTIL,
    I_BANK_BYTES,
    I_BANKS,
    I_BYTES_PER_ELEM,
    I_PES,
    RF,
    SP,
    SPM,
    footprint,
)
from .knobs import Knobs


@dataclass(frozen=True)
class CapacityRule:
    """usage <= capacity(arch), and usage / capacity >= floor(knobs) when a floor is set."""

    name: str
    usage: str
    capacity: Callable[[Arch], float]
    over: str
    """Why a tiling over the capacity is invalid; formatted with used= and capacity=."""
    floor_name: str | None = None
    floor: Callable[[Knobs], float] = lambda knobs: 0.0
    under: str = ""
    """Why a tiling under the floor is invalid; formatted with used= and floor=."""

    def limits(self, arch: Arch, knobs: Knobs) -> tuple[float, float]:
        """(capacity, floor) on this arch under these knobs."""
        return self.capacity(arch), self.floor(knobs)

    def violation(self, used: int, arch: Arch, knobs: Knobs) -> str | None:
        """Why `used` breaks the rule, or None."""
        capacity, floor = self.limits(arch, knobs)
        if not within(used, capacity):
            return self.over.format(used=used, capacity=capacity)
        if not full_enough(used, capacity, floor):
            return self.under.format(used=used, floor=floor)
        return None


RULES: tuple[CapacityRule, ...] = (
    CapacityRule(
        "spatial_capacity", "pes", lambda a: a.pe_count, "uses {used} PEs, the array has {capacity}",
        "pe_utilization", lambda k: k.pe_util, "uses {used} PEs, below the PE utilisation threshold {floor}",
    ),
    CapacityRule(
        "rf_capacity", "rf_elems", lambda a: a.rf_elems, "needs {used} RF elements per PE, the RF holds {capacity:g}",
        "rf_utilization", lambda k: k.rf_util, "fills {used} RF elements, below the RF utilisation threshold {floor}",
    ),
    CapacityRule("spm_banks", "spm_banks", lambda a: a.spm_banks, "needs {used} SPM banks, the SPM has {capacity}"),
    CapacityRule(
        "spm_bytes", "spm_bytes", lambda a: a.spm_bytes, "needs {used} SPM bytes, one SPM buffer holds {capacity}",
        "spm_utilization", lambda k: k.spm_util, "fills {used} SPM bytes, below the SPM utilisation threshold {floor}",
    ),
)  # fmt: skip


def measured_usage(tiling: np.ndarray, dcoef: np.ndarray, ndims: np.ndarray, ip: np.ndarray) -> dict[str, int]:
    """The usage each rule bounds, measured on a (4 x loops) tiling, keyed by `CapacityRule.usage`."""
    nbytes, banks = spm_usage(tiling, dcoef, ndims, ip, np.empty(tiling.shape[1], np.int64))
    return {
        "pes": int(np.prod(tiling[SP])),
        "rf_elems": int(rf_elems_used(tiling, dcoef, ndims)),
        "spm_banks": int(banks),
        "spm_bytes": int(nbytes),
    }


def least_usage(capacity: float, floor: float) -> int:
    """The smallest integer usage that is `full_enough` (the CP-SAT form of a floor)."""
    used = max(0, math.floor(capacity * floor) - 2)  # nothing smaller is within float error of the floor
    while not full_enough(used, capacity, floor):
        used += 1
    return used


# ----------------------------------------------------------------------------------------------------------------------
# The comparisons and the usages, as numba functions for the enumerators


@njit(cache=True)
def within(used, capacity):
    """The capacity side of every rule."""
    return used <= capacity


@njit(cache=True)
def full_enough(used, capacity, floor):
    """The floor side of every rule: a utilisation at least the knob's threshold."""
    return used / capacity >= floor


@njit(cache=True)
def rf_elems_used(t, dcoef, ndims):
    """Sum over operands of D_RF: the RF elements one PE holds."""
    total = 0
    for op in range(ndims.shape[0]):
        total += footprint(dcoef, ndims, op, t[RF])
    return total


@njit(cache=True)
def spm_usage(t, dcoef, ndims, ip, tile):
    """(bytes, banks) the SPM tiles of all operands take; tile is a work array of loop length."""
    nbytes = 0
    banks = 0
    for loop in range(t.shape[1]):
        tile[loop] = t[RF, loop] * t[SP, loop] * t[SPM, loop]
    for op in range(ndims.shape[0]):
        b = footprint(dcoef, ndims, op, tile) * ip[I_BYTES_PER_ELEM]
        nbytes += b
        banks += (b + ip[I_BANK_BYTES] - 1) // ip[I_BANK_BYTES]
    return nbytes, banks


@njit(cache=True)
def pes_fit(pes, ip):
    return within(pes, ip[I_PES])


@njit(cache=True)
def pes_full_enough(pes, ip, fp):
    return full_enough(pes, ip[I_PES], fp[F_PE_UTIL])


@njit(cache=True)
def rf_fits(t, dcoef, ndims, fp):
    return within(rf_elems_used(t, dcoef, ndims), fp[F_RF_ELEMS])


@njit(cache=True)
def rf_util_ok(t, dcoef, ndims, fp):
    return full_enough(rf_elems_used(t, dcoef, ndims), fp[F_RF_ELEMS], fp[F_RF_UTIL])


@njit(cache=True)
def spm_usage_fits(nbytes, banks, ip):
    """Both SPM rules on a measured usage: whole banks, then bytes."""
    return within(banks, ip[I_BANKS]) and within(nbytes, ip[I_BANKS] * ip[I_BANK_BYTES])


@njit(cache=True)
def spm_usage_full_enough(nbytes, ip, fp):
    return full_enough(nbytes, ip[I_BANKS] * ip[I_BANK_BYTES], fp[F_SPM_UTIL])


@njit(cache=True)
def spm_fits(t, dcoef, ndims, ip, tile):
    nbytes, banks = spm_usage(t, dcoef, ndims, ip, tile)
    return spm_usage_fits(nbytes, banks, ip)


@njit(cache=True)
def spm_util_ok(t, dcoef, ndims, ip, fp, tile):
    nbytes, _ = spm_usage(t, dcoef, ndims, ip, tile)
    return spm_usage_full_enough(nbytes, ip, fp)
