"""bench/networks.py builds valid ONNX models whose MAC layers have the published architectures' shapes."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import onnx
import pytest

from dmz_solver.loopnest import LoopNest
from dmz_solver.workload.onnx_tvm import load_onnx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import networks  # noqa: E402  (bench/networks.py: the builders under test)


class Graph:
    """An ONNX graph after shape inference: nodes by name and every value's shape."""

    def __init__(self, model: onnx.ModelProto) -> None:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        values = [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]
        self.shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in values}
        self.nodes = {n.name: n for n in inferred.graph.node}

    def ops(self, op_type: str) -> list[onnx.NodeProto]:
        return [n for n in self.nodes.values() if n.op_type == op_type]

    def conv(self, name: str) -> tuple[list[int], list[int], dict[str, object]]:
        """A Conv node's weight shape, output shape and attributes (strides, pads, group)."""
        node = self.nodes[name]
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        return self.shapes[node.input[1]], self.shapes[node.output[0]], attrs

    def macs(self) -> int:
        """Multiply-accumulates of every Conv, Gemm and MatMul: output elements x reduction length."""
        total = 0
        for node in self.nodes.values():
            out = math.prod(self.shapes[node.output[0]])
            if node.op_type == "Conv":
                total += out * math.prod(self.shapes[node.input[1]][1:])
            elif node.op_type in ("Gemm", "MatMul"):
                total += out * self.shapes[node.input[0]][-1]
        return total


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return networks.write_networks(networks.NETWORKS, tmp_path_factory.mktemp("networks"))


@pytest.fixture(scope="module")
def graphs(paths: dict[str, Path]) -> dict[str, Graph]:
    built = {}
    for name, path in paths.items():
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        built[name] = Graph(model)
    return built


def test_every_network_is_a_valid_onnx_model_with_its_published_mac_count(graphs: dict[str, Graph]) -> None:
    """Multiply-accumulates at 224x224 as torchvision's model documentation lists them (its "GFLOPS" are MACs)."""
    published = {
        "resnet50": 4.09e9,
        "mobilenetv3_large": 0.22e9,
        "efficientnet_b0": 0.39e9,
        "densenet121": 2.83e9,
        "vit_b16": 17.56e9,
    }
    assert {name: round(graphs[name].macs() / 1e9, 2) for name in published} == {
        name: round(macs / 1e9, 2) for name, macs in published.items()
    }


def test_resnet50_has_a_7x7_stride_2_stem_and_1x1_stride_2_projections(graphs: dict[str, Graph]) -> None:
    g = graphs["resnet50"]
    weight, out, attrs = g.conv("conv1")
    assert (weight, out, attrs["strides"], attrs["pads"]) == ([64, 3, 7, 7], [1, 64, 112, 112], [2, 2], [3] * 4)
    weight, out, attrs = g.conv("layer3.0.downsample.0")
    assert (weight, out, attrs["strides"]) == ([1024, 512, 1, 1], [1, 1024, 14, 14], [2, 2])
    assert g.conv("layer4.2.conv3")[:2] == ([2048, 512, 1, 1], [1, 2048, 7, 7])
    assert (len(g.ops("Conv")), len(g.ops("Gemm"))) == (1 + 3 * 16 + 4, 1)


def test_mobilenetv3_large_has_depthwise_5x5_and_squeeze_excite_of_the_channel_table(graphs: dict[str, Graph]) -> None:
    g = graphs["mobilenetv3_large"]
    weight, out, attrs = g.conv("features.13.dw")
    assert (weight, out, attrs["group"], attrs["strides"]) == ([672, 1, 5, 5], [1, 672, 7, 7], 672, [2, 2])
    assert g.conv("features.4.se.fc1")[:2] == ([24, 72, 1, 1], [1, 24, 1, 1])  # 72 // 4 = 18, made divisible by 8
    assert g.conv("features.15.project")[:2] == ([160, 960, 1, 1], [1, 160, 7, 7])
    assert len([n for n in g.ops("Conv") if n.name.endswith(".se.fc1")]) == 8


def test_efficientnet_b0_squeezes_to_a_quarter_of_the_block_input(graphs: dict[str, Graph]) -> None:
    g = graphs["efficientnet_b0"]
    assert g.conv("features.6.1.se.fc1")[0] == [48, 1152, 1, 1]  # 192 // 4, of a 6 x 192 expansion
    weight, out, attrs = g.conv("features.3.0.dw")
    assert (weight, out, attrs["strides"], attrs["pads"]) == ([144, 1, 5, 5], [1, 144, 28, 28], [2, 2], [2] * 4)
    assert g.conv("features.8")[:2] == ([1280, 320, 1, 1], [1, 1280, 7, 7])


def test_densenet121_has_121_mac_layers_and_dense_inputs(graphs: dict[str, Graph]) -> None:
    g = graphs["densenet121"]
    assert len(g.ops("Conv")) + len(g.ops("Gemm")) == 121
    assert g.conv("features.denseblock4.denselayer16.conv1")[:2] == ([128, 992, 1, 1], [1, 128, 7, 7])  # 512 + 15 x 32
    assert g.conv("features.transition3.conv")[:2] == ([512, 1024, 1, 1], [1, 512, 14, 14])


def test_vit_b16_has_a_16x16_stride_16_patch_embedding_and_12_head_attention(graphs: dict[str, Graph]) -> None:
    g = graphs["vit_b16"]
    weight, out, attrs = g.conv("conv_proj")
    assert (weight, out, attrs["strides"]) == ([768, 3, 16, 16], [1, 768, 14, 14], [16, 16])
    scores = g.nodes["encoder.layers.11.attn_scores"]
    assert [g.shapes[name] for name in (*scores.input, *scores.output)] == [
        [1, 12, 197, 64],
        [1, 12, 64, 197],
        [1, 12, 197, 197],
    ]
    assert len(g.ops("MatMul")) == 12 * 6


def _dims(nest: LoopNest) -> dict[str, object]:
    return {name: extent for name, extent in nest.dims_summary().items() if extent != 1}


def test_the_front_end_reads_a_two_layer_vit_as_eight_distinct_layers(tmp_path: Path) -> None:
    """Through ONNX -> TVM -> TIR: the encoder layers merge (2 instances each); the shapes are the ViT-B/16 ones."""
    layers, _ = load_onnx(networks.build_vit_b16(tmp_path / "vit.onnx", depth=2))
    found = {nest.name: (nest.op, _dims(nest), nest.instances) for nest in layers}
    assert found == {
        "conv_proj": ("CONV", {"M": 768, "C": 3, "Ox": 14, "Oy": 14, "Fx": 16, "Fy": 16, "stride": 16}, 1),
        "encoder.layers.0.qkv": ("GEMM", {"X": 197, "Y": 2304, "K": 768}, 2),
        "encoder.layers.0.attn_scores": ("BATCH_GEMM", {"B": 12, "X": 197, "Y": 197, "K": 64}, 2),
        "encoder.layers.0.attn_context": ("BATCH_GEMM", {"B": 12, "X": 197, "Y": 64, "K": 197}, 2),
        "encoder.layers.0.out_proj": ("GEMM", {"X": 197, "Y": 768, "K": 768}, 2),
        "encoder.layers.0.mlp.0": ("GEMM", {"X": 197, "Y": 3072, "K": 768}, 2),
        "encoder.layers.0.mlp.3": ("GEMM", {"X": 197, "Y": 768, "K": 3072}, 2),
        "heads.head": ("GEMM", {"Y": 1000, "K": 768}, 1),
    }


def test_the_front_end_reads_densenet_blocks_with_growing_inputs(tmp_path: Path) -> None:
    """A DenseNet with two layers per block: each 1x1 bottleneck sees 32 more channels, the 3x3s merge per block."""
    layers, _ = load_onnx(networks.build_densenet121(tmp_path / "dense.onnx", blocks=(2, 2)))
    found = {nest.name: (_dims(nest), nest.instances) for nest in layers}
    block1 = "features.denseblock1.denselayer"
    assert found[f"{block1}1.conv1"] == ({"M": 128, "C": 64, "Ox": 56, "Oy": 56}, 1)
    assert found[f"{block1}2.conv1"] == ({"M": 128, "C": 96, "Ox": 56, "Oy": 56}, 1)
    assert found[f"{block1}1.conv2"] == ({"M": 32, "C": 128, "Ox": 56, "Oy": 56, "Fx": 3, "Fy": 3}, 2)
    assert found["features.transition1.conv"] == ({"M": 64, "C": 128, "Ox": 56, "Oy": 56}, 1)
    assert found["features.denseblock2.denselayer2.conv1"] == ({"M": 128, "C": 96, "Ox": 28, "Oy": 28}, 1)
    assert found["classifier.0"] == ({"Y": 1000, "K": 128}, 1)
    assert sum(nest.instances for nest in layers) == 1 + 2 * 4 + 1 + 1


@pytest.mark.parametrize("name", list(networks.NETWORKS))
def test_the_front_end_finds_every_multiply_accumulate_of_the_graph(
    name: str, paths: dict[str, Path], graphs: dict[str, Graph]
) -> None:
    """The layers the front-end extracts, counted with their instances, do exactly the graph's MACs."""
    layers, _ = load_onnx(paths[name])
    assert sum(nest.instances * math.prod(nest.extents) for nest in layers) == graphs[name].macs()
