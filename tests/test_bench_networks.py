"""bench/networks.py builds valid ONNX models whose MAC layers have the published architectures' shapes."""

from __future__ import annotations

import math
import sys
from functools import partial
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


def test_the_networks_tried_later_do_torchvisions_published_multiply_accumulates(graphs: dict[str, Graph]) -> None:
    """torchvision's `_ops` of each model's weights (GMACs at 224x224, three decimals)."""
    published = {
        "resnext50_32x4d": 4.23,
        "regnet_y_800mf": 0.834,
        "vgg16": 15.47,
        "alexnet": 0.714,
        "googlenet": 1.498,
        "inception_v3": 5.713,
        "squeezenet1_1": 0.349,
        "shufflenet_v2_x1_0": 0.145,
        "convnext_tiny": 4.456,
        "swin_t": 4.491,
    }
    assert {name: round(graphs[name].macs() / 1e9, 3) for name in published} == published


def test_the_larger_networks_do_torchvisions_published_multiply_accumulates(graphs: dict[str, Graph]) -> None:
    """torchvision's `_ops` (GMACs, three decimals), EfficientNet-B1 to B7 at 240, 288, 300, 380, 456, 528 and 600
    pixels, the others at 224x224."""
    published = {
        "efficientnet_b1": 0.687,
        "efficientnet_b2": 1.088,
        "efficientnet_b3": 1.827,
        "efficientnet_b4": 4.394,
        "efficientnet_b5": 10.266,
        "efficientnet_b6": 19.068,
        "efficientnet_b7": 37.746,
        "densenet161": 7.728,
        "densenet169": 3.36,
        "densenet201": 4.291,
        "resnet101": 7.801,
        "resnet152": 11.514,
        "wide_resnet50_2": 11.398,
        "vit_b32": 4.409,
        "vit_l16": 61.555,
        "vit_l32": 15.378,
        "vit_h14": 167.295,
        "mobilenetv3_small": 0.057,
        "mnasnet1_0": 0.314,
    }
    assert {name: round(graphs[name].macs() / 1e9, 3) for name in published} == published


def test_efficientnet_v2_does_torchvisions_published_multiply_accumulates_and_parameters(
    graphs: dict[str, Graph],
) -> None:
    """torchvision's `_ops` (GMACs, three decimals) and `num_params` of EfficientNetV2-S at 384x384, -M and -L at
    480x480. The parameters count each weight, plus the scale and shift of the batch norm folded into every conv but
    the squeeze-excite ones (which have a bias) and the classifier's bias: they check the SE widths, which do almost
    no MACs."""
    published = {
        "efficientnet_v2_s": (8.366, 21_458_488),
        "efficientnet_v2_m": (24.582, 54_139_356),
        "efficientnet_v2_l": (56.08, 118_515_272),
    }

    def parameters(g: Graph) -> int:
        total = sum(math.prod(g.shapes[n.input[1]]) + 1000 for n in g.ops("Gemm"))
        for node in g.ops("Conv"):
            weight = g.shapes[node.input[1]]
            total += math.prod(weight) + weight[0] * (1 if ".se." in node.name else 2)
        return total

    assert {name: (round(graphs[name].macs() / 1e9, 3), parameters(graphs[name])) for name in published} == published


def test_efficientnet_v2_s_fuses_the_early_expansions_into_3x3_convs(graphs: dict[str, Graph]) -> None:
    """Stages 1-3 are Fused-MBConv (a 3x3 conv to 4 x the channels, with the stride, then a 1x1 projection; in stage 1,
    expansion 1, one 3x3 conv and no projection), stages 4-6 MBConv with SE: 2 + 4 + 4 fused blocks and 6 + 9 + 15
    depthwise convs; 384 / 32 = 12 at the 1x1 conv to 1280."""
    g = graphs["efficientnet_v2_s"]
    convs = g.ops("Conv")
    assert len([n for n in convs if n.name.endswith(".fused")]) == 2 + 4 + 4
    assert len([n for n in convs if n.name.endswith(".project")]) == 4 + 4 + 6 + 9 + 15
    assert len([n for n in convs if n.name.endswith(".dw")]) == 6 + 9 + 15
    assert g.conv("features.1.1.fused")[:2] == ([24, 24, 3, 3], [1, 24, 192, 192])
    weight, out, attrs = g.conv("features.2.0.fused")
    assert (weight, out, attrs["strides"], attrs["pads"]) == ([96, 24, 3, 3], [1, 96, 96, 96], [2, 2], [1] * 4)
    assert g.conv("features.2.0.project")[:2] == ([48, 96, 1, 1], [1, 48, 96, 96])
    assert g.conv("features.4.0.se.fc1")[0] == [16, 256, 1, 1]  # 64 // 4, of a 4 x 64 expansion
    assert g.conv("features.6.1.se.fc1")[0] == [64, 1536, 1, 1]  # 256 // 4, of a 6 x 256 expansion
    assert g.conv("features.7")[:2] == ([1280, 256, 1, 1], [1, 1280, 12, 12])


def test_deit_s_does_twelve_layers_of_a_384_wide_vit(graphs: dict[str, Graph]) -> None:
    """Per layer over 197 tokens: QKV (384 -> 1152), the output projection, the 384-1536-384 MLP and 6 heads of
    197x197x64 scores and context; the 16x16 patch embedding of 196 patches, the head (timm lists 4.6 GMACs)."""
    per_layer = 197 * 384 * (3 * 384 + 384 + 2 * 1536) + 2 * 6 * 197 * 197 * 64
    assert graphs["deit_s"].macs() == 12 * per_layer + 196 * 384 * 3 * 16 * 16 + 384 * 1000 == 4_598_882_304


def test_mobilenetv2_x1_4_widens_every_layer_by_1_4_made_divisible_by_8(graphs: dict[str, Graph]) -> None:
    """torchvision's `mobilenet_v2(width_mult=1.4)`: stem 48, block outputs 24, 32, 48, 88, 136, 224, 448, head 1792;
    the MACs summed by hand from those widths (Sandler et al. list 585 M for their TensorFlow model)."""
    g = graphs["mobilenetv2_x1_4"]
    widths = [(48, 1, 24, 1, 1), (24, 6, 32, 2, 2), (32, 6, 48, 3, 2), (48, 6, 88, 4, 2)]
    widths += [(88, 6, 136, 3, 1), (136, 6, 224, 3, 2), (224, 6, 448, 1, 1)]
    side, macs, index = 112, 112 * 112 * 48 * 3 * 9, 1
    for c_in, t, c_out, blocks, stride in widths:
        for block in range(blocks):
            hidden, side_in = c_in * t, side
            side //= stride if block == 0 else 1
            macs += side_in**2 * c_in * hidden * (t != 1) + side**2 * hidden * (9 + c_out)
            assert g.conv(f"features.{index}.project")[:2] == ([c_out, hidden, 1, 1], [1, c_out, side, side])
            c_in, index = c_out, index + 1
    macs += 7 * 7 * 448 * 1792 + 1792 * 1000
    assert g.conv("features.18")[:2] == ([1792, 448, 1, 1], [1, 1792, 7, 7])
    assert g.macs() == macs == 582_195_824


def test_efficientnet_b4_and_b7_scale_width_depth_and_image(graphs: dict[str, Graph]) -> None:
    """B4 (width 1.4, depth 1.8, 380x380): 32 blocks, 95x95 and 48x48 maps (odd sides, 5 x 19 and 2^4 x 3); B7 (2.0,
    3.1, 600x600): 55 blocks, 75x75 and 19x19 maps; the last conv widens 4x (448 -> 1792, 640 -> 2560)."""
    b4, b7 = graphs["efficientnet_b4"], graphs["efficientnet_b7"]
    assert len([n for n in b4.ops("Conv") if n.name.endswith(".dw")]) == 2 + 4 + 4 + 6 + 6 + 8 + 2
    assert len([n for n in b7.ops("Conv") if n.name.endswith(".dw")]) == 4 + 7 + 7 + 10 + 10 + 13 + 4
    weight, out, attrs = b4.conv("features.2.0.dw")
    assert (weight, out, attrs["strides"]) == ([144, 1, 3, 3], [1, 144, 95, 95], [2, 2])  # 24 x 6 channels
    assert b4.conv("features.3.0.dw")[:2] == ([192, 1, 5, 5], [1, 192, 48, 48])  # 32 x 6; (95 + 4 - 5) // 2 + 1
    assert b4.conv("features.6.7.se.fc1")[0] == [68, 1632, 1, 1]  # 272 // 4, of a 6 x 272 expansion
    assert b4.conv("features.8")[:2] == ([1792, 448, 1, 1], [1, 1792, 12, 12])
    assert b7.conv("features.3.0.dw")[:2] == ([288, 1, 5, 5], [1, 288, 75, 75])
    assert b7.conv("features.8")[:2] == ([2560, 640, 1, 1], [1, 2560, 19, 19])


def test_the_deeper_and_wider_resnets_and_densenet_keep_torchvisions_tables(graphs: dict[str, Graph]) -> None:
    """ResNet-152: 3, 8, 36, 3 bottlenecks; Wide ResNet-50-2: 3x3s of 2 x planes channels, outputs still 4 x planes;
    DenseNet-201: a 48-layer third block whose last 1x1 sees 256 + 47 x 32 channels, 1920 features at the end."""
    resnet, wide, dense = graphs["resnet152"], graphs["wide_resnet50_2"], graphs["densenet201"]
    assert resnet.conv("layer3.35.conv3")[:2] == ([1024, 256, 1, 1], [1, 1024, 14, 14])
    assert (len(resnet.ops("Conv")), "layer3.36.conv1" in resnet.nodes) == (1 + 3 * 50 + 4, False)
    assert wide.conv("layer1.0.conv2")[:2] == ([128, 128, 3, 3], [1, 128, 56, 56])
    assert wide.conv("layer4.2.conv3")[:2] == ([2048, 1024, 1, 1], [1, 2048, 7, 7])
    assert dense.conv("features.denseblock3.denselayer48.conv1")[:2] == ([128, 1760, 1, 1], [1, 128, 14, 14])
    assert dense.conv("features.transition3.conv")[:2] == ([896, 1792, 1, 1], [1, 896, 14, 14])
    assert dense.shapes[dense.nodes["classifier.0"].input[1]] == [1000, 1920]
    assert len(dense.ops("Conv")) + len(dense.ops("Gemm")) == 201


def test_inception_v1_adds_the_5x5_branches_over_torchvisions_3x3(graphs: dict[str, Graph]) -> None:
    """Each module's "5x5" conv does (25 - 9) x reduce x out MACs more per output pixel than torchvision's 3x3."""
    pixels = {"3": 28 * 28, "4": 14 * 14, "5": 7 * 7}
    extra = sum(
        pixels[name[9]] * reduce * out * (25 - 9)
        for name, (_, _, _, _, reduce, out, _) in networks.GOOGLENET_INCEPTIONS.items()
    )
    assert graphs["inception_v1"].macs() - graphs["googlenet"].macs() == extra == 84_295_680


def test_bert_base_does_twelve_layers_of_projections_ffn_and_attention(graphs: dict[str, Graph]) -> None:
    """Per layer: four 768x768 projections and the 768-3072-768 FFN over 128 tokens, and 12 heads of 128x128x64
    scores and context; then the 768x768 pooler on one token."""
    per_layer = 4 * 128 * 768 * 768 + 2 * 128 * 768 * 3072 + 2 * 12 * 128 * 128 * 64
    assert graphs["bert_base"].macs() == 12 * per_layer + 768 * 768 == 11_174_215_680


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


def test_vgg16_and_alexnet_keep_their_large_convolutions_and_fully_connected_layers(graphs: dict[str, Graph]) -> None:
    vgg, alexnet = graphs["vgg16"], graphs["alexnet"]
    assert vgg.conv("conv1_2")[:2] == ([64, 64, 3, 3], [1, 64, 224, 224])
    assert vgg.shapes[vgg.nodes["fc6"].input[1]] == [4096, 512 * 7 * 7]  # Gemm weight [out, in] (transB)
    weight, out, attrs = alexnet.conv("conv1")
    assert (weight, out, attrs["strides"], attrs["pads"]) == ([64, 3, 11, 11], [1, 64, 55, 55], [4, 4], [2] * 4)
    assert alexnet.shapes[alexnet.nodes["fc6"].input[1]] == [4096, 256 * 6 * 6]


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


@pytest.mark.parametrize("name", [name for name in networks.NETWORKS if name not in networks.LARGER_NETWORKS])
def test_the_front_end_finds_every_multiply_accumulate_of_the_graph(
    name: str, paths: dict[str, Path], graphs: dict[str, Graph]
) -> None:
    """The layers the front-end extracts, counted with their instances, do exactly the graph's MACs."""
    layers, _ = load_onnx(paths[name])
    assert sum(nest.instances * math.prod(nest.extents) for nest in layers) == graphs[name].macs()


def test_the_front_end_reads_resnext_grouped_3x3s_with_32_groups(tmp_path: Path) -> None:
    """Two stages of one and two blocks: the 3x3s are GROUP_CONVs of 32 groups of 4 (then 8) channels, twice the
    width of ResNet-50's; the second stage's first 3x3 has stride 2."""
    path = networks.build_resnext50_32x4d(tmp_path / "resnext.onnx", stages=((64, 1, 1), (128, 2, 2)))
    found = {nest.name: (nest.op, _dims(nest), nest.instances) for nest in load_onnx(path)[0]}
    assert found["layer1.0.conv1"] == ("CONV", {"M": 128, "C": 64, "Ox": 56, "Oy": 56}, 1)
    assert found["layer1.0.conv2"] == ("GROUP_CONV", {"G": 32, "M": 4, "C": 4, "Ox": 56, "Oy": 56, "Fx": 3, "Fy": 3}, 1)
    conv2 = {"G": 32, "M": 8, "C": 8, "Ox": 28, "Oy": 28, "Fx": 3, "Fy": 3}
    assert found["layer2.0.conv2"] == ("GROUP_CONV", {**conv2, "stride": 2}, 1)
    assert found["layer2.1.conv2"] == ("GROUP_CONV", conv2, 1)
    assert found["layer2.0.downsample.0"] == ("CONV", {"M": 512, "C": 256, "Ox": 28, "Oy": 28, "stride": 2}, 1)
    assert found["fc.0"] == ("GEMM", {"Y": 1000, "K": 512}, 1)
    assert sum(instances for _, _, instances in found.values()) == 1 + 4 + 7 + 1


def test_the_front_end_reads_regnet_groups_of_16_channels_and_squeeze_excite(tmp_path: Path) -> None:
    """Two stages of one and two blocks: 64 / 16 = 4 and 144 / 16 = 9 groups; SE squeezes to a quarter of the block's
    input (32 -> 8, 64 -> 16, 144 -> 36); the three 144 -> 144 1x1s at 28x28 merge."""
    path = networks.build_regnet_y_800mf(tmp_path / "regnet.onnx", stages=((64, 1), (144, 2)))
    found = {nest.name: (nest.op, _dims(nest), nest.instances) for nest in load_onnx(path)[0]}
    block1, block2 = "trunk_output.block1.block1-0", "trunk_output.block2.block2-"
    grouped = {"M": 16, "C": 16, "Fx": 3, "Fy": 3, "stride": 2}
    assert found[f"{block1}.f.b"] == ("GROUP_CONV", {**grouped, "G": 4, "Ox": 56, "Oy": 56}, 1)
    assert found[f"{block2}0.f.b"] == ("GROUP_CONV", {**grouped, "G": 9, "Ox": 28, "Oy": 28}, 1)
    assert [found[f"{block}.f.se.fc1"][1] for block in (block1, f"{block2}0", f"{block2}1")] == [
        {"M": 8, "C": 64},
        {"M": 16, "C": 144},
        {"M": 36, "C": 144},
    ]
    assert found[f"{block2}0.f.c"] == ("CONV", {"M": 144, "C": 144, "Ox": 28, "Oy": 28}, 3)
    assert sum(instances for _, _, instances in found.values()) == 1 + 6 + 6 + 5 + 1


def test_the_front_end_reads_an_inception_module_with_5x5_branch_and_ceil_mode_pools(tmp_path: Path) -> None:
    """The paper's 5x5 (pad 2) on inception3a; ceil-mode pools keep 112 -> 56 -> 28 (floor would give 55 and 27)."""
    path = networks.build_googlenet(tmp_path / "inception.onnx", kernel5=5, modules=("inception3a",))
    found = {nest.name: _dims(nest) for nest in load_onnx(path)[0]}
    assert found["conv3"] == {"M": 192, "C": 64, "Ox": 56, "Oy": 56, "Fx": 3, "Fy": 3}
    assert found["inception3a.branch3.1"] == {"M": 32, "C": 16, "Ox": 28, "Oy": 28, "Fx": 5, "Fy": 5}
    assert found["inception3a.branch4.1"] == {"M": 32, "C": 192, "Ox": 28, "Oy": 28}  # after the 3x3/1 max pool
    assert found["fc.0"] == {"Y": 1000, "K": 64 + 128 + 32 + 32}
    assert len(found) == 3 + 6 + 1


def test_the_front_end_reads_inception_v3_factorised_1x7_and_7x1_kernels(tmp_path: Path) -> None:
    """One module of each kind (A-E) on a 299x299 image: a 1x7 kernel (one row of H, seven columns of W) reads as
    Fy 7, a 7x1 as Fx 7 (Fx is the window along H, docs/frontend.md); the grid reductions are stride-2 3x3s."""
    modules = (
        ("Mixed_5b", "A", 32),
        ("Mixed_6a", "B", 0),
        ("Mixed_6b", "C", 128),
        ("Mixed_7a", "D", 0),
        ("Mixed_7b", "E", 0),
    )
    layers, _ = load_onnx(networks.build_inception_v3(tmp_path / "inception_v3.onnx", modules))
    found = {nest.name.removesuffix(".conv"): _dims(nest) for nest in layers}
    assert found["Conv2d_1a_3x3"] == {"M": 32, "C": 3, "Ox": 149, "Oy": 149, "Fx": 3, "Fy": 3, "stride": 2}
    assert found["Conv2d_4a_3x3"] == {"M": 192, "C": 80, "Ox": 71, "Oy": 71, "Fx": 3, "Fy": 3}
    assert found["Mixed_6a.branch3x3"] == {"M": 384, "C": 256, "Ox": 17, "Oy": 17, "Fx": 3, "Fy": 3, "stride": 2}
    assert found["Mixed_6b.branch7x7_1"] == {"M": 128, "C": 384 + 96 + 256, "Ox": 17, "Oy": 17}
    assert found["Mixed_6b.branch7x7_2"] == {"M": 128, "C": 128, "Ox": 17, "Oy": 17, "Fy": 7}  # 1x7
    assert found["Mixed_6b.branch7x7_3"] == {"M": 192, "C": 128, "Ox": 17, "Oy": 17, "Fx": 7}  # 7x1
    assert found["Mixed_7a.branch3x3_2"] == {"M": 320, "C": 192, "Ox": 8, "Oy": 8, "Fx": 3, "Fy": 3, "stride": 2}
    assert found["Mixed_7b.branch3x3_2a"] == {"M": 384, "C": 384, "Ox": 8, "Oy": 8, "Fy": 3}  # 1x3
    assert found["fc.0"] == {"Y": 1000, "K": 320 + 768 + 768 + 192}
    assert sum(nest.instances for nest in layers) == 5 + 7 + 4 + 10 + 6 + 9 + 1


def test_the_front_end_reads_squeezenet_fire_modules(tmp_path: Path) -> None:
    """A 3x3/2 stem without padding (224 -> 111), ceil-mode pools (111 -> 55 -> 27 -> 13); each fire module's two
    expands read its squeeze, and fires 3/4, 6/7 and 9/10 share their expand shapes."""
    layers, _ = load_onnx(networks.build_squeezenet1_1(tmp_path / "squeezenet.onnx"))
    found = {nest.name: (_dims(nest), nest.instances) for nest in layers}
    assert found["features.0"] == ({"M": 64, "C": 3, "Ox": 111, "Oy": 111, "Fx": 3, "Fy": 3, "stride": 2}, 1)
    assert found["features.3.expand3x3"] == ({"M": 64, "C": 16, "Ox": 55, "Oy": 55, "Fx": 3, "Fy": 3}, 2)
    assert found["features.12.squeeze"] == ({"M": 64, "C": 512, "Ox": 13, "Oy": 13}, 1)
    assert found["classifier.1"] == ({"M": 1000, "C": 512, "Ox": 13, "Oy": 13}, 1)
    assert (sum(nest.instances for nest in layers), len(layers)) == (1 + 8 * 3 + 1, 18)


def test_the_front_end_reads_shufflenet_units_through_the_split_and_channel_shuffle(tmp_path: Path) -> None:
    """One stage of two units: the stride-2 unit's two branches, then a unit that convolves half the channels (58)."""
    path = networks.build_shufflenet_v2_x1_0(tmp_path / "shufflenet.onnx", stages=((116, 2),))
    found = {nest.name: (nest.op, _dims(nest), nest.instances) for nest in load_onnx(path)[0]}
    assert found["stage2.0.branch1.0"] == ("DW_CONV", {"C": 24, "Ox": 28, "Oy": 28, "Fx": 3, "Fy": 3, "stride": 2}, 1)
    assert found["stage2.0.branch2.0"] == ("CONV", {"M": 58, "C": 24, "Ox": 56, "Oy": 56}, 1)
    assert found["stage2.0.branch2.5"] == ("CONV", {"M": 58, "C": 58, "Ox": 28, "Oy": 28}, 3)  # and unit 1's 1x1s
    assert found["stage2.1.branch2.3"] == ("DW_CONV", {"C": 58, "Ox": 28, "Oy": 28, "Fx": 3, "Fy": 3}, 1)
    assert found["conv5.0"] == ("CONV", {"M": 1024, "C": 116, "Ox": 28, "Oy": 28}, 1)
    assert sum(instances for _, _, instances in found.values()) == 1 + 5 + 3 + 2


def test_the_front_end_reads_convnext_blocks_as_depthwise_7x7_and_channels_last_gemms(tmp_path: Path) -> None:
    """Two stages of one block: the 4x4/4 stem, 7x7 depthwise convs, the MLP's Linears on [1, H, W, C] as GEMMs over
    H x W tokens, and the 2x2/2 downsampling conv."""
    path = networks.build_convnext_tiny(tmp_path / "convnext.onnx", stages=((96, 1), (192, 1)))
    found = {nest.name: (nest.op, _dims(nest)) for nest in load_onnx(path)[0]}
    assert found == {
        "features.0.0": ("CONV", {"M": 96, "C": 3, "Ox": 56, "Oy": 56, "Fx": 4, "Fy": 4, "stride": 4}),
        "features.1.0.block.0": ("DW_CONV", {"C": 96, "Ox": 56, "Oy": 56, "Fx": 7, "Fy": 7}),
        "features.1.0.block.3": ("GEMM", {"X": 56 * 56, "Y": 384, "K": 96}),
        "features.1.0.block.5": ("GEMM", {"X": 56 * 56, "Y": 96, "K": 384}),
        "features.2.1": ("CONV", {"M": 192, "C": 96, "Ox": 28, "Oy": 28, "Fx": 2, "Fy": 2, "stride": 2}),
        "features.3.0.block.0": ("DW_CONV", {"C": 192, "Ox": 28, "Oy": 28, "Fx": 7, "Fy": 7}),
        "features.3.0.block.3": ("GEMM", {"X": 28 * 28, "Y": 768, "K": 192}),
        "features.3.0.block.5": ("GEMM", {"X": 28 * 28, "Y": 192, "K": 768}),
        "classifier.2": ("GEMM", {"Y": 1000, "K": 192}),
    }


def test_the_front_end_reads_swin_window_attention_through_the_shifted_windows(tmp_path: Path) -> None:
    """Two stages of two blocks (the second shifted: roll, mask, roll back): attention over 7x7 windows batches
    windows x heads (64 x 3, then 16 x 6); QKV, projection and MLP are GEMMs over the 56 x 56 (28 x 28) tokens;
    patch merging reduces 4 x 96 to 192 channels."""
    layers, _ = load_onnx(networks.build_swin_t(tmp_path / "swin.onnx", stages=((2, 3), (2, 6))))
    found = {nest.name: (nest.op, _dims(nest), nest.instances) for nest in layers}
    assert found["features.1.0.attn.qkv"] == ("GEMM", {"X": 3136, "Y": 288, "K": 96}, 2)
    assert found["features.1.0.attn.attn_scores"] == ("BATCH_GEMM", {"B": 192, "X": 49, "Y": 49, "K": 32}, 2)
    assert found["features.1.0.attn.attn_context"] == ("BATCH_GEMM", {"B": 192, "X": 49, "Y": 32, "K": 49}, 2)
    assert found["features.2.reduction"] == ("GEMM", {"X": 784, "Y": 192, "K": 384}, 1)
    assert found["features.3.0.attn.attn_scores"] == ("BATCH_GEMM", {"B": 96, "X": 49, "Y": 49, "K": 32}, 2)
    assert found["features.3.0.mlp.3"] == ("GEMM", {"X": 784, "Y": 192, "K": 768}, 2)
    assert (len(found), sum(instances for _, _, instances in found.values())) == (1 + 6 + 1 + 6 + 1, 27)


def test_the_front_end_reads_a_two_layer_bert_as_six_distinct_layers(tmp_path: Path) -> None:
    """The query, key, value and output projections of both layers merge (8 instances); attention is 12 heads."""
    layers, _ = load_onnx(networks.build_bert_base(tmp_path / "bert.onnx", layers=2))
    found = {nest.name: (nest.op, _dims(nest), nest.instances) for nest in layers}
    assert found == {
        "encoder.layer.0.attention.self.query": ("GEMM", {"X": 128, "Y": 768, "K": 768}, 8),
        "encoder.layer.0.attention_scores": ("BATCH_GEMM", {"B": 12, "X": 128, "Y": 128, "K": 64}, 2),
        "encoder.layer.0.attention_context": ("BATCH_GEMM", {"B": 12, "X": 128, "Y": 64, "K": 128}, 2),
        "encoder.layer.0.intermediate.dense": ("GEMM", {"X": 128, "Y": 3072, "K": 768}, 2),
        "encoder.layer.0.output.dense": ("GEMM", {"X": 128, "Y": 768, "K": 3072}, 2),
        "pooler.dense": ("GEMM", {"Y": 768, "K": 768}, 1),
    }


REDUCED = {
    "efficientnet_v2_s": (
        partial(networks.build_efficientnet_v2, variant="s", stages=4),
        "features.2.1.fused",
        ("CONV", {"M": 192, "C": 48, "Ox": 96, "Oy": 96, "Fx": 3, "Fy": 3}, 3),
    ),
    "efficientnet_b4": (
        partial(networks.build_efficientnet, variant="b4", stages=2),
        "features.2.1.expand",
        ("CONV", {"M": 192, "C": 32, "Ox": 95, "Oy": 95}, 3),
    ),
    "densenet201": (
        partial(networks.build_densenet201, blocks=(1, 1)),
        "features.transition1.conv",
        ("CONV", {"M": 48, "C": 96, "Ox": 56, "Oy": 56}, 1),
    ),
    "resnet152": (
        partial(networks.build_resnet152, stages=((64, 1, 1), (128, 2, 2))),
        "layer2.0.conv3",
        ("CONV", {"M": 512, "C": 128, "Ox": 28, "Oy": 28}, 2),
    ),
    "wide_resnet50_2": (
        partial(networks.build_wide_resnet50_2, stages=((64, 1, 1),)),
        "layer1.0.conv2",
        ("CONV", {"M": 128, "C": 128, "Ox": 56, "Oy": 56, "Fx": 3, "Fy": 3}, 1),
    ),
    "vit_l16": (
        partial(networks.build_vit_l16, depth=1),
        "encoder.layers.0.attn_scores",
        ("BATCH_GEMM", {"B": 16, "X": 197, "Y": 197, "K": 64}, 1),
    ),
    "deit_s": (
        partial(networks.build_deit_s, depth=1),
        "encoder.layers.0.qkv",
        ("GEMM", {"X": 197, "Y": 1152, "K": 384}, 1),
    ),
    "mobilenetv3_small": (
        partial(networks.build_mobilenetv3_small, blocks=networks.MOBILENETV3_SMALL[:4]),
        "features.1.se.fc1",
        ("CONV", {"M": 8, "C": 16}, 1),
    ),
    "mobilenetv2_x1_4": (
        partial(networks.build_mobilenetv2_x1_4, stages=2),
        "features.2.dw",
        ("DW_CONV", {"C": 144, "Ox": 56, "Oy": 56, "Fx": 3, "Fy": 3, "stride": 2}, 1),
    ),
    "mnasnet1_0": (
        partial(networks.build_mnasnet1_0, stacks=networks.MNASNET_STACKS[:1]),
        "features.3.expand",
        ("CONV", {"M": 72, "C": 24, "Ox": 56, "Oy": 56}, 2),
    ),
    "densenet161": (
        partial(networks.build_densenet161, blocks=(1, 1)),
        "features.denseblock1.denselayer1.conv2",
        ("CONV", {"M": 48, "C": 192, "Ox": 56, "Oy": 56, "Fx": 3, "Fy": 3}, 1),
    ),
    "vit_b32": (
        partial(networks.build_vit_b32, depth=1),
        "encoder.layers.0.attn_scores",
        ("BATCH_GEMM", {"B": 12, "X": 50, "Y": 50, "K": 64}, 1),
    ),
}
"""A reduced variant of each larger network (fewer blocks or layers, same builder), one of its layers and what the
front-end reads it as (op, extents, instances)."""

SAME_BUILDER = {
    **{f"efficientnet_{v}": "efficientnet_b4" for v in ("b1", "b2", "b3", "b5", "b6", "b7")},
    "resnet101": "resnet152",
    "densenet169": "densenet201",
    "vit_l32": "vit_b32",
    "vit_h14": "vit_l16",
    **{f"efficientnet_v2_{v}": "efficientnet_v2_s" for v in ("m", "l")},
}
"""Larger networks built by another one's builder with other numbers only: its reduced variant covers them."""


def test_every_larger_network_has_a_reduced_variant_checked_through_the_front_end() -> None:
    assert set(REDUCED) | set(SAME_BUILDER) == set(networks.LARGER_NETWORKS)
    assert set(SAME_BUILDER.values()) <= set(REDUCED)


@pytest.mark.parametrize("name", list(REDUCED))
def test_a_reduced_larger_network_reads_through_the_front_end_with_every_multiply_accumulate(
    name: str, tmp_path: Path
) -> None:
    """The front-end's layers do the graph's MACs, and one characteristic layer has the expected extents."""
    build, layer, expected = REDUCED[name]
    path = build(tmp_path / f"{name}.onnx")
    layers, _ = load_onnx(path)
    assert sum(nest.instances * math.prod(nest.extents) for nest in layers) == Graph(onnx.load(path)).macs()
    found = {nest.name: (nest.op, _dims(nest), nest.instances) for nest in layers}
    assert found[layer] == expected
