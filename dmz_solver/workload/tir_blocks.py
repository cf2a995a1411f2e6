"""Read a TVM PrimFunc's multiply-accumulate blocks as sympy index expressions, padding folded into the input."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sympy
import tvm
from tvm import s_tir, tirx
from tvm.ir import expr as ir_expr
from tvm.ir.prim import expr as prim

from ..errors import InputError
from .canonical import BlockIter, MacBlock, TensorAccess, floordiv, floormod


@dataclass(frozen=True)
class FuncBlocks:
    """What a PrimFunc computes: its MAC blocks and, when there are none, a description of what it does."""

    name: str
    macs: tuple[MacBlock, ...]
    other: str = ""
    error: str = ""
    """Why a MAC block could not be read (dynamic shapes, non-affine indices); the caller names the operator."""

    @property
    def has_mac(self) -> bool:
        return bool(self.macs or self.error)


def read_primfunc(name: str, func: tirx.PrimFunc) -> FuncBlocks:
    """The MAC blocks of `func`, each with its padded inputs folded in."""
    blocks = [b for b in _blocks(func.body) if b.iter_vars]
    params = {buf.name for buf in func.params if isinstance(buf, tirx.Buffer)}
    producers = {b.body.buffer.name: b for b in blocks if isinstance(b.body, tirx.BufferStore)}
    macs, reductions = [], []
    for block in blocks:
        reduction = any(iv.iter_type != tirx.IterVar.DataPar for iv in block.iter_vars)
        loads = _mac_loads(block) if reduction else None
        if loads is not None:
            try:
                macs.append(_mac_block(name, block, loads, params, producers))
            except InputError as exc:
                return FuncBlocks(name, (), error=exc.message)
        elif reduction:
            reductions.append(_reduction_kind(block))
    if macs:
        return FuncBlocks(name, tuple(macs))
    if reductions:
        kinds = " and ".join(sorted(set(reductions)))
        return FuncBlocks(name, (), f"{kinds} reduction of a single tensor (pooling, mean, softmax or normalisation)")
    return FuncBlocks(name, (), "element-wise or data movement")


def _blocks(stmt: object) -> Iterator[s_tir.SBlock]:
    """All blocks of a statement tree, outermost first, in program order."""
    if isinstance(stmt, s_tir.SBlockRealize):
        stmt = stmt.block
    if isinstance(stmt, s_tir.SBlock):
        yield stmt
    if isinstance(stmt, tirx.SeqStmt):
        for child in stmt.seq:
            yield from _blocks(child)
    elif isinstance(stmt, tirx.IfThenElse):
        yield from _blocks(stmt.then_case)
        yield from _blocks(stmt.else_case)
    elif hasattr(stmt, "body") and not isinstance(stmt, tirx.BufferStore):
        yield from _blocks(stmt.body)


def _strip(e: object) -> object:
    while isinstance(e, prim.Cast):
        e = e.value
    return e


def _mac_loads(block: s_tir.SBlock) -> tuple[ir_expr.TensorLoad, ir_expr.TensorLoad] | None:
    """(a, b) when the block's update is out = out + a * b over two distinct input accesses."""
    store = block.body
    if not isinstance(store, tirx.BufferStore) or not isinstance(store.value, prim.Add):
        return None
    for acc, prod in ((store.value.a, store.value.b), (store.value.b, store.value.a)):
        acc, prod = _strip(acc), _strip(prod)
        if not (isinstance(acc, ir_expr.TensorLoad) and acc.source.same_as(store.buffer)):
            continue
        if not isinstance(prod, prim.Mul):
            continue
        a, b = _strip(prod.a), _strip(prod.b)
        if (
            isinstance(a, ir_expr.TensorLoad)
            and isinstance(b, ir_expr.TensorLoad)
            and not any(x.source.same_as(store.buffer) for x in (a, b))
            # x @ x is a product of two operands; x[i] * x[i] (a sum of squares) is not
            and not (a.source.same_as(b.source) and tvm.ir.structural_equal(a.indices, b.indices))
        ):
            return a, b
    return None


def _reduction_kind(block: s_tir.SBlock) -> str:
    value = getattr(block.body, "value", None)
    return "max" if isinstance(value, prim.Max | prim.Min) else "sum"


def _mac_block(
    func: str, block: s_tir.SBlock, loads: tuple, params: set[str], producers: dict[str, s_tir.SBlock]
) -> MacBlock:
    where = f"PrimFunc {func}, block {block.name_hint}"
    symbols: dict[object, sympy.Symbol] = {}
    iters = []
    for i, iv in enumerate(block.iter_vars):
        extent, start = _static(iv.dom.extent, where), _static(iv.dom.min, where)
        if start != 0:
            raise InputError(f"{where}: loop {iv.var.name} starts at {start}, not 0")
        name = iv.var.name.removeprefix("v_") or f"i{i}"
        symbol = sympy.Symbol(name if name not in {s.name for s in symbols.values()} else f"{name}_{i}")
        symbols[iv.var] = symbol
        iters.append(BlockIter(symbol, extent, iv.iter_type != tirx.IterVar.DataPar))
    store = block.body
    output = _access(store.buffer, store.indices, symbols, where)
    inputs = tuple(_access(_unpadded(ld.source, params, producers, where), ld.indices, symbols, where) for ld in loads)
    return MacBlock(f"{func}/{block.name_hint}", tuple(iters), output, inputs)


def _unpadded(buffer: tirx.Buffer, params: set[str], producers: dict[str, s_tir.SBlock], where: str) -> tirx.Buffer:
    """The buffer itself; a buffer computed inside the PrimFunc must be a padded copy of a parameter."""
    if buffer.name in params:
        return buffer
    producer = producers.get(buffer.name)
    value = _strip(producer.body.value) if producer is not None else None
    if isinstance(value, ir_expr.Call) and getattr(value.op, "name", "").endswith("if_then_else"):
        value = _strip(value.args[1])
    elif isinstance(value, prim.Select):
        value = _strip(value.true_value)
    if (
        isinstance(value, ir_expr.TensorLoad)
        and value.source.name in params
        and len(value.indices) == len(buffer.shape)
        and all(_is_shifted(index, iv.var) for index, iv in zip(value.indices, producer.iter_vars, strict=True))
    ):
        return buffer  # the padded shape is this buffer's shape
    raise InputError(f"{where}: input {buffer.name} is computed inside the PrimFunc by something other than padding")


def _is_shifted(index: object, var: object) -> bool:
    """index == var - constant (or var): one axis of a padding copy."""
    if isinstance(index, prim.Sub) and isinstance(index.b, prim.IntImm):
        index = index.a
    return isinstance(index, ir_expr.Var) and index.same_as(var)


def _access(buffer: tirx.Buffer, indices: object, symbols: dict, where: str) -> TensorAccess:
    shape = tuple(_static(d, f"{where}: buffer {buffer.name}") for d in buffer.shape)
    exprs = tuple(_to_sympy(i, symbols, where) for i in indices)
    return TensorAccess(buffer.name, exprs, shape)


def _static(value: object, where: str) -> int:
    if isinstance(value, prim.IntImm):
        return int(value.value)
    raise InputError(f"{where}: dynamic size {value}; only static shapes are supported")


def _to_sympy(e: object, symbols: dict, where: str) -> sympy.Expr:
    """A TIR index expression as sympy over the block's loop symbols."""
    e = _strip(e)
    if isinstance(e, prim.IntImm):
        return sympy.Integer(int(e.value))
    if isinstance(e, ir_expr.Var):
        for var, symbol in symbols.items():
            if var.same_as(e):
                return symbol
        raise InputError(f"{where}: index uses {e.name}, which is not a loop of the block (a dynamic shape?)")
    binary = {prim.Add: lambda a, b: a + b, prim.Sub: lambda a, b: a - b, prim.Mul: lambda a, b: a * b}
    binary |= {prim.FloorDiv: floordiv, prim.FloorMod: floormod}
    for kind, make in binary.items():
        if isinstance(e, kind):
            return make(_to_sympy(e.a, symbols, where), _to_sympy(e.b, symbols, where))
    raise InputError(f"{where}: index expression {e} is not affine")
