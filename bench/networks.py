"""Shape-only ONNX graphs of ImageNet networks and BERT-base, as their standard model definitions export them (224x224
images, 299x299 for Inception-v3, EfficientNet-B1 to B7 and EfficientNetV2 at torchvision's sizes, 240 to 600, 128
tokens, batch 1).

ResNet-50, ResNeXt-50 32x4d, RegNetY-800MF, VGG-16, AlexNet, GoogLeNet, Inception-v3, SqueezeNet 1.1, ShuffleNetV2 x1.0,
MobileNetV3-Large, EfficientNet-B0, DenseNet-121, ConvNeXt-Tiny and Swin-T follow torchvision's classes (names, channel
tables, strides, padding, pooling modes); `inception_v1` is GoogLeNet with the paper's 5x5 branches, which torchvision
convolves with 3x3 kernels. ViT-B/16 follows torchvision's and timm's ViT (one fused QKV projection per encoder layer),
BERT-base Hugging Face's `BertModel`. LARGER_NETWORKS adds other members of the same classes from the same builders:
EfficientNet-B1 to B7, EfficientNetV2-S, -M and -L (Fused-MBConv stages, then MBConv), DenseNet-161, -169 and -201,
ResNet-101 and -152, Wide ResNet-50-2, ViT-B/32, ViT-L/16, ViT-L/32, ViT-H/14, DeiT-S (timm's), and MobileNetV3-Small,
MobileNetV2 at width 1.4 and MnasNet 1.0 (torchvision's inverted residuals). Batch normalisation is left out, as an
inference export folds it into the convolution's weights and bias. Weights are graph inputs: nothing is downloaded and
no file is large. Each builder writes one `.onnx` file; `write_networks` writes several into a directory (the benchmark
uses a temporary one).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable
from functools import partial
from itertools import pairwise
from pathlib import Path

from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "models"))
import generate as _generate  # noqa: E402  (models/generate.py: the graph builder the shipped models use)

GraphBuilder = _generate.GraphBuilder

IMAGE = [1, 3, 224, 224]


# --- small pieces shared by the builders -------------------------------------------------------------------------


def _hardswish(g: GraphBuilder, x: str, name: str) -> str:
    return g.node("HardSwish", [x], name)


def _silu(g: GraphBuilder, x: str, name: str) -> str:
    """SiLU as exported: x * sigmoid(x)."""
    return g.node("Mul", [x, g.node("Sigmoid", [x], f"{name}_sigmoid")], name)


def _relu6(g: GraphBuilder, x: str, name: str) -> str:
    """ReLU6 as exported: Clip between the scalars 0 and 6 (one pair of initializers per graph)."""
    if not any(t.name == "relu6_min" for t in g.initializers):
        g.initializers += [
            helper.make_tensor(f"relu6_{b}", TensorProto.FLOAT, [], [v]) for b, v in (("min", 0), ("max", 6))
        ]
    return g.node("Clip", [x, "relu6_min", "relu6_max"], name)


def _activation(g: GraphBuilder, x: str, name: str, kind: str) -> str:
    builders = {
        "relu": g.relu,
        "relu6": lambda t, n: _relu6(g, t, n),
        "hardswish": lambda t, n: _hardswish(g, t, n),
        "silu": lambda t, n: _silu(g, t, n),
    }
    return builders[kind](x, name)


def _squeeze_excite(
    g: GraphBuilder, x: str, name: str, channels: int, squeeze: int, *, activation: str = "relu", gate: str = "Sigmoid"
) -> str:
    """Squeeze-and-excitation as torchvision writes it: global pool, 1x1 conv down, 1x1 conv up, gate, scale.

    MobileNetV3 uses ReLU and a hard sigmoid, EfficientNet SiLU and a sigmoid, RegNetY ReLU and a sigmoid.
    """
    pooled = g.node("GlobalAveragePool", [x], f"{name}.avgpool")
    down = _activation(g, g.conv(pooled, f"{name}.fc1", channels, squeeze, 1), f"{name}.{activation}", activation)
    up = g.conv(down, f"{name}.fc2", squeeze, channels, 1)
    gate_attrs = {"alpha": 1 / 6} if gate == "HardSigmoid" else {}
    return g.node("Mul", [x, g.node(gate, [up], f"{name}.gate", **gate_attrs)], f"{name}.scale")


def _classifier(g: GraphBuilder, x: str, name: str, widths: Iterable[int], activation: str = "relu") -> str:
    """Global average pool, flatten, then fully connected layers of the given widths (activations between)."""
    x = g.global_avgpool_flat(x, f"{name}.flatten")
    pairs = list(pairwise(widths))
    for i, (k, n) in enumerate(pairs):
        x = g.gemm(x, f"{name}.{i}", k, n)
        if i < len(pairs) - 1:
            x = _activation(g, x, f"{name}.{i}_act", activation)
    return x


def make_divisible(value: float, divisor: int = 8) -> int:
    """torchvision's `_make_divisible`: round to a multiple of `divisor`, never more than 10 % below `value`."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


# --- ResNet-50 ------------------------------------------------------------------------------------------------------

RESNET50_STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))
"""(planes, blocks, first block's stride) per stage; a block's output has 4 x planes channels."""


def build_resnet50(path: str | Path) -> Path:
    """ResNet-50 (He et al. 2016) as torchvision defines it (v1.5: the stride sits on the 3x3 conv)."""
    return _resnet(GraphBuilder("resnet50"), path, groups=1, width_per_group=64)


RESNET101_STAGES = ((64, 3, 1), (128, 4, 2), (256, 23, 2), (512, 3, 2))
RESNET152_STAGES = ((64, 3, 1), (128, 8, 2), (256, 36, 2), (512, 3, 2))


def build_resnet101(path: str | Path) -> Path:
    """ResNet-101 as torchvision defines it: ResNet-50's bottlenecks, 23 blocks in the third stage."""
    return _resnet(GraphBuilder("resnet101"), path, groups=1, width_per_group=64, stages=RESNET101_STAGES)


def build_resnet152(path: str | Path, stages: tuple[tuple[int, int, int], ...] = RESNET152_STAGES) -> Path:
    """ResNet-152 as torchvision defines it: ResNet-50's bottlenecks, 8 and 36 blocks in the middle stages."""
    return _resnet(GraphBuilder("resnet152"), path, groups=1, width_per_group=64, stages=stages)


def build_wide_resnet50_2(path: str | Path, stages: tuple[tuple[int, int, int], ...] = RESNET50_STAGES) -> Path:
    """Wide ResNet-50-2 (Zagoruyko & Komodakis 2016) as torchvision defines it: ResNet-50 with `width_per_group`
    128, so every bottleneck's 1x1-3x3 pair is twice as wide (the blocks' outputs keep 4 x planes channels)."""
    return _resnet(GraphBuilder("wide_resnet50_2"), path, groups=1, width_per_group=128, stages=stages)


def build_resnext50_32x4d(path: str | Path, stages: tuple[tuple[int, int, int], ...] = RESNET50_STAGES) -> Path:
    """ResNeXt-50 32x4d (Xie et al. 2017) as torchvision defines it: ResNet-50 whose 3x3 convs have 32 groups of
    planes / 16 channels (4 in the first stage), twice ResNet-50's bottleneck width; `stages` gives fewer blocks."""
    return _resnet(GraphBuilder("resnext50_32x4d"), path, groups=32, width_per_group=4, stages=stages)


def _resnet(
    g: GraphBuilder,
    path: str | Path,
    *,
    groups: int,
    width_per_group: int,
    stages: tuple[tuple[int, int, int], ...] = RESNET50_STAGES,
) -> Path:
    """torchvision's bottleneck ResNet; the 3x3 conv has `groups` x `width_per_group` x (planes / 64) channels."""
    x = g.relu(g.conv(g.input("image", IMAGE), "conv1", 3, 64, 7, stride=2, pad=3), "relu")
    x, c_in = g.maxpool(x, "maxpool", 3, 2, pad=1), 64
    for stage, (planes, blocks, first_stride) in enumerate(stages, start=1):
        width, c_out = planes * width_per_group // 64 * groups, 4 * planes
        for block in range(blocks):
            name, stride = f"layer{stage}.{block}", first_stride if block == 0 else 1
            y = g.relu(g.conv(x, f"{name}.conv1", c_in, width, 1), f"{name}.relu1")
            y = g.conv(y, f"{name}.conv2", width, width, 3, stride=stride, pad=1, groups=groups)
            y = g.conv(g.relu(y, f"{name}.relu2"), f"{name}.conv3", width, c_out, 1)
            shortcut = x
            if block == 0:  # the projection: 1x1, stride 2 after the first stage
                shortcut = g.conv(x, f"{name}.downsample.0", c_in, c_out, 1, stride=stride)
            x = g.relu(g.node("Add", [y, shortcut], f"{name}.add"), f"{name}.relu3")
            c_in = c_out
    return g.save(_classifier(g, x, "fc", (c_in, 1000)), path)


# --- MobileNetV3-Large ----------------------------------------------------------------------------------------------

MOBILENETV3_LARGE = (
    (3, 16, 16, False, "relu", 1),
    (3, 64, 24, False, "relu", 2),
    (3, 72, 24, False, "relu", 1),
    (5, 72, 40, True, "relu", 2),
    (5, 120, 40, True, "relu", 1),
    (5, 120, 40, True, "relu", 1),
    (3, 240, 80, False, "hardswish", 2),
    (3, 200, 80, False, "hardswish", 1),
    (3, 184, 80, False, "hardswish", 1),
    (3, 184, 80, False, "hardswish", 1),
    (3, 480, 112, True, "hardswish", 1),
    (3, 672, 112, True, "hardswish", 1),
    (5, 672, 160, True, "hardswish", 2),
    (5, 960, 160, True, "hardswish", 1),
    (5, 960, 160, True, "hardswish", 1),
)
"""Howard et al. 2019, Table 1 (torchvision's `_mobilenet_v3_conf`): kernel, expanded channels, output channels,
squeeze-excite, activation, stride."""


MOBILENETV3_SMALL = (
    (3, 16, 16, True, "relu", 2),
    (3, 72, 24, False, "relu", 2),
    (3, 88, 24, False, "relu", 1),
    (5, 96, 40, True, "hardswish", 2),
    (5, 240, 40, True, "hardswish", 1),
    (5, 240, 40, True, "hardswish", 1),
    (5, 120, 48, True, "hardswish", 1),
    (5, 144, 48, True, "hardswish", 1),
    (5, 288, 96, True, "hardswish", 2),
    (5, 576, 96, True, "hardswish", 1),
    (5, 576, 96, True, "hardswish", 1),
)
"""Howard et al. 2019, Table 2 (torchvision's `_mobilenet_v3_conf("mobilenet_v3_small")`), as MOBILENETV3_LARGE."""

InvertedResidual = tuple[int, int, int, bool, str, int]
"""One inverted-residual block: kernel, expanded channels, output channels, squeeze-excite, activation, stride."""


def build_mobilenetv3_large(path: str | Path, blocks: tuple[InvertedResidual, ...] = MOBILENETV3_LARGE) -> Path:
    """MobileNetV3-Large (width 1.0) as torchvision defines it: inverted residuals with depthwise 3x3/5x5 and SE."""
    return _mobilenetv3(GraphBuilder("mobilenetv3_large"), path, blocks, 1280)


def build_mobilenetv3_small(path: str | Path, blocks: tuple[InvertedResidual, ...] = MOBILENETV3_SMALL) -> Path:
    """MobileNetV3-Small (width 1.0) as torchvision defines it; `blocks` gives fewer blocks for quick tests."""
    return _mobilenetv3(GraphBuilder("mobilenetv3_small"), path, blocks, 1024)


def _mobilenetv3(g: GraphBuilder, path: str | Path, blocks: tuple[InvertedResidual, ...], last_channel: int) -> Path:
    """A 3x3/2 stem of 16 channels, the blocks, a 1x1 conv to 6 x the last block's channels and a two-layer head."""
    x = _hardswish(g, g.conv(g.input("image", IMAGE), "features.0", 3, 16, 3, stride=2, pad=1), "features.0_act")
    x, c_in = _inverted_residuals(g, x, 16, blocks)
    name, c_last = f"features.{len(blocks) + 1}", 6 * c_in
    x = _hardswish(g, g.conv(x, name, c_in, c_last, 1), f"{name}_act")
    return g.save(_classifier(g, x, "classifier", (c_last, last_channel, 1000), "hardswish"), path)


def _inverted_residuals(g: GraphBuilder, x: str, c_in: int, blocks: Iterable[InvertedResidual]) -> tuple[str, int]:
    """torchvision's `InvertedResidual`s as `features.1`, `features.2`, ...: a 1x1 expansion (none when the block
    does not widen), the depthwise conv, SE (MobileNetV3's: ReLU, hard sigmoid), the 1x1 projection, and the
    residual add where the stride is 1 and the channels stay; returns the output and its channels."""
    for i, (kernel, expanded, c_out, se, act, stride) in enumerate(blocks, start=1):
        name, block_in = f"features.{i}", x
        if expanded != c_in:
            x = _activation(g, g.conv(x, f"{name}.expand", c_in, expanded, 1), f"{name}.expand_act", act)
        dw = g.conv(x, f"{name}.dw", expanded, expanded, kernel, stride=stride, pad=(kernel - 1) // 2, groups=expanded)
        x = _activation(g, dw, f"{name}.dw_act", act)
        if se:
            x = _squeeze_excite(g, x, f"{name}.se", expanded, make_divisible(expanded // 4), gate="HardSigmoid")
        x = g.conv(x, f"{name}.project", expanded, c_out, 1)
        if stride == 1 and c_in == c_out:
            x = g.node("Add", [block_in, x], f"{name}.add")
        c_in = c_out
    return x, c_in


# --- MobileNetV2 x1.4 and MnasNet 1.0 -------------------------------------------------------------------------------


def mobilenetv2_blocks(width: float, stages: int = len(_generate.MOBILENETV2_BLOCKS)) -> list[InvertedResidual]:
    """torchvision's `MobileNetV2(width_mult=width)` blocks from Sandler et al.'s table (models/generate.py): output
    channels made divisible by 8 after scaling, the expansion `round(input x t)`; `stages` keeps the first rows."""
    blocks, c_in = [], make_divisible(32 * width)
    for t, c, n, s in _generate.MOBILENETV2_BLOCKS[:stages]:
        c_out = make_divisible(c * width)
        for i in range(n):
            blocks.append((3, round(c_in * t), c_out, False, "relu6", s if i == 0 else 1))
            c_in = c_out
    return blocks


def build_mobilenetv2_x1_4(path: str | Path, stages: int = len(_generate.MOBILENETV2_BLOCKS)) -> Path:
    """MobileNetV2 at width 1.4 (Sandler et al. 2018) as torchvision's `mobilenet_v2(width_mult=1.4)` defines it:
    a 3x3/2 stem of 48 channels, inverted residuals with ReLU6, a 1x1 conv to 1792 channels, one linear layer."""
    g, width = GraphBuilder("mobilenetv2_x1_4"), 1.4
    c_stem = make_divisible(32 * width)
    x = _relu6(g, g.conv(g.input("image", IMAGE), "features.0", 3, c_stem, 3, stride=2, pad=1), "features.0_act")
    blocks = mobilenetv2_blocks(width, stages)
    x, c_in = _inverted_residuals(g, x, c_stem, blocks)
    name, c_last = f"features.{len(blocks) + 1}", make_divisible(1280 * max(1.0, width))
    x = _relu6(g, g.conv(x, name, c_in, c_last, 1), f"{name}_act")
    return g.save(_classifier(g, x, "classifier", (c_last, 1000)), path)


MNASNET_STACKS = (
    (24, 3, 2, 3, 3),
    (40, 5, 2, 3, 3),
    (80, 5, 2, 6, 3),
    (96, 3, 1, 6, 2),
    (192, 5, 2, 6, 4),
    (320, 3, 1, 6, 1),
)
"""Tan et al. 2019, Figure 7 (torchvision's `_stack` calls for MNASNet 1.0): output channels, kernel, first stride,
expansion, blocks."""


def build_mnasnet1_0(path: str | Path, stacks: tuple[tuple[int, int, int, int, int], ...] = MNASNET_STACKS) -> Path:
    """MnasNet-A1 without SE, i.e. torchvision's `mnasnet1_0`: a 3x3/2 stem of 32 channels, a depthwise-separable
    block to 16, stacks of inverted residuals (ReLU; the expansion always convolved), 1x1 to 1280, mean, linear.
    The convs are named as in the MobileNet builders (torchvision's `layers.N` index BN and ReLU modules too)."""
    g = GraphBuilder("mnasnet1_0")
    x = g.relu(g.conv(g.input("image", IMAGE), "features.0", 3, 32, 3, stride=2, pad=1), "features.0_act")
    blocks, c_in = [(3, 32, 16, False, "relu", 1)], 16
    for c_out, kernel, first_stride, expand, count in stacks:
        for i in range(count):
            blocks.append((kernel, c_in * expand, c_out, False, "relu", first_stride if i == 0 else 1))
            c_in = c_out
    x, c_in = _inverted_residuals(g, x, 32, blocks)
    name = f"features.{len(blocks) + 1}"
    x = g.relu(g.conv(x, name, c_in, 1280, 1), f"{name}_act")
    x = g.node("ReduceMean", [x], "mean", axes=[2, 3], keepdims=0)  # torchvision's x.mean([2, 3])
    return g.save(g.gemm(x, "classifier.1", 1280, 1000), path)


# --- EfficientNet-B0, B4, B7 --------------------------------------------------------------------------------------

EFFICIENTNET_B0 = (
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
)
"""Tan & Le 2019, Table 1 (torchvision's `MBConvConfig`s for B0): expansion, kernel, first stride, input channels,
output channels, blocks."""

EFFICIENTNET_SCALING = {
    "b0": (1.0, 1.0, 224),
    "b1": (1.0, 1.1, 240),
    "b2": (1.1, 1.2, 288),
    "b3": (1.2, 1.4, 300),
    "b4": (1.4, 1.8, 380),
    "b5": (1.6, 2.2, 456),
    "b6": (1.8, 2.6, 528),
    "b7": (2.0, 3.1, 600),
}
"""torchvision's compound scaling per variant: width multiplier, depth multiplier, and the image side its weights
were trained at (`crop_size`)."""


def build_efficientnet(path: str | Path, variant: str = "b0", stages: int = len(EFFICIENTNET_B0)) -> Path:
    """EfficientNet-B0 to B7 as torchvision defines them: MBConv blocks with SE (squeeze to a quarter of the block's
    input), channels x the width multiplier made divisible by 8, blocks x the depth multiplier rounded up, on the
    variant's image size; `stages` keeps the first stages, for quick tests."""
    width, depth, side = EFFICIENTNET_SCALING[variant]
    g = GraphBuilder(f"efficientnet_{variant}")
    stem = make_divisible(32 * width)
    x = g.conv(g.input("image", [1, 3, side, side]), "features.0", 3, stem, 3, stride=2, pad=1)
    x = _silu(g, x, "features.0_act")
    for stage, row in enumerate(EFFICIENTNET_B0[:stages], start=1):
        x, c_out = _mbconv_stage(g, x, f"features.{stage}", row, (width, depth))
    name, c_last = f"features.{stages + 1}", 4 * c_out
    x = _silu(g, g.conv(x, name, c_out, c_last, 1), f"{name}_act")
    return g.save(_classifier(g, x, "classifier", (c_last, 1000)), path)


def _mbconv_stage(
    g: GraphBuilder, x: str, name: str, row: tuple[int, ...], scaling: tuple[float, float]
) -> tuple[str, int]:
    """One row of EFFICIENTNET_B0 scaled by (width, depth), or an MBConv row of EfficientNetV2 (scaled by 1.0): its
    MBConv blocks; returns the output and its channels."""
    expand, kernel, first_stride, stage_in, stage_out, blocks = row
    width, depth = scaling
    stage_in, c_out = make_divisible(stage_in * width), make_divisible(stage_out * width)
    for block in range(math.ceil(blocks * depth)):
        block_name, block_in = f"{name}.{block}", x
        c_in, stride = (stage_in, first_stride) if block == 0 else (c_out, 1)
        hidden = make_divisible(c_in * expand)
        if hidden != c_in:
            x = _silu(g, g.conv(x, f"{block_name}.expand", c_in, hidden, 1), f"{block_name}.expand_act")
        pad = (kernel - 1) // 2
        dw = g.conv(x, f"{block_name}.dw", hidden, hidden, kernel, stride=stride, pad=pad, groups=hidden)
        x = _squeeze_excite(
            g, _silu(g, dw, f"{block_name}.dw_act"), f"{block_name}.se", hidden, max(1, c_in // 4), activation="silu"
        )
        x = g.conv(x, f"{block_name}.project", hidden, c_out, 1)
        if stride == 1 and c_in == c_out:
            x = g.node("Add", [block_in, x], f"{block_name}.add")
    return x, c_out


def build_efficientnet_b0(path: str | Path) -> Path:
    """EfficientNet-B0 at 224x224 (width and depth 1.0)."""
    return build_efficientnet(path, "b0")


# --- EfficientNetV2-S, -M, -L ---------------------------------------------------------------------------------------

EfficientNetV2Stage = tuple[str, int, int, int, int, int, int]
"""One row of an EfficientNetV2 table: block ("fused" or "mbconv"), expansion, kernel, first stride, input channels,
output channels, blocks."""

EFFICIENTNET_V2_S = (
    ("fused", 1, 3, 1, 24, 24, 2),
    ("fused", 4, 3, 2, 24, 48, 4),
    ("fused", 4, 3, 2, 48, 64, 4),
    ("mbconv", 4, 3, 2, 64, 128, 6),
    ("mbconv", 6, 3, 1, 128, 160, 9),
    ("mbconv", 6, 3, 2, 160, 256, 15),
)
EFFICIENTNET_V2_M = (
    ("fused", 1, 3, 1, 24, 24, 3),
    ("fused", 4, 3, 2, 24, 48, 5),
    ("fused", 4, 3, 2, 48, 80, 5),
    ("mbconv", 4, 3, 2, 80, 160, 7),
    ("mbconv", 6, 3, 1, 160, 176, 14),
    ("mbconv", 6, 3, 2, 176, 304, 18),
    ("mbconv", 6, 3, 1, 304, 512, 5),
)
EFFICIENTNET_V2_L = (
    ("fused", 1, 3, 1, 32, 32, 4),
    ("fused", 4, 3, 2, 32, 64, 7),
    ("fused", 4, 3, 2, 64, 96, 7),
    ("mbconv", 4, 3, 2, 96, 192, 10),
    ("mbconv", 6, 3, 1, 192, 224, 19),
    ("mbconv", 6, 3, 2, 224, 384, 25),
    ("mbconv", 6, 3, 1, 384, 640, 7),
)
"""Tan & Le 2021, Table 4 and its M and L counterparts, as torchvision's `_efficientnet_conf` lists them (its
`FusedMBConvConfig`s and `MBConvConfig`s, neither scaled further)."""

EFFICIENTNET_V2 = {"s": (EFFICIENTNET_V2_S, 384), "m": (EFFICIENTNET_V2_M, 480), "l": (EFFICIENTNET_V2_L, 480)}
"""Each variant's table and the image side of torchvision's weights (their transforms resize and crop to it)."""

EFFICIENTNET_V2_LAST = 1280
"""Channels of the 1x1 conv before the classifier, in all three variants (torchvision's `last_channel`)."""


def build_efficientnet_v2(path: str | Path, variant: str = "s", stages: int | None = None) -> Path:
    """EfficientNetV2-S, -M or -L as torchvision defines them: a 3x3/2 stem to the first row's input channels, the
    Fused-MBConv stages, the MBConv stages (EfficientNet's blocks, SE squeezing to a quarter of the block's input),
    a 1x1 conv to 1280 channels and one linear layer, on the variant's image size; `stages` keeps the first stages,
    for quick tests."""
    table, side = EFFICIENTNET_V2[variant]
    rows = table[:stages]
    g = GraphBuilder(f"efficientnet_v2_{variant}")
    x = g.conv(g.input("image", [1, 3, side, side]), "features.0", 3, rows[0][4], 3, stride=2, pad=1)
    x = _silu(g, x, "features.0_act")
    for stage, (block, *row) in enumerate(rows, start=1):
        if block == "fused":
            x, c_out = _fused_mbconv_stage(g, x, f"features.{stage}", tuple(row))
        else:
            x, c_out = _mbconv_stage(g, x, f"features.{stage}", tuple(row), (1.0, 1.0))
    name = f"features.{len(rows) + 1}"
    x = _silu(g, g.conv(x, name, c_out, EFFICIENTNET_V2_LAST, 1), f"{name}_act")
    return g.save(_classifier(g, x, "classifier", (EFFICIENTNET_V2_LAST, 1000)), path)


def _fused_mbconv_stage(g: GraphBuilder, x: str, name: str, row: tuple[int, ...]) -> tuple[str, int]:
    """One Fused-MBConv row (expansion, kernel, first stride, input and output channels, blocks): torchvision's
    `FusedMBConv`s. A block that widens convolves k x k to the expanded channels (with the stride and SiLU), then
    projects 1x1; one that does not (expansion 1) is a single k x k conv to the output channels with SiLU. The
    residual add where the stride is 1 and the channels stay; returns the output and its channels."""
    expand, kernel, first_stride, stage_in, c_out, blocks = row
    pad = (kernel - 1) // 2
    for block in range(blocks):
        block_name, block_in = f"{name}.{block}", x
        c_in, stride = (stage_in, first_stride) if block == 0 else (c_out, 1)
        hidden = make_divisible(c_in * expand)
        widened = hidden if hidden != c_in else c_out
        x = g.conv(x, f"{block_name}.fused", c_in, widened, kernel, stride=stride, pad=pad)
        x = _silu(g, x, f"{block_name}.fused_act")
        if hidden != c_in:
            x = g.conv(x, f"{block_name}.project", hidden, c_out, 1)
        if stride == 1 and c_in == c_out:
            x = g.node("Add", [block_in, x], f"{block_name}.add")
    return x, c_out


# --- DenseNet-121 ---------------------------------------------------------------------------------------------------

DENSENET121_BLOCKS = (6, 12, 24, 16)
DENSENET_GROWTH = 32
"""Channels each dense layer adds (DenseNet-121, -169 and -201; DenseNet-161 adds 48 to a 96-channel stem)."""
DENSENET_BOTTLENECK = 4
"""The 1x1 bottleneck conv of a dense layer has DENSENET_BOTTLENECK x DENSENET_GROWTH output channels."""


DENSENET169_BLOCKS = (6, 12, 32, 32)
DENSENET201_BLOCKS = (6, 12, 48, 32)
DENSENET161_BLOCKS = (6, 12, 36, 24)


def build_densenet121(path: str | Path, blocks: tuple[int, ...] = DENSENET121_BLOCKS) -> Path:
    """DenseNet-121 (Huang et al. 2017) as torchvision defines it; `blocks` gives fewer layers for quick tests."""
    return _densenet(GraphBuilder("densenet121"), path, blocks)


def build_densenet201(path: str | Path, blocks: tuple[int, ...] = DENSENET201_BLOCKS) -> Path:
    """DenseNet-201: DenseNet-121's growth rate (32) and stem, with 48 and 32 layers in the last two blocks."""
    return _densenet(GraphBuilder("densenet201"), path, blocks)


def build_densenet169(path: str | Path) -> Path:
    """DenseNet-169: DenseNet-121's growth rate (32) and stem, with 32 layers in each of the last two blocks."""
    return _densenet(GraphBuilder("densenet169"), path, DENSENET169_BLOCKS)


def build_densenet161(path: str | Path, blocks: tuple[int, ...] = DENSENET161_BLOCKS) -> Path:
    """DenseNet-161 as torchvision defines it: growth rate 48, a 96-channel stem, 6, 12, 36 and 24 dense layers."""
    return _densenet(GraphBuilder("densenet161"), path, blocks, growth=48, stem=96)


def _densenet(
    g: GraphBuilder, path: str | Path, blocks: tuple[int, ...], growth: int = DENSENET_GROWTH, stem: int = 64
) -> Path:
    """torchvision's `DenseNet(growth_rate=growth, num_init_features=stem, bn_size=4)` with `blocks` dense layers."""
    x = g.relu(g.conv(g.input("image", IMAGE), "features.conv0", 3, stem, 7, stride=2, pad=3), "features.relu0")
    x, channels = g.maxpool(x, "features.pool0", 3, 2, pad=1), stem
    width = DENSENET_BOTTLENECK * growth
    for b, layers in enumerate(blocks, start=1):
        for i in range(1, layers + 1):
            name = f"features.denseblock{b}.denselayer{i}"
            y = g.conv(g.relu(x, f"{name}.relu1"), f"{name}.conv1", channels, width, 1)  # BN-ReLU-Conv
            y = g.conv(g.relu(y, f"{name}.relu2"), f"{name}.conv2", width, growth, 3, pad=1)
            x = g.node("Concat", [x, y], f"{name}.concat", axis=1)
            channels += growth
        x = g.relu(x, f"features.norm{b + 1}_relu") if b == len(blocks) else _transition(g, x, b, channels)
        channels = channels if b == len(blocks) else channels // 2
    return g.save(_classifier(g, x, "classifier", (channels, 1000)), path)


def _transition(g: GraphBuilder, x: str, block: int, channels: int) -> str:
    name = f"features.transition{block}"
    x = g.conv(g.relu(x, f"{name}.relu"), f"{name}.conv", channels, channels // 2, 1)
    return g.node("AveragePool", [x], f"{name}.pool", kernel_shape=[2, 2], strides=[2, 2])


# --- ViT-B/16 -------------------------------------------------------------------------------------------------------


def build_vit_b16(
    path: str | Path,
    *,
    depth: int = 12,
    hidden: int = 768,
    heads: int = 12,
    mlp: int = 3072,
    patch: int = 16,
    name: str = "vit_b16",
) -> Path:
    """ViT-B/16 (Dosovitskiy et al. 2021): 16x16/16 patch embedding, class token (197 tokens), `depth` encoder layers.

    Each layer: LayerNorm, one QKV projection (768 -> 2304), the two attention batched matmuls over 12 heads, the
    output projection, LayerNorm and the GELU MLP (768 -> 3072 -> 768), with residual adds; then the class token's head.
    Other sizes (ViT-B/32, ViT-L/16, ViT-L/32, ViT-H/14, DeiT-S) pass theirs; a patch of p pixels gives (224 / p)^2
    patches.
    """
    g = GraphBuilder(name)
    patches = g.conv(g.input("image", IMAGE), "conv_proj", 3, hidden, patch, stride=patch)  # [1, 768, 14, 14]
    count = (IMAGE[2] // patch) * (IMAGE[3] // patch)
    tokens = g.node("Reshape", [patches, g.const("flatten_patches", [1, hidden, count])], "patches_flat")
    tokens = g.node("Transpose", [tokens], "patches_seq", perm=[0, 2, 1])  # [1, 196, 768]
    seq = count + 1
    x = g.node("Concat", [g.weight("class_token", [1, 1, hidden]), tokens], "tokens", axis=1)
    x = g.node("Add", [x, g.weight("pos_embedding", [1, seq, hidden])], "embedded")
    for layer in range(depth):
        x = _encoder_layer(g, x, f"encoder.layers.{layer}", seq=seq, hidden=hidden, heads=heads, mlp=mlp)
    x = _generate.layer_norm(g, x, "encoder.ln", hidden)
    starts, ends, axes = g.const("class_start", [0]), g.const("class_end", [1]), g.const("class_axis", [1])
    cls = g.node("Slice", [x, starts, ends, axes], "class_token_slice")  # x[:, 0:1]
    cls = g.node("Reshape", [cls, g.const("class_shape", [1, hidden])], "class_token_out")  # [1, 768]
    return g.save(g.gemm(cls, "heads.head", hidden, 1000), path)


def build_vit_l16(path: str | Path, depth: int = 24) -> Path:
    """ViT-L/16 as torchvision's `vit_l_16` defines it: 24 layers, hidden 1024, 16 heads, MLP 4096."""
    return build_vit_b16(path, depth=depth, hidden=1024, heads=16, mlp=4096, name="vit_l16")


def build_vit_b32(path: str | Path, depth: int = 12) -> Path:
    """ViT-B/32 as torchvision's `vit_b_32` defines it: ViT-B/16's encoder on 32x32 patches (50 tokens)."""
    return build_vit_b16(path, depth=depth, patch=32, name="vit_b32")


def build_vit_l32(path: str | Path, depth: int = 24) -> Path:
    """ViT-L/32 as torchvision's `vit_l_32` defines it: ViT-L/16's encoder on 32x32 patches (50 tokens)."""
    return build_vit_b16(path, depth=depth, hidden=1024, heads=16, mlp=4096, patch=32, name="vit_l32")


def build_vit_h14(path: str | Path, depth: int = 32) -> Path:
    """ViT-H/14 as torchvision's `vit_h_14` defines it at 224x224: 32 layers, hidden 1280, 16 heads, MLP 5120, 14x14
    patches (257 tokens)."""
    return build_vit_b16(path, depth=depth, hidden=1280, heads=16, mlp=5120, patch=14, name="vit_h14")


def build_deit_s(path: str | Path, depth: int = 12) -> Path:
    """DeiT-S (Touvron et al. 2021; timm's `deit_small_patch16_224`): a ViT of 12 layers, hidden 384, 6 heads,
    MLP 1536, without the distillation token."""
    return build_vit_b16(path, depth=depth, hidden=384, heads=6, mlp=1536, name="deit_s")


def _encoder_layer(g: GraphBuilder, x: str, name: str, *, seq: int, hidden: int, heads: int, mlp: int) -> str:
    head_dim = hidden // heads
    y = _generate.layer_norm(g, x, f"{name}.ln_1", hidden)
    qkv = g.linear(y, f"{name}.qkv", hidden, 3 * hidden)  # [1, 197, 2304]
    qkv = g.node("Reshape", [qkv, g.const(f"{name}.qkv_shape", [1, seq, 3, heads, head_dim])], f"{name}.qkv_split")
    qkv = g.node("Transpose", [qkv], f"{name}.qkv_heads", perm=[2, 0, 3, 1, 4])  # [3, 1, 12, 197, 64]
    q, k, v = _unbind(g, qkv, name, [1, heads, seq, head_dim])
    k_t = g.node("Transpose", [k], f"{name}.k_t", perm=[0, 1, 3, 2])  # [1, 12, 64, 197]
    scale = g.const(f"{name}.scale", [float(head_dim) ** 0.5], TensorProto.FLOAT)
    scores = g.node("Div", [g.node("MatMul", [q, k_t], f"{name}.attn_scores"), scale], f"{name}.attn_scaled")
    probs = g.node("Softmax", [scores], f"{name}.attn_probs", axis=-1)
    context = g.node("MatMul", [probs, v], f"{name}.attn_context")  # [1, 12, 197, 64]
    context = g.node("Transpose", [context], f"{name}.context_seq", perm=[0, 2, 1, 3])
    context = g.node("Reshape", [context, g.const(f"{name}.merge_heads", [1, seq, hidden])], f"{name}.context")
    x = g.node("Add", [x, g.linear(context, f"{name}.out_proj", hidden, hidden)], f"{name}.attn_residual")
    y = _generate.layer_norm(g, x, f"{name}.ln_2", hidden)
    y = _generate.gelu(g, g.linear(y, f"{name}.mlp.0", hidden, mlp), f"{name}.mlp.gelu")
    return g.node("Add", [x, g.linear(y, f"{name}.mlp.3", mlp, hidden)], f"{name}.mlp_residual")


def _unbind(g: GraphBuilder, qkv: str, name: str, shape: list[int]) -> tuple[str, str, str]:
    """q, k, v from the stacked [3, 1, heads, seq, head_dim] tensor: Split on axis 0, each reshaped to `shape`."""
    parts = [f"{name}.{p}_part" for p in "qkv"]
    g.nodes.append(helper.make_node("Split", [qkv], parts, name=f"{name}.qkv_unbind", axis=0))
    target = g.const(f"{name}.head_shape", shape)
    q, k, v = (g.node("Reshape", [part, target], f"{name}.{p}") for part, p in zip(parts, "qkv", strict=True))
    return q, k, v


# --- RegNetY-800MF -------------------------------------------------------------------------------------------------

REGNET_Y_800MF = ((64, 1), (144, 3), (320, 8), (784, 2))
"""(width, blocks) per stage, each stage starting at stride 2: torchvision's `BlockParams.from_init_params(depth=14,
w_0=56, w_a=38.84, w_m=2.4, group_width=16, se_ratio=0.25)` worked out (widths 56, 136, 320, 776 made divisible
by the group width)."""
REGNET_GROUP_WIDTH = 16
REGNET_SE_RATIO = 0.25


def build_regnet_y_800mf(path: str | Path, stages: tuple[tuple[int, int], ...] = REGNET_Y_800MF) -> Path:
    """RegNetY-800MF (Radosavovic et al. 2020) as torchvision defines it: a 3x3/2 stem of 32 channels, then residual
    bottlenecks (1x1; 3x3 in groups of 16 channels; SE squeezing to a quarter of the block's input; 1x1)."""
    g = GraphBuilder("regnet_y_800mf")
    x, c_in = g.relu(g.conv(g.input("image", IMAGE), "stem.0", 3, 32, 3, stride=2, pad=1), "stem.2"), 32
    for stage, (width, blocks) in enumerate(stages, start=1):
        for block in range(blocks):
            name, stride = f"trunk_output.block{stage}.block{stage}-{block}", 2 if block == 0 else 1
            y = g.relu(g.conv(x, f"{name}.f.a", c_in, width, 1), f"{name}.f.a_relu")
            y = g.conv(y, f"{name}.f.b", width, width, 3, stride=stride, pad=1, groups=width // REGNET_GROUP_WIDTH)
            y = _squeeze_excite(g, g.relu(y, f"{name}.f.b_relu"), f"{name}.f.se", width, round(REGNET_SE_RATIO * c_in))
            y = g.conv(y, f"{name}.f.c", width, width, 1)
            shortcut = x if c_in == width and stride == 1 else g.conv(x, f"{name}.proj", c_in, width, 1, stride=stride)
            x = g.relu(g.node("Add", [shortcut, y], f"{name}.add"), f"{name}.relu")
            c_in = width
    return g.save(_classifier(g, x, "fc", (c_in, 1000)), path)


# --- GoogLeNet / Inception-v1 ---------------------------------------------------------------------------------------

GOOGLENET_INCEPTIONS = {
    "inception3a": (192, 64, 96, 128, 16, 32, 32),
    "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64),
    "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64),
    "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128),
    "inception5a": (832, 256, 160, 320, 32, 128, 128),
    "inception5b": (832, 384, 192, 384, 48, 128, 128),
}
"""Szegedy et al. 2015, Table 1 (torchvision's `Inception` arguments): input channels, #1x1, #3x3 reduce, #3x3,
#5x5 reduce, #5x5, pool projection."""
GOOGLENET_POOLS = {"inception3b": ("maxpool3", 3), "inception4e": ("maxpool4", 2)}
"""The max pools (stride 2, ceil mode) after an inception module: name and kernel."""


def build_googlenet(
    path: str | Path, *, kernel5: int = 3, modules: tuple[str, ...] = tuple(GOOGLENET_INCEPTIONS)
) -> Path:
    """GoogLeNet / Inception-v1 (Szegedy et al. 2015) as torchvision defines it, in eval mode (no auxiliary heads).

    torchvision's "5x5" branch convolves with a 3x3 kernel (a deviation it keeps for its weights, vision issue 906);
    `kernel5=5` gives the paper's 5x5. `modules` keeps only some inception modules, for quick tests.
    """
    g = GraphBuilder("googlenet" if kernel5 == 3 else "inception_v1")
    x = g.relu(g.conv(g.input("image", IMAGE), "conv1", 3, 64, 7, stride=2, pad=3), "conv1_relu")
    x = g.relu(g.conv(_maxpool_ceil(g, x, "maxpool1", 3), "conv2", 64, 64, 1), "conv2_relu")
    x = _maxpool_ceil(g, g.relu(g.conv(x, "conv3", 64, 192, 3, pad=1), "conv3_relu"), "maxpool2", 3)
    for name in modules:
        x = _inception(g, x, name, GOOGLENET_INCEPTIONS[name], kernel5)
        if name in GOOGLENET_POOLS:
            x = _maxpool_ceil(g, x, *GOOGLENET_POOLS[name])
    channels = sum(GOOGLENET_INCEPTIONS[modules[-1]][i] for i in (1, 3, 5, 6))
    return g.save(_classifier(g, x, "fc", (channels, 1000)), path)


def _inception(g: GraphBuilder, x: str, name: str, channels: tuple[int, ...], kernel5: int) -> str:
    """Four branches concatenated: 1x1; 1x1 then 3x3; 1x1 then `kernel5`; 3x3/1 max pool then 1x1."""
    c_in, c1, c3_red, c3, c5_red, c5, pool_proj = channels

    def conv(t: str, branch: str, c_from: int, c_to: int, kernel: int) -> str:
        return g.relu(g.conv(t, f"{name}.{branch}", c_from, c_to, kernel, pad=kernel // 2), f"{name}.{branch}_relu")

    b1 = conv(x, "branch1", c_in, c1, 1)
    b2 = conv(conv(x, "branch2.0", c_in, c3_red, 1), "branch2.1", c3_red, c3, 3)
    b3 = conv(conv(x, "branch3.0", c_in, c5_red, 1), "branch3.1", c5_red, c5, kernel5)
    pooled = g.node("MaxPool", [x], f"{name}.branch4.0", kernel_shape=[3, 3], pads=[1] * 4, ceil_mode=1)
    b4 = conv(pooled, "branch4.1", c_in, pool_proj, 1)
    return g.node("Concat", [b1, b2, b3, b4], f"{name}.concat", axis=1)


def _maxpool_ceil(g: GraphBuilder, x: str, name: str, kernel: int, stride: int = 2) -> str:
    """A max pool with `ceil_mode=True`, as GoogLeNet and SqueezeNet write theirs."""
    return g.node("MaxPool", [x], name, kernel_shape=[kernel] * 2, strides=[stride] * 2, ceil_mode=1)


# --- Inception-v3 --------------------------------------------------------------------------------------------------

INCEPTION_V3 = (
    ("Mixed_5b", "A", 32),
    ("Mixed_5c", "A", 64),
    ("Mixed_5d", "A", 64),
    ("Mixed_6a", "B", 0),
    ("Mixed_6b", "C", 128),
    ("Mixed_6c", "C", 160),
    ("Mixed_6d", "C", 160),
    ("Mixed_6e", "C", 192),
    ("Mixed_7a", "D", 0),
    ("Mixed_7b", "E", 0),
    ("Mixed_7c", "E", 0),
)
"""torchvision's `Inception3` modules: name, kind (InceptionA-E), and the pool features (A) or the width of the
7x7 factorisation (C); each module's input is the previous one's output (192 channels at 35x35 for the first)."""


def build_inception_v3(path: str | Path, modules: tuple[tuple[str, str, int], ...] = INCEPTION_V3) -> Path:
    """Inception-v3 (Szegedy et al. 2016) as torchvision defines it, in eval mode, on a 299x299 image: 7x7 and 3x3
    convolutions factorised into 1x7 and 7x1 (1x3 and 3x1) pairs, and grid reductions with stride-2 3x3s. `modules`
    keeps only some modules, for quick tests."""
    g = GraphBuilder("inception_v3")
    conv = _conv_relu(g)
    x = conv(g.input("image", [1, 3, 299, 299]), "Conv2d_1a_3x3", 3, 32, 3, stride=2)
    x = conv(conv(x, "Conv2d_2a_3x3", 32, 32, 3), "Conv2d_2b_3x3", 32, 64, 3, pad=1)
    x = conv(g.maxpool(x, "maxpool1", 3, 2), "Conv2d_3b_1x1", 64, 80, 1)
    x = g.maxpool(conv(x, "Conv2d_4a_3x3", 80, 192, 3), "maxpool2", 3, 2)
    channels = 192
    for name, kind, width in modules:
        x, channels = INCEPTION_V3_MODULES[kind](g, x, name, channels, width)
    return g.save(_classifier(g, x, "fc", (channels, 1000)), path)


def _conv_relu(g: GraphBuilder) -> Callable[..., str]:
    """torchvision's `BasicConv2d` (conv, batch norm folded, ReLU), named after the conv."""

    def conv(x: str, name: str, c_in: int, c_out: int, kernel: int | tuple[int, int], **kwargs: object) -> str:
        return g.relu(g.conv(x, f"{name}.conv", c_in, c_out, kernel, **kwargs), f"{name}.relu")

    return conv


def _pool_branch(g: GraphBuilder, x: str, name: str, c_in: int, c_out: int) -> str:
    """avg_pool2d(3, stride 1, padding 1), then a 1x1 conv."""
    pooled = g.node(
        "AveragePool", [x], f"{name}.branch_pool_avg", kernel_shape=[3, 3], pads=[1] * 4, count_include_pad=1
    )
    return _conv_relu(g)(pooled, f"{name}.branch_pool", c_in, c_out, 1)


def _inception_a(g: GraphBuilder, x: str, name: str, c_in: int, pool_features: int) -> tuple[str, int]:
    conv = _conv_relu(g)
    b1 = conv(x, f"{name}.branch1x1", c_in, 64, 1)
    b5 = conv(conv(x, f"{name}.branch5x5_1", c_in, 48, 1), f"{name}.branch5x5_2", 48, 64, 5, pad=2)
    b3 = conv(conv(x, f"{name}.branch3x3dbl_1", c_in, 64, 1), f"{name}.branch3x3dbl_2", 64, 96, 3, pad=1)
    b3 = conv(b3, f"{name}.branch3x3dbl_3", 96, 96, 3, pad=1)
    bp = _pool_branch(g, x, name, c_in, pool_features)
    return g.node("Concat", [b1, b5, b3, bp], f"{name}.concat", axis=1), 64 + 64 + 96 + pool_features


def _inception_b(g: GraphBuilder, x: str, name: str, c_in: int, _: int) -> tuple[str, int]:
    conv = _conv_relu(g)
    b3 = conv(x, f"{name}.branch3x3", c_in, 384, 3, stride=2)
    bd = conv(conv(x, f"{name}.branch3x3dbl_1", c_in, 64, 1), f"{name}.branch3x3dbl_2", 64, 96, 3, pad=1)
    bd = conv(bd, f"{name}.branch3x3dbl_3", 96, 96, 3, stride=2)
    bp = g.maxpool(x, f"{name}.branch_pool", 3, 2)
    return g.node("Concat", [b3, bd, bp], f"{name}.concat", axis=1), 384 + 96 + c_in


PAD_1X7, PAD_7X1 = {"pad": (0, 3, 0, 3)}, {"pad": (3, 0, 3, 0)}
"""Padding of a 1x7 and of a 7x1 kernel (ONNX pads: top, left, bottom, right)."""


def _inception_c(g: GraphBuilder, x: str, name: str, c_in: int, c7: int) -> tuple[str, int]:
    conv = _conv_relu(g)
    b1 = conv(x, f"{name}.branch1x1", c_in, 192, 1)
    b7 = conv(x, f"{name}.branch7x7_1", c_in, c7, 1)
    b7 = conv(
        conv(b7, f"{name}.branch7x7_2", c7, c7, (1, 7), **PAD_1X7), f"{name}.branch7x7_3", c7, 192, (7, 1), **PAD_7X1
    )
    bd = conv(x, f"{name}.branch7x7dbl_1", c_in, c7, 1)
    for i, (kernel, pad) in enumerate((((7, 1), PAD_7X1), ((1, 7), PAD_1X7), ((7, 1), PAD_7X1)), start=2):
        bd = conv(bd, f"{name}.branch7x7dbl_{i}", c7, c7, kernel, **pad)
    bd = conv(bd, f"{name}.branch7x7dbl_5", c7, 192, (1, 7), **PAD_1X7)
    bp = _pool_branch(g, x, name, c_in, 192)
    return g.node("Concat", [b1, b7, bd, bp], f"{name}.concat", axis=1), 4 * 192


def _inception_d(g: GraphBuilder, x: str, name: str, c_in: int, _: int) -> tuple[str, int]:
    conv = _conv_relu(g)
    b3 = conv(conv(x, f"{name}.branch3x3_1", c_in, 192, 1), f"{name}.branch3x3_2", 192, 320, 3, stride=2)
    b7 = conv(x, f"{name}.branch7x7x3_1", c_in, 192, 1)
    b7 = conv(
        conv(b7, f"{name}.branch7x7x3_2", 192, 192, (1, 7), **PAD_1X7),
        f"{name}.branch7x7x3_3",
        192,
        192,
        (7, 1),
        **PAD_7X1,
    )
    b7 = conv(b7, f"{name}.branch7x7x3_4", 192, 192, 3, stride=2)
    bp = g.maxpool(x, f"{name}.branch_pool", 3, 2)
    return g.node("Concat", [b3, b7, bp], f"{name}.concat", axis=1), 320 + 192 + c_in


def _inception_e(g: GraphBuilder, x: str, name: str, c_in: int, _: int) -> tuple[str, int]:
    conv = _conv_relu(g)

    def split_3x3(t: str, prefix: str) -> str:  # a 1x3 and a 3x1 conv side by side, concatenated
        row = conv(t, f"{prefix}a", 384, 384, (1, 3), pad=(0, 1, 0, 1))
        column = conv(t, f"{prefix}b", 384, 384, (3, 1), pad=(1, 0, 1, 0))
        return g.node("Concat", [row, column], f"{prefix}_concat", axis=1)

    b1 = conv(x, f"{name}.branch1x1", c_in, 320, 1)
    b3 = split_3x3(conv(x, f"{name}.branch3x3_1", c_in, 384, 1), f"{name}.branch3x3_2")
    bd = conv(conv(x, f"{name}.branch3x3dbl_1", c_in, 448, 1), f"{name}.branch3x3dbl_2", 448, 384, 3, pad=1)
    bd = split_3x3(bd, f"{name}.branch3x3dbl_3")
    bp = _pool_branch(g, x, name, c_in, 192)
    return g.node("Concat", [b1, b3, bd, bp], f"{name}.concat", axis=1), 320 + 768 + 768 + 192


INCEPTION_V3_MODULES = {"A": _inception_a, "B": _inception_b, "C": _inception_c, "D": _inception_d, "E": _inception_e}


# --- SqueezeNet 1.1 -------------------------------------------------------------------------------------------------

SQUEEZENET1_1 = (
    ((64, 16, 64), (128, 16, 64)),
    ((128, 32, 128), (256, 32, 128)),
    ((256, 48, 192), (384, 48, 192), (384, 64, 256), (512, 64, 256)),
)
"""Fire modules between the max pools (torchvision's `Fire` arguments): input channels, squeeze, each expand."""


def build_squeezenet1_1(path: str | Path) -> Path:
    """SqueezeNet 1.1 (Iandola et al. 2016; the v1.1 of its reference code) as torchvision defines it: a 3x3/2 stem,
    fire modules (1x1 squeeze, then 1x1 and 3x3 expands concatenated), and a 1x1 conv classifier."""
    g = GraphBuilder("squeezenet1_1")
    x = g.relu(g.conv(g.input("image", IMAGE), "features.0", 3, 64, 3, stride=2), "features.1")
    index = 2
    for fires in SQUEEZENET1_1:
        x, index = _maxpool_ceil(g, x, f"features.{index}", 3), index + 1
        for c_in, squeeze, expand in fires:
            name, index = f"features.{index}", index + 1
            s = g.relu(g.conv(x, f"{name}.squeeze", c_in, squeeze, 1), f"{name}.squeeze_activation")
            e1 = g.relu(g.conv(s, f"{name}.expand1x1", squeeze, expand, 1), f"{name}.expand1x1_activation")
            e3 = g.relu(g.conv(s, f"{name}.expand3x3", squeeze, expand, 3, pad=1), f"{name}.expand3x3_activation")
            x = g.node("Concat", [e1, e3], f"{name}.concat", axis=1)
    x = g.relu(g.conv(x, "classifier.1", 512, 1000, 1), "classifier.2")
    return g.save(g.node("Flatten", [g.node("GlobalAveragePool", [x], "classifier.3")], "flatten"), path)


# --- ShuffleNetV2 x1.0 ----------------------------------------------------------------------------------------------

SHUFFLENETV2_X1_0 = ((116, 4), (232, 8), (464, 4))
"""Ma et al. 2018, Table 5 (torchvision's `stages_out_channels` and `stages_repeats`): output channels, units."""


def build_shufflenet_v2_x1_0(path: str | Path, stages: tuple[tuple[int, int], ...] = SHUFFLENETV2_X1_0) -> Path:
    """ShuffleNetV2 x1.0 (Ma et al. 2018) as torchvision defines it: units that split the channels in half (or, at
    stride 2, run two branches), convolve one half (1x1, depthwise 3x3, 1x1), concatenate and shuffle channels."""
    g = GraphBuilder("shufflenet_v2_x1_0")
    x = g.relu(g.conv(g.input("image", IMAGE), "conv1.0", 3, 24, 3, stride=2, pad=1), "conv1.2")
    x, c_in, size = g.maxpool(x, "maxpool", 3, 2, pad=1), 24, IMAGE[-1] // 4
    for stage, (c_out, units) in enumerate(stages, start=2):
        size //= 2
        for unit in range(units):
            x = _shuffle_unit(g, x, f"stage{stage}.{unit}", (c_in, c_out, size), stride=2 if unit == 0 else 1)
            c_in = c_out
    x = g.relu(g.conv(x, "conv5.0", c_in, 1024, 1), "conv5.2")
    x = g.node("ReduceMean", [x], "mean", axes=[2, 3], keepdims=0)  # torchvision's x.mean([2, 3])
    return g.save(g.gemm(x, "fc", 1024, 1000), path)


def _shuffle_unit(g: GraphBuilder, x: str, name: str, shape: tuple[int, int, int], *, stride: int) -> str:
    """torchvision's `InvertedResidual`; `shape` is (input channels, output channels, output height and width)."""
    c_in, c_out, size = shape
    half = c_out // 2
    if stride == 1:  # x.chunk(2, dim=1): the left half passes through
        left, right = f"{name}.left", f"{name}.right"
        g.nodes.append(helper.make_node("Split", [x], [left, right], name=f"{name}.chunk", axis=1))
    else:
        left = g.conv(x, f"{name}.branch1.0", c_in, c_in, 3, stride=2, pad=1, groups=c_in)
        left, right = g.relu(g.conv(left, f"{name}.branch1.2", c_in, half, 1), f"{name}.branch1.4"), x
    y = g.relu(g.conv(right, f"{name}.branch2.0", c_in if stride == 2 else half, half, 1), f"{name}.branch2.2")
    y = g.conv(y, f"{name}.branch2.3", half, half, 3, stride=stride, pad=1, groups=half)
    y = g.relu(g.conv(y, f"{name}.branch2.5", half, half, 1), f"{name}.branch2.7")
    x = g.node("Concat", [left, y], f"{name}.concat", axis=1)
    x = g.node("Reshape", [x, g.const(f"{name}.groups_shape", [1, 2, half, size, size])], f"{name}.groups")
    x = g.node("Transpose", [x], f"{name}.shuffle", perm=[0, 2, 1, 3, 4])
    return g.node("Reshape", [x, g.const(f"{name}.merged_shape", [1, c_out, size, size])], f"{name}.shuffled")


# --- ConvNeXt-Tiny --------------------------------------------------------------------------------------------------

CONVNEXT_TINY = ((96, 3), (192, 3), (384, 9), (768, 3))
"""Liu et al. 2022 (torchvision's `CNBlockConfig`s for Tiny): channels and blocks per stage."""


def build_convnext_tiny(path: str | Path, stages: tuple[tuple[int, int], ...] = CONVNEXT_TINY) -> Path:
    """ConvNeXt-Tiny (Liu et al. 2022) as torchvision defines it: a 4x4/4 patchify stem, blocks of a 7x7 depthwise
    conv, LayerNorm and a Linear MLP (4x wider, GELU) on channels-last tensors, and 2x2/2 downsampling convs."""
    g = GraphBuilder("convnext_tiny")
    stem = g.conv(g.input("image", IMAGE), "features.0.0", 3, stages[0][0], 4, stride=4)
    x = _layer_norm_2d(g, stem, "features.0.1", stages[0][0])
    for i, (dim, blocks) in enumerate(stages):
        if i > 0:
            previous = stages[i - 1][0]
            x = _layer_norm_2d(g, x, f"features.{2 * i}.0", previous)
            x = g.conv(x, f"features.{2 * i}.1", previous, dim, 2, stride=2)
        for block in range(blocks):
            x = _convnext_block(g, x, f"features.{2 * i + 1}.{block}", dim)
    x = _layer_norm_2d(g, g.node("GlobalAveragePool", [x], "avgpool"), "classifier.0", stages[-1][0])
    return g.save(g.gemm(g.node("Flatten", [x], "classifier.1"), "classifier.2", stages[-1][0], 1000), path)


def _layer_norm_2d(g: GraphBuilder, x: str, name: str, channels: int) -> str:
    """torchvision's `LayerNorm2d` as exported: to channels last, LayerNormalization, back to channels first."""
    x = g.node("Transpose", [x], f"{name}.channels_last", perm=[0, 2, 3, 1])
    x = _generate.layer_norm(g, x, name, channels)
    return g.node("Transpose", [x], f"{name}.channels_first", perm=[0, 3, 1, 2])


def _convnext_block(g: GraphBuilder, x: str, name: str, dim: int) -> str:
    """torchvision's `CNBlock`: depthwise 7x7, permute, LayerNorm, Linear, GELU, Linear, permute, layer scale, add."""
    y = g.conv(x, f"{name}.block.0", dim, dim, 7, pad=3, groups=dim)
    y = _generate.layer_norm(g, g.node("Transpose", [y], f"{name}.block.1", perm=[0, 2, 3, 1]), f"{name}.block.2", dim)
    y = _generate.gelu(g, g.linear(y, f"{name}.block.3", dim, 4 * dim), f"{name}.block.4")
    y = g.node("Transpose", [g.linear(y, f"{name}.block.5", 4 * dim, dim)], f"{name}.block.6", perm=[0, 3, 1, 2])
    y = g.node("Mul", [y, g.weight(f"{name}.layer_scale", [dim, 1, 1])], f"{name}.layer_scale_mul")
    return g.node("Add", [y, x], f"{name}.add")


# --- BERT-base ------------------------------------------------------------------------------------------------------


def build_bert_base(
    path: str | Path, *, layers: int = 12, seq: int = 128, hidden: int = 768, heads: int = 12, ffn: int = 3072
) -> Path:
    """BERT-base (Devlin et al. 2019) as Hugging Face's `BertModel` exports it, sequence 128: word, position and
    token-type embeddings, `layers` post-norm encoder layers (separate query, key and value projections, 12 heads,
    a GELU FFN of 3072) and the pooler (768 -> 768, tanh) on the [CLS] token."""
    g = GraphBuilder("bert_base")
    g.inputs.append(helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, seq]))
    words = g.node("Gather", [g.weight("embeddings.word_embeddings.weight", [30522, hidden]), "input_ids"], "words")
    x = g.node("Add", [words, g.weight("embeddings.position_and_type", [1, seq, hidden])], "embeddings.sum")
    x = _generate.layer_norm(g, x, "embeddings.LayerNorm", hidden)
    mask = g.input("attention_bias", [1, 1, 1, seq])  # (1 - attention_mask) x the dtype's minimum
    for layer in range(layers):
        x = _bert_layer(g, x, f"encoder.layer.{layer}", mask, (seq, hidden, heads, ffn))
    starts, ends, axes = g.const("cls_start", [0]), g.const("cls_end", [1]), g.const("cls_axis", [1])
    cls = g.node("Slice", [x, starts, ends, axes], "cls_slice")
    cls = g.node("Reshape", [cls, g.const("cls_shape", [1, hidden])], "cls")
    return g.save(g.node("Tanh", [g.gemm(cls, "pooler.dense", hidden, hidden)], "pooler.activation"), path)


def _bert_layer(g: GraphBuilder, x: str, name: str, mask: str, sizes: tuple[int, int, int, int]) -> str:
    """One `BertLayer`: self-attention with a residual and LayerNorm, then the FFN with a residual and LayerNorm."""
    seq, hidden, heads, ffn = sizes
    head_dim = hidden // heads
    split = g.const(f"{name}.split_heads", [1, seq, heads, head_dim])

    def heads_of(part: str, perm: list[int]) -> str:
        t = g.node(
            "Reshape", [g.linear(x, f"{name}.attention.self.{part}", hidden, hidden), split], f"{name}.{part}_split"
        )
        return g.node("Transpose", [t], f"{name}.{part}_heads", perm=perm)

    q, k, v = heads_of("query", [0, 2, 1, 3]), heads_of("key", [0, 2, 3, 1]), heads_of("value", [0, 2, 1, 3])
    scale = g.const(f"{name}.scale", [float(head_dim) ** 0.5], TensorProto.FLOAT)
    scores = g.node("Div", [g.node("MatMul", [q, k], f"{name}.attention_scores"), scale], f"{name}.attention_scaled")
    probs = g.node("Softmax", [g.node("Add", [scores, mask], f"{name}.masked")], f"{name}.attention_probs", axis=-1)
    context = g.node("MatMul", [probs, v], f"{name}.attention_context")
    context = g.node("Transpose", [context], f"{name}.context_heads", perm=[0, 2, 1, 3])
    context = g.node("Reshape", [context, g.const(f"{name}.merge_heads", [1, seq, hidden])], f"{name}.context")
    attended = g.node("Add", [g.linear(context, f"{name}.attention.output.dense", hidden, hidden), x], f"{name}.res1")
    attended = _generate.layer_norm(g, attended, f"{name}.attention.output.LayerNorm", hidden)
    inner = _generate.gelu(g, g.linear(attended, f"{name}.intermediate.dense", hidden, ffn), f"{name}.gelu")
    out = g.node("Add", [g.linear(inner, f"{name}.output.dense", ffn, hidden), attended], f"{name}.res2")
    return _generate.layer_norm(g, out, f"{name}.output.LayerNorm", hidden)


# --- Swin-T ---------------------------------------------------------------------------------------------------------

SWIN_T = ((2, 3), (2, 6), (6, 12), (2, 24))
"""Liu et al. 2021, Table 7 (torchvision's `swin_t`): blocks and attention heads per stage; 96 channels, doubling."""
SWIN_WINDOW = 7


def build_swin_t(path: str | Path, stages: tuple[tuple[int, int], ...] = SWIN_T) -> Path:
    """Swin-T (Liu et al. 2021) as torchvision defines it (v1): a 4x4/4 patch embedding; blocks of window attention
    (7x7 windows; odd blocks shift them by 3, except where one window covers the map) and a 4x MLP on channels-last
    tensors; patch merging (2x2 neighbours concatenated, 4C -> 2C) between stages."""
    g = GraphBuilder("swin_t")
    dim, size = 96, IMAGE[-1] // 4
    x = g.conv(g.input("image", IMAGE), "features.0.0", 3, dim, 4, stride=4)
    x = _generate.layer_norm(g, g.node("Transpose", [x], "features.0.1", perm=[0, 2, 3, 1]), "features.0.2", dim)
    for i, (blocks, heads) in enumerate(stages):
        if i > 0:
            x, dim, size = _patch_merging(g, x, f"features.{2 * i}", dim, size), 2 * dim, size // 2
        for block in range(blocks):
            shift = SWIN_WINDOW // 2 if block % 2 and size > SWIN_WINDOW else 0
            x = _swin_block(g, x, f"features.{2 * i + 1}.{block}", (dim, size, heads), shift)
    x = g.node("Transpose", [_generate.layer_norm(g, x, "norm", dim)], "permute", perm=[0, 3, 1, 2])
    x = g.node("Flatten", [g.node("GlobalAveragePool", [x], "avgpool")], "flatten")
    return g.save(g.gemm(x, "head", dim, 1000), path)


def _swin_block(g: GraphBuilder, x: str, name: str, shape: tuple[int, int, int], shift: int) -> str:
    """torchvision's `SwinTransformerBlock`: x + attention(norm1(x)), then x + MLP(norm2(x)); `shape` is (channels,
    height and width, heads)."""
    dim = shape[0]
    y = _window_attention(g, _generate.layer_norm(g, x, f"{name}.norm1", dim), f"{name}.attn", shape, shift)
    x = g.node("Add", [x, y], f"{name}.attn_residual")
    y = _generate.layer_norm(g, x, f"{name}.norm2", dim)
    y = _generate.gelu(g, g.linear(y, f"{name}.mlp.0", dim, 4 * dim), f"{name}.mlp.1")
    return g.node("Add", [x, g.linear(y, f"{name}.mlp.3", 4 * dim, dim)], f"{name}.mlp_residual")


def _window_attention(g: GraphBuilder, x: str, name: str, shape: tuple[int, int, int], shift: int) -> str:
    """torchvision's `shifted_window_attention` on [1, H, W, C]: roll, split into windows, attention over each
    window's 49 tokens (plus the relative position bias, and the mask when shifted), merge the windows, roll back."""
    dim, size, heads = shape
    side, tokens = size // SWIN_WINDOW, SWIN_WINDOW**2
    windows, head_dim = side * side, dim // heads
    x = _roll2d(g, x, f"{name}.shift", -shift, size)
    x = _reshape(g, x, f"{name}.window_grid", [1, side, SWIN_WINDOW, side, SWIN_WINDOW, dim])
    x = g.node("Transpose", [x], f"{name}.windows_first", perm=[0, 1, 3, 2, 4, 5])
    qkv = g.linear(_reshape(g, x, f"{name}.windows", [windows, tokens, dim]), f"{name}.qkv", dim, 3 * dim)
    qkv = _reshape(g, qkv, f"{name}.qkv_split", [windows, tokens, 3, heads, head_dim])
    qkv = g.node("Transpose", [qkv], f"{name}.qkv_heads", perm=[2, 0, 3, 1, 4])  # [3, windows, heads, 49, head_dim]
    q, k, v = _unbind(g, qkv, name, [windows, heads, tokens, head_dim])
    q = g.node("Mul", [q, g.const(f"{name}.scale", [head_dim**-0.5], TensorProto.FLOAT)], f"{name}.q_scaled")
    k_t = g.node("Transpose", [k], f"{name}.k_t", perm=[0, 1, 3, 2])
    scores = g.node("MatMul", [q, k_t], f"{name}.attn_scores")  # [windows, heads, 49, 49]
    bias = g.weight(f"{name}.relative_position_bias", [1, heads, tokens, tokens])
    scores = g.node("Add", [scores, bias], f"{name}.attn_biased")
    if shift:  # the mask stops tokens the roll brought together from attending to each other
        scores = _reshape(g, scores, f"{name}.attn_per_window", [1, windows, heads, tokens, tokens])
        mask = g.weight(f"{name}.attn_mask", [1, windows, 1, tokens, tokens])
        scores = _reshape(
            g,
            g.node("Add", [scores, mask], f"{name}.attn_masked"),
            f"{name}.attn_heads",
            [windows, heads, tokens, tokens],
        )
    probs = g.node("Softmax", [scores], f"{name}.attn_probs", axis=-1)
    context = g.node("MatMul", [probs, v], f"{name}.attn_context")  # [windows, heads, 49, head_dim]
    context = g.node("Transpose", [context], f"{name}.context_tokens", perm=[0, 2, 1, 3])
    x = g.linear(_reshape(g, context, f"{name}.context", [windows, tokens, dim]), f"{name}.proj", dim, dim)
    x = _reshape(g, x, f"{name}.windows_out", [1, side, side, SWIN_WINDOW, SWIN_WINDOW, dim])
    x = g.node("Transpose", [x], f"{name}.rows_first", perm=[0, 1, 3, 2, 4, 5])
    return _roll2d(g, _reshape(g, x, f"{name}.merged", [1, size, size, dim]), f"{name}.unshift", shift, size)


def _patch_merging(g: GraphBuilder, x: str, name: str, dim: int, size: int) -> str:
    """torchvision's `PatchMerging`: the four pixels of each 2x2 neighbourhood concatenated (4C), LayerNorm, then a
    Linear to 2C without bias."""
    parts = []
    for row, col in ((0, 0), (1, 0), (0, 1), (1, 1)):  # x[:, 0::2, 0::2], x[:, 1::2, 0::2], ...
        at = f"{name}.x{row}{col}"
        starts, ends = g.const(f"{at}_starts", [row, col]), g.const(f"{at}_ends", [size, size])
        parts.append(
            g.node("Slice", [x, starts, ends, g.const(f"{at}_axes", [1, 2]), g.const(f"{at}_steps", [2, 2])], at)
        )
    x = _generate.layer_norm(g, g.node("Concat", parts, f"{name}.concat", axis=-1), f"{name}.norm", 4 * dim)
    return g.node("MatMul", [x, g.weight(f"{name}.reduction.weight", [4 * dim, 2 * dim])], f"{name}.reduction")


def _roll2d(g: GraphBuilder, x: str, name: str, shift: int, size: int) -> str:
    """torch.roll(x, (shift, shift), dims=(1, 2)) as exported, a Slice pair and a Concat per axis; 0 is no node."""
    if shift == 0:
        return x
    cut = -shift % size  # out[i] = x[(i - shift) mod size]: x[cut:] comes first
    for axis in (1, 2):
        at = f"{name}_{axis}"
        axes = g.const(f"{at}_axis", [axis])
        head = g.node("Slice", [x, g.const(f"{at}_cut", [cut]), g.const(f"{at}_end", [size]), axes], f"{at}_head")
        tail = g.node("Slice", [x, g.const(f"{at}_zero", [0]), g.const(f"{at}_cut_end", [cut]), axes], f"{at}_tail")
        x = g.node("Concat", [head, tail], at, axis=axis)
    return x


def _reshape(g: GraphBuilder, x: str, name: str, shape: list[int]) -> str:
    return g.node("Reshape", [x, g.const(f"{name}_shape", shape)], name)


LARGER_NETWORKS: dict[str, Callable[[str | Path], Path]] = {
    "efficientnet_b4": partial(build_efficientnet, variant="b4"),
    "efficientnet_b7": partial(build_efficientnet, variant="b7"),
    "densenet201": build_densenet201,
    "resnet152": build_resnet152,
    "wide_resnet50_2": build_wide_resnet50_2,
    "vit_l16": build_vit_l16,
    "deit_s": build_deit_s,
    "mobilenetv3_small": build_mobilenetv3_small,
    "mobilenetv2_x1_4": build_mobilenetv2_x1_4,
    "mnasnet1_0": build_mnasnet1_0,
    **{f"efficientnet_{v}": partial(build_efficientnet, variant=v) for v in ("b1", "b2", "b3", "b5", "b6")},
    "resnet101": build_resnet101,
    "densenet169": build_densenet169,
    "densenet161": build_densenet161,
    "vit_b32": build_vit_b32,
    "vit_l32": build_vit_l32,
    "vit_h14": build_vit_h14,
    **{f"efficientnet_v2_{v}": partial(build_efficientnet_v2, variant=v) for v in ("s", "m", "l")},
}
"""Other members of the same classes (EfficientNet at its own image sizes), which a checker could pick."""

NETWORKS: dict[str, Callable[[str | Path], Path]] = {
    "resnet50": build_resnet50,
    "mobilenetv3_large": build_mobilenetv3_large,
    "efficientnet_b0": build_efficientnet_b0,
    "densenet121": build_densenet121,
    "vit_b16": build_vit_b16,
    "resnext50_32x4d": build_resnext50_32x4d,
    "regnet_y_800mf": build_regnet_y_800mf,
    "vgg16": _generate.build_vgg16,
    "alexnet": _generate.build_alexnet,
    "googlenet": build_googlenet,
    "inception_v1": partial(build_googlenet, kernel5=5),
    "inception_v3": build_inception_v3,
    "squeezenet1_1": build_squeezenet1_1,
    "shufflenet_v2_x1_0": build_shufflenet_v2_x1_0,
    "convnext_tiny": build_convnext_tiny,
    "swin_t": build_swin_t,
    "bert_base": build_bert_base,
    **LARGER_NETWORKS,
}


def write_networks(names: Iterable[str], directory: str | Path) -> dict[str, Path]:
    """Build the named networks as `<directory>/<name>.onnx`; returns name -> path."""
    return {name: NETWORKS[name](Path(directory) / f"{name}.onnx") for name in names}
