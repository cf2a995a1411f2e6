"""Reuse analysis of index expressions with sympy.

Every operand access is a list of index expressions over the loop variables. This module
checks that each is affine with non-negative integer coefficients and turns it into the
per-dimension coefficients from which footprints, idx(op) and DMA layouts derive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy

from ..errors import InputError
from ..loopnest import LoopNest, Operand, make_operand


@dataclass(frozen=True)
class Access:
    """One operand as the front-end sees it: its index expressions and tensor shape."""

    name: str
    indices: tuple[sympy.Expr, ...]
    shape: tuple[int, ...]
    is_output: bool = False


def affine_coefficients(
    expr: sympy.Expr, loop_symbols: Sequence[sympy.Symbol], *, where: str = "index"
) -> dict[int, int]:
    """{loop position: coefficient} of an affine index expression; constants are dropped."""
    expanded = sympy.expand(expr)
    coefficients: dict[int, int] = {}
    for term, coef in expanded.as_coefficients_dict().items():
        if term == 1:
            continue
        if term not in loop_symbols or not coef.is_Integer or coef < 0:
            raise InputError(f"index expression {expr} is not affine in the loop variables", field=where)
        coefficients[list(loop_symbols).index(term)] = int(coef)
    return coefficients


def build_nest(
    name: str,
    op: str,
    loops: Sequence[str],
    extents: Sequence[int],
    accesses: Sequence[Access],
    *,
    instances: int = 1,
    stride: tuple[int, ...] = (),
    groups: int = 1,
    window_loops: Sequence[str] = (),
) -> LoopNest:
    """Analyse the accesses of a loop nest and return it; the output access comes first."""
    symbols = [sympy.Symbol(loop.lower()) for loop in loops]
    extents = tuple(int(e) for e in extents)
    operands: list[Operand] = []
    for access in sorted(accesses, key=lambda a: not a.is_output):
        if len(access.indices) != len(access.shape):
            raise InputError(
                f"operand {access.name} has {len(access.indices)} indices for a rank-{len(access.shape)} tensor"
            )
        dims = [
            (affine_coefficients(expr, symbols, where=f"{access.name}[{axis}]"), size)
            for axis, (expr, size) in enumerate(zip(access.indices, access.shape, strict=True))
        ]
        operands.append(make_operand(access.name, dims, extents, is_output=access.is_output))
    return LoopNest(
        name=name,
        op=op,
        loops=tuple(loops),
        extents=extents,
        operands=tuple(operands),
        instances=instances,
        stride=stride,
        groups=groups,
        window_loops=tuple(loops.index(w) for w in window_loops),
    )


def loop_symbols(loops: Sequence[str]) -> list[sympy.Symbol]:
    """The sympy symbols that stand for the loop variables (lower-case loop names)."""
    return [sympy.Symbol(loop.lower()) for loop in loops]
