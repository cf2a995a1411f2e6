"""The ONNX front-end (ONNX -> TVM Relax -> TIR -> sympy reuse analysis) on small hand-built graphs and ResNet-18."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper
from onnx_models import GraphBuilder, build_resnet18_onnx, generate

from dmz_solver.errors import InputError
from dmz_solver.loopnest import LoopNest
from dmz_solver.workload.canonical import canonical_nest
from dmz_solver.workload.export import export_spec
from dmz_solver.workload.loader import load_model
from dmz_solver.workload.onnx_fold import fold_shapes
from dmz_solver.workload.onnx_tvm import load_onnx
from dmz_solver.workload.spec_json import layers_from_json, load_spec
from dmz_solver.workload.templates import conv_nest, gemm_nest, group_conv_nest
from dmz_solver.workload.tir_blocks import read_primfunc


def _layers(g: GraphBuilder, out: str, tmp_path: Path) -> dict[str, LoopNest]:
    layers, _ = load_onnx(g.save(out, tmp_path / f"{g.name}.onnx"))
    return {nest.name: nest for nest in layers}


def _dims(nest: LoopNest) -> dict[str, int]:
    return dict(zip(nest.loops, nest.extents, strict=True))


def _from_json(op: str, **entry: object) -> LoopNest:
    (nest,) = layers_from_json({op: [{"name": "ref", **entry}]}, source="test")
    return nest


def _same_nest(a: LoopNest, b: LoopNest) -> bool:
    return a == replace(b, name=a.name, instances=a.instances)


@pytest.fixture(scope="module")
def small_layers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LoopNest]:
    """One graph with a layer of every kind, weights as zero initializers (shapes only)."""
    g = GraphBuilder("small", weights_as_inputs=False)
    x = g.input("x", [2, 5, 11, 13])
    # padded to 12 x 16: pads are (top, left, bottom, right)
    y = g.relu(g.conv(x, "conv_ns", 5, 7, (3, 5), stride=(2, 3), pad=(1, 2, 0, 1)), "relu0")  # [2, 7, 5, 4]
    y = g.conv(y, "dw", 7, 7, 3, stride=2, pad=1, groups=7)  # padded 7 x 6 -> [2, 7, 3, 2]
    y = g.conv(y, "grouped", 7, 14, (1, 2), pad=(0, 0, 0, 1), groups=7, bias=False)  # [2, 14, 3, 2]
    y = g.conv(y, "pointwise", 14, 4, 1, stride=(1, 2))  # [2, 4, 3, 1]
    y = g.node("Flatten", [y], "flat")  # [2, 12]
    y = g.gemm(y, "fc", 12, 9)  # Gemm with transB, as PyTorch exports it
    y = g.gemm(y, "fc_plain", 9, 6, trans_b=False)
    y = g.node("MatMul", [g.node("Reshape", [y, g.const("r", [2, 3, 2])], "reshape"), g.weight("mw", [2, 10])], "mm")
    return _layers(g, y, tmp_path_factory.mktemp("small"))


def test_conv_non_square_padded_strided_has_hand_computed_dims(small_layers: dict[str, LoopNest]) -> None:
    nest = small_layers["conv_ns"]
    assert nest.op == "CONV"
    assert _dims(nest) == {"N": 2, "M": 7, "C": 5, "Ox": 5, "Oy": 4, "Fx": 3, "Fy": 5}
    assert nest.stride == (2, 3)
    assert [op.shape for op in nest.operands] == [(2, 7, 5, 4), (2, 5, 12, 16), (7, 5, 3, 5)]
    assert nest.instances == 1
    spec = {"size_tensor_A": [2, 5, 12, 16], "size_tensor_B": [7, 5, 3, 5], "strides": [2, 3]}
    assert _same_nest(nest, _from_json("CONV", **spec))


def test_depthwise_conv_is_dw_conv_with_channels_indexing_the_output(small_layers: dict[str, LoopNest]) -> None:
    nest = small_layers["dw"]
    assert nest.op == "DW_CONV"
    assert _dims(nest) == {"N": 2, "M": 1, "C": 7, "Ox": 3, "Oy": 2, "Fx": 3, "Fy": 3}
    assert [op.shape for op in nest.operands] == [(2, 7, 3, 2), (2, 7, 7, 6), (1, 7, 3, 3)]
    assert nest.output.index_loops == (nest.loop("N"), nest.loop("C"), nest.loop("Ox"), nest.loop("Oy"))
    spec = {"size_tensor_A": [2, 7, 7, 6], "size_tensor_B": [1, 7, 3, 3], "strides": [2, 2]}
    assert _same_nest(nest, _from_json("DW_CONV", **spec))


def test_grouped_conv_splits_output_channels_into_groups(small_layers: dict[str, LoopNest]) -> None:
    nest = small_layers["grouped"]
    assert nest.op == "GROUP_CONV"
    assert nest.groups == 7
    assert _dims(nest) == {"N": 2, "G": 7, "M": 2, "C": 1, "Ox": 3, "Oy": 2, "Fx": 1, "Fy": 2}
    spec = {"size_tensor_A": [2, 7, 3, 3], "size_tensor_B": [14, 1, 1, 2], "strides": [1, 1], "groups": 7}
    assert _same_nest(nest, _from_json("GROUP_CONV", **spec))


def test_pointwise_conv_with_unequal_strides(small_layers: dict[str, LoopNest]) -> None:
    nest = small_layers["pointwise"]
    assert _dims(nest) == {"N": 2, "M": 4, "C": 14, "Ox": 3, "Oy": 1, "Fx": 1, "Fy": 1}
    assert nest.stride == (1, 2)
    assert nest.operands[1].shape == (2, 14, 3, 2)


def test_gemm_and_matmul_become_x_y_k_with_b_as_k_by_y(small_layers: dict[str, LoopNest]) -> None:
    assert small_layers["fc"] == gemm_nest("fc", x=2, y=9, k=12)
    assert small_layers["fc_plain"] == gemm_nest("fc_plain", x=2, y=6, k=9)
    # [2, 3, 2] @ [2, 10]: the broadcast batch and the rows are adjacent in A and C, so they fuse into X
    assert small_layers["mm"] == gemm_nest("mm", x=6, y=10, k=2)


def test_batched_matmul_is_batch_gemm_over_all_batch_dimensions(tmp_path: Path) -> None:
    g = GraphBuilder("bmm")
    y = g.node("MatMul", [g.input("a", [2, 3, 5, 7]), g.input("b", [2, 3, 7, 4])], "scores")
    nest = _layers(g, y, tmp_path)["scores"]
    assert nest.op == "BATCH_GEMM"
    assert _dims(nest) == {"B": 6, "X": 5, "Y": 4, "K": 7}
    assert _same_nest(nest, _from_json("BATCH_GEMM", size_tensor_A=[6, 5, 7], size_tensor_B=[6, 7, 4]))


def test_dilated_conv_keeps_the_dilation_in_the_input_index(tmp_path: Path) -> None:
    g = GraphBuilder("dilated")
    x = g.input("x", [1, 3, 20, 17])
    g.nodes.append(
        generate.helper.make_node(
            "Conv", [x, g.weight("w", [4, 3, 3, 2])], ["y"], name="dil", kernel_shape=[3, 2], dilations=[2, 3]
        )
    )
    nest = _layers(g, "y", tmp_path)["dil"]
    assert _dims(nest) == {"N": 1, "M": 4, "C": 3, "Ox": 16, "Oy": 14, "Fx": 3, "Fy": 2}
    expected = conv_nest(
        "dil", n=1, m=4, c=3, in_rows=20, in_cols=17, f_rows=3, f_cols=2, stride=(1, 1), dilation=(2, 3)
    )
    assert nest == expected
    entry = json.loads(json.dumps(export_spec([nest])))["CONV"][0]
    assert entry["dilations"] == [2, 3]
    assert layers_from_json({"CONV": [entry]}, source="exported") == [expected]  # the dilation survives export


def test_repeated_identical_layers_merge_and_count_instances(tmp_path: Path) -> None:
    g = GraphBuilder("repeat")
    x = g.input("x", [1, 4, 8, 8])
    for i in range(3):
        x = g.relu(g.conv(x, f"same{i}", 4, 4, 3, pad=1), f"relu{i}")
    x = g.conv(x, "other", 4, 4, 3, stride=2, pad=1)
    layers, ignored = load_onnx(g.save(x, tmp_path / "repeat.onnx"))
    assert [(nest.name, nest.instances) for nest in layers] == [("same0", 3), ("other", 1)]
    assert any(entry.startswith("relu") for entry in ignored)


@pytest.mark.parametrize(("c", "m", "groups"), [(4, 6, 2), (3, 6, 3)])
def test_grouped_conv_and_channel_multiplier_match_the_template(tmp_path: Path, c: int, m: int, groups: int) -> None:
    g = GraphBuilder("grouped")
    y = g.conv(g.input("x", [1, c, 6, 7]), "gc", c, m, 3, stride=(1, 2), groups=groups)
    nest = _layers(g, y, tmp_path)["gc"]
    expected = group_conv_nest(
        "gc",
        n=1,
        groups=groups,
        m_per_group=m // groups,
        c_per_group=c // groups,
        in_rows=6,
        in_cols=7,
        f_rows=3,
        f_cols=3,
        stride=(1, 2),
    )
    assert nest == expected
    # the channel dimension is delinearised into (G, C/G): a tile of 2 groups and 1 channel touches 2 channels
    e = dict.fromkeys(nest.loops, 1) | {"G": 2}
    assert nest.operands[1].footprint([e[loop] for loop in nest.loops]) == 2


def _tiles(nest: LoopNest) -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({loop: st.integers(1, extent) for loop, extent in _dims(nest).items()})


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_footprints_equal_closed_forms(small_layers: dict[str, LoopNest], data: st.DataObject) -> None:
    """docs/cost-model.md §1.5, with the stride of each direction for non-square layers."""
    conv, dw, gemm = small_layers["conv_ns"], small_layers["dw"], small_layers["fc"]
    for nest in (conv, dw):
        e = data.draw(_tiles(nest))
        sx, sy = nest.stride
        window = ((e["Ox"] - 1) * sx + e["Fx"]) * ((e["Oy"] - 1) * sy + e["Fy"])
        out_ch = e["M"] if nest.op == "CONV" else e["C"]
        expected = [e["N"] * out_ch * e["Ox"] * e["Oy"], e["N"] * e["C"] * window, e["M"] * e["C"] * e["Fx"] * e["Fy"]]
        assert [op.footprint([e[loop] for loop in nest.loops]) for op in nest.operands] == expected
    e = data.draw(_tiles(gemm))
    expected = [e["X"] * e["Y"], e["X"] * e["K"], e["K"] * e["Y"]]
    assert [op.footprint([e[loop] for loop in gemm.loops]) for op in gemm.operands] == expected


@pytest.fixture(scope="module")
def resnet18(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[LoopNest], list[str]]:
    return load_onnx(build_resnet18_onnx(tmp_path_factory.mktemp("resnet") / "resnet18.onnx"))


def test_resnet18_has_twenty_convolutions_in_eleven_shapes_and_one_fc(resnet18) -> None:
    layers, ignored = resnet18
    convs = [n for n in layers if n.op == "CONV"]
    assert [n.op for n in layers].count("GEMM") == 1 and len(layers) == 12
    assert sum(n.instances for n in convs) == 20
    assert sum(n.instances for n in layers) == 21
    by_window = {}
    for n in convs:
        key = (_dims(n)["Fx"], _dims(n)["Fy"])
        by_window[key] = by_window.get(key, 0) + n.instances
    assert by_window == {(7, 7): 1, (3, 3): 16, (1, 1): 3}
    stem = next(n for n in convs if _dims(n)["Fx"] == 7)
    assert (stem.name, _dims(stem), stem.stride) == (
        "conv1",
        {"N": 1, "M": 64, "C": 3, "Ox": 112, "Oy": 112, "Fx": 7, "Fy": 7},
        (2, 2),
    )
    assert stem.operands[1].shape == (1, 3, 230, 230)
    layer1 = next(n for n in convs if n.name == "layer1.0.conv1")
    assert (layer1.instances, layer1.operands[1].shape) == (4, (1, 64, 58, 58))
    downsample = next(n for n in convs if n.name == "layer2.0.downsample")
    assert (_dims(downsample)["Ox"], downsample.stride, downsample.operands[1].shape) == (28, (2, 2), (1, 64, 56, 56))
    fc = next(n for n in layers if n.op == "GEMM")
    assert (fc.name, _dims(fc), fc.instances) == ("fc", {"X": 1, "Y": 1000, "K": 512}, 1)
    assert any("max_pool2d" in entry and "max reduction" in entry for entry in ignored)


def test_exported_spec_reads_back_as_the_same_nests(resnet18, small_layers: dict[str, LoopNest]) -> None:
    layers = resnet18[0] + [replace(n, name=f"small.{n.name}") for n in small_layers.values()]  # names unique
    spec = json.loads(json.dumps(export_spec(layers)))
    assert spec["CONV"][0] == {
        "name": "conv1",
        "size_tensor_A": [1, 3, 230, 230],
        "size_tensor_B": [64, 3, 7, 7],
        "strides": [2, 2],
        "instances": 1,
    }
    back = {n.name: n for n in layers_from_json(spec, source="exported")}
    assert back == {n.name: n for n in layers}


def test_generated_spec_of_alexnet_matches_its_onnx(tmp_path: Path) -> None:
    spec = generate.write_spec(generate.build_alexnet, tmp_path / "alexnet.json")
    layers = load_spec(tmp_path / "alexnet.json")
    assert [n.name for n in layers] == [e["name"] for e in spec["CONV"] + spec["GEMM"]]
    conv1 = layers[0]
    assert (_dims(conv1)["Ox"], conv1.stride, conv1.operands[1].shape) == (55, (4, 4), (1, 3, 228, 228))
    assert _dims(layers[-1]) == {"X": 1, "Y": 1000, "K": 4096}


@pytest.mark.parametrize("name", list(generate.MODELS))
def test_generated_graphs_pass_the_onnx_checker(name: str, tmp_path: Path) -> None:
    """Every value has one producer (SSA): a constant and a node output never share a name."""
    model = onnx.load(generate.MODELS[name](tmp_path / f"{name}.onnx"))
    onnx.checker.check_model(model, full_check=True)


def test_dense_with_transposed_weights_keeps_the_buffer_layout() -> None:
    from tvm import te

    a, w = te.placeholder((4, 5), name="A"), te.placeholder((6, 5), name="W")
    k = te.reduce_axis((0, 5), name="k")
    dense = te.compute((4, 6), lambda i, j: te.sum(a[i, k] * w[j, k], axis=k), name="dense")
    (block,) = read_primfunc("dense", te.create_prim_func([a, w, dense])).macs
    nest = canonical_nest(block, "dense")
    assert (nest.op, _dims(nest)) == ("GEMM", {"X": 4, "Y": 6, "K": 5})
    assert [op.name for op in nest.operands] == ["C", "A", "B"]
    b = nest.operands[2]
    assert b.shape == (6, 5) and b.index_loops == (nest.loop("Y"), nest.loop("K"))
    assert b.footprint([2, 3, 4]) == 12


def test_onnx_model_loads_through_the_model_loader(tmp_path: Path) -> None:
    g = GraphBuilder("tiny")
    y = g.node("MaxPool", [g.conv(g.input("x", [1, 2, 6, 6]), "c", 2, 3, 3)], "pool", kernel_shape=[2, 2])
    model = load_model(str(g.save(y, tmp_path / "tiny.onnx")))
    assert [n.name for n in model.layers] == ["c"]
    assert any(entry.startswith("max_pool2d") for entry in model.ignored)


def test_conv_transpose_is_refused_naming_the_node(tmp_path: Path) -> None:
    g = GraphBuilder("deconv")
    x = g.conv(g.input("x", [1, 2, 6, 6]), "Conv_1", 2, 2, 3)
    y = g.node("ConvTranspose", [x, g.weight("wt", [2, 2, 3, 3])], "Conv_3")
    with pytest.raises(InputError, match=r"deconv\.onnx: node 'Conv_3' \(op ConvTranspose\): transposed"):
        load_onnx(g.save(y, tmp_path / "deconv.onnx"))


def test_dynamic_input_dimension_is_refused_naming_the_node(tmp_path: Path) -> None:
    g = GraphBuilder("dynamic")
    y = g.conv(g.input("x", ["batch", 2, 6, 6]), "first_conv", 2, 2, 3)
    with pytest.raises(InputError, match=r"node 'first_conv' \(op Conv\).*dynamic \('batch'\)"):
        load_onnx(g.save(y, tmp_path / "dynamic.onnx"))


def test_three_dimensional_conv_is_refused(tmp_path: Path) -> None:
    g = GraphBuilder("conv3d")
    x = g.input("x", [1, 2, 4, 4, 4])
    g.nodes.append(generate.helper.make_node("Conv", [x, g.weight("w", [2, 2, 3, 3, 3])], ["y"], name="c3"))
    with pytest.raises(InputError, match=r"node 'c3' \(op Conv\): .*a 3-D convolution"):
        load_onnx(g.save("y", tmp_path / "conv3d.onnx"))


@pytest.mark.parametrize("content", [b"", b"not a protobuf \xff\xfe", None])
def test_unreadable_onnx_file_is_an_input_error_naming_it(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "broken.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match="broken.onnx: ") as info:
        load_onnx(path)
    assert "Traceback" not in str(info.value)


def test_shape_computed_at_run_time_is_refused_naming_the_matmul(tmp_path: Path) -> None:
    g = GraphBuilder("nonzero")
    rows = g.node("Transpose", [g.node("Cast", [g.node("NonZero", [g.input("x", [4, 4])], "nz")], "cast", to=1)], "t")
    y = g.node("MatMul", [rows, g.weight("w", [2, 3])], "mm_dyn")
    with pytest.raises(InputError, match=r"node 'mm_dyn' \(op MatMul\): .*dynamic size.*node 'nz' \(op NonZero\)"):
        load_onnx(g.save(y, tmp_path / "nonzero.onnx"))


def test_operator_unknown_to_tvm_is_refused_naming_the_node(tmp_path: Path) -> None:
    g = GraphBuilder("celu")
    y = g.node("Celu", [g.conv(g.input("x", [1, 2, 6, 6]), "c", 2, 2, 3)], "act")
    with pytest.raises(InputError, match=r"node 'act' \(op Celu\): operator not supported by TVM"):
        load_onnx(g.save(y, tmp_path / "celu.onnx"))


def test_unnamed_nodes_are_named_by_op_and_position(tmp_path: Path) -> None:
    g = GraphBuilder("unnamed")
    x = g.relu(g.input("x", [3, 8]), "relu")
    g.nodes.append(generate.helper.make_node("MatMul", [x, g.weight("w", [8, 5])], ["y"]))
    layers, _ = load_onnx(g.save("y", tmp_path / "unnamed.onnx"))
    assert [(n.name, _dims(n)) for n in layers] == [("MatMul_1", {"X": 3, "Y": 5, "K": 8})]


def test_layer_names_follow_shapes_when_relax_emits_a_shortcut_first(tmp_path: Path) -> None:
    """Add(shortcut, branch): Relax emits the shortcut conv first, yet each layer keeps its own node's name."""
    g = GraphBuilder("residual")
    x = g.input("x", [1, 4, 8, 8])
    branch = g.conv(x, "branch3x3", 4, 8, 3, pad=1, bias=False)
    shortcut = g.conv(x, "shortcut1x1", 4, 8, 1, bias=False)
    layers, _ = load_onnx(g.save(g.node("Add", [shortcut, branch], "add"), tmp_path / "residual.onnx"))
    assert {n.name: _dims(n)["Fx"] for n in layers} == {"branch3x3": 3, "shortcut1x1": 1}


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER"])
def test_a_conv_padded_by_auto_pad_keeps_its_node_name(tmp_path: Path, auto_pad: str) -> None:
    """TVM pads the input in a step of its own, so the convolution reads a 9 x 9 copy of the 7 x 7 input: the
    layer is still the node's (it was named after TVM's function, conv2d)."""
    g = GraphBuilder("autopad")
    x = g.input("x", [1, 4, 7, 7])
    y = g.node("Conv", [x, g.weight("w", [8, 4, 3, 3])], "c", auto_pad=auto_pad, strides=[2, 2])
    layers, _ = load_onnx(g.save(g.relu(y, "act"), tmp_path / "autopad.onnx"))
    assert [(n.name, _dims(n)["Ox"], _dims(n)["Fx"]) for n in layers] == [("c", 4, 3)]


def test_matmul_of_a_tensor_with_itself_is_a_gemm_but_a_sum_of_squares_is_not(tmp_path: Path) -> None:
    g = GraphBuilder("gram")
    x = g.input("x", [6, 6])
    square = g.node("MatMul", [x, x], "square")  # both operands read the same buffer
    layers, ignored = load_onnx(g.save(g.node("ReduceSumSquare", [square], "rss", keepdims=0), tmp_path / "sq.onnx"))
    assert [(n.name, _dims(n)) for n in layers] == [("square", {"X": 6, "Y": 6, "K": 6})]
    assert any("sum reduction" in entry for entry in ignored)


# ---------------------------------------------------------------------------------------------------------------------
# Shape arithmetic on static shapes (the TorchScript exporter's chunk/split)


def _chunk_model(opset: int, constants_as_nodes: bool) -> onnx.ModelProto:
    """torch.chunk(x, 2, dim=1) as the TorchScript exporter wrote it: the split size is computed from Shape(x),
    (C + 1) / 2 through a 1-D Gather, and feeds Slice's bounds; each half goes to a convolution."""
    nodes: list[onnx.NodeProto] = []
    inits = [
        numpy_helper.from_array(np.zeros(s, np.float32), n) for n, s in (("w1", [3, 4, 3, 3]), ("w2", [5, 4, 1, 1]))
    ]

    def const(name: str, value: object) -> str:
        tensor = numpy_helper.from_array(np.array(value, np.int64), name)
        if constants_as_nodes:
            nodes.append(helper.make_node("Constant", [], [name], name=name, value=tensor))
        else:
            inits.append(tensor)
        return name

    def node(op: str, inputs: list[str], name: str, **attrs: object) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    shape = node("Shape", ["x"], "Shape_0")
    channels = node("Gather", [shape, const("index", [1])], "Gather_1", axis=0)
    split = node("Div", [node("Add", [channels, const("one", 1)], "Add_2"), const("two", 2)], "Div_3")
    axes = const("axes", [1])
    first = node("Slice", ["x", const("zero", [0]), split, axes], "Slice_4")
    second = node("Slice", ["x", split, node("Mul", [split, const("two_b", 2)], "Mul_5"), axes], "Slice_6")
    y1 = node("Conv", [first, "w1"], "Conv_7", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    y2 = node("Conv", [second, "w2"], "Conv_8", kernel_shape=[1, 1])
    node("Concat", [y1, y2], "y", axis=1)
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 6, 6])]
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 6, 6])
    graph = helper.make_graph(nodes, "chunk", inputs, [output], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model, full_check=True)
    return model


@pytest.mark.parametrize(("opset", "constants_as_nodes"), [(11, True), (13, False), (17, False)])
def test_chunk_exported_as_shape_arithmetic_is_read_as_static(tmp_path: Path, opset: int, constants_as_nodes: bool):
    """Shape -> Gather -> Add -> Div -> Slice left TVM a symbolic slice size: `node 'Conv_7': dynamic size s`."""
    path = tmp_path / "chunk.onnx"
    onnx.save(_chunk_model(opset, constants_as_nodes), str(path))
    layers, _ = load_onnx(path)
    conv3 = dict(size_tensor_A=[1, 4, 8, 8], size_tensor_B=[3, 4, 3, 3], strides=[1, 1])  # padded by 1
    conv1 = dict(size_tensor_A=[1, 4, 6, 6], size_tensor_B=[5, 4, 1, 1], strides=[1, 1])
    assert [n.name for n in layers] == ["Conv_7", "Conv_8"]
    assert _same_nest(layers[0], _from_json("CONV", **conv3))
    assert _same_nest(layers[1], _from_json("CONV", **conv1))


def test_folding_replaces_the_shape_chain_by_its_values() -> None:
    folded = fold_shapes(_chunk_model(17, False))
    assert [n.op_type for n in folded.graph.node] == ["Slice", "Slice", "Conv", "Conv", "Concat"]
    values = {t.name: numpy_helper.to_array(t).tolist() for t in folded.graph.initializer}
    assert (values["Div_3"], values["Mul_5"]) == ([4], [8])  # (8 + 1) // 2 channels, then twice that


def test_a_size_known_only_at_run_time_names_the_node_that_introduced_it(tmp_path: Path) -> None:
    """The message used to name only the Conv; the Slice whose bound is a graph input is where the size is lost."""
    g = GraphBuilder("runtime_slice")
    x, n = g.input("x", [1, 8, 6, 6]), g.input("n", [1])
    g.inputs[-1].type.tensor_type.elem_type = TensorProto.INT64
    first = g.node("Slice", [x, g.const("start", [0]), n, g.const("axes", [1])], "take_n")
    y = g.conv(g.relu(first, "relu"), "conv_after", 4, 3, 3, bias=False)
    with pytest.raises(InputError) as info:
        load_onnx(g.save(y, tmp_path / "runtime.onnx"))
    message = info.value.message
    assert message.startswith(f"{tmp_path / 'runtime.onnx'}: node 'conv_after' (op Conv): ")
    assert message.endswith("(the size is first unknown at the output of node 'take_n' (op Slice))")


# ---------------------------------------------------------------------------------------------------------------------
# Conv attributes and TVM's own messages


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [
        ({"strides": [0, 1]}, "attribute strides must be positive, got [0, 1]"),  # TVM: "Divide by zero"
        ({"dilations": [0, 1]}, "attribute dilations must be positive, got [0, 1]"),  # TVM: "a 1-D convolution"
        ({"pads": [-1, 0, 0, 0]}, "attribute pads must be non-negative, got [-1, 0, 0, 0]"),
        ({"pads": [1, 1]}, "attribute pads has 2 values; a 2-D convolution takes 4"),
        ({"group": 0}, "attribute group must be at least 1, got 0"),
        ({"group": 4}, "4 groups do not divide the weight's 6 output channels"),
        ({"group": 2}, "the input has 4 channels, the weight 4 per group x 2 group(s)"),
        ({"kernel_shape": [5, 5]}, "attribute kernel_shape [5, 5] disagrees with the weight's [3, 3]"),  # was ignored
        ({"auto_pad": "SAME"}, "attribute auto_pad is 'SAME', expected one of NOTSET, SAME_UPPER, SAME_LOWER, VALID"),
    ],
)
def test_wrong_conv_attributes_are_refused_naming_the_node_and_attribute(tmp_path: Path, attrs: dict, reason: str):
    g = GraphBuilder("attrs")
    x = g.input("x", [1, 4, 7, 7])
    g.nodes.append(helper.make_node("Conv", [x, g.weight("w", [6, 4, 3, 3])], ["y"], name="bad_conv", **attrs))
    path = tmp_path / "attrs.onnx"
    graph = helper.make_graph(g.nodes, "attrs", g.inputs, [helper.make_empty_tensor_value_info("y")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(InputError) as info:
        load_onnx(path)
    assert info.value.message == f"{path}: node 'bad_conv' (op Conv): {reason}"


def test_a_model_tvm_cannot_convert_gives_one_line_without_tvms_native_warnings(tmp_path: Path) -> None:
    """TVM's C++ log printed `Warning: BlockBuilder destroyed with remaining blocks!` after the error line."""
    g = GraphBuilder("mismatch")
    y = g.node("MatMul", [g.input("x", [3, 4]), g.weight("w", [5, 6])], "mm")
    graph = helper.make_graph(
        g.nodes, "mismatch", g.inputs, [helper.make_tensor_value_info(y, TensorProto.FLOAT, [3, 6])]
    )
    path = tmp_path / "mismatch.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    repo = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "cli.py", "layers", "--model", str(path)],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith(f"error: {path}: TVM cannot convert node 'mm' (op MatMul): ")
    assert len(proc.stderr.splitlines()) == 1, proc.stderr


@pytest.mark.parametrize(
    ("dims", "reason"),
    [
        ([1, 0, 6, 6], "dimension 1 is 0; sizes must be positive"),  # said "dynamic (of unknown size)"
        ([1, 2, 2**31, 6], "dimension 2 is 2147483648; sizes are at most 2147483647"),  # JSON specs refuse it too
    ],
)
def test_input_dimensions_out_of_range_are_refused_saying_so(tmp_path: Path, dims: list[int], reason: str) -> None:
    g = GraphBuilder("dims")
    y = g.conv(g.input("x", dims), "c", 2, 2, 3)
    with pytest.raises(InputError) as info:
        load_onnx(g.save(y, tmp_path / "dims.onnx"))
    assert info.value.reason == f"input 'x' (input of node 'c' (op Conv)): {reason}"


# ---------------------------------------------------------------------------------------------------------------------
# Subgraphs: the branches of an If (TVM's Relax importer lowers both, with a constant condition too)


def _if_model(
    then_nodes: list[onnx.NodeProto],
    else_nodes: list[onnx.NodeProto],
    tail: list[onnx.NodeProto] = (),
    head: list[onnx.NodeProto] = (),
) -> onnx.ModelProto:
    """x [1, 4, 8, 8] -> (head) -> If(constant true) -> (tail) -> y; each branch ends in a [1, 8, 8, 8] tensor; the
    weights w3 [8, 4, 3, 3], w1 [8, 4, 1, 1], wt [8, 8, 1, 1] and wd [4, 8, 1, 1] (a ConvTranspose's) are graph
    inputs the branches read by name. Checked as ONNX's checker does without shape inference: some tests give a
    branch a node whose attributes contradict its shapes."""
    out = [1, 8, 8, 8]

    def branch(name: str, nodes: list[onnx.NodeProto]) -> onnx.GraphProto:
        return helper.make_graph(nodes, name, [], [helper.make_tensor_value_info(nodes[-1].output[0], 1, out)])

    weights = {"w3": [8, 4, 3, 3], "w1": [8, 4, 1, 1], "wt": [8, 8, 1, 1], "wd": [4, 8, 1, 1]}
    inputs = [helper.make_tensor_value_info(n, 1, s) for n, s in {"x": [1, 4, 8, 8], **weights}.items()]
    branches = {"then_branch": branch("then", then_nodes), "else_branch": branch("else", else_nodes)}
    gate = helper.make_node("If", ["cond"], ["z"], name="gate", **branches)
    result = tail[-1].output[0] if tail else "z"
    graph = helper.make_graph(
        [*head, gate, *tail], "gated", inputs, [helper.make_tensor_value_info(result, 1, out)],
        [numpy_helper.from_array(np.array(True), "cond")],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def _load(model: onnx.ModelProto, path: Path) -> tuple[list[LoopNest], list[str]]:
    onnx.save(model, str(path))
    return load_onnx(path)


def test_convolutions_inside_if_branches_keep_their_node_names(tmp_path: Path) -> None:
    """Both branches' convolutions were named after TVM's function (conv2d, conv2d1); an unnamed node in a
    branch is named by its If node, the branch and its position there, and a node after the If keeps its place."""
    then_conv = helper.make_node("Conv", ["x", "w3"], ["t"], name="then_conv", pads=[1, 1, 1, 1])
    else_conv = helper.make_node("Conv", ["x", "w1"], ["e"])
    tail = helper.make_node("Conv", ["z", "wt"], ["y"])
    layers, _ = _load(_if_model([then_conv], [else_conv], [tail]), tmp_path / "if.onnx")
    names = {n.name: (_dims(n)["C"], _dims(n)["Fx"]) for n in layers}
    assert names == {"then_conv": (4, 3), "gate/else_branch/Conv_0": (4, 1), "Conv_1": (8, 1)}


def test_a_transposed_convolution_inside_an_if_branch_is_refused_naming_it(tmp_path: Path) -> None:
    then_conv = helper.make_node("Conv", ["x", "w1"], ["t"], name="then_conv")
    deconv = helper.make_node("ConvTranspose", ["x", "wd"], ["e"], name="up")
    with pytest.raises(InputError) as info:
        _load(_if_model([then_conv], [deconv]), tmp_path / "if.onnx")
    assert info.value.reason == "node 'up' (op ConvTranspose): transposed convolutions are not supported"


def test_wrong_conv_attributes_inside_an_if_branch_are_refused_naming_the_node(tmp_path: Path) -> None:
    then_conv = helper.make_node("Conv", ["x", "w3"], ["t"], name="then_conv", pads=[1, 1, 1, 1])
    bad = helper.make_node("Conv", ["x", "w3"], ["e"], name="bad_conv", pads=[1, 1, 1, 1], kernel_shape=[5, 5])
    with pytest.raises(InputError) as info:
        _load(_if_model([then_conv], [bad]), tmp_path / "if.onnx")
    reason = "attribute kernel_shape [5, 5] disagrees with the weight's [3, 3]"  # TVM ignored it: a 3x3 layer
    assert info.value.reason == f"node 'bad_conv' (op Conv): {reason}"


def test_a_folded_shape_read_only_inside_an_if_branch_stays_in_the_graph(tmp_path: Path) -> None:
    """Shape(x) folds into a constant that only a Reshape inside the branch reads: it was dropped, and TVM failed
    with `shape must be a tuple/list or a Relax shape expression`."""
    shape = helper.make_node("Shape", ["x"], ["x_shape"], name="shape")
    reshape = helper.make_node("Reshape", ["x", "x_shape"], ["x_same"], name="reshape")
    then_conv = helper.make_node("Conv", ["x_same", "w1"], ["t"], name="then_conv")
    else_conv = helper.make_node("Conv", ["x", "w3"], ["e"], name="else_conv", pads=[1, 1, 1, 1])
    layers, _ = _load(_if_model([reshape, then_conv], [else_conv], head=[shape]), tmp_path / "if.onnx")
    assert sorted(n.name for n in layers) == ["else_conv", "then_conv"]
