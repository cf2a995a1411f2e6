"""The seed's search-space knobs: thresholds and switches that narrow the mapping space."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Knobs:
    """The seed's search-space reduction knobs (docs/cost-model.md §8); the defaults prune nothing."""

    pe_util: float = 0.0
    rf_util: float = 0.0
    spm_util: float = 0.0
    no_feature_dram: bool = False
    no_spatial_reduction: bool = False
    min_exec_methods: int = 1
