"""Shared by the optimality and bound tests: small layers of every kind, random networks, and the CP-SAT vs
exhaustive check."""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import strategies as st

from dmz_solver.arch import Arch, arch_from_json
from dmz_solver.loopnest import LoopNest
from dmz_solver.problem import Problem
from dmz_solver.result import LayerResult
from dmz_solver.search.exhaustive import exhaustive_search
from dmz_solver.solving import solve_layer
from dmz_solver.vocabulary import Status
from dmz_solver.workload.templates import conv_nest, gemm_nest


@st.composite
def small_layers(draw: st.DrawFn) -> LoopNest:
    """A CONV, DW_CONV or GEMM small enough to search exhaustively: N > 1, strides, 1x1 filters included."""
    kind = draw(st.sampled_from(["CONV", "DW_CONV", "GEMM"]))
    if kind == "GEMM":
        x, y, k = (draw(st.sampled_from([1, 2, 3, 4, 6, 8])) for _ in range(3))
        return gemm_nest("g", x=x, y=y, k=k)
    n = draw(st.sampled_from([1, 2]))
    c = draw(st.sampled_from([1, 2, 4]))
    m = draw(st.sampled_from([1, 2, 4, 6]))
    f = draw(st.sampled_from([1, 2, 3]))
    s = draw(st.sampled_from([1, 2]))
    out = draw(st.sampled_from([1, 2, 3, 4]))
    size = (out - 1) * s + f
    return conv_nest(
        "c", n=n, m=m, c=c, in_rows=size, in_cols=size, f_rows=f, f_cols=f, stride=(s, s), depthwise=kind == "DW_CONV"
    )


def proven_results(nest: LoopNest, arch: Arch) -> Iterator[tuple[str, LayerResult, float]]:
    """Per objective, the CP-SAT result and the exhaustive optimum of the same space, after checking that
    CP-SAT proves exactly that optimum (or finds no mapping where the exhaustive search finds none)."""
    found = exhaustive_search(Problem(nest, arch))
    for objective in ("edp", "energy", "cycles"):
        result = solve_layer(nest, arch, objective, search="cpsat")
        if not found.best:
            assert result.mapping is None
            continue
        best = found.best[objective].value
        assert result.status == Status.OPTIMAL and result.value == best
        assert result.lower_bound == result.value and result.gap == 0.0
        yield objective, result, best


SMALL_ARRAYS = ((1, 4), (2, 2), (2, 4), (4, 2), (3, 3), (4, 4))


@st.composite
def network_archs(draw, sizes=SMALL_ARRAYS):
    """Arrays of the given sizes (rows, columns) with random networks: every kind, bandwidths, latencies, energies
    and PE groups."""
    rows, cols = draw(st.sampled_from(sizes))
    grouped = rows % 2 == 0 and cols % 2 == 0 and draw(st.booleans())

    def network():
        if draw(st.booleans()):
            return {
                "kind": "systolic",
                "direction": draw(st.sampled_from(["rows", "columns"])),
                "bandwidth": draw(st.sampled_from([0.5, 1, 2])),
                "latency": draw(st.integers(0, 2)),
                "energy": draw(st.sampled_from([0.1, 1.0])),
            }
        segments = draw(st.sampled_from(["none", "rows", "columns"] + (["groups"] if grouped else [])))
        return {
            "kind": "bus",
            "multicast": draw(st.booleans()),
            "segments": segments,
            "bandwidth": draw(st.sampled_from([0.5, 1, 4])),
            "segment_bandwidth": draw(st.sampled_from([1, 2])),
            "segment_energy": draw(st.sampled_from([0, 0.5])),
            "latency": draw(st.integers(0, 1)),
        }

    spec = {
        "arch_basic": {
            "RF_SIZE": draw(st.sampled_from([64, 256])),
            "TOTAL_BANKS_IN_SPM": 8,
            "TOTAL_BYTES_IN_BANK": 512,
        },
        "pe_array": {"rows": rows, "cols": cols},
        "networks": {role: network() for role in ("input", "weight", "output", "reduction")},
    }
    if grouped:
        spec["pe_groups"] = {"rows": rows // 2, "cols": cols // 2}
    return arch_from_json(spec, source="random", name="random")
