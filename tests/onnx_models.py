"""Shape-only ONNX models for tests: the GraphBuilder of models/generate.py and a ResNet-18 built with it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_GENERATE = Path(__file__).resolve().parent.parent / "models" / "generate.py"


def _load_generate():
    """models/ is not a package: load generate.py by path, once."""
    name = "dmz_models_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, _GENERATE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


generate = _load_generate()
GraphBuilder = generate.GraphBuilder


def build_resnet18_onnx(path: str | Path) -> Path:
    """ResNet-18 (He et al. 2016) on a 224x224 image: 7x7/2 stem, max pool, 4 stages of 2 basic blocks, FC 1000."""
    g = GraphBuilder("resnet18")
    x = g.input("image", [1, 3, 224, 224])
    x = g.relu(g.conv(x, "conv1", 3, 64, 7, stride=2, pad=3), "relu1")
    x, c_in = g.maxpool(x, "maxpool", 3, 2, pad=1), 64
    for stage, width in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            name = f"layer{stage}.{block}"
            stride = 2 if stage > 1 and block == 0 else 1
            y = g.relu(g.conv(x, f"{name}.conv1", c_in, width, 3, stride=stride, pad=1), f"{name}.relu1")
            y = g.conv(y, f"{name}.conv2", width, width, 3, pad=1)
            shortcut = x
            if stride != 1 or c_in != width:
                shortcut = g.conv(x, f"{name}.downsample", c_in, width, 1, stride=stride)
            x = g.relu(g.node("Add", [y, shortcut], f"{name}.add"), f"{name}.relu2")
            c_in = width
    x = g.global_avgpool_flat(x, "flatten")
    return g.save(g.gemm(x, "fc", 512, 1000), path)
