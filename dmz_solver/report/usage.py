"""How much of the PE array, of one PE's register file and of the scratchpad a layer's mapping uses."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..arch import Arch
from ..problem import Problem
from ..problem.validity import rf_elems_used, spm_usage
from ..result import LayerResult


@dataclass(frozen=True)
class Usage:
    """Resources one mapping uses, and their fractions of the architecture's capacities."""

    pes_used: int
    rf_elems: int
    spm_bytes: int
    pe_fraction: float
    rf_fraction: float
    spm_fraction: float


def mapping_usage(result: LayerResult, arch: Arch) -> Usage | None:
    """PEs used / PE count, RF elements / RF capacity, SPM bytes / one SPM buffer (None without a mapping)."""
    if result.mapping is None:
        return None
    problem = Problem(result.nest, arch)
    dcoef, _, ndims, _, _, _, ip = problem.arrays
    tiling = result.mapping.array()
    pes = math.prod(result.mapping.factors[3])  # the SPATIAL level
    rf = int(rf_elems_used(tiling, dcoef, ndims))
    spm, _ = spm_usage(tiling, dcoef, ndims, ip, np.zeros(tiling.shape[1], np.int64))
    return Usage(pes, rf, int(spm), pes / arch.pe_count, rf / arch.rf_elems, int(spm) / arch.spm_bytes)
