"""How large an expression can become once multiplied out, estimated on its unevaluated tree.

sympy evaluates powers while parsing and multiplies products out in `compile`; both can take unbounded time
and memory (`9**9**9**9`, a sum raised by repeated multiplication). The estimate is an upper bound on the
expanded polynomial over its common denominator: its terms, its degree and the bits of its numbers; parse.py
refuses an expression beyond the caps before anything is evaluated or expanded (docs/constraints.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy

MAX_TERMS = 4096
"""Most terms of a relation multiplied out: every term is evaluated at each tiling checked."""
MAX_DEGREE = 64
"""Highest degree of a term: beyond it any factor above 1 overflows the 64-bit integers the relations use."""
MAX_BITS = 4096
"""Largest number (in bits) an expression may form on the way; the relations themselves must fit 64 bits."""
UTILIZATION_BITS = 64
"""A utilisation is an atom over a capacity, itself a 64-bit number."""


@dataclass(frozen=True)
class Size:
    """Upper bounds on a rational expression multiplied out: numerator and denominator terms and degrees, bits."""

    terms: int = 1
    den_terms: int = 1
    degree: int = 0
    den_degree: int = 0
    bits: int = 0

    def exceeds(self) -> str | None:
        """Which cap this size passes, in words, or None."""
        if self.terms > MAX_TERMS or self.den_terms > MAX_TERMS:
            return f"multiplies out to more than {MAX_TERMS} terms"
        if max(self.degree, self.den_degree) > MAX_DEGREE:
            return f"has terms of degree above {MAX_DEGREE}"
        if self.bits > MAX_BITS:
            return f"forms numbers of more than {MAX_BITS} bits"
        return None


def estimate(expr: sympy.Basic) -> Size:
    """The size bound of an unevaluated expression of numbers, symbols, the two functions, + * and integer powers.

    Raises TooLarge, naming the cap, as soon as a bound passes one (so the bounds stay small integers)."""
    if isinstance(expr, sympy.Rational):
        return Size(bits=max(int(expr.p).bit_length(), int(expr.q).bit_length()))
    if isinstance(expr, sympy.Float):
        return Size(bits=64)
    if isinstance(expr, sympy.Symbol):
        return Size(degree=1)
    if isinstance(expr, sympy.core.function.AppliedUndef):
        return Size(degree=1, bits=UTILIZATION_BITS)
    if isinstance(expr, sympy.Pow):
        return _power(estimate(expr.base), int(expr.exp))
    parts = [estimate(arg) for arg in expr.args]
    if isinstance(expr, sympy.Mul):
        return _checked(_product(parts))
    return _checked(_sum(parts))


def _product(parts: list[Size]) -> Size:
    return Size(
        math.prod(p.terms for p in parts),
        math.prod(p.den_terms for p in parts),
        sum(p.degree for p in parts),
        sum(p.den_degree for p in parts),
        sum(p.bits for p in parts),
    )


def _sum(parts: list[Size]) -> Size:
    """Over the common denominator, each part's numerator is multiplied by the other parts' denominators."""
    den_terms = math.prod(p.den_terms for p in parts)
    den_degree = sum(p.den_degree for p in parts)
    return Size(
        sum(p.terms * den_terms // p.den_terms for p in parts),
        den_terms,
        max(p.degree + den_degree - p.den_degree for p in parts),
        den_degree,
        sum(p.bits for p in parts) + len(parts).bit_length(),
    )


def relation_size(lhs: sympy.Basic, rhs: sympy.Basic) -> Size:
    """The size bound of `lhs - rhs`, the polynomial a relation becomes (constraints/compile.py)."""
    return _checked(_sum([estimate(lhs), estimate(rhs)]))


class TooLarge(Exception):
    """An expression passes a cap; the message says which."""


def _power(base: Size, exponent: int) -> Size:
    n = abs(exponent)
    if n > MAX_DEGREE and (base.degree or base.den_degree):
        raise TooLarge(f"raises an expression to the power {exponent}; the degree is at most {MAX_DEGREE}")
    if n > MAX_BITS:
        raise TooLarge(f"raises a number to the power {exponent}; numbers are at most {MAX_BITS} bits")
    if exponent < 0:
        base = Size(base.den_terms, base.terms, base.den_degree, base.degree, base.bits)
    return _checked(Size(base.terms**n, base.den_terms**n, base.degree * n, base.den_degree * n, base.bits * n))


def _checked(size: Size) -> Size:
    """Stop as soon as a bound passes its cap, so that the bounds themselves stay small integers."""
    reason = size.exceeds()
    if reason is not None:
        raise TooLarge(reason)
    return size
