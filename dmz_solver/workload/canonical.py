"""Reuse analysis: a multiply-accumulate block's sympy index expressions become a canonical loop nest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy

from ..errors import InputError
from ..loopnest import LoopNest
from .access import Access, affine_coefficients, build_nest, loop_symbols
from .templates import conv_nest, gemm_nest, group_conv_nest

floordiv = sympy.Function("floordiv")
floormod = sympy.Function("floormod")
"""Integer division and remainder of TIR index expressions, kept unevaluated until a loop is split."""


@dataclass(frozen=True)
class TensorAccess:
    """One operand of a block: its index expressions over the block's loop symbols and its buffer shape."""

    buffer: str
    indices: tuple[sympy.Expr, ...]
    shape: tuple[int, ...]


@dataclass(frozen=True)
class BlockIter:
    symbol: sympy.Symbol
    extent: int
    reduction: bool


@dataclass(frozen=True)
class MacBlock:
    """out[...] += a[...] * b[...] over the iteration space `iters`."""

    name: str
    iters: tuple[BlockIter, ...]
    output: TensorAccess
    inputs: tuple[TensorAccess, TensorAccess]


Dim = tuple[dict[sympy.Symbol, int], int]
"""One tensor dimension: {loop symbol: coefficient} and its size."""


def canonical_nest(block: MacBlock, name: str, *, instances: int = 1) -> LoopNest:
    """The loop nest of a multiply-accumulate block, in canonical loops and operand order.

    Class, roles, strides and sizes follow from which loops index which operand (docs/frontend.md): a window
    `o*s + f*d` in one input makes a convolution, and a loop's role is the set of operands it indexes. The
    template's nest is returned when the accesses agree with it up to size-1 dimensions.
    """
    extents, reductions, accesses = _affine_accesses(block)
    accesses = [_delinearise_groups(dims, extents, accesses) for dims in accesses]
    out_syms = {s for coefs, _ in accesses[0] for s in coefs}
    for s, extent in extents.items():
        if (s in out_syms) == (s in reductions) and extent > 1:
            kind = "a reduction" if s in reductions else "spatial"
            indexes = "indexes" if s in out_syms else "does not index"
            raise InputError(f"block {block.name}: loop {s} is {kind} but {indexes} the output")
    windows = [_windows(accesses, r, out_syms) for r in (1, 2)]
    if windows[0] and windows[1]:
        raise InputError(f"block {block.name}: both inputs slide windows; not a convolution")
    if windows[0] or windows[1]:
        data = 1 if windows[0] else 2
        return _conv(block.name, name, instances, extents, accesses, data=data, windows=windows[data - 1])
    return _gemm(block.name, name, instances, extents, accesses)


def _affine_accesses(block: MacBlock) -> tuple[dict[sympy.Symbol, int], set[sympy.Symbol], list[list[Dim]]]:
    """Split the loops that floordiv/floormod divide, then read every index as {symbol: coefficient}."""
    extents = {it.symbol: it.extent for it in block.iters}
    raw = [block.output, *block.inputs]
    divisors: dict[sympy.Symbol, int] = {}
    for access in raw:
        for expr in access.indices:
            for call in (*expr.atoms(floordiv), *expr.atoms(floormod)):
                var, q = call.args
                if var not in extents or not q.is_Integer or q <= 0 or extents[var] % int(q):
                    raise InputError(f"block {block.name}: index {expr} is not affine (cannot split {call})")
                if divisors.setdefault(var, int(q)) != int(q):
                    raise InputError(f"block {block.name}: loop {var} is divided by two different factors")
    subs: dict[sympy.Expr, sympy.Expr] = {}
    order: list[sympy.Symbol] = []
    reductions: set[sympy.Symbol] = set()
    for it in block.iters:
        q = divisors.get(it.symbol)
        parts = [it.symbol]
        if q is not None:
            parts = [sympy.Symbol(f"{it.symbol}_hi"), sympy.Symbol(f"{it.symbol}_lo")]
            extents[parts[0]], extents[parts[1]] = extents.pop(it.symbol) // q, q
            subs[floordiv(it.symbol, q)], subs[floormod(it.symbol, q)] = parts
            subs[it.symbol] = parts[0] * q + parts[1]
        order += parts
        reductions.update(parts if it.reduction else ())
    extents = {s: extents[s] for s in order}
    symbols = list(extents)
    accesses = []
    for access in raw:
        dims = []
        for axis, (expr, size) in enumerate(zip(access.indices, access.shape, strict=True)):
            # floordiv/floormod terms first, so that the bare loop is substituted only where it stands alone
            expr = expr.xreplace({k: v for k, v in subs.items() if not k.is_Symbol}).xreplace(subs)
            coefs = affine_coefficients(expr, symbols, where=f"{block.name}: {access.buffer}[{axis}]")
            dims.append(({symbols[i]: c for i, c in coefs.items()}, size))
        accesses.append(dims)
    return extents, reductions, accesses


def _delinearise_groups(dims: list[Dim], extents: dict[sympy.Symbol, int], accesses: list[list[Dim]]) -> list[Dim]:
    """Split a dimension `g*a + rest` into (g) and (rest) when g indexes every operand and rest spans exactly a."""
    in_all = set.intersection(*({s for coefs, _ in acc for s in coefs} for acc in accesses))
    result: list[Dim] = []
    for coefs, size in dims:
        groups = [s for s in coefs if s in in_all and len(coefs) > 1]
        split = None
        for g in groups:
            rest = {s: c for s, c in coefs.items() if s != g}
            span = 1 + sum(c * (extents[s] - 1) for s, c in rest.items())
            if coefs[g] == span and size == span * extents[g]:
                split = [({g: 1}, extents[g]), (rest, span)]
                break
        result.extend(split or [(coefs, size)])
    return result


def _windows(
    accesses: list[list[Dim]], read: int, out_syms: set[sympy.Symbol]
) -> list[tuple[int, sympy.Symbol, sympy.Symbol]]:
    """(axis, output loop, window loop) of each dimension of input `read` that slides a window."""
    other = {s for coefs, _ in accesses[3 - read] for s in coefs}
    found = []
    for axis, (coefs, _) in enumerate(accesses[read]):
        if len(coefs) != 2:
            continue
        o, f = sorted(coefs, key=lambda s: s not in out_syms)
        if o in out_syms and o not in other and f not in out_syms and f in other:
            found.append((axis, o, f))
    return found


def _roles(
    accesses: list[list[Dim]],
    extents: dict[sympy.Symbol, int],
    skip: set[sympy.Symbol],
    table: dict[tuple[bool, bool, bool], str],
    where: str,
) -> dict[str, list[sympy.Symbol]]:
    """Group the loops by the operands they index; loops of extent 1 that fit no role are dropped."""
    members = [{s for coefs, _ in acc for s in coefs} for acc in accesses]
    roles: dict[str, list[sympy.Symbol]] = {}
    for s, extent in extents.items():
        role = table.get(tuple(s in m for m in members))
        if s in skip or extent == 1:
            continue
        if role is None:
            raise InputError(f"{where}: loop {s} indexes operands in a way that fits no canonical loop")
        roles.setdefault(role, []).append(s)
    return roles


def _drop_unit_loops(
    accesses: list[list[Dim]], extents: dict[sympy.Symbol, int], keep: set[sympy.Symbol]
) -> list[list[Dim]]:
    """Drop loops of extent 1 without a canonical place, and the size-1 dimensions they leave: they change nothing."""
    result = []
    for acc in accesses:
        dims = [({s: c for s, c in coefs.items() if extents[s] > 1 or s in keep}, size) for coefs, size in acc]
        result.append([(coefs, size) for coefs, size in dims if coefs or size > 1])
    return result


def _fuse(
    accesses: list[list[Dim]], extents: dict[sympy.Symbol, int], roles: dict[str, list[sympy.Symbol]], where: str
) -> list[list[Dim]]:
    """Merge several loops of one role into one when they index adjacent dimensions of every operand alike."""
    for role, syms in roles.items():
        while len(syms) > 1:
            outer, inner = _adjacent_pair(accesses, syms, extents)
            if outer is None:
                raise InputError(f"{where}: loops {', '.join(map(str, syms))} cannot be merged into one {role} loop")
            fused = sympy.Symbol(f"{outer}_{inner}")
            extents[fused] = extents[outer] * extents[inner]
            accesses = [_merge_dims(acc, outer, inner, fused) for acc in accesses]
            syms[syms.index(outer)] = fused
            syms.remove(inner)
    return accesses


def _adjacent_pair(accesses: list[list[Dim]], syms: list[sympy.Symbol], extents: dict[sympy.Symbol, int]) -> tuple:
    for outer in syms:
        for inner in syms:
            if outer is not inner and all(_adjacent(acc, outer, inner, extents) for acc in accesses):
                return outer, inner
    return None, None


def _adjacent(acc: list[Dim], outer: sympy.Symbol, inner: sympy.Symbol, extents: dict[sympy.Symbol, int]) -> bool:
    axes = {s: i for i, (coefs, _) in enumerate(acc) for s in coefs}
    if outer not in axes and inner not in axes:
        return True
    if outer not in axes or inner not in axes or axes[inner] != axes[outer] + 1:
        return False
    (c_out, _), (c_in, size_in) = acc[axes[outer]], acc[axes[inner]]
    return c_out == {outer: 1} and c_in == {inner: 1} and size_in == extents[inner]


def _merge_dims(acc: list[Dim], outer: sympy.Symbol, inner: sympy.Symbol, fused: sympy.Symbol) -> list[Dim]:
    result: list[Dim] = []
    for coefs, size in acc:
        if outer in coefs:
            result.append(({fused: 1}, size))
        elif inner in coefs:
            result[-1] = (result[-1][0], result[-1][1] * size)
        else:
            result.append((coefs, size))
    return result


_CONV_ROLES = {(True, True, True): "G", (True, True, False): "N", (True, False, True): "M", (False, True, True): "C"}
_GEMM_ROLES = {(True, True, True): "B", (True, True, False): "X", (True, False, True): "Y", (False, True, True): "K"}


def _conv(
    block: str, name: str, instances: int, extents: dict, accesses: list[list[Dim]], *, data: int, windows: list
) -> LoopNest:
    where = f"block {block}"
    if len(windows) != 2:
        raise InputError(f"{where}: a {len(windows)}-D convolution; only 2-D convolutions are supported")
    if data == 2:  # keep the operand order O, I, W
        accesses = [accesses[0], accesses[2], accesses[1]]
    (ax_x, ox, fx), (ax_y, oy, fy) = windows  # the window along the outer tensor dimension is Ox/Fx
    (x_coefs, rows), (y_coefs, cols) = accesses[1][ax_x], accesses[1][ax_y]
    spatial = {
        "in_rows": rows,
        "in_cols": cols,
        "f_rows": extents[fx],
        "f_cols": extents[fy],
        "stride": (x_coefs[ox], y_coefs[oy]),
        "dilation": (x_coefs[fx], y_coefs[fy]),
    }
    window_syms = {ox, fx, oy, fy}
    roles = _roles(accesses, extents, window_syms, _CONV_ROLES, where)
    accesses = _fuse(_drop_unit_loops(accesses, extents, window_syms), extents, roles, where)
    n, g, m, c = (extents[roles[r][0]] if r in roles else 1 for r in "NGMC")
    role_of = {s: role for role, syms in roles.items() for s in syms} | {ox: "Ox", fx: "Fx", oy: "Oy", fy: "Fy"}
    if g > 1 and m == 1 and c == 1:
        template = conv_nest(name, n=n, m=1, c=g, depthwise=True, instances=instances, **spatial)
        role_of = {s: "C" if r == "G" else r for s, r in role_of.items()}
    elif g > 1:
        template = group_conv_nest(name, n=n, groups=g, m_per_group=m, c_per_group=c, instances=instances, **spatial)
    else:
        template = conv_nest(name, n=n, m=m, c=c, instances=instances, **spatial)
    return _agree(template, accesses, extents, role_of, ("O", "I", "W"))


def _gemm(block: str, name: str, instances: int, extents: dict, accesses: list[list[Dim]]) -> LoopNest:
    where = f"block {block}"
    roles = _roles(accesses, extents, set(), _GEMM_ROLES, where)
    accesses = _fuse(_drop_unit_loops(accesses, extents, set()), extents, roles, where)
    b, x, y, k = (extents[roles[r][0]] if r in roles else 1 for r in "BXYK")
    template = gemm_nest(name, x=x, y=y, k=k, batch=b, instances=instances)
    role_of = {s: role for role, syms in roles.items() for s in syms}
    return _agree(template, accesses, extents, role_of, ("C", "A", "B"))


def _agree(
    template: LoopNest, accesses: list[list[Dim]], extents: dict, role_of: dict, names: Sequence[str]
) -> LoopNest:
    """The template nest if the block's accesses equal it up to size-1 dimensions, else the nest as accessed."""
    canon = dict(zip(template.loops, loop_symbols(template.loops), strict=True))
    exprs = []
    for name, acc in zip(names, accesses, strict=True):
        indices = tuple(sum((c * canon[role_of[s]] for s, c in coefs.items()), sympy.Integer(0)) for coefs, _ in acc)
        exprs.append(Access(name, indices, tuple(size for _, size in acc), is_output=name == names[0]))
    loop_extents = [1] * len(template.loops)
    for s, role in role_of.items():
        loop_extents[template.loop(role)] = extents[s]
    as_accessed = build_nest(
        template.name,
        template.op,
        template.loops,
        loop_extents,
        exprs,
        instances=template.instances,
        stride=template.stride,
        groups=template.groups,
        window_loops=[template.loops[i] for i in template.window_loops],
    )
    return template if _essence(template) == _essence(as_accessed) else as_accessed


def _essence(nest: LoopNest) -> tuple:
    """What the cost model sees of a nest: extents and each operand's non-trivial dimensions."""
    operands = tuple(
        (
            op.name,
            tuple((tuple(t for t in dim.terms if nest.extents[t[0]] > 1), dim.size) for dim in op.dims if dim.size > 1),
        )
        for op in nest.operands
    )
    return nest.op, nest.extents, nest.stride, nest.groups, operands
