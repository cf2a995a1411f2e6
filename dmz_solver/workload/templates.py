"""Loop nests of the operator classes, written as index expressions and analysed by sympy.

Loop orders follow the seed (docs/cost-model.md §0): convolutions N, M, C, Ox, Oy, Fx, Fy
(Ox and Fx run along tensor dimension 2, Oy and Fy along dimension 3), GEMM X, Y, K.
"""

from __future__ import annotations

from ..loopnest import LoopNest
from .access import Access, build_nest, loop_symbols

CONV_LOOPS = ("N", "M", "C", "Ox", "Oy", "Fx", "Fy")
GROUP_CONV_LOOPS = ("N", "G", "M", "C", "Ox", "Oy", "Fx", "Fy")
GEMM_LOOPS = ("X", "Y", "K")
BATCH_GEMM_LOOPS = ("B", "X", "Y", "K")


def conv_nest(
    name: str,
    *,
    n: int,
    m: int,
    c: int,
    in_rows: int,
    in_cols: int,
    f_rows: int,
    f_cols: int,
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
    depthwise: bool = False,
    instances: int = 1,
) -> LoopNest:
    """A convolution over an already padded input of in_rows x in_cols.

    With `depthwise`, M is 1 and C indexes the output (the seed's DW_CONV, §1.2).
    """
    s0, s1 = stride
    d0, d1 = dilation
    ox_n = (in_rows - d0 * (f_rows - 1) - 1) // s0 + 1
    oy_n = (in_cols - d1 * (f_cols - 1) - 1) // s1 + 1
    m_loop = 1 if depthwise else m
    N, M, C, Ox, Oy, Fx, Fy = loop_symbols(CONV_LOOPS)
    out_ch, out_ch_n = (C, c) if depthwise else (M, m)
    accesses = [
        Access("O", (N, out_ch, Ox, Oy), (n, out_ch_n, ox_n, oy_n), is_output=True),
        Access("I", (N, C, Ox * s0 + Fx * d0, Oy * s1 + Fy * d1), (n, c, in_rows, in_cols)),
        Access("W", (M, C, Fx, Fy), (m_loop, c, f_rows, f_cols)),
    ]
    return build_nest(
        name,
        "DW_CONV" if depthwise else "CONV",
        CONV_LOOPS,
        (n, m_loop, c, ox_n, oy_n, f_rows, f_cols),
        accesses,
        instances=instances,
        stride=(s0, s1),
        window_loops=("Fx", "Fy"),
    )


def group_conv_nest(
    name: str,
    *,
    n: int,
    groups: int,
    m_per_group: int,
    c_per_group: int,
    in_rows: int,
    in_cols: int,
    f_rows: int,
    f_cols: int,
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
    instances: int = 1,
) -> LoopNest:
    """A grouped convolution: G independent convolutions of M/G outputs over C/G inputs each."""
    s0, s1 = stride
    d0, d1 = dilation
    ox_n = (in_rows - d0 * (f_rows - 1) - 1) // s0 + 1
    oy_n = (in_cols - d1 * (f_cols - 1) - 1) // s1 + 1
    N, G, M, C, Ox, Oy, Fx, Fy = loop_symbols(GROUP_CONV_LOOPS)
    accesses = [
        Access("O", (N, G, M, Ox, Oy), (n, groups, m_per_group, ox_n, oy_n), is_output=True),
        Access("I", (N, G, C, Ox * s0 + Fx * d0, Oy * s1 + Fy * d1), (n, groups, c_per_group, in_rows, in_cols)),
        Access("W", (G, M, C, Fx, Fy), (groups, m_per_group, c_per_group, f_rows, f_cols)),
    ]
    return build_nest(
        name,
        "GROUP_CONV",
        GROUP_CONV_LOOPS,
        (n, groups, m_per_group, c_per_group, ox_n, oy_n, f_rows, f_cols),
        accesses,
        instances=instances,
        stride=(s0, s1),
        groups=groups,
        window_loops=("Fx", "Fy"),
    )


def gemm_nest(name: str, *, x: int, y: int, k: int, batch: int = 1, instances: int = 1) -> LoopNest:
    """C[x][y] += A[x][k] * B[k][y], optionally batched over B (BATCH_GEMM)."""
    if batch > 1:
        Bt, X, Y, K = loop_symbols(BATCH_GEMM_LOOPS)
        accesses = [
            Access("C", (Bt, X, Y), (batch, x, y), is_output=True),
            Access("A", (Bt, X, K), (batch, x, k)),
            Access("B", (Bt, K, Y), (batch, k, y)),
        ]
        return build_nest(name, "BATCH_GEMM", BATCH_GEMM_LOOPS, (batch, x, y, k), accesses, instances=instances)
    X, Y, K = loop_symbols(GEMM_LOOPS)
    accesses = [
        Access("C", (X, Y), (x, y), is_output=True),
        Access("A", (X, K), (x, k)),
        Access("B", (K, Y), (k, y)),
    ]
    return build_nest(name, "GEMM", GEMM_LOOPS, (x, y, k), accesses, instances=instances)
