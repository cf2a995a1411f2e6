"""Load a model by file or by name: seed JSON specs and ONNX files become lists of loop nests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..loopnest import LoopNest
from ..specio import resolve_named_file
from .spec_json import MODEL_DIR, load_spec


@dataclass(frozen=True)
class Model:
    """The layers of a model (identical layers merged, counted by `instances`) and what was ignored."""

    name: str
    source: str
    layers: tuple[LoopNest, ...]
    ignored: tuple[str, ...] = ()

    def layer(self, name: str) -> LoopNest:
        for nest in self.layers:
            if nest.name == name:
                return nest
        known = ", ".join(n.name for n in self.layers)
        raise InputError(f"no layer named {name!r} (layers: {known})", source=self.source, field="--layer")


def resolve_model_path(spec: str) -> Path:
    """A model argument is a .json or .onnx path, or the bare name of a spec in models/."""
    return resolve_named_file(spec, MODEL_DIR, "model", (".json",))


def load_model(spec: str) -> Model:
    """Read a model spec JSON or an ONNX model (through TVM)."""
    path = resolve_model_path(spec)
    if path.suffix == ".onnx":
        from .onnx_tvm import load_onnx  # TVM is imported only when an ONNX model is read

        layers, ignored = load_onnx(path)
        return Model(path.stem, str(path), tuple(layers), tuple(ignored))
    return Model(path.stem, str(path), tuple(load_spec(path)))
