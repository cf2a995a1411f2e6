"""Results of solving layers and models, what each run read, and their JSON form (docs/formats.md, "Result")."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .arch import Arch
from .constraints import ConstraintSet
from .cost.evaluate import Cost, check_figure
from .errors import InputError
from .loopnest import LoopNest
from .problem import Knobs
from .problem.mapping import Mapping
from .specio import file_digest
from .version import __version__
from .vocabulary import Objective, Status, relative_gap


class ProofProgress(NamedTuple):
    """Where a running proof stands: seconds since it started, the best value found (inf before any) and the
    proven lower bound."""

    seconds: float
    incumbent: float
    bound: float


Monitor = Callable[[ProofProgress], None]
"""Called by a search as its proof advances, in the solving process (searches without a proof never call it)."""


@dataclass(frozen=True)
class Proof:
    """How the branch and bound reached its result: the supplier's bound and the work of each phase."""

    root_bound: float | None
    """The lower bound the supplier (CP-SAT) proved before the branch and bound (None: it proved none)."""
    candidates_rescored: int
    tilings_evaluated: int
    pruned: int
    rounds: int
    """Rising-cutoff rounds of the branch and bound."""
    seconds: dict[str, float]
    """Wall seconds per phase: "tables" (the enumeration's layer tables), "cpsat" (the supplier), "rescore" (its
    candidates), "seed" (the most promising tasks), "branch_and_bound", "evaluate" (the reported mapping)."""

    def root_gap(self, value: float) -> float | None:
        """How far the root bound lies below `value`, as a fraction of it."""
        if self.root_bound is None or not math.isfinite(value) or value <= 0:
            return None
        return max(0.0, (value - self.root_bound) / value)

    def to_json(self, value: float) -> dict:
        return {
            "root_bound": self.root_bound,
            "root_gap": self.root_gap(value),
            "candidates_rescored": self.candidates_rescored,
            "tilings_evaluated": self.tilings_evaluated,
            "pruned": self.pruned,
            "rounds": self.rounds,
            "seconds": dict(self.seconds),
        }

    @classmethod
    def from_json(cls, data: dict | None) -> Proof | None:
        if data is None:
            return None
        root = data["root_bound"]
        return cls(
            None if root is None else float(root),
            int(data["candidates_rescored"]),
            int(data["tilings_evaluated"]),
            int(data["pruned"]),
            int(data["rounds"]),
            {phase: float(s) for phase, s in data["seconds"].items()},
        )


@dataclass(frozen=True)
class Unrestricted:
    """The same layer solved without knobs or constraint files (on request): what the restrictions cost."""

    status: Status
    value: float
    """The best value found over the whole space (infinite: none found)."""
    lower_bound: float
    """A proven lower bound over the whole space; equals `value` when `status` is OPTIMAL."""

    def to_json(self, value: float) -> dict:
        """With `gap`: how far the restricted `value` lies above the whole space's bound, as a fraction of it."""
        gap = relative_gap(value, self.lower_bound)
        return {"status": self.status, "value": self.value, "lower_bound": self.lower_bound, "gap": gap}


@dataclass(frozen=True)
class LayerResult:
    """The best mapping found for one layer, its exact cost, and what is proven about it."""

    nest: LoopNest
    objective: Objective
    status: Status
    mapping: Mapping | None
    cost: Cost | None
    lower_bound: float
    seconds: float
    search: str
    tilings_evaluated: int = 0
    cached: bool = False
    """True when the result was read from the layer cache rather than solved in this run."""
    proof: Proof | None = None
    """How a branch and bound reached the result (None for the other searches)."""
    reason: str | None = None
    """Why an INFEASIBLE layer has no mapping (the conflicting constraints, the knobs, the arch)."""
    unrestricted: Unrestricted | None = None
    """The whole space's optimum and bound, when asked for (`solve_model(..., unrestricted=True)`)."""

    def __post_init__(self) -> None:
        check_figure("lower bound", self.lower_bound, infinite_ok=True)  # the Cost checks its own figures

    def __repr__(self) -> str:
        if self.cost is None:
            return f"LayerResult({self.nest.name}: {self.status}, {self.reason or 'no mapping'})"
        return (
            f"LayerResult({self.nest.name}: {self.status}, {self.objective} {self.value:.4E}, "
            f"cycles {int(self.cost.cycles)}, energy {int(self.cost.energy_pj)} pJ, gap {100 * self.gap:.2f}%, "
            f"search {self.search})"
        )

    @property
    def value(self) -> float:
        return self.cost.value(self.objective) if self.cost else float("inf")

    @property
    def gap(self) -> float:
        if self.cost is None:
            return float("inf")
        value = self.value
        return max(0.0, (value - self.lower_bound) / value) if value else 0.0

    def to_json(self) -> dict:
        out: dict = {
            "name": self.nest.name,
            "op": self.nest.op,
            "dims": self.nest.dims_summary(),
            "instances": self.nest.instances,
            "status": self.status,
            "search": self.search,
        }
        if self.cost is not None and self.mapping is not None:
            out["mapping"] = self.mapping.to_json()
            out.update(self.cost.to_json())
        out["lower_bound"] = self.lower_bound
        out["gap"] = self.gap
        out["tilings_evaluated"] = self.tilings_evaluated
        out["seconds"] = round(self.seconds, 4)
        out["cached"] = self.cached
        if self.proof is not None:
            out["proof"] = self.proof.to_json(self.value)
        if self.reason is not None:
            out["reason"] = self.reason
        if self.unrestricted is not None:
            out["unrestricted"] = self.unrestricted.to_json(self.value)
        return out


def _shown(path: str) -> str:
    """A path as a user would write it: relative to the working directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def file_sha256(path: str | Path) -> str | None:
    """The SHA-256 of a file's bytes (None if there is no such file: a model given as loop nests); a device, FIFO
    or oversized file is an InputError, never read."""
    if not os.path.lexists(path):
        return None
    return file_digest(path)


@dataclass(frozen=True)
class ModelSource:
    """The model a run read: its name, the file and its SHA-256, and the one layer asked for (None: all)."""

    name: str
    path: str
    sha256: str | None
    layer: str | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "path": self.path, "sha256": self.sha256, "layer": self.layer}


@dataclass(frozen=True)
class RunRecord:
    """What a run read and how it ran: enough to run it again (docs/formats.md, "inputs").

    `arch` is the architecture as read, written in full; `constraints` holds every constraint file in force (the
    arch spec's and the user's), each with its SHA-256; `model` and `command` are filled in by the caller that
    knows them (the API, the command line).
    """

    arch: Arch
    objective: str | None = None
    search: str | None = None
    time_limit: float | None = None
    knobs: Knobs = Knobs()
    constraints: ConstraintSet | None = None
    model: ModelSource | None = None
    command: tuple[str, ...] | None = None
    version: str = __version__

    def restrictions(self) -> tuple[str, ...]:
        """What narrows the mapping space, in words: each knob set and each constraint file."""
        files = self.constraints.files if self.constraints else ()
        knobs = ("the knobs of the seed's --auto-optimize schedule",) if self.search == "auto" else ()
        return (knobs or self.knobs.restrictions()) + tuple(f"constraints {f.name} ({_shown(f.path)})" for f in files)

    def to_json(self) -> dict:
        files = self.constraints.files if self.constraints else ()
        return {
            "tool": "dmz-solver",
            "version": self.version,
            "command": None if self.command is None else list(self.command),
            "model": None if self.model is None else self.model.to_json(),
            "arch": self.arch.to_json(),
            "objective": self.objective,
            "search": self.search,
            "time_limit": self.time_limit,
            "knobs": self.knobs.to_json(),
            "constraints": [{"name": f.name, "path": f.path, "sha256": f.digest} for f in files],
        }


@dataclass(frozen=True)
class ModelResult:
    """All layers of a model; totals count each layer `instances` times."""

    model: str
    arch: str
    objective: str
    layers: tuple[LayerResult, ...]
    seconds: float
    record: RunRecord | None = None
    """What the run read and how it ran (the JSON's `inputs`); None for results built by hand."""

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for r in self.layers:
            counts[r.status] = counts.get(r.status, 0) + 1
        statuses = ", ".join(f"{n} {status}" for status, n in counts.items())
        totals = self.totals()
        return (
            f"ModelResult({self.model} on {self.arch}: {len(self.layers)} layers ({statuses}), "
            f"total {self.objective} {Objective(self.objective).of(totals['energy_pj'], totals['cycles']):.4E}, "
            f"cycles {totals['cycles']}, energy {totals['energy_pj']:.4E} pJ)"
        )

    def layer(self, name: str) -> LayerResult:
        """The result of the layer called `name`."""
        for r in self.layers:
            if r.nest.name == name:
                return r
        known = ", ".join(r.nest.name for r in self.layers)
        raise InputError(f"no layer named {name!r} in the result of {self.model} (layers: {known})", field="layer")

    @property
    def restrictions(self) -> tuple[str, ...]:
        """The knobs and constraint files that narrowed the space (empty: the whole space was searched)."""
        return self.record.restrictions() if self.record else ()

    def totals(self) -> dict:
        solved = [r for r in self.layers if r.cost is not None]
        cycles = sum(r.nest.instances * r.cost.cycles for r in solved)
        energy = sum(r.nest.instances * r.cost.energy_pj for r in solved)
        return {
            "cycles": int(cycles),
            "energy_pj": energy,
            "edp": energy * cycles,
            "layers": sum(r.nest.instances for r in self.layers),
            "unique_layers": len(self.layers),
            "all_optimal": all(r.status == Status.OPTIMAL for r in self.layers),
            "seconds": round(self.seconds, 4),
        }

    def to_json(self) -> dict:
        out = {
            "model": self.model,
            "arch": self.arch,
            "objective": self.objective,
            "restrictions": list(self.restrictions),
            "layers": [r.to_json() for r in self.layers],
            "total": self.totals(),
        }
        if self.record is not None:
            out["inputs"] = self.record.to_json()
        return out
