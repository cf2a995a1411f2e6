"""ONNX front-end: ONNX -> Relax (TVM) -> TIR PrimFuncs -> one loop nest per multiply-accumulate layer."""

from __future__ import annotations

import contextlib
import gc
import io
import math
import os
import re
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError
from tvm import IRModule, relax
from tvm.ir.prim.expr import IntImm
from tvm.relax.frontend.onnx import from_onnx

from ..errors import InputError
from ..loopnest import LoopNest
from ..specio import MAX_INTEGER, MAX_ONNX_BYTES, check_file
from .canonical import canonical_nest
from .limits import size_problem
from .onnx_checks import check_nodes, describe
from .onnx_fold import dynamic_origin, fold_shapes, static_shapes
from .onnx_nodes import Signature, pair_nodes, signature, walk_nodes
from .onnx_skim import WEIGHT_ELEMENTS, SkimError, read_without_weights
from .tir_blocks import FuncBlocks, read_primfunc


@dataclass(frozen=True)
class _Call:
    """One call of a PrimFunc from the Relax main function."""

    func: str
    signature: Signature | None = None
    node: onnx.NodeProto | None = None
    node_label: str = ""
    """The name the layer takes when the node has none (`onnx_nodes.walk_nodes`)."""


def load_onnx(path: str | Path) -> tuple[list[LoopNest], list[str]]:
    """The layers of an ONNX model (identical ones merged) and descriptions of the operators it ignored."""
    source = str(path)
    model = _weights_as_inputs(_read(path))
    inputs = _input_shapes(model, source)
    check_nodes(model, static_shapes(model), source)
    model = fold_shapes(model)  # sizes computed from static shapes become constants TVM can see
    mod = _lower(model, inputs, source)
    calls = _calls(mod, source)
    funcs = {name: read_primfunc(name, mod[name]) for name in dict.fromkeys(c.func for c in calls)}
    mac_calls = [i for i, c in enumerate(calls) if funcs[c.func].has_mac]
    for i, node in zip(mac_calls, pair_nodes(model, [calls[i].signature for i in mac_calls]), strict=True):
        if node is not None:
            calls[i] = replace(calls[i], node_label=node[0], node=node[1])
    layers: dict[LoopNest, LoopNest] = {}
    for call in calls:
        if funcs[call.func].error:
            raise InputError(f"{_where(call)}: {funcs[call.func].error}{_origin(model, call)}", source=source)
        for i, block in enumerate(funcs[call.func].macs):
            name = _layer_name(call) + (f"_{i}" if len(funcs[call.func].macs) > 1 else "")
            try:
                nest = canonical_nest(block, name)
            except InputError as exc:
                raise InputError(f"{_where(call)}: {exc.message}", source=source) from None
            too_big = [size for op in nest.operands for size in op.shape if size > MAX_INTEGER]
            if too_big:
                raise InputError(f"{_where(call)}: size {too_big[0]}; sizes are at most {MAX_INTEGER}", source=source)
            too_large = size_problem(nest)
            if too_large:
                raise InputError(f"{_where(call)}: too large to solve: {too_large}", source=source)
            key = replace(nest, name="", instances=1)
            first = layers.get(key)
            layers[key] = replace(first, instances=first.instances + 1) if first else nest
    if not layers:
        raise InputError("the model has no convolution or matrix-product layers", source=source)
    return _unique_names(list(layers.values())), _ignored(calls, funcs)


def _read(path: str | Path) -> onnx.ModelProto:
    check_file(path, MAX_ONNX_BYTES)  # a regular file within protobuf's limit: no FIFO, device or directory
    try:
        model = read_without_weights(path)  # the weights' shapes, never their values
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=str(path)) from None
    except (DecodeError, SkimError, ValueError):  # ValueError: mmap of an empty file
        raise InputError("not an ONNX model (the protobuf does not parse)", source=str(path)) from None
    if model.ir_version < 3 or not model.graph.node:  # protobuf parses some garbage as an empty model
        raise InputError("not an ONNX model (no IR version or no graph nodes)", source=str(path))
    return model


def _weights_as_inputs(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with every initializer of more than WEIGHT_ELEMENTS elements (read without its data) turned into a
    graph input of the same type and shape: TVM needs a value for an initializer and would copy each one into a
    constant (a 330 MB ViT-B/16 peaked at 2.3 GB; docs/frontend.md)."""
    inputs = {value.name for value in model.graph.input}
    kept = []
    for init in model.graph.initializer:
        if math.prod(init.dims) <= WEIGHT_ELEMENTS:
            kept.append(init)
        elif init.name not in inputs:
            model.graph.input.append(onnx.helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))
    kept = [_copy(init) for init in kept]  # copies: clearing the field frees the originals
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    return model


def _copy(message: onnx.TensorProto) -> onnx.TensorProto:
    duplicate = onnx.TensorProto()
    duplicate.CopyFrom(message)
    return duplicate


def _input_shapes(model: onnx.ModelProto, source: str) -> dict[str, list[int]]:
    """The graph inputs' shapes; every dimension must be a known positive number."""
    initializers = {t.name for t in model.graph.initializer}
    shapes = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        dims = value.type.tensor_type.shape.dim
        for axis, dim in enumerate(dims):
            problem = _dimension_problem(dim)
            if problem:
                users = [describe(n) for _, n in walk_nodes(model.graph) if value.name in n.input]
                used = f" (input of {', '.join(users)})" if users else ""
                raise InputError(f"input '{value.name}'{used}: dimension {axis} {problem}", source=source)
        shapes[value.name] = [dim.dim_value for dim in dims]
    return shapes


def _dimension_problem(dim: onnx.TensorShapeProto.Dimension) -> str | None:
    if dim.HasField("dim_value") and dim.dim_value > MAX_INTEGER:
        return f"is {dim.dim_value}; sizes are at most {MAX_INTEGER}"
    if dim.HasField("dim_value") and dim.dim_value <= 0:
        return f"is {dim.dim_value}; sizes must be positive"
    if dim.dim_value <= 0:
        label = f"'{dim.dim_param}'" if dim.dim_param else "of unknown size"
        return f"is dynamic ({label}); only static shapes work"
    return None


def _lower(model: onnx.ModelProto, shapes: dict[str, list[int]], source: str) -> IRModule:
    """ONNX -> Relax with static shapes -> every operator legalised into a TIR PrimFunc."""
    printed = io.StringIO()
    error = None
    with _native_stderr_silenced():
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(printed):
                warnings.simplefilter("ignore")  # the checker's complaints are reported by _read
                mod = from_onnx(model, shape_dict=shapes)
                return relax.transform.LegalizeOps()(mod)
        except Exception as exc:  # noqa: BLE001 -- TVM raises many types; the user needs the operator and the reason
            error = _conversion_error(exc, printed.getvalue(), model, source)
    raise error  # outside the handler: TVM's exception, and the objects it holds, are gone by now


def _conversion_error(exc: Exception, printed: str, model: onnx.ModelProto, source: str) -> InputError:
    """TVM's failure as one line naming the operator when TVM's log names it."""
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
    failed = re.search(r"Error converting operator (\w+)", printed)
    if failed:
        nodes = [describe(n) for _, n in walk_nodes(model.graph) if n.op_type == failed.group(1)]
        return InputError(f"TVM cannot convert {', '.join(nodes[:3]) or failed.group(1)}: {reason}", source=source)
    return InputError(f"TVM cannot convert the model: {reason}", source=source)


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Discard what TVM's C++ code writes to file descriptor 2 while the model is lowered.

    TVM logs warnings there (`BlockBuilder destroyed with remaining blocks!` when a conversion fails, some
    when it succeeds), which would follow the one-line error of the command line. Objects that log when
    destroyed are collected before the descriptor is given back.
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 to protect
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            try:
                yield
            finally:
                gc.collect()
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _calls(mod: IRModule, source: str) -> list[_Call]:
    """The PrimFunc calls of the Relax main function, in program order."""
    calls: list[_Call] = []
    unlowered: list[str] = []

    def visit(expr: object) -> None:
        if not isinstance(expr, relax.Call):
            return
        op = getattr(expr.op, "name", "")
        if op.startswith("relax.call_tir"):
            inputs = [_shape(arg) for arg in getattr(expr.args[1], "fields", [expr.args[1]])]
            calls.append(_Call(expr.args[0].name_hint, signature(_shape(expr), inputs)))
        elif op.startswith(("relax.nn.conv", "relax.matmul", "relax.linear")):
            unlowered.append(op)

    relax.analysis.post_order_visit(mod["main"], visit)
    if unlowered:
        raise InputError(f"TVM did not lower {', '.join(unlowered)} to TIR (a dynamic shape?)", source=source)
    return calls


def _shape(expr: object) -> tuple[int, ...] | None:
    """The static shape of a Relax expression's tensor type, or None."""
    values = getattr(getattr(getattr(expr, "ty", None), "shape", None), "values", None)
    if values is None or not all(isinstance(v, IntImm) for v in values):
        return None
    return tuple(int(v.value) for v in values)


def _origin(model: onnx.ModelProto, call: _Call) -> str:
    """Where a size the call's node reads stops being static, as a clause of the error message."""
    origin = dynamic_origin(model, call.node) if call.node is not None else None
    return f" (the size is first unknown at the output of {describe(origin)})" if origin is not None else ""


def _layer_name(call: _Call) -> str:
    """The ONNX node's name (or op type and position), else the PrimFunc's."""
    if call.node is None:
        return call.func
    return call.node.name or call.node_label


def _where(call: _Call) -> str:
    return describe(call.node) if call.node is not None else f"PrimFunc {call.func}"


def _unique_names(layers: list[LoopNest]) -> list[LoopNest]:
    seen: dict[str, int] = {}
    result = []
    for nest in layers:
        seen[nest.name] = seen.get(nest.name, 0) + 1
        result.append(nest if seen[nest.name] == 1 else replace(nest, name=f"{nest.name}_{seen[nest.name]}"))
    return result


def _ignored(calls: list[_Call], funcs: dict[str, FuncBlocks]) -> list[str]:
    counts: dict[str, int] = {}
    for call in calls:
        if not funcs[call.func].has_mac:
            counts[call.func] = counts.get(call.func, 0) + 1
    return [f"{func}: {funcs[func].other} ({n} call{'s' * (n > 1)})" for func, n in counts.items()]
