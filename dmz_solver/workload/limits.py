"""The largest layers the readers accept (docs/formats.md, "Limits"), checked before a layer reaches the solver.

The caps sit far above real networks and well inside what the solver's 64-bit arithmetic and tables hold:
the largest layers of published networks have extents below 2^17 (vocabularies, sequence lengths) and about
2^41 MACs (the feed-forward GEMMs of the largest language models at a 2048-token batch).
"""

from __future__ import annotations

from ..loopnest import LoopNest

MAX_EXTENT = 1 << 20
"""Largest loop extent: 1,048,576."""
MAX_MACS = 1 << 48
"""Largest MAC count of one layer (2.8E+14): a layer's cycles and element counts are multiples of its MACs
by small factors, and must stay well below the 2^63 of the kernels' integers."""
MAX_INSTANCES = 1 << 20
"""Largest `instances` of a layer: no network repeats a layer a million times."""


def size_problem(nest: LoopNest) -> str | None:
    """Why a layer is too large to solve, naming the loop or the MAC count, or None when it is within the caps."""
    for loop, extent in zip(nest.loops, nest.extents, strict=True):
        if extent > MAX_EXTENT:
            return f"loop {loop} has extent {extent}; extents are at most {MAX_EXTENT:,}"
    if nest.macs > MAX_MACS:
        return f"{nest.macs:.3E} MACs; a layer has at most {MAX_MACS:.3E} (2^48)"
    return None
