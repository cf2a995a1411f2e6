"""Reading an ONNX model without its weights' values (workload/onnx_skim.py), and the front-end on weighted models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from onnx_models import build_resnet18_onnx

from dmz_solver.workload.onnx_skim import WEIGHT_ELEMENTS, SkimError, read_without_weights
from dmz_solver.workload.onnx_tvm import load_onnx


def _with_weights(shapes_only: Path, out: Path) -> Path:
    """The model with every weight input turned into an initializer holding random values (its image input kept)."""
    model = onnx.load(str(shapes_only))
    rng = np.random.default_rng(0)
    weights = [value for value in model.graph.input if value.name != "image"]
    for value in weights:
        dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
        values = rng.standard_normal(dims).astype(np.float32)
        model.graph.initializer.append(numpy_helper.from_array(values, value.name))
    for value in weights:
        model.graph.input.remove(value)
    onnx.save(model, str(out))
    return out


@pytest.fixture(scope="module")
def resnet18(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("skim")
    shapes_only = build_resnet18_onnx(folder / "resnet18.onnx")
    return shapes_only, _with_weights(shapes_only, folder / "resnet18_weights.onnx")


def test_large_initializers_lose_their_values_only_and_small_ones_are_untouched(resnet18) -> None:
    _, weighted = resnet18
    full, skimmed = onnx.load(str(weighted)), read_without_weights(weighted)
    assert skimmed.ByteSize() < full.ByteSize() / 100  # 11.7 M weights gone
    assert [n.SerializeToString() for n in skimmed.graph.node] == [n.SerializeToString() for n in full.graph.node]
    pairs = list(zip(full.graph.initializer, skimmed.graph.initializer, strict=True))
    assert any(int(np.prod(a.dims)) <= WEIGHT_ELEMENTS for a, _ in pairs)  # biases are kept whole
    for original, kept in pairs:
        assert (kept.name, list(kept.dims), kept.data_type) == (original.name, list(original.dims), original.data_type)
        if int(np.prod(original.dims)) <= WEIGHT_ELEMENTS:
            assert kept.SerializeToString() == original.SerializeToString()
        else:
            assert not kept.raw_data and not kept.float_data


def test_a_weighted_model_has_the_layers_of_its_shapes_only_twin(resnet18) -> None:
    shapes_only, weighted = resnet18
    assert load_onnx(weighted) == load_onnx(shapes_only)


@pytest.mark.parametrize("payload", [b"\x0f", b"\x3a\xff\xff\xff\xff\x0f", b"\x3a\x05\x2a"])
def test_malformed_wire_data_is_a_skim_error(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(payload)  # wire type 7; a graph longer than the file; a graph whose first field is cut short
    with pytest.raises(SkimError):
        read_without_weights(path)
