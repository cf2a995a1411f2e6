"""The options that shape the mapping space: the seed's knobs and the constraint files (solve, count)."""

from __future__ import annotations

import argparse

from ..arch import Arch
from ..constraints import ConstraintSet, load_constraints
from ..problem import Knobs


def knobs_from_args(args: argparse.Namespace) -> Knobs:
    """The Knobs of the command line; MIN_EXEC_METHODS = max(n, 1) as in the seed."""

    pe, rf, spm = args.opt_min_utilization or (0.0, 0.0, 0.0)
    return Knobs(
        pe_util=pe,
        rf_util=rf,
        spm_util=spm,
        no_feature_dram=args.opt_no_feature_dram,
        no_spatial_reduction=args.opt_no_spatial_reduction,
        min_exec_methods=max(args.opt_min_exec_methods, 1),
    )


def knobs_text(knobs: Knobs) -> str:
    """The knobs that prune anything, as ` (knobs: ...)`; empty for the defaults."""

    if knobs == Knobs():
        return ""
    parts = []
    if (knobs.pe_util, knobs.rf_util, knobs.spm_util) != (0, 0, 0):
        parts.append(f"min utilisation PE {knobs.pe_util:g} RF {knobs.rf_util:g} SPM {knobs.spm_util:g}")
    if knobs.no_feature_dram:
        parts.append("no feature DRAM tiling")
    if knobs.no_spatial_reduction:
        parts.append("no spatial reduction")
    if knobs.min_exec_methods > 1:
        parts.append(f"min {knobs.min_exec_methods} execution methods")
    return " (knobs: " + ", ".join(parts) + ")"


def load_constraint_set(arch: Arch, args: argparse.Namespace) -> ConstraintSet | None:
    """The arch spec's constraint files and those of --constraints as one ConstraintSet (None if there are none)."""

    specs = list(arch.constraints) + list(getattr(args, "constraints", []))
    return load_constraints(specs) if specs else None
