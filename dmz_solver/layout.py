"""How the kernels see a layer on an architecture: the rows of a tiling array and the parameter slots.

A tiling is an int64 array t[level, loop], levels DRAM, SPM, RF, SPATIAL (vocabulary.Level). The
architecture and the knobs reach the kernels as two flat arrays, floats `fp` and integers `ip`,
whose slots are named here; `problem.Problem` fills them and every kernel reads them by these
names. The records below group the kernels' inputs (numba reads namedtuple fields by name).
`footprint` is the one numba form of an operand's tile footprint (docs/cost-model.md §1.5).
"""

from __future__ import annotations

from collections import namedtuple

from .jit import njit
from .vocabulary import Level

NestArrays = namedtuple("NestArrays", "dcoef dsize ndims isidx cands fp ip")
"""A layer on an architecture in kernel form (`Problem.arrays`): dim coefficients [op, dim, loop], dim
sizes, dims per operand, which loops index each operand, candidate orders (innermost first), fp, ip."""

Profile = namedtuple("Profile", "pi pf rowf")
"""The communication profile of one spatial unrolling (noc/profile.py) and its row factors; stacked
along a first axis, the profiles of several unrollings."""

Profiles = namedtuple("Profiles", "pi pf rowf which")
"""The stacked profiles of a batch's unrollings and, per tiling, which one it has."""

DRAM, SPM, RF, SP = int(Level.DRAM), int(Level.SPM), int(Level.RF), int(Level.SPATIAL)

# Float parameters (fp array): energies per access (pJ), DMA timing, RF size, utilisation knobs
F_MAC, F_RF, F_NOC, F_SPM, F_DRAM = 0, 1, 2, 3, 4
F_DMA_INIT, F_DMA_CPB, F_ACCEL_MHZ, F_DMA_MHZ = 5, 6, 7, 8
F_RF_ELEMS, F_PE_UTIL, F_RF_UTIL, F_SPM_UTIL = 9, 10, 11, 12
N_FP = 13
# Integer parameters (ip array): PEs, element and DMA widths, SPM banks
I_PES, I_BYTES_PER_ELEM, I_BANKS, I_BANK_BYTES, I_DMA_ELEM_BYTES = 0, 1, 2, 3, 4
N_IP = 5


@njit(cache=True)
def footprint(dcoef, ndims, op, ext):
    """D(op, e): product over the operand's dims of 1 + sum(coef * (e - 1)) (docs/cost-model.md §1.5)."""
    total = 1
    for d in range(ndims[op]):
        x = 1
        for loop in range(ext.shape[0]):
            x += dcoef[op, d, loop] * (ext[loop] - 1)
        total *= x
    return total
