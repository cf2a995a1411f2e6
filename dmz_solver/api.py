"""The Python entry point: `dmz_solver.solve(model, arch, ...)` loads what it is given and solves every layer."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from .arch import Arch, arch_from_json, load_arch
from .cache import DEFAULT_CACHE_DIR
from .errors import InputError
from .loopnest import LoopNest
from .problem import Knobs
from .result import LayerResult, ModelResult
from .solving import solve_model
from .vocabulary import OBJECTIVES
from .workload.loader import Model, load_model


def solve(
    model: str | os.PathLike[str] | Model | Sequence[LoopNest] | LoopNest,
    arch: str | os.PathLike[str] | Arch | dict = "dmazerunner",
    objective: str = "edp",
    constraints: object | None = None,
    *,
    layer: str | None = None,
    search: str = "cpsat",
    knobs: Knobs | None = None,
    time_limit: float | None = None,
    workers: int | None = None,
    cache_dir: str | os.PathLike[str] | None = DEFAULT_CACHE_DIR,
    progress: Callable[[LayerResult], None] | None = None,
) -> ModelResult:
    """Solve every layer of `model` (or only `layer`) on `arch` and return the ModelResult.

    `model` is a model spec JSON or .onnx path, a models/ name, a loaded Model, or loop nests;
    `arch` is an arch spec path, an archspecs/ name, an Arch, or a seed-layout arch dict. The
    other options are those of `solving.solve_model` (cache_dir=None disables the layer cache).
    """
    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective {objective!r} (one of {', '.join(OBJECTIVES)})", field="objective")
    loaded = _as_model(model)
    layers = (loaded.layer(layer),) if layer else loaded.layers
    return solve_model(
        layers,
        _as_arch(arch),
        objective,
        model=loaded.name,
        search=search,
        knobs=knobs,
        time_limit=time_limit,
        progress=progress,
        workers=workers,
        cache_dir=cache_dir,
        constraints=constraints,
    )


def _as_model(model: str | os.PathLike[str] | Model | Sequence[LoopNest] | LoopNest) -> Model:
    if isinstance(model, Model):
        return model
    if isinstance(model, str | os.PathLike):
        return load_model(os.fspath(model))
    nests = (model,) if isinstance(model, LoopNest) else tuple(model)
    if not all(isinstance(n, LoopNest) for n in nests):
        raise TypeError("model must be a path, a models/ name, a Model, or LoopNest objects")
    return Model("model", "<loop nests>", nests)


def _as_arch(arch: str | os.PathLike[str] | Arch | dict) -> Arch:
    if isinstance(arch, Arch):
        return arch
    if isinstance(arch, dict):
        return arch_from_json(arch, source="<arch dict>", name=str(arch.get("name", "arch")))
    if isinstance(arch, str | os.PathLike):
        return load_arch(os.fspath(arch))
    raise TypeError("arch must be a path, an archspecs/ name, an Arch, or an arch spec dict")
