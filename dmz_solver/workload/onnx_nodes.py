"""Pair the multiply-accumulate PrimFunc calls of a lowered model with their ONNX nodes, by tensor shapes; walk a
graph's nodes with those of its subgraphs (an If's branches)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import onnx

MAC_OPS = ("Conv", "Gemm", "MatMul")
"""ONNX operators that lower to exactly one multiply-accumulate PrimFunc call each."""

Shape = tuple[int, ...]
Signature = tuple[Shape, tuple[Shape, ...]]
"""(output shape, sorted dimensions of each input, sorted): None where a shape is not static."""


BRANCHES_FIRST = ("then_branch", "else_branch")
"""An If's branches in the order Relax emits their calls (onnx.helper stores attributes sorted by name)."""


def walk_nodes(graph: onnx.GraphProto, prefix: str = "") -> Iterator[tuple[str, onnx.NodeProto]]:
    """Every node of the graph, each followed by the nodes of its subgraphs (an If's branches, a Loop's or Scan's
    body), depth first, with the name a layer takes from it when unnamed: `<op>_<position>` in its graph, after
    `<owner>/<attribute>/` inside a subgraph (`gate/else_branch/Conv_0`)."""
    for position, node in enumerate(graph.node):
        label = f"{node.op_type}_{position}"
        yield prefix + label, node
        for attribute, subgraph in subgraphs(node):
            yield from walk_nodes(subgraph, f"{prefix}{node.name or label}/{attribute}/")


def walk_graphs(graph: onnx.GraphProto) -> Iterator[onnx.GraphProto]:
    """The graph and every subgraph inside it, depth first."""
    yield graph
    for node in graph.node:
        for _, subgraph in subgraphs(node):
            yield from walk_graphs(subgraph)


def subgraphs(node: onnx.NodeProto) -> list[tuple[str, onnx.GraphProto]]:
    """The graphs a node's attributes hold, by attribute name (`name[i]` in a list of graphs), then-branch first."""
    found: list[tuple[str, onnx.GraphProto]] = []
    for attribute in node.attribute:
        if attribute.type == onnx.AttributeProto.GRAPH:
            found.append((attribute.name, attribute.g))
        elif attribute.type == onnx.AttributeProto.GRAPHS:
            found.extend((f"{attribute.name}[{i}]", graph) for i, graph in enumerate(attribute.graphs))
    rank = {name: i for i, name in enumerate(BRANCHES_FIRST)}
    return sorted(found, key=lambda item: rank.get(item[0], len(rank)))


def signature(output: Shape | None, inputs: Sequence[Shape | None]) -> Signature | None:
    if output is None or any(shape is None for shape in inputs):
        return None
    return tuple(output), tuple(sorted(tuple(sorted(shape)) for shape in inputs))


def pair_nodes(model: onnx.ModelProto, calls: Sequence[Signature | None]) -> list[tuple[str, onnx.NodeProto] | None]:
    """For each MAC call, in program order, the (name if unnamed, node) it comes from, or None if no node fits.

    Relax emits an operator when its value is first used, so calls are not in graph order; among nodes with the
    call's shapes the earliest free one (in `walk_nodes` order) wins, so a merged layer keeps its first node's name.
    """
    nodes = [(label, node) for label, node in walk_nodes(model.graph) if node.op_type in MAC_OPS]
    shapes = _static_shapes(model)
    node_sigs = [_node_signature(node, shapes) for _, node in nodes]
    weights = [_weight_signature(node, shapes) for _, node in nodes]
    free = list(range(len(nodes)))
    paired: list[tuple[int, onnx.NodeProto] | None] = []
    for sig in calls:
        pick = next((j for j in free if sig is not None and node_sigs[j] == sig), None)
        if pick is None:  # padded apart (auto_pad, pads TVM applies first): the output and the second input fit
            pick = next((j for j in free if _padded_apart(weights[j], sig)), None)
        if pick is None:  # shapes unknown on one side (computed at run time): take the first such node
            pick = next((j for j in free if sig is None or node_sigs[j] is None), None)
        if pick is not None:
            free.remove(pick)
        paired.append(nodes[pick] if pick is not None else None)
    return paired


def _padded_apart(weights: tuple[Shape, Shape] | None, call: Signature | None) -> bool:
    """The call reads a padded copy of the node's first input: it has the node's output shape, and the node's second
    input (a convolution's weights) among its inputs. weights = (the node's output shape, its weights' sorted dims)."""
    return weights is not None and call is not None and weights[0] == call[0] and weights[1] in call[1]


def _weight_signature(node: onnx.NodeProto, shapes: dict[str, Shape]) -> tuple[Shape, Shape] | None:
    output = shapes.get(node.output[0])
    weights = shapes.get(node.input[1]) if len(node.input) > 1 else None
    if output is None or weights is None:
        return None
    return tuple(output), tuple(sorted(weights))


def _node_signature(node: onnx.NodeProto, shapes: dict[str, Shape]) -> Signature | None:
    if len(node.input) < 2:
        return None
    return signature(shapes.get(node.output[0]), [shapes.get(name) for name in node.input[:2]])


def _static_shapes(model: onnx.ModelProto) -> dict[str, Shape]:
    """Static shapes of the tensors of the graph and its subgraphs from ONNX shape inference, inputs and initializers
    (a subgraph may not reuse an outer name; two branches that both name a tensor `t` leave the shape seen last,
    which affects only which node names a layer)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except onnx.shape_inference.InferenceError:
        inferred = model
    shapes = {init.name: tuple(init.dims) for graph in walk_graphs(model.graph) for init in graph.initializer}
    for graph in walk_graphs(inferred.graph):
        for value in (*graph.input, *graph.value_info, *graph.output):
            dims = value.type.tensor_type.shape.dim
            if value.type.tensor_type.HasField("shape") and all(d.dim_value > 0 for d in dims):
                shapes[value.name] = tuple(d.dim_value for d in dims)
    return shapes
