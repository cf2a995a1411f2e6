"""The options that shape the mapping space: the seed's knobs and the constraint files (solve, count)."""

from __future__ import annotations

import argparse

from ..api import constraint_set
from ..arch import Arch
from ..constraints import ConstraintSet
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


def restrictions_text(restrictions: tuple[str, ...]) -> str:
    """The knobs and constraint files in force, as `; restricted to: ...` (empty when nothing narrows the space)."""
    return "; restricted to: " + ", ".join(restrictions) if restrictions else ""


def load_constraint_set(arch: Arch, args: argparse.Namespace) -> ConstraintSet | None:
    """The arch spec's constraint files and those of --constraints as one ConstraintSet (None if there are none)."""
    return constraint_set(arch, list(getattr(args, "constraints", None) or []))
