"""Checks of an ONNX graph before TVM sees it: what cannot become loop nests, and Conv attributes that are wrong.

TVM reports a bad attribute with its own internals (`Check failed: pb->value != 0 : Divide by zero` for a
zero stride, `a 1-D convolution` for a zero dilation) or not at all (a `kernel_shape` that disagrees with
the weight is ignored); these checks name the node, the attribute and the value instead.
"""

from __future__ import annotations

import onnx
from onnx import helper

from ..errors import InputError
from .onnx_nodes import walk_nodes

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
AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")

Shapes = dict[str, tuple[int, ...]]


def describe(node: onnx.NodeProto) -> str:
    """How messages name a node: `node 'conv1' (op Conv)`."""
    return f"node '{node.name or (node.output[0] if node.output else '?')}' (op {node.op_type})"


def check_nodes(model: onnx.ModelProto, shapes: Shapes, source: str) -> None:
    """Refuse, naming the node, what the front-end cannot turn into loop nests or what ONNX does not allow, in the
    graph and in its subgraphs (TVM lowers both branches of an If)."""
    supported = _tvm_ops()
    for _, node in walk_nodes(model.graph):
        where = describe(node)
        if node.op_type in UNSUPPORTED_OPS:
            raise InputError(f"{where}: {UNSUPPORTED_OPS[node.op_type]}", source=source)
        if node.domain not in ("", "ai.onnx"):
            raise InputError(f"{where}: operators of domain '{node.domain}' are not supported", source=source)
        if supported is not None and node.op_type not in supported | {"Constant", "If"}:
            raise InputError(f"{where}: operator not supported by TVM's ONNX front-end", source=source)
        if node.op_type == "Conv":
            reason = _conv_problem(node, shapes)
            if reason:
                raise InputError(f"{where}: {reason}", source=source)


def _tvm_ops() -> set[str] | None:
    try:
        from tvm.relax.frontend.onnx.onnx_frontend import _get_convert_map  # private: may be missing
    except ImportError:  # a private helper: without it TVM's own error names the operator
        return None
    return set(_get_convert_map())


def _conv_problem(node: onnx.NodeProto, shapes: Shapes) -> str | None:
    """What is wrong with a Conv's attributes, given the shapes known statically; None if nothing."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    kernel = attrs.get("kernel_shape")
    if kernel is not None and len(kernel) != 2:
        return f"a {len(kernel)}-D convolution; only 2-D convolutions are supported"
    for name, low in (("strides", 1), ("dilations", 1), ("pads", 0)):
        values = list(attrs.get(name, []))
        if any(v < low for v in values):
            return f"attribute {name} must be {'positive' if low else 'non-negative'}, got {values}"
        if values and len(values) != (4 if name == "pads" else 2):
            return f"attribute {name} has {len(values)} values; a 2-D convolution takes {4 if name == 'pads' else 2}"
    group = attrs.get("group", 1)
    if group < 1:
        return f"attribute group must be at least 1, got {group}"
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    if auto_pad not in AUTO_PADS:
        return f"attribute auto_pad is {auto_pad!r}, expected one of {', '.join(AUTO_PADS)}"
    return _conv_shape_problem(node, shapes, kernel, group)


def _conv_shape_problem(node: onnx.NodeProto, shapes: Shapes, kernel: list[int] | None, group: int) -> str | None:
    """kernel_shape against the weight, and the channels against group, where the shapes are known."""
    weight = shapes.get(node.input[1]) if len(node.input) > 1 else None
    data = shapes.get(node.input[0])
    if weight is None or len(weight) != 4:
        return None
    if kernel is not None and list(kernel) != list(weight[2:]):
        return f"attribute kernel_shape {list(kernel)} disagrees with the weight's {list(weight[2:])}"
    if weight[0] % group:
        return f"{group} groups do not divide the weight's {weight[0]} output channels"
    if data is not None and len(data) == 4 and data[1] != weight[1] * group:
        return f"the input has {data[1]} channels, the weight {weight[1]} per group x {group} group(s)"
    return None
