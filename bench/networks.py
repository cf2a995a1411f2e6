"""Shape-only ONNX graphs of five ImageNet networks, as their standard model definitions export them (224x224, batch 1).

ResNet-50, MobileNetV3-Large, EfficientNet-B0 and DenseNet-121 follow torchvision's classes (names, channel tables,
strides, padding); ViT-B/16 follows torchvision's and timm's ViT (one fused QKV projection per encoder layer).
Batch normalisation is left out, as an inference export folds it into the convolution's weights and bias.
Weights are graph inputs: nothing is downloaded and no file is large. Each builder writes one `.onnx` file;
`write_networks` writes several into a directory (the benchmark uses a temporary one).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
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


def _activation(g: GraphBuilder, x: str, name: str, kind: str) -> str:
    builders = {"relu": g.relu, "hardswish": lambda t, n: _hardswish(g, t, n), "silu": lambda t, n: _silu(g, t, n)}
    return builders[kind](x, name)


def _squeeze_excite(g: GraphBuilder, x: str, name: str, channels: int, squeeze: int, *, hard: bool) -> str:
    """Squeeze-and-excitation as torchvision writes it: global pool, 1x1 conv down, 1x1 conv up, gate, scale.

    MobileNetV3 uses ReLU and a hard sigmoid (`hard`), EfficientNet SiLU and a sigmoid.
    """
    pooled = g.node("GlobalAveragePool", [x], f"{name}.avgpool")
    down = g.conv(pooled, f"{name}.fc1", channels, squeeze, 1)
    down = g.relu(down, f"{name}.relu") if hard else _silu(g, down, f"{name}.silu")
    up = g.conv(down, f"{name}.fc2", squeeze, channels, 1)
    gate = g.node("HardSigmoid", [up], f"{name}.gate", alpha=1 / 6) if hard else g.node("Sigmoid", [up], f"{name}.gate")
    return g.node("Mul", [x, gate], f"{name}.scale")


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
"""(bottleneck width, blocks, first block's stride) per stage; a block's output has 4 x width channels."""


def build_resnet50(path: str | Path) -> Path:
    """ResNet-50 (He et al. 2016) as torchvision defines it (v1.5: the stride sits on the 3x3 conv)."""
    g = GraphBuilder("resnet50")
    x = g.relu(g.conv(g.input("image", IMAGE), "conv1", 3, 64, 7, stride=2, pad=3), "relu")
    x, c_in = g.maxpool(x, "maxpool", 3, 2, pad=1), 64
    for stage, (width, blocks, first_stride) in enumerate(RESNET50_STAGES, start=1):
        for block in range(blocks):
            name, stride, c_out = f"layer{stage}.{block}", first_stride if block == 0 else 1, 4 * width
            y = g.relu(g.conv(x, f"{name}.conv1", c_in, width, 1), f"{name}.relu1")
            y = g.relu(g.conv(y, f"{name}.conv2", width, width, 3, stride=stride, pad=1), f"{name}.relu2")
            y = g.conv(y, f"{name}.conv3", width, c_out, 1)
            shortcut = x
            if block == 0:  # the projection: 1x1, stride 2 after the first stage
                shortcut = g.conv(x, f"{name}.downsample.0", c_in, c_out, 1, stride=stride)
            x = g.relu(g.node("Add", [y, shortcut], f"{name}.add"), f"{name}.relu3")
            c_in = c_out
    return g.save(_classifier(g, x, "fc", (2048, 1000)), path)


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


def build_mobilenetv3_large(path: str | Path) -> Path:
    """MobileNetV3-Large (width 1.0) as torchvision defines it: inverted residuals with depthwise 3x3/5x5 and SE."""
    g = GraphBuilder("mobilenetv3_large")
    x = _hardswish(g, g.conv(g.input("image", IMAGE), "features.0", 3, 16, 3, stride=2, pad=1), "features.0_act")
    c_in = 16
    for i, (kernel, expanded, c_out, se, act, stride) in enumerate(MOBILENETV3_LARGE, start=1):
        name, block_in = f"features.{i}", x
        if expanded != c_in:
            x = _activation(g, g.conv(x, f"{name}.expand", c_in, expanded, 1), f"{name}.expand_act", act)
        dw = g.conv(x, f"{name}.dw", expanded, expanded, kernel, stride=stride, pad=(kernel - 1) // 2, groups=expanded)
        x = _activation(g, dw, f"{name}.dw_act", act)
        if se:
            x = _squeeze_excite(g, x, f"{name}.se", expanded, make_divisible(expanded // 4), hard=True)
        x = g.conv(x, f"{name}.project", expanded, c_out, 1)
        if stride == 1 and c_in == c_out:
            x = g.node("Add", [block_in, x], f"{name}.add")
        c_in = c_out
    x = _hardswish(g, g.conv(x, "features.16", c_in, 960, 1), "features.16_act")
    return g.save(_classifier(g, x, "classifier", (960, 1280, 1000), "hardswish"), path)


# --- EfficientNet-B0 ------------------------------------------------------------------------------------------------

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


def build_efficientnet_b0(path: str | Path) -> Path:
    """EfficientNet-B0 as torchvision defines it: MBConv blocks with SE (squeeze to a quarter of the block's input)."""
    g = GraphBuilder("efficientnet_b0")
    x = _silu(g, g.conv(g.input("image", IMAGE), "features.0", 3, 32, 3, stride=2, pad=1), "features.0_act")
    for stage, (expand, kernel, first_stride, stage_in, c_out, blocks) in enumerate(EFFICIENTNET_B0, start=1):
        for block in range(blocks):
            name, block_in = f"features.{stage}.{block}", x
            c_in, stride = (stage_in, first_stride) if block == 0 else (c_out, 1)
            hidden = c_in * expand
            if expand != 1:
                x = _silu(g, g.conv(x, f"{name}.expand", c_in, hidden, 1), f"{name}.expand_act")
            dw = g.conv(x, f"{name}.dw", hidden, hidden, kernel, stride=stride, pad=(kernel - 1) // 2, groups=hidden)
            x = _squeeze_excite(g, _silu(g, dw, f"{name}.dw_act"), f"{name}.se", hidden, max(1, c_in // 4), hard=False)
            x = g.conv(x, f"{name}.project", hidden, c_out, 1)
            if stride == 1 and c_in == c_out:
                x = g.node("Add", [block_in, x], f"{name}.add")
    x = _silu(g, g.conv(x, "features.8", 320, 1280, 1), "features.8_act")
    return g.save(_classifier(g, x, "classifier", (1280, 1000)), path)


# --- DenseNet-121 ---------------------------------------------------------------------------------------------------

DENSENET121_BLOCKS = (6, 12, 24, 16)
DENSENET_GROWTH = 32
DENSENET_BOTTLENECK = 4
"""The 1x1 bottleneck conv of a dense layer has DENSENET_BOTTLENECK x DENSENET_GROWTH output channels."""


def build_densenet121(path: str | Path, blocks: tuple[int, ...] = DENSENET121_BLOCKS) -> Path:
    """DenseNet-121 (Huang et al. 2017) as torchvision defines it; `blocks` gives fewer layers for quick tests."""
    g = GraphBuilder("densenet121")
    x = g.relu(g.conv(g.input("image", IMAGE), "features.conv0", 3, 64, 7, stride=2, pad=3), "features.relu0")
    x, channels = g.maxpool(x, "features.pool0", 3, 2, pad=1), 64
    width = DENSENET_BOTTLENECK * DENSENET_GROWTH
    for b, layers in enumerate(blocks, start=1):
        for i in range(1, layers + 1):
            name = f"features.denseblock{b}.denselayer{i}"
            y = g.conv(g.relu(x, f"{name}.relu1"), f"{name}.conv1", channels, width, 1)  # BN-ReLU-Conv
            y = g.conv(g.relu(y, f"{name}.relu2"), f"{name}.conv2", width, DENSENET_GROWTH, 3, pad=1)
            x = g.node("Concat", [x, y], f"{name}.concat", axis=1)
            channels += DENSENET_GROWTH
        x = g.relu(x, f"features.norm{b + 1}_relu") if b == len(blocks) else _transition(g, x, b, channels)
        channels = channels if b == len(blocks) else channels // 2
    return g.save(_classifier(g, x, "classifier", (channels, 1000)), path)


def _transition(g: GraphBuilder, x: str, block: int, channels: int) -> str:
    name = f"features.transition{block}"
    x = g.conv(g.relu(x, f"{name}.relu"), f"{name}.conv", channels, channels // 2, 1)
    return g.node("AveragePool", [x], f"{name}.pool", kernel_shape=[2, 2], strides=[2, 2])


# --- ViT-B/16 -------------------------------------------------------------------------------------------------------


def build_vit_b16(path: str | Path, *, depth: int = 12, hidden: int = 768, heads: int = 12, mlp: int = 3072) -> Path:
    """ViT-B/16 (Dosovitskiy et al. 2021): 16x16/16 patch embedding, class token (197 tokens), `depth` encoder layers.

    Each layer: LayerNorm, one QKV projection (768 -> 2304), the two attention batched matmuls over 12 heads, the
    output projection, LayerNorm and the GELU MLP (768 -> 3072 -> 768), with residual adds; then the class token's head.
    """
    g = GraphBuilder("vit_b16")
    patches = g.conv(g.input("image", IMAGE), "conv_proj", 3, hidden, 16, stride=16)  # [1, 768, 14, 14]
    tokens = g.node("Reshape", [patches, g.const("flatten_patches", [1, hidden, 196])], "patches_flat")
    tokens = g.node("Transpose", [tokens], "patches_seq", perm=[0, 2, 1])  # [1, 196, 768]
    seq = 197
    x = g.node("Concat", [g.weight("class_token", [1, 1, hidden]), tokens], "tokens", axis=1)
    x = g.node("Add", [x, g.weight("pos_embedding", [1, seq, hidden])], "embedded")
    for layer in range(depth):
        x = _encoder_layer(g, x, f"encoder.layers.{layer}", seq=seq, hidden=hidden, heads=heads, mlp=mlp)
    x = _generate.layer_norm(g, x, "encoder.ln", hidden)
    starts, ends, axes = g.const("class_start", [0]), g.const("class_end", [1]), g.const("class_axis", [1])
    cls = g.node("Slice", [x, starts, ends, axes], "class_token_slice")  # x[:, 0:1]
    cls = g.node("Reshape", [cls, g.const("class_shape", [1, hidden])], "class_token_out")  # [1, 768]
    return g.save(g.gemm(cls, "heads.head", hidden, 1000), path)


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


NETWORKS: dict[str, Callable[[str | Path], Path]] = {
    "resnet50": build_resnet50,
    "mobilenetv3_large": build_mobilenetv3_large,
    "efficientnet_b0": build_efficientnet_b0,
    "densenet121": build_densenet121,
    "vit_b16": build_vit_b16,
}


def write_networks(names: Iterable[str], directory: str | Path) -> dict[str, Path]:
    """Build the named networks as `<directory>/<name>.onnx`; returns name -> path."""
    return {name: NETWORKS[name](Path(directory) / f"{name}.onnx") for name in names}
