"""Build shape-only ONNX graphs of published networks and write their spec JSON (run: models/generate.py [OUT_DIR])."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the package importable
    sys.path.insert(0, str(ROOT))

OPSET = 17


class GraphBuilder:
    """Assembles an ONNX graph node by node; weights are graph inputs or zero initializers (shapes only)."""

    def __init__(self, name: str, *, weights_as_inputs: bool = True) -> None:
        self.name = name
        self.weights_as_inputs = weights_as_inputs
        self.nodes: list[onnx.NodeProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def input(self, name: str, shape: list[int | str]) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        return name

    def weight(self, name: str, shape: list[int]) -> str:
        if self.weights_as_inputs:
            return self.input(name, shape)
        import numpy as np

        self.initializers.append(numpy_helper.from_array(np.zeros(shape, np.float32), name))
        return name

    def const(self, name: str, values: list[int], dtype: int = TensorProto.INT64) -> str:
        """A small constant (reshape shapes, scalars) as an initializer: the front-end needs its value."""
        self.initializers.append(helper.make_tensor(name, dtype, [len(values)], values))
        return name

    def node(self, op: str, inputs: list[str], name: str, **attrs: object) -> str:
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def conv(
        self,
        x: str,
        name: str,
        c_in: int,
        c_out: int,
        kernel: int | tuple[int, int],
        *,
        stride: int | tuple[int, int] = 1,
        pad: int | tuple[int, int, int, int] = 0,
        groups: int = 1,
        bias: bool = True,
    ) -> str:
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        sh, sw = (stride, stride) if isinstance(stride, int) else stride
        pads = [pad] * 4 if isinstance(pad, int) else list(pad)
        args = [x, self.weight(f"{name}.weight", [c_out, c_in // groups, kh, kw])]
        if bias:
            args.append(self.weight(f"{name}.bias", [c_out]))
        attrs = {"kernel_shape": [kh, kw], "strides": [sh, sw], "pads": pads, "group": groups}
        return self.node("Conv", args, name, **attrs)

    def relu(self, x: str, name: str) -> str:
        return self.node("Relu", [x], name)

    def maxpool(self, x: str, name: str, kernel: int, stride: int, pad: int = 0) -> str:
        return self.node("MaxPool", [x], name, kernel_shape=[kernel] * 2, strides=[stride] * 2, pads=[pad] * 4)

    def global_avgpool_flat(self, x: str, name: str) -> str:
        return self.node("Flatten", [self.node("GlobalAveragePool", [x], f"{name}_pool")], name)

    def gemm(self, x: str, name: str, k: int, n: int, *, trans_b: bool = True) -> str:
        """A fully connected layer as exported by PyTorch: Gemm with weight [n, k] (transB) and bias."""
        w_shape = [n, k] if trans_b else [k, n]
        args = [x, self.weight(f"{name}.weight", w_shape), self.weight(f"{name}.bias", [n])]
        return self.node("Gemm", args, name, transB=int(trans_b))

    def linear(self, x: str, name: str, k: int, n: int) -> str:
        """x @ W + b with MatMul (as transformer exports write projections)."""
        return self.node(
            "Add",
            [self.node("MatMul", [x, self.weight(f"{name}.weight", [k, n])], name), self.weight(f"{name}.bias", [n])],
            f"{name}_bias",
        )

    def model(self, output: str) -> onnx.ModelProto:
        out = helper.make_tensor_value_info(output, TensorProto.FLOAT, None)
        graph = helper.make_graph(self.nodes, self.name, self.inputs, [out], self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        inferred = onnx.shape_inference.infer_shapes(model)  # fill in the output shape
        model.graph.output[0].CopyFrom(inferred.graph.output[0])
        return model

    def save(self, output: str, path: str | Path) -> Path:
        onnx.save(self.model(output), str(path))
        return Path(path)


def build_vgg16(path: str | Path) -> Path:
    """VGG-16 (Simonyan & Zisserman 2015, configuration D) on a 224x224 image."""
    g = GraphBuilder("vgg16")
    x, c_in = g.input("image", [1, 3, 224, 224]), 3
    for stage, (width, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        for i in range(1, convs + 1):
            x = g.relu(g.conv(x, f"conv{stage}_{i}", c_in, width, 3, pad=1), f"relu{stage}_{i}")
            c_in = width
        x = g.maxpool(x, f"pool{stage}", 2, 2)
    x = g.node("Flatten", [x], "flatten")
    x = g.relu(g.gemm(x, "fc6", 512 * 7 * 7, 4096), "relu6")
    x = g.relu(g.gemm(x, "fc7", 4096, 4096), "relu7")
    return g.save(g.gemm(x, "fc8", 4096, 1000), path)


def build_alexnet(path: str | Path) -> Path:
    """AlexNet as in torchvision (the single-tower variant of Krizhevsky 2014) on a 224x224 image."""
    g = GraphBuilder("alexnet")
    x = g.input("image", [1, 3, 224, 224])
    x = g.maxpool(g.relu(g.conv(x, "conv1", 3, 64, 11, stride=4, pad=2), "relu1"), "pool1", 3, 2)
    x = g.maxpool(g.relu(g.conv(x, "conv2", 64, 192, 5, pad=2), "relu2"), "pool2", 3, 2)
    x = g.relu(g.conv(x, "conv3", 192, 384, 3, pad=1), "relu3")
    x = g.relu(g.conv(x, "conv4", 384, 256, 3, pad=1), "relu4")
    x = g.maxpool(g.relu(g.conv(x, "conv5", 256, 256, 3, pad=1), "relu5"), "pool5", 3, 2)
    x = g.node("Flatten", [x], "flatten")
    x = g.relu(g.gemm(x, "fc6", 256 * 6 * 6, 4096), "relu6")
    x = g.relu(g.gemm(x, "fc7", 4096, 4096), "relu7")
    return g.save(g.gemm(x, "fc8", 4096, 1000), path)


# MobileNetV2 (Sandler et al. 2018, Table 2): expansion t, output channels c, repeats n, first stride s.
MOBILENETV2_BLOCKS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def build_mobilenetv2(path: str | Path) -> Path:
    """MobileNetV2 (width 1.0) on a 224x224 image: inverted residuals of 1x1 expand, 3x3 depthwise, 1x1 project."""
    g = GraphBuilder("mobilenetv2")
    x = g.input("image", [1, 3, 224, 224])
    x, c_in = g.relu(g.conv(x, "conv_stem", 3, 32, 3, stride=2, pad=1), "relu_stem"), 32
    for b, (t, c, n, s) in enumerate(MOBILENETV2_BLOCKS, start=1):
        for i in range(1, n + 1):
            name, hidden, block_in = f"block{b}_{i}", c_in * t, x
            if t != 1:
                x = g.relu(g.conv(x, f"{name}_expand", c_in, hidden, 1), f"{name}_expand_relu")
            stride = s if i == 1 else 1
            x = g.relu(
                g.conv(x, f"{name}_dw", hidden, hidden, 3, stride=stride, pad=1, groups=hidden), f"{name}_dw_relu"
            )
            x = g.conv(x, f"{name}_project", hidden, c, 1)
            if stride == 1 and c_in == c:
                x = g.node("Add", [block_in, x], f"{name}_add")
            c_in = c
    x = g.relu(g.conv(x, "conv_head", c_in, 1280, 1), "relu_head")
    x = g.global_avgpool_flat(x, "flatten")
    return g.save(g.gemm(x, "classifier", 1280, 1000), path)


def build_bert_base_encoder(
    path: str | Path, *, seq: int = 128, hidden: int = 768, heads: int = 12, ffn: int = 3072
) -> Path:
    """One BERT-base encoder layer (Devlin et al. 2019): self-attention with 12 heads, then the 3072-wide FFN."""
    g = GraphBuilder("bert_base_encoder")
    x = g.input("hidden_states", [1, seq, hidden])
    head_dim = hidden // heads
    split = g.const("split_heads", [1, seq, heads, head_dim])
    merge = g.const("merge_heads", [1, seq, hidden])

    def heads_of(t: str, name: str, perm: list[int]) -> str:
        return g.node("Transpose", [g.node("Reshape", [t, split], f"{name}_split")], f"{name}_heads", perm=perm)

    q = heads_of(g.linear(x, "query", hidden, hidden), "query", [0, 2, 1, 3])  # [1, heads, seq, head_dim]
    k = heads_of(g.linear(x, "key", hidden, hidden), "key", [0, 2, 3, 1])  # [1, heads, head_dim, seq]
    v = heads_of(g.linear(x, "value", hidden, hidden), "value", [0, 2, 1, 3])
    scale = g.const("scale", [float(head_dim) ** 0.5], TensorProto.FLOAT)
    scores = g.node("Div", [g.node("MatMul", [q, k], "attention_scores"), scale], "attention_scaled")
    probs = g.node("Softmax", [scores], "attention_probs", axis=-1)
    context = g.node(
        "Transpose", [g.node("MatMul", [probs, v], "attention_context")], "context_heads", perm=[0, 2, 1, 3]
    )
    context = g.node("Reshape", [context, merge], "context")
    attn = g.node("Add", [g.linear(context, "attention_output", hidden, hidden), x], "attention_residual")
    attn = layer_norm(g, attn, "attention_norm", hidden)
    inter = g.linear(attn, "intermediate", hidden, ffn)
    inter = gelu(g, inter, "intermediate_gelu")
    out = g.node("Add", [g.linear(inter, "output", ffn, hidden), attn], "output_residual")
    return g.save(layer_norm(g, out, "output_norm", hidden), path)


def layer_norm(g: GraphBuilder, x: str, name: str, width: int) -> str:
    return g.node(
        "LayerNormalization", [x, g.weight(f"{name}.weight", [width]), g.weight(f"{name}.bias", [width])], name, axis=-1
    )


def gelu(g: GraphBuilder, x: str, name: str) -> str:
    """GELU written with Erf, as opset-17 exports do: x * 0.5 * (1 + erf(x / sqrt 2))."""
    sqrt2 = g.const(f"{name}_sqrt2_value", [2.0**0.5], TensorProto.FLOAT)  # `{name}_half` is a node's output
    half = g.const(f"{name}_half_value", [0.5], TensorProto.FLOAT)
    one = g.const(f"{name}_one_value", [1.0], TensorProto.FLOAT)
    erf = g.node("Erf", [g.node("Div", [x, sqrt2], f"{name}_div")], f"{name}_erf")
    return g.node("Mul", [g.node("Mul", [x, half], f"{name}_half"), g.node("Add", [erf, one], f"{name}_add")], name)


MODELS: dict[str, Callable[[str | Path], Path]] = {
    "vgg16": build_vgg16,
    "mobilenetv2": build_mobilenetv2,
    "alexnet": build_alexnet,
    "bert_base_encoder": build_bert_base_encoder,
}


def write_spec(build: Callable[[str | Path], Path], json_path: str | Path) -> dict:
    """Build one model's ONNX graph in a temporary directory, extract its layers and write the spec JSON."""
    from dmz_solver.workload.export import export_spec
    from dmz_solver.workload.onnx_tvm import load_onnx

    with tempfile.TemporaryDirectory() as tmp:
        layers, _ignored = load_onnx(build(Path(tmp) / f"{Path(json_path).stem}.onnx"))
    spec = export_spec(layers)
    Path(json_path).write_text(json.dumps(spec, indent=2) + "\n")
    return spec


def main(out_dir: str | Path = ROOT / "models") -> None:
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for name, build in MODELS.items():
        spec = write_spec(build, Path(out_dir) / f"{name}.json")
        count = sum(len(layers) for layers in spec.values())
        print(f"{name}: {count} layers -> {Path(out_dir) / f'{name}.json'}")


if __name__ == "__main__":
    main(*sys.argv[1:])
