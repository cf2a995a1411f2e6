"""The networks of an arch as parameter rows for the compiled cost derivation (noc/profile.py).

The trees of noc/graph.py are regular: a bus (optionally with one segment bus per row, column or PE
group) or one chain per row or column. The derivation reads each network from a few numbers rather
than from its nodes: its kind, multicast, segments and chain direction, latency, bandwidths and
energies, and the scope of each kind of node (which PEs its subtree holds: the whole array, one whole
row, one whole column or anything else). Networks are stacked in role order: output, input, weight,
reduction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .profile import (
    ARRAY,
    COL,
    DIR_COLS,
    DIR_ROWS,
    KIND_BUS,
    KIND_SYSTOLIC,
    N_NET_F,
    N_NET_I,
    NET_BW,
    NET_DIR,
    NET_E,
    NET_KIND,
    NET_LAT,
    NET_MULTICAST,
    NET_SCOPE_BUS,
    NET_SCOPE_PE,
    NET_SCOPE_SEG,
    NET_SEG,
    NET_SEG_BW,
    NET_SEG_E,
    ROW,
    SEG_COLS,
    SEG_GROUPS,
    SEG_NONE,
    SEG_ROWS,
    UNIT,
)
from .spec import BUS, REDUCTION, ROLES, Network, NocSpec

SEGMENT_CODES = {"none": SEG_NONE, "rows": SEG_ROWS, "columns": SEG_COLS, "groups": SEG_GROUPS}


def box_scope(height: int, width: int, rows: int, cols: int) -> int:
    """The footprint kind of a height x width block of PEs on a rows x cols array (as noc/graph.py's
    subtrees): one PE of several is its own tile; then the whole array, one whole row, one whole column."""
    if height * width == 1 and rows * cols > 1:
        return UNIT
    if height * width == rows * cols:
        return ARRAY
    if height == 1 and width == cols:
        return ROW
    if width == 1 and height == rows:
        return COL
    return UNIT


@dataclass(frozen=True)
class NocTables:
    """The array's shape and groups, and one parameter row per network (network, field)."""

    rows: int
    cols: int
    group_rows: int
    group_cols: int
    net_i: np.ndarray  # (4, N_NET_I) int64: kind, multicast, segments, direction, latency, scopes
    net_f: np.ndarray  # (4, N_NET_F) float64: bandwidths and energies


def _row(spec: NocSpec, net: Network, noc_energy: float) -> tuple[list[int], list[float]]:
    rows, cols = spec.rows, spec.cols
    ints = [0] * N_NET_I
    floats = [0.0] * N_NET_F
    ints[NET_KIND] = KIND_BUS if net.kind == BUS else KIND_SYSTOLIC
    ints[NET_MULTICAST] = int(net.multicast)
    ints[NET_SEG] = SEGMENT_CODES[net.segments] if net.kind == BUS else SEG_NONE
    ints[NET_DIR] = DIR_ROWS if net.direction == "rows" else DIR_COLS
    ints[NET_LAT] = net.latency
    ints[NET_SCOPE_BUS] = box_scope(rows, cols, rows, cols)
    segment = {
        SEG_ROWS: (1, cols),
        SEG_COLS: (rows, 1),
        SEG_GROUPS: (spec.group_rows, spec.group_cols),
    }.get(ints[NET_SEG], (rows, cols))
    ints[NET_SCOPE_SEG] = box_scope(*segment, rows, cols)
    ints[NET_SCOPE_PE] = box_scope(1, 1, rows, cols)
    floats[NET_BW] = net.bandwidth
    floats[NET_SEG_BW] = net.segment_bandwidth
    floats[NET_E] = net.energy_pj(noc_energy)
    floats[NET_SEG_E] = net.segment_energy
    return ints, floats


@lru_cache(maxsize=32)
def noc_tables(spec: NocSpec, noc_energy: float) -> NocTables:
    """The four networks of an arch as parameter rows."""
    found = [_row(spec, spec.network(role), noc_energy) for role in (*ROLES, REDUCTION)]
    net_i = np.array([ints for ints, _ in found], np.int64)
    net_f = np.array([floats for _, floats in found], np.float64)
    return NocTables(spec.rows, spec.cols, spec.group_rows, spec.group_cols, net_i, net_f)
