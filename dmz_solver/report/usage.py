"""How much of the PE array, of one PE's register file and of the scratchpad a layer's mapping uses."""

from __future__ import annotations

from dataclasses import dataclass

from ..arch import Arch
from ..problem import Problem
from ..problem.validity import measured_usage
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
    used = measured_usage(result.mapping.array(), problem.arrays.dcoef, problem.arrays.ndims, problem.int_params)
    pes, rf, spm = used["pes"], used["rf_elems"], used["spm_bytes"]
    return Usage(pes, rf, spm, pes / arch.pe_count, rf / arch.rf_elems, spm / arch.spm_bytes)
