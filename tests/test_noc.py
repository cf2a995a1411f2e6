"""Communication costs of the on-chip network model (docs/archspec.md) against independent truth.

Hand-computed cases for every network kind, an element-level oracle (tests/noc_oracle.py) on small
random cases, and the seed's formulas (docs/cost-model.md §5.2, §5.3, §6.1) on the default arch.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from noc_oracle import Terms, oracle_terms
from noc_reference import reference_profile

from dmz_solver.arch import Arch, arch_from_json, load_arch
from dmz_solver.cost.reference import tiling_terms
from dmz_solver.cost.terms import T_RED, T_RED_ADDS
from dmz_solver.loopnest import LoopNest
from dmz_solver.noc.profile import repeat_add
from dmz_solver.noc.tasks import profile_of
from dmz_solver.problem import Problem, divisors
from dmz_solver.workload.templates import conv_nest, gemm_nest

E_NOC, E_RF, E_MAC = 0.5, 1.0, 0.25
GEMM = gemm_nest("g", x=8, y=4, k=16)  # operands C, A, B (output first); loops X, Y, K
WINDOW = conv_nest("w", n=1, m=1, c=1, in_rows=5, in_cols=1, f_rows=2, f_cols=1, stride=(1, 1))  # Ox 4, Fx 2


def make_arch(rows: int, cols: int, networks: dict | None = None, groups: tuple[int, int] | None = None) -> Arch:
    """A rows x cols array with these networks (unlisted roles: the seed bus), e_noc 0.5, e_rf 1, e_mac 0.25."""
    spec: dict = {
        "arch_details": {"communication_energy": E_NOC, "rf_energy": E_RF, "mac_energy": E_MAC},
        "arch_basic": {"RF_SIZE": 4096},
        "pe_array": {"rows": rows, "cols": cols},
        "networks": networks or {},
    }
    if groups:
        spec["pe_groups"] = {"rows": groups[0], "cols": groups[1]}
    return arch_from_json(spec, source="test", name="test")


def tiling(nest: LoopNest, rf: tuple[int, ...], sp: tuple[int, ...]) -> np.ndarray:
    """Rows DRAM, SPM, RF, SPATIAL; what RF and SPATIAL leave of each loop goes to DRAM."""
    rf_sp = np.array([rf, sp], np.int64)
    return np.vstack([np.array(nest.extents) // rf_sp.prod(axis=0), np.ones_like(rf_sp[0]), rf_sp])


def kernel_terms(p: Problem, t: np.ndarray, rows: tuple[int, ...]) -> Terms | None:
    """The kernel's per-RF-pass terms of tiling t with these row factors (None: no valid unrolling)."""
    found = p.unrollings(t[3], rows)
    if not found:
        return None
    tt = tiling_terms(t, p.arrays, found[0])
    return Terms(
        tuple(map(int, tt.noc)), tuple(map(float, tt.e_noc)), int(tt.ti[T_RED]), int(tt.ti[T_RED_ADDS]), float(tt.e_red)
    )


def assert_terms(got: Terms | None, want: Terms) -> None:
    assert got is not None
    assert (got.noc, got.red, got.adds) == (want.noc, want.red, want.adds)
    assert got.e_noc == pytest.approx(want.e_noc, rel=1e-12)
    assert got.e_red == pytest.approx(want.e_red, rel=1e-12)


CHAIN, COLUMN_CHAIN = {"kind": "systolic"}, {"kind": "systolic", "direction": "columns"}
SEED_1x4 = make_arch(1, 4)
UNICAST = make_arch(2, 2, {"default": {"multicast": False}})
ROW_SEGMENTS = make_arch(2, 2, {"default": {"segments": "rows", "bandwidth": 2, "segment_energy": 0.25}})
COL_SEGMENTS = make_arch(2, 2, {"default": {"segments": "columns", "bandwidth": 2, "segment_energy": 0.25}})
GROUP_SEGMENTS = make_arch(2, 4, {"default": {"segments": "groups", "bandwidth": 2, "segment_energy": 1}}, (2, 2))
SYSTOLIC = make_arch(2, 2, {"input": CHAIN, "weight": {**COLUMN_CHAIN, "bandwidth": 2, "latency": 3}})
GROUP_REDUCTION = make_arch(1, 4, {"reduction": {"segments": "groups", "segment_energy": 0.25, "latency": 1}}, (1, 2))
SYS_REDUCTION = make_arch(4, 2, {"reduction": {**COLUMN_CHAIN, "latency": 2}})

# Each case: arch, RF and spatial factors of GEMM (X, Y, K), row factors, and the terms worked by hand.
# D_RF is x*k for A, k*y for B, x*y for C; D_PE the same over RF x SPATIAL extents.
HAND_CASES = {
    # Seed bus, 1 x 4: c = 2x + k. D_RF (C, A, B) = (2, 8, 4), D_PE = (4, 32, 8), TC_SP 4, G_out 2, G_in 2.
    # noc = D_PE; E_noc = D_RF * 4 PEs * 0.5 (A 16, B 8), C: 2 * G_out * 0.5 = 2.
    # red = 2 * (2 - 1) * 2 = 4 adds and cycles; E_red = 4 * ((3 + 0.5) + 0.25) = 15.
    "seed-bus": (SEED_1x4, (2, 1, 4), (2, 1, 2), (1, 1, 1), Terms((4, 32, 8), (2, 16, 8), 4, 4, 15)),
    # Unicast bus, 2 x 2, X on rows, K on columns: every PE gets its own copy. A: 4 PEs * 8 = 32 cycles,
    # 16 pJ; B: 4 PEs * 4 = 16 cycles (8 with multicast), 8 pJ. Reduction (r,0) -> (r,1) twice over the
    # bus: 2 * 2 = 4 cycles, hop 0.5; write-back of the roots (r,1): 2 * 2 = 4 elements, 2 pJ into the SPM.
    "unicast-bus": (UNICAST, (2, 1, 4), (2, 1, 2), (2, 1, 1), Terms((4, 32, 16), (2, 16, 8), 4, 4, 15)),
    # Row segments (bus bw 2, segment bw 1, 0.25 per segment crossing), 2 x 2, X on rows, Y on columns.
    # A (one tile of 8 per row): bus 16/2 = 8, segment 8/1 = 8 -> 8; energy 2 * 8 * 0.25 + 4 * 8 * 0.5 = 20.
    # B (tile 4 per column): bus 8/2 = 4, a row's union 8/1 = 8 -> 8; energy 2 * 8 * 0.25 + 4 * 4 * 0.5 = 12.
    # C (4 roots of 2): a row's 4/1 = 4, bus 8/2 = 4 -> 4; energy 2 * 4 * 0.25 + 8 * 0.5 into the SPM = 6.
    "row-segments": (ROW_SEGMENTS, (2, 1, 4), (2, 2, 1), (2, 1, 1), Terms((4, 8, 8), (6, 20, 12), 0, 0, 0)),
    # Column segments, same tiling. A: a column's union 16/1 = 16, bus 8 -> 16; energy 2 * 16 * 0.25 + 16 = 24.
    # B: a column's 4/1, bus 8/2 -> 4; energy 2 * 4 * 0.25 + 8 = 10. C: 4/1 and 8/2 -> 4; energy 2 + 4 = 6.
    "column-segments": (COL_SEGMENTS, (2, 1, 4), (2, 2, 1), (2, 1, 1), Terms((4, 16, 4), (6, 24, 10), 0, 0, 0)),
    # Group segments: 2 x 4 in 2 x 2 groups, X on rows, Y on columns; a group is not a whole row or column,
    # so its segment carries whole tiles. A: 2 tiles * 8 = 16 per group (bus 16/2 = 8) -> 16; energy
    # 2 * 16 * 1 + 8 PEs * 8 * 0.5 = 64. B: 2 * 4 = 8 (bus 8) -> 8; energy 16 + 16 = 32.
    # C: 4 tiles * 2 = 8 per group (bus 16/2) -> 8; energy 2 * 8 * 1 + 16 * 0.5 = 24.
    "group-segments": (GROUP_SEGMENTS, (2, 1, 4), (2, 4, 1), (2, 1, 1), Terms((8, 16, 8), (24, 64, 32), 0, 0, 0)),
    # The docs' example: inputs systolic along rows; weights systolic along columns (bw 2, latency 3).
    # X on rows: A is one tile of 32 per row: 32 + 2 = 34 cycles, 2 * 2 * 32 * 0.5 = 64 pJ. B is one tile
    # of 16 per column: 16/2 + 2 * 3 = 14, 2 * 2 * 16 * 0.5 = 32. C on the seed bus: D_PE 32, 4 * 8 * 0.5 = 16.
    "systolic-x-rows": (SYSTOLIC, (4, 2, 8), (2, 2, 1), (2, 1, 1), Terms((32, 34, 14), (16, 64, 32), 0, 0, 0)),
    # Y on rows: a row's chain carries 2 tiles of A then 1: 64 + 2 = 66, (64 + 32) * 2 rows * 0.5 = 96.
    # A column's chain carries 2 tiles of B then 1: 32/2 + 6 = 22, (32 + 16) * 2 * 0.5 = 48.
    "systolic-y-rows": (SYSTOLIC, (4, 2, 8), (2, 2, 1), (1, 2, 1), Terms((32, 66, 22), (16, 96, 48), 0, 0, 0)),
    # Reduction over a bus with 1 x 2 group segments (0.25 per crossing, latency 1 per delivery out of a bus),
    # K = 4 on 1 x 4: PE0 -> PE1 (segment 0, hop 0.5, latency 1), PE1 -> PE2 (segment 0, bus, segment 1:
    # 0.25 + 0.25 + 0.5 = 1, latency 3), PE2 -> PE3 (segment 1, 0.5, latency 1). Busiest: each segment bus,
    # 2 transfers * D_RF(C) 2 = 4 (the global bus 2); the chain's latency 1 + 3 + 1 = 5 -> red 9. adds 2 * 3 = 6;
    # E_red = 6 * (3 + 0.25) + 2 * (0.5 + 1 + 0.5) = 23.5. The root PE3 writes 2 elements back (1 pJ); A and B
    # on the seed bus (D_PE 32, 16; 16, 8 pJ).
    "group-reduction": (GROUP_REDUCTION, (2, 1, 4), (1, 1, 4), (1, 1, 1), Terms((2, 32, 16), (1, 16, 8), 9, 6, 23.5)),
    # Systolic reduction down the columns (latency 2), 4 x 2 with K on rows, X on columns: each column
    # accumulates 3 -> 2 -> 1 -> 0, one transfer of 2 elements per link, in parallel: 2 + 3 * 2 = 8 cycles
    # (12 on the seed bus). adds 2 * 3 * 2 = 12, E_red = 12 * (3 + 0.5 + 0.25) = 45. Roots (0, c) write back 4
    # (2 pJ); A: D_PE 64, 8 PEs * 8 * 0.5 = 32 pJ; B: D_PE 16, 8 * 4 * 0.5 = 16 pJ.
    "systolic-reduction": (SYS_REDUCTION, (2, 1, 4), (2, 1, 4), (1, 1, 4), Terms((4, 64, 16), (2, 32, 16), 8, 12, 45)),
}


@pytest.mark.parametrize("case", HAND_CASES.values(), ids=HAND_CASES.keys())
def test_hand_computed_terms(case: tuple) -> None:
    arch, rf, sp, rows, want = case
    t = tiling(GEMM, rf, sp)
    assert_terms(kernel_terms(Problem(GEMM, arch), t, rows), want)
    assert_terms(oracle_terms(GEMM, arch, t, np.array(rows)), want)


def test_systolic_reduction_cannot_join_two_chains() -> None:
    """K split over two columns with a column-direction reduction: partial sums would have to leave a chain."""
    p = Problem(GEMM, make_arch(2, 2, {"reduction": COLUMN_CHAIN}))
    t = tiling(GEMM, (2, 1, 4), (1, 1, 2))
    assert p.unrollings(t[3], (1, 1, 1)) == []
    assert oracle_terms(GEMM, p.arch, t, np.array((1, 1, 1))) is None
    assert [list(u[2]) for u in p.unrollings(t[3], None)] == [[1, 1, 2]]  # K on the rows: one chain per column


# WINDOW with RF Ox 2 and Ox, Fx both unrolled by 2: the input tiles are x in {0,1}, {1,2}, {2,3}, {3,4}
# (Ox most significant), D_RF(I) = 2, union of all 5.
ROW_BUS = {"segments": "rows", "bandwidth": 4, "segment_energy": 0.25}
WINDOW_CASES = {
    # A multicast bus over the whole array sends the union once: 5 cycles; 4 PEs * 2 * 0.5 = 4 pJ.
    "bus-union": (make_arch(1, 4), (1, 1, 1, 1, 1, 1, 1), 5, 4.0),
    # A chain forwards whole tiles: links carry 4, 3, 2, 1 tiles of 2: 8 + 4 hops = 12; 20 * 0.5 = 10 pJ.
    "systolic-tiles": (make_arch(1, 4, {"input": CHAIN}), (1, 1, 1, 1, 1, 1, 1), 12, 10.0),
    # Row segments (bus bw 4), Ox on rows: a row's union {2r .. 2r+2} = 3 per segment, bus 5/4 -> 3;
    # energy 2 * 3 * 0.25 + 4 * 2 * 0.5 = 5.5.
    "row-union": (make_arch(2, 2, {"input": ROW_BUS}), (1, 1, 1, 2, 1, 1, 1), 3, 5.5),
}


@pytest.mark.parametrize("case", WINDOW_CASES.values(), ids=WINDOW_CASES.keys())
def test_sliding_window_halo_is_shared_only_by_box_multicast(case: tuple) -> None:
    arch, rows, cycles, energy = case
    t = tiling(WINDOW, (1, 1, 1, 2, 1, 1, 1), (1, 1, 1, 2, 1, 2, 1))
    for got in (kernel_terms(Problem(WINDOW, arch), t, rows), oracle_terms(WINDOW, arch, t, np.array(rows))):
        assert got is not None
        assert (got.noc[1], got.e_noc[1]) == (cycles, pytest.approx(energy, rel=1e-12))


def test_classes_are_spatial_coordinates() -> None:
    """Ox = Fx = 2 unrolled with RF 1 on a 1 x 4 input chain: the PEs hold x = 0, 1, 1, 2 (Ox + Fx).

    A class is a PE's coordinates on the loops indexing the operand (whether two coordinates alias
    the same window depends on the RF factors, not on the unrolling): the PEs form 4 classes, so the
    links carry 4, 3, 2, 1 tiles: 4 + 4 hops = 8 cycles, 10 * 0.5 = 5 pJ.
    """
    nest = conv_nest("w", n=1, m=1, c=1, in_rows=3, in_cols=1, f_rows=2, f_cols=1, stride=(1, 1))
    arch = make_arch(1, 4, {"input": CHAIN})
    t = tiling(nest, (1,) * 7, (1, 1, 1, 2, 1, 2, 1))
    got = kernel_terms(Problem(nest, arch), t, (1,) * 7)
    assert got is not None
    assert (got.noc[1], got.e_noc[1]) == (8, 5.0)


def test_every_split_is_represented_by_an_equally_costly_task() -> None:
    """Row-segmented buses (bw 4, segments 1) on 4 x 4, GEMM with K = 4 spatial: splitting K over 1, 2 or 4
    rows gives the same profile counts, but a row's union of A and B shrinks from 8 to 4 and 2 elements.
    """
    seg = {"segments": "rows", "bandwidth": 4}
    nest = gemm_nest("g", x=4, y=8, k=8)
    p = Problem(nest, make_arch(4, 4, {"input": seg, "weight": seg, "output": seg}))
    t = tiling(nest, (1, 1, 2), (1, 1, 4))
    tasks = [tuple(u[2]) for u in p.unrollings(t[3], None)]
    for rows in [(1, 1, 1), (1, 1, 2), (1, 1, 4)]:
        assert kernel_terms(p, t, rows) in [kernel_terms(p, t, task) for task in tasks]


# name: (networks, whether the array is split into PE groups)
NETWORKS = {
    "seed-bus": ({}, False),
    "unicast": ({"default": {"multicast": False, "bandwidth": 2, "latency": 1}}, False),
    "row-segments": ({"default": {"segments": "rows", "bandwidth": 2, "segment_energy": 0.25, "latency": 1}}, False),
    "column-segments": ({"default": {"segments": "columns", "bandwidth": 1.5, "segment_energy": 0.25}}, False),
    "group-segments": ({"default": {"segments": "groups", "bandwidth": 0.5, "segment_energy": 1}}, True),
    "group-reduction": (
        {
            "output": {"multicast": False, "energy": 0.3},
            "reduction": {"segments": "groups", "segment_energy": 1, "latency": 1, "energy": 0.3},
        },
        True,
    ),
    "systolic-tpu": (
        {
            "input": CHAIN,
            "weight": {**COLUMN_CHAIN, "bandwidth": 2, "latency": 2},
            "output": COLUMN_CHAIN,
            "reduction": {**COLUMN_CHAIN, "energy": 0.7},
        },
        False,
    ),
    "systolic-rows-reduction": ({"input": COLUMN_CHAIN, "reduction": CHAIN}, True),
    "eyeriss-like": (
        {"default": {"segments": "rows", "bandwidth": 4, "segment_energy": 0.5}, "reduction": COLUMN_CHAIN},
        False,
    ),
}
SHAPES = [(2, 2), (2, 3), (3, 2), (4, 1), (1, 4), (3, 4)]
LAYERS = [
    gemm_nest("g", x=4, y=6, k=4),
    conv_nest("c", n=1, m=2, c=2, in_rows=5, in_cols=4, f_rows=3, f_cols=2, stride=(1, 1)),
]
TILINGS_PER_ARRAY = 16


def random_tiling(nest: LoopNest, rng: np.random.Generator, pes: int) -> np.ndarray:
    """RF and spatial factors drawn from the divisors, with 2 to `pes` PEs used."""
    while True:
        sp = [int(rng.choice(divisors(e))) for e in nest.extents]
        rf = [int(rng.choice(divisors(e // s))) for e, s in zip(nest.extents, sp, strict=True)]
        if 1 < math.prod(sp) <= pes:
            return tiling(nest, tuple(rf), tuple(sp))


def splits(t: np.ndarray, rows: int, cols: int) -> list[tuple[int, ...]]:
    """Every row/column split of t's spatial factors that fits the array."""
    found = []
    for rowf in itertools.product(*(divisors(int(s)) for s in t[3])):
        if math.prod(rowf) <= rows and math.prod(int(s) // r for s, r in zip(t[3], rowf, strict=True)) <= cols:
            found.append(rowf)
    return found


@pytest.mark.parametrize("name", NETWORKS)
def test_terms_match_the_element_level_oracle(name: str) -> None:
    """Every split of random tilings on small arrays, except where one tile sits at two coordinates of an operand's
    loops (see test_identical_input_windows_form_one_class)."""
    networks, grouped = NETWORKS[name]
    rng = np.random.default_rng(list(NETWORKS).index(name))
    compared = 0
    for (rows, cols), nest in itertools.product(SHAPES, LAYERS):
        groups = (rows // 2 if rows % 2 == 0 else rows, cols // 2 if cols % 2 == 0 else cols) if grouped else None
        if groups == (rows, cols):
            continue
        arch = make_arch(rows, cols, networks, groups)
        p = Problem(nest, arch)
        for _ in range(TILINGS_PER_ARRAY):
            t = random_tiling(nest, rng, rows * cols)
            for rowf in splits(t, rows, cols):
                want = oracle_terms(nest, arch, t, np.array(rowf))
                got = kernel_terms(p, t, rowf)
                if want is None:
                    assert got is None, (nest.name, rows, cols, t.tolist(), rowf)
                else:
                    assert_terms(got, want)
                    compared += 1
    assert compared >= 100


SEED_LAYERS = [
    conv_nest("c1", n=1, m=8, c=4, in_rows=10, in_cols=10, f_rows=3, f_cols=3, stride=(1, 1)),
    conv_nest("c2", n=2, m=4, c=8, in_rows=9, in_cols=9, f_rows=3, f_cols=3, stride=(2, 2)),
    gemm_nest("g", x=16, y=8, k=32),
]


@pytest.mark.parametrize("nest", SEED_LAYERS, ids=[n.name for n in SEED_LAYERS])
def test_default_arch_reproduces_the_seed_formulas(nest: LoopNest) -> None:
    """docs/cost-model.md §5.2, §5.3, §6.1 on the dmazerunner arch (one row of 256 PEs, the seed's bus)."""
    arch = load_arch("dmazerunner")
    p = Problem(nest, arch)
    e, unit_red = arch.noc_energy_pj, (3 * arch.rf_energy_pj + arch.noc_energy_pj) + arch.mac_energy_pj
    rng = np.random.default_rng(7)
    for _ in range(20):
        t = random_tiling(nest, rng, arch.pe_count)
        got = kernel_terms(p, t, (1,) * len(nest.loops))
        assert got is not None
        tc_sp = math.prod(t[3])
        g_out = math.prod(int(t[3, lp]) for lp in nest.operands[0].index_loops)
        d_rf = [op.footprint(t[2]) for op in nest.operands]
        d_pe = [op.footprint(t[2] * t[3]) for op in nest.operands]
        red = d_rf[0] * (tc_sp // g_out - 1) * g_out
        e_noc = ((d_rf[0] * g_out) * e, *((d * tc_sp) * e for d in d_rf[1:]))
        assert got == Terms(tuple(d_pe), e_noc, red, red, red * unit_red)


# Energies that are not binary fractions, so a sum in another order than the trees' would differ in its last bits.
INEXACT = {
    "mixed-group-segments": (
        {
            "default": {"segments": "groups", "bandwidth": 0.7, "segment_energy": 0.3, "energy": 0.06, "latency": 2},
            "reduction": {"segments": "rows", "segment_energy": 0.13, "energy": 0.07},
        },
        True,
    ),
    "unicast-row-segments": (
        {
            "default": {"segments": "rows", "multicast": False, "segment_energy": 0.3, "energy": 0.06},
            "reduction": {"segments": "columns", "segment_energy": 0.11, "energy": 0.07, "segment_bandwidth": 0.5},
        },
        True,
    ),
    "tpu-columns": (
        {
            "input": {**CHAIN, "energy": 0.06},
            "weight": {**COLUMN_CHAIN, "energy": 0.06},
            "output": {**COLUMN_CHAIN, "energy": 0.06},
            "reduction": {**COLUMN_CHAIN, "energy": 0.06},
        },
        False,
    ),
    "tpu-rows": (
        {
            "input": {**COLUMN_CHAIN, "energy": 0.06},
            "weight": {**CHAIN, "energy": 0.06},
            "output": {**CHAIN, "energy": 0.06},
            "reduction": {**CHAIN, "energy": 0.06, "latency": 3},
        },
        False,
    ),
}
REFERENCE_SHAPES = [(1, 1), (1, 4), (4, 1), (2, 3), (3, 2), (4, 4), (2, 6), (6, 4), (8, 8), (1, 12), (12, 1)]


def groups_of(rows: int, cols: int) -> tuple[int, int] | None:
    """Halves of even sides (None when that leaves the whole array)."""
    groups = (rows // 2 if rows % 2 == 0 else rows, cols // 2 if cols % 2 == 0 else cols)
    return None if groups == (rows, cols) else groups


def same_profiles(arch: Arch, nest: LoopNest, t: np.ndarray, rowf: tuple[int, ...]) -> bool:
    want = reference_profile(t[3], np.array(rowf), Problem(nest, arch).arrays.isidx, arch)
    got = profile_of(t[3], np.array(rowf), Problem(nest, arch).arrays.isidx, arch)
    if want is None or got is None:
        return want is None and got is None
    return np.array_equal(want[0], got[0]) and np.array_equal(want[1], got[1])


@pytest.mark.parametrize("name", [*NETWORKS, *INEXACT])
def test_profile_is_the_node_by_node_derivation_bit_for_bit(name: str) -> None:
    """The structural derivation (noc/profile.py) against the walk over every PE and tree node it replaced
    (tests/noc_reference.py): the same arrays on every split of random tilings, 1 x 1 to 12 x 1 arrays."""
    networks, grouped = {**NETWORKS, **INEXACT}[name]
    rng = np.random.default_rng(11 + list({**NETWORKS, **INEXACT}).index(name))
    compared = 0
    for (rows, cols), nest in itertools.product(REFERENCE_SHAPES, LAYERS):
        groups = groups_of(rows, cols) if grouped else None
        if grouped and groups is None and "groups" in str(networks):
            continue
        arch = make_arch(rows, cols, networks, groups)
        for _ in range(4):
            t = random_tiling(nest, rng, max(rows * cols, 2))
            for rowf in splits(t, rows, cols):
                assert same_profiles(arch, nest, t, rowf), (name, rows, cols, t[3].tolist(), rowf)
                compared += 1
    assert compared >= 100


@pytest.mark.parametrize("name", ["group-segments", "mixed-group-segments", "unicast-row-segments", "tpu-rows"])
def test_profile_is_the_node_by_node_derivation_on_medium_arrays(name: str) -> None:
    """As above on 16 x 16, 8 x 32 and 32 x 4 arrays in 4 x 4 groups, up to 30 splits of each random tiling."""
    networks, grouped = {**NETWORKS, **INEXACT}[name]
    rng = np.random.default_rng(5)
    for rows, cols in [(16, 16), (8, 32), (32, 4)]:
        arch = make_arch(rows, cols, networks, (4, 4) if grouped else None)
        for nest in LAYERS:
            for _ in range(3):
                t = random_tiling(nest, rng, rows * cols)
                for rowf in splits(t, rows, cols)[:30]:
                    assert same_profiles(arch, nest, t, rowf), (name, rows, cols, t[3].tolist(), rowf)


def test_terms_match_the_element_level_oracle_on_medium_arrays() -> None:
    """Random tilings using up to all 64 or 128 PEs of 8 x 8 and 8 x 16 arrays, on four kinds of network."""
    rng = np.random.default_rng(3)
    for name in ("row-segments", "group-reduction", "systolic-tpu", "mixed-group-segments"):
        networks, grouped = {**NETWORKS, **INEXACT}[name]
        for rows, cols in [(8, 8), (8, 16)]:
            arch = make_arch(rows, cols, networks, (4, 4) if grouped else None)
            nest = LAYERS[1]
            p = Problem(nest, arch)
            for _ in range(2):
                t = random_tiling(nest, rng, rows * cols)
                for rowf in splits(t, rows, cols)[:4]:
                    want = oracle_terms(nest, arch, t, np.array(rowf))
                    got = kernel_terms(p, t, rowf)
                    assert (got is None) == (want is None), (name, rows, cols, t[3].tolist(), rowf)
                    if want is not None:
                        assert_terms(got, want)


BIG_GEMM = gemm_nest("big", x=128, y=64, k=8)


@pytest.mark.parametrize(
    ("networks", "rowf"),
    [
        (INEXACT["tpu-columns"][0], (32, 1, 4)),  # K on the rows: column chains reduce
        (INEXACT["tpu-columns"][0], (16, 2, 4)),
        ({"default": {"segments": "rows", "bandwidth": 8, "segment_energy": 0.25}, "reduction": CHAIN}, (32, 4, 1)),
    ],
)
def test_terms_match_the_element_level_oracle_beyond_the_old_cap(networks: dict, rowf: tuple[int, ...]) -> None:
    """A 128 x 64 array (8,192 PEs, twice the old cap of 4,096), all used by X, Y, K = 32 x 64 x 4: sampled splits."""
    arch = make_arch(128, 64, networks)
    t = tiling(BIG_GEMM, (1, 1, 2), (32, 64, 4))
    want = oracle_terms(BIG_GEMM, arch, t, np.array(rowf))
    got = kernel_terms(Problem(BIG_GEMM, arch), t, rowf)
    assert want is not None
    assert_terms(got, want)


def test_repeated_addition_in_steps_equals_adding_one_by_one() -> None:
    """repeat_add (the trees' order of a sum of equal terms, one binade at a time) against the plain loop, with
    terms that are not binary fractions, ties to even (odd multiples of half the spacing) and binade crossings."""
    rng = np.random.default_rng(2)
    cases = [
        (float(s), float(x), int(n))
        for s, x, n in zip(rng.random(300) * 1e4, rng.random(300), rng.integers(0, 5000, 300), strict=True)
    ]
    cases += [(0.0, x, 70000) for x in (0.06, 0.07, 0.13, 0.3, 1e-17)]
    cases += [
        (s, m * math.ldexp(1.0, math.frexp(s)[1] - 53), n)
        for s in (1.0, 3.0, 2.0**40)
        for m in (0.5, 1.5, 7.5)
        for n in (1, 3, 1000)
    ]
    cases += [(math.nextafter(2.0**k, 0.0), 0.1, 50) for k in (1, 10, 30)]
    for s, x, n in cases:
        want = s
        for _ in range(n):
            want += x
        assert repeat_add(s, x, n) == want, (s, x, n)
