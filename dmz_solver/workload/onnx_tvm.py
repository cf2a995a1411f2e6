"""ONNX front-end: ONNX -> Relax (TVM) -> TIR PrimFuncs -> one loop nest per multiply-accumulate layer."""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError
from tvm import IRModule, relax
from tvm.ir.prim.expr import IntImm
from tvm.relax.frontend.onnx import from_onnx

from ..errors import InputError
from ..loopnest import LoopNest
from .canonical import canonical_nest
from .onnx_fold import dynamic_origin, fold_shapes
from .onnx_nodes import Signature, pair_nodes, signature
from .tir_blocks import FuncBlocks, read_primfunc

UNSUPPORTED_OPS = {
    "ConvTranspose": "transposed convolutions are not supported",
    "ConvInteger": "quantised convolutions are not supported",
    "QLinearConv": "quantised convolutions are not supported",
    "MatMulInteger": "quantised matrix products are not supported",
    "QLinearMatMul": "quantised matrix products are not supported",
    "DeformConv": "deformable convolutions are not supported",
    "Einsum": "Einsum is not supported; write it as MatMul",
    "LSTM": "recurrent layers are not supported",
    "GRU": "recurrent layers are not supported",
    "RNN": "recurrent layers are not supported",
}


@dataclass(frozen=True)
class _Call:
    """One call of a PrimFunc from the Relax main function."""

    func: str
    signature: Signature | None = None
    node: onnx.NodeProto | None = None
    node_index: int = -1


def load_onnx(path: str | Path) -> tuple[list[LoopNest], list[str]]:
    """The layers of an ONNX model (identical ones merged) and descriptions of the operators it ignored."""
    source = str(path)
    model = _read(path)
    _check_nodes(model, source)
    model = fold_shapes(model)  # sizes computed from static shapes become constants TVM can see
    mod = _lower(model, _input_shapes(model, source), source)
    calls = _calls(mod, source)
    funcs = {name: read_primfunc(name, mod[name]) for name in dict.fromkeys(c.func for c in calls)}
    mac_calls = [i for i, c in enumerate(calls) if funcs[c.func].has_mac]
    for i, node in zip(mac_calls, pair_nodes(model, [calls[i].signature for i in mac_calls]), strict=True):
        if node is not None:
            calls[i] = replace(calls[i], node_index=node[0], node=node[1])
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
            key = replace(nest, name="", instances=1)
            first = layers.get(key)
            layers[key] = replace(first, instances=first.instances + 1) if first else nest
    if not layers:
        raise InputError("the model has no convolution or matrix-product layers", source=source)
    return _unique_names(list(layers.values())), _ignored(calls, funcs)


def _read(path: str | Path) -> onnx.ModelProto:
    try:
        model = onnx.load(str(path))
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=str(path)) from None
    except DecodeError:
        raise InputError("not an ONNX model (the protobuf does not parse)", source=str(path)) from None
    if model.ir_version < 3 or not model.graph.node:  # protobuf parses some garbage as an empty model
        raise InputError("not an ONNX model (no IR version or no graph nodes)", source=str(path))
    return model


def _check_nodes(model: onnx.ModelProto, source: str) -> None:
    """Refuse, naming the node, what the front-end cannot turn into loop nests."""
    supported = _tvm_ops()
    for node in model.graph.node:
        where = _describe(node)
        if node.op_type in UNSUPPORTED_OPS:
            raise InputError(f"{where}: {UNSUPPORTED_OPS[node.op_type]}", source=source)
        if node.domain not in ("", "ai.onnx"):
            raise InputError(f"{where}: operators of domain '{node.domain}' are not supported", source=source)
        if supported is not None and node.op_type not in supported | {"Constant", "If"}:
            raise InputError(f"{where}: operator not supported by TVM's ONNX front-end", source=source)
        kernel = next((a for a in node.attribute if a.name == "kernel_shape"), None)
        if node.op_type == "Conv" and kernel is not None and len(kernel.ints) != 2:
            raise InputError(
                f"{where}: a {len(kernel.ints)}-D convolution; only 2-D convolutions are supported", source=source
            )


def _tvm_ops() -> set[str] | None:
    try:
        from tvm.relax.frontend.onnx.onnx_frontend import _get_convert_map  # private: may be missing
    except ImportError:  # a private helper: without it TVM's own error names the operator
        return None
    return set(_get_convert_map())


def _input_shapes(model: onnx.ModelProto, source: str) -> dict[str, list[int]]:
    """The graph inputs' shapes; every dimension must be a known positive number."""
    initializers = {t.name for t in model.graph.initializer}
    shapes = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        dims = value.type.tensor_type.shape.dim
        for axis, dim in enumerate(dims):
            if dim.dim_value <= 0:
                label = f"'{dim.dim_param}'" if dim.dim_param else "of unknown size"
                users = [_describe(n) for n in model.graph.node if value.name in n.input]
                used = f" (input of {', '.join(users)})" if users else ""
                raise InputError(
                    f"input '{value.name}'{used}: dimension {axis} is dynamic ({label}); only static shapes work",
                    source=source,
                )
        shapes[value.name] = [dim.dim_value for dim in dims]
    return shapes


def _lower(model: onnx.ModelProto, shapes: dict[str, list[int]], source: str) -> IRModule:
    """ONNX -> Relax with static shapes -> every operator legalised into a TIR PrimFunc."""
    printed = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(printed):
            warnings.simplefilter("ignore")  # the checker's complaints are reported by _read
            mod = from_onnx(model, shape_dict=shapes)
            return relax.transform.LegalizeOps()(mod)
    except Exception as exc:  # noqa: BLE001 -- TVM raises many types; the user needs the operator and the reason
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
        failed = re.search(r"Error converting operator (\w+)", printed.getvalue())
        if failed:
            nodes = [_describe(n) for n in model.graph.node if n.op_type == failed.group(1)]
            raise InputError(
                f"TVM cannot convert {', '.join(nodes[:3]) or failed.group(1)}: {reason}", source=source
            ) from None
        raise InputError(f"TVM cannot convert the model: {reason}", source=source) from None


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
    return f" (the size is first unknown at the output of {_describe(origin)})" if origin is not None else ""


def _layer_name(call: _Call) -> str:
    """The ONNX node's name (or op type and position), else the PrimFunc's."""
    if call.node is None:
        return call.func
    return call.node.name or f"{call.node.op_type}_{call.node_index}"


def _where(call: _Call) -> str:
    return _describe(call.node) if call.node is not None else f"PrimFunc {call.func}"


def _describe(node: onnx.NodeProto) -> str:
    return f"node '{node.name or node.output[0]}' (op {node.op_type})"


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
