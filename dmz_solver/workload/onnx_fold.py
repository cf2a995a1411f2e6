"""Fold shape arithmetic on static shapes out of an ONNX graph, and find where a shape stops being static.

Older exporters (PyTorch's TorchScript exporter for `chunk`/`split`, for instance) compute slice bounds
at run time: Shape -> Gather -> Add/Div/Mul -> Unsqueeze/Concat -> Slice. Every value in that chain is
fixed once the input shapes are, but TVM keeps the slice size symbolic and the next convolution has a
dynamic extent. `fold_shapes` replaces each such value by an initializer before lowering: a node is folded
when its op is plain shape arithmetic, its inputs are constants (or, for Shape and Size, have a static
shape), and its outputs are small; the value comes from onnx's reference evaluator. ONNX's shape
inference (with data propagation) supplies the static shapes, and is rerun until nothing more folds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from .onnx_nodes import subgraphs, walk_graphs, walk_nodes

FOLDABLE_OPS = frozenset(
    {
        "Abs", "Add", "And", "Cast", "Ceil", "Concat", "ConstantOfShape", "Div", "Equal", "Expand", "Floor",
        "Gather", "Greater", "GreaterOrEqual", "Identity", "Less", "LessOrEqual", "Max", "Min", "Mod", "Mul",
        "Neg", "Not", "Or", "Range", "ReduceProd", "ReduceSum", "Reshape", "Shape", "Size", "Slice", "Sqrt",
        "Squeeze", "Sub", "Unsqueeze", "Where",
    }
)  # fmt: skip
"""Operators of shape computations: deterministic, cheap, without subgraphs."""
MAX_FOLDED = 1024
"""Largest tensor (elements) folded into an initializer: shape vectors and scalars, never weights."""

Shapes = dict[str, tuple[int, ...]]
_NUMERIC = frozenset(
    onnx.TensorProto.DataType.Value(name)
    for name in ("BOOL", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "FLOAT", "DOUBLE")
)


def fold_shapes(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` whose shape arithmetic on static shapes is replaced by initializers."""
    folded = onnx.ModelProto()
    folded.CopyFrom(model)
    while True:
        constants = _constants(folded)
        shapes = static_shapes(folded)
        values: dict[str, np.ndarray] = {}
        kept = []
        for node in folded.graph.node:
            result = _fold(node, constants, shapes, folded)
            if result is None:
                kept.append(node)
            else:
                constants.update(result)
                values.update(result)
        if not values:
            return folded
        _replace_nodes(folded, kept, values)


def static_shapes(model: onnx.ModelProto) -> Shapes:
    """The static shapes ONNX shape inference (with data propagation) finds, plus those of the initializers."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:  # noqa: BLE001 -- inference is a help here, never a gate: TVM reports what it cannot read
        inferred = model
    shapes = {init.name: tuple(init.dims) for graph in walk_graphs(model.graph) for init in graph.initializer}
    for graph in walk_graphs(inferred.graph):  # subgraphs too: the Conv checks read the shapes of their nodes
        for value in (*graph.input, *graph.value_info, *graph.output):
            tensor = value.type.tensor_type
            dims = tensor.shape.dim
            if tensor.HasField("shape") and all(d.HasField("dim_value") and d.dim_value >= 0 for d in dims):
                shapes[value.name] = tuple(d.dim_value for d in dims)
    return shapes


def dynamic_origin(model: onnx.ModelProto, node: onnx.NodeProto) -> onnx.NodeProto | None:
    """The node where a shape reaching `node` first stops being static: its output shape is unknown though
    the shapes of its own inputs are known (a NonZero, or a Slice whose bounds are computed at run time)."""
    shapes = static_shapes(model)
    producer = {out: n for _, n in walk_nodes(model.graph) for out in n.output}
    seen: set[str] = set()
    pending = [name for name in node.input if name]
    while pending:
        name = pending.pop(0)
        if name in seen or name in shapes or name not in producer:
            continue
        seen.add(name)
        source = producer[name]
        unknown_inputs = [i for i in source.input if i and i not in shapes and i in producer]
        if not unknown_inputs:
            return source
        pending.extend(unknown_inputs)
    return None


def _constants(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """Small initializers and Constant nodes' values, by tensor name."""
    values = {}
    for init in model.graph.initializer:
        if math.prod(init.dims) <= MAX_FOLDED and init.data_type in _NUMERIC:
            try:
                values[init.name] = numpy_helper.to_array(init)
            except Exception:  # noqa: BLE001 -- a malformed tensor is not folded; TVM reports it
                continue
    for node in model.graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            value = _evaluate(node, {}, model)
            if value is not None and value[node.output[0]].size <= MAX_FOLDED:
                values.update(value)
    return values


def _fold(
    node: onnx.NodeProto, constants: dict[str, np.ndarray], shapes: Shapes, model: onnx.ModelProto
) -> dict[str, np.ndarray] | None:
    """The values of the node's outputs if it is shape arithmetic on known values, else None."""
    if node.op_type not in FOLDABLE_OPS or node.domain not in ("", "ai.onnx"):
        return None
    if node.op_type in ("Shape", "Size"):
        if node.input[0] not in shapes:
            return None
        return _shape_value(node, shapes[node.input[0]])
    inputs = [name for name in node.input if name]
    if not all(name in constants for name in inputs):
        return None
    if not all(name in shapes and math.prod(shapes[name]) <= MAX_FOLDED for name in node.output):
        return None  # the output's size is checked before it is computed (ConstantOfShape, Expand, Range)
    return _evaluate(node, {name: constants[name] for name in inputs}, model)


def _shape_value(node: onnx.NodeProto, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    if node.op_type == "Size":
        return {node.output[0]: np.array(math.prod(shape), np.int64)}
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    start, end = attrs.get("start", 0), attrs.get("end", len(shape))  # opset 15's slice of the shape
    return {node.output[0]: np.array(shape[slice(start, end)], np.int64)}


def _evaluate(node: onnx.NodeProto, feeds: dict[str, np.ndarray], model: onnx.ModelProto) -> dict | None:
    """Run one node with onnx's reference evaluator, under the model's opsets; None if it fails."""
    inputs = [helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
              for name, v in feeds.items()]  # fmt: skip
    outputs = [helper.make_empty_tensor_value_info(name) for name in node.output if name]
    graph = helper.make_graph([node], "fold", inputs, outputs)
    single = helper.make_model(graph, opset_imports=model.opset_import, ir_version=model.ir_version)
    try:
        results = ReferenceEvaluator(single).run(None, feeds)
    except Exception:  # noqa: BLE001 -- an operator the evaluator cannot run stays in the graph for TVM
        return None
    values = {name: np.asarray(value) for name, value in zip((o.name for o in outputs), results, strict=True)}
    return values if all(v.dtype.kind in "biuf" for v in values.values()) else None


def _replace_nodes(model: onnx.ModelProto, kept: Iterable[onnx.NodeProto], values: dict[str, np.ndarray]) -> None:
    """Keep `kept` nodes; folded values that something still reads become initializers."""
    kept = list(kept)
    read = {name for node in kept for name in _names_read(node)} | {out.name for out in model.graph.output}
    del model.graph.node[:]
    model.graph.node.extend(kept)
    existing = {init.name for init in model.graph.initializer}
    for name, value in values.items():
        if name in read and name not in existing:
            model.graph.initializer.append(numpy_helper.from_array(value, name))


def _names_read(node: onnx.NodeProto) -> set[str]:
    """The tensors a node reads: its inputs, and the outer values its subgraphs' nodes and outputs read."""
    names = set(node.input)
    for _, subgraph in subgraphs(node):
        for graph in walk_graphs(subgraph):
            names.update(name for inner in graph.node for name in inner.input)
            names.update(value.name for value in graph.output)
    return names
