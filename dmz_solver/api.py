"""The Python entry points: `dmz_solver.solve(model, arch, ...)` loads what it is given and solves every layer;
`dmz_solver.rerun(result_json)` solves again what a result file records."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .arch import Arch, arch_from_json, load_arch
from .cache import DEFAULT_CACHE_DIR
from .constraints import ConstraintSet, load_constraint_file, load_constraints
from .errors import InputError
from .loopnest import LoopNest
from .problem import Knobs
from .result import LayerResult, ModelResult, ModelSource, ProofProgress, RunRecord, file_sha256
from .solving import LayerRunner, check_search, solve_model
from .specio import MAX_RESULT_BYTES, Fields, json_text, read_json
from .vocabulary import OBJECTIVES
from .workload.loader import Model, load_model

ConstraintsArg = str | os.PathLike[str] | ConstraintSet | Sequence[str | os.PathLike[str]] | None
"""Constraint files: a preset name or a path, a list of them, or a loaded ConstraintSet."""


def solve(
    model: str | os.PathLike[str] | Model | Sequence[LoopNest] | LoopNest,
    arch: str | os.PathLike[str] | Arch | dict = "dmazerunner",
    objective: str = "edp",
    constraints: ConstraintsArg = None,
    *,
    layer: str | None = None,
    search: str = "cpsat",
    knobs: Knobs | Mapping[str, float | bool | int] | None = None,
    time_limit: float | None = None,
    workers: int | None = None,
    cache_dir: str | os.PathLike[str] | None = DEFAULT_CACHE_DIR,
    progress: Callable[[LayerResult], None] | None = None,
    unrestricted: bool = False,
) -> ModelResult:
    """Solve every layer of `model` (or only `layer`) on `arch` and return the ModelResult.

    `model` is a model spec JSON or .onnx path, a models/ name, a loaded Model, or loop nests;
    `arch` is an arch spec path, an archspecs/ name, an Arch, or a seed-layout arch dict;
    `constraints` are constraint files (names in constraints/ or paths, one or a list), added to the
    arch spec's; `knobs` are the seed's knobs, a Knobs or a dict of its fields. The other options are
    those of `solving.solve_model` (cache_dir=None disables the layer cache; unrestricted=True also
    solves every layer without knobs or constraint files). Bad input raises InputError.
    """
    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective {objective!r} (one of {', '.join(OBJECTIVES)})", field="objective")
    check_search(search)
    if time_limit is not None and not time_limit > 0:
        raise InputError(f"must be a positive number of seconds, got {time_limit!r}", field="time_limit")
    loaded = _as_model(model)
    if layer:
        find_layer(loaded, layer)  # before the arch is read, as the command line checks it
    the_arch = _as_arch(arch)
    plan = SolvePlan(
        loaded, layer, the_arch, objective, search, _as_knobs(knobs), constraint_set(the_arch, constraints), time_limit
    )
    result = plan.solve(progress=progress, workers=workers, cache_dir=cache_dir, unrestricted=unrestricted)
    return with_model(result, loaded, layer)


def find_layer(model: Model, name: str, *, field: str = "layer") -> LoopNest:
    """The layer of `model` called `name`; an InputError listing the layers if there is none (`field`: the
    argument that named it, `layer` in Python, `--layer` on the command line)."""
    for nest in model.layers:
        if nest.name == name:
            return nest
    known = ", ".join(n.name for n in model.layers)
    raise InputError(
        f"no layer named {name!r} in model {model.name} (layers: {known})", source=model.source, field=field
    )


def constraint_set(arch: Arch, constraints: ConstraintsArg) -> ConstraintSet | None:
    """The arch spec's constraint files and the given ones as one ConstraintSet (None if there are none)."""
    if isinstance(constraints, ConstraintSet):
        given = constraints
    elif constraints is None:
        given = ConstraintSet()
    elif isinstance(constraints, str | os.PathLike):
        given = load_constraints([os.fspath(constraints)])
    elif isinstance(constraints, Sequence) and all(isinstance(c, str | os.PathLike) for c in constraints):
        given = load_constraints([os.fspath(c) for c in constraints])
    else:
        raise InputError(
            f"expected a constraint file name or path, a list of them, or a ConstraintSet, got {constraints!r}",
            field="constraints",
        )
    merged = (load_constraints(list(arch.constraints)) if arch.constraints else ConstraintSet()) + given
    return merged if merged.files else None


def with_model(
    result: ModelResult, model: Model, layer: str | None, command: Sequence[str] | None = None
) -> ModelResult:
    """The result with the model file (and its SHA-256), the layer asked for and the command line recorded."""
    if result.record is None:
        return result
    source = ModelSource(model.name, model.source, file_sha256(model.source), layer)
    record = replace(result.record, model=source, command=None if command is None else tuple(command))
    return replace(result, record=record)


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


def _as_knobs(knobs: Knobs | Mapping[str, float | bool | int] | None) -> Knobs:
    if knobs is None or isinstance(knobs, Knobs):
        return knobs or Knobs()
    if isinstance(knobs, Mapping):
        return Knobs.from_json(dict(knobs), source="<knobs>", field="")
    names = ", ".join(f.name for f in fields(Knobs))
    raise InputError(f"expected a Knobs or a dict of {names}, got {knobs!r}", field="knobs")


# ----------------------------------------------------------------------------------------------------------------------
# Running a result file again


@dataclass(frozen=True)
class SolvePlan:
    """What to solve: a model (or one of its layers) on an arch, for an objective, with a search, knobs,
    constraint files and a time limit; from options, or from a result file's `inputs` (with the version that
    wrote it)."""

    model: Model
    layer: str | None
    arch: Arch
    objective: str
    search: str
    knobs: Knobs
    constraints: ConstraintSet | None
    time_limit: float | None
    version: str | None = None

    @property
    def layers(self) -> tuple[LoopNest, ...]:
        return (find_layer(self.model, self.layer),) if self.layer else self.model.layers

    @property
    def restrictions(self) -> tuple[str, ...]:
        return RunRecord(self.arch, self.objective, self.search, None, self.knobs, self.constraints).restrictions()

    def solve(
        self,
        *,
        progress: Callable[[LayerResult], None] | None = None,
        workers: int | None = None,
        cache_dir: str | os.PathLike[str] | None = DEFAULT_CACHE_DIR,
        unrestricted: bool = False,
        monitor: Callable[[LoopNest, ProofProgress], None] | None = None,
        runner: LayerRunner | None = None,
    ) -> ModelResult:
        """solve_model on this plan's layers, with the options that only say how the solve runs."""
        return solve_model(
            self.layers,
            self.arch,
            self.objective,
            model=self.model.name,
            search=self.search,
            knobs=self.knobs,
            time_limit=self.time_limit,
            constraints=self.constraints,
            progress=progress,
            workers=workers,
            cache_dir=cache_dir,
            unrestricted=unrestricted,
            monitor=monitor,
            runner=runner,
        )


def read_rerun(path: str | os.PathLike[str]) -> SolvePlan:
    """The inputs a result JSON records (docs/formats.md, "inputs"): the model file and constraint files must
    still be there with the recorded SHA-256; the arch is read from the record itself."""
    source = os.fspath(path)
    top = Fields(read_json(source, MAX_RESULT_BYTES), source, "")
    if "inputs" not in top.obj:
        raise top.error("inputs", "missing: not a result JSON of `solve --json`, or written by a version without it")
    inputs = top.child("inputs")
    model_field = inputs.child("model")
    model_path = _recorded_file(model_field, Path(source).parent)
    layer = model_field.obj.get("layer")
    if layer is not None and not isinstance(layer, str):
        raise model_field.error("layer", f"expected a layer name or null, got {json_text(layer)}")
    model = load_model(str(model_path))
    if layer is not None:
        find_layer(model, layer)
    objective = inputs.string("objective")
    if objective not in OBJECTIVES:
        raise inputs.error("objective", f"unknown objective {objective!r} (one of {', '.join(OBJECTIVES)})")
    search = inputs.string("search")
    try:
        check_search(search)
    except InputError as exc:
        raise inputs.error("search", exc.reason) from None
    time_limit = inputs.obj.get("time_limit")
    if time_limit is not None:
        time_limit = inputs.number("time_limit")
    return SolvePlan(
        model=model,
        layer=layer,
        arch=arch_from_json(inputs.obj.get("arch"), source=f"{source} (inputs.arch)", name="arch"),
        objective=objective,
        search=search,
        knobs=Knobs.from_json(inputs.obj.get("knobs", {}), source=source, field="inputs.knobs"),
        constraints=_recorded_constraints(inputs, Path(source).parent),
        time_limit=time_limit,
        version=str(inputs.obj.get("version", "")),
    )


def rerun(
    path: str | os.PathLike[str],
    *,
    workers: int | None = None,
    cache_dir: str | os.PathLike[str] | None = DEFAULT_CACHE_DIR,
    progress: Callable[[LayerResult], None] | None = None,
) -> ModelResult:
    """Solve again what the result JSON at `path` records (model, layer, arch, objective, search, knobs,
    constraint files, time limit); the files it names must be unchanged."""
    given = read_rerun(path)
    result = given.solve(progress=progress, workers=workers, cache_dir=cache_dir)
    return with_model(result, given.model, given.layer)


def _recorded_file(entry: Fields, beside: Path) -> Path:
    """A file a record names (`path`), found as written or beside the result file, with the recorded SHA-256."""
    written = Path(entry.string("path"))
    recorded = entry.obj.get("sha256")
    if not isinstance(recorded, str):
        raise entry.error("sha256", "no fingerprint recorded (the model was not read from a file): cannot rerun")
    path = written if written.exists() or written.is_absolute() else beside / written
    now = file_sha256(path)
    if now is None:
        raise entry.error("path", f"cannot read {str(written)!r}, which the result was computed from")
    if now != recorded:
        raise entry.error(
            "sha256",
            f"{str(written)!r} changed since the result was written (SHA-256 {now[:12]}..., "
            f"recorded {recorded[:12]}...)",
        )
    return path


def _recorded_constraints(inputs: Fields, beside: Path) -> ConstraintSet | None:
    """The constraint files a record lists, each checked against its recorded SHA-256."""
    listed = inputs.obj.get("constraints", [])
    if not isinstance(listed, list):
        raise inputs.error("constraints", "expected a list of {name, path, sha256}")
    files = []
    for i, item in enumerate(listed):
        entry = Fields(item, inputs.source, f"inputs.constraints[{i}]")
        files.append(load_constraint_file(_recorded_file(entry, beside)))
    return ConstraintSet(tuple(files)) if files else None
