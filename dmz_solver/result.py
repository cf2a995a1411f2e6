"""Results of solving layers and models, and their JSON form (docs/formats.md, "Result")."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .cost.evaluate import Cost
from .loopnest import LoopNest
from .problem.mapping import Mapping
from .vocabulary import Objective, Status


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
        return out


@dataclass(frozen=True)
class ModelResult:
    """All layers of a model; totals count each layer `instances` times."""

    model: str
    arch: str
    objective: str
    layers: tuple[LayerResult, ...]
    seconds: float

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
        return {
            "model": self.model,
            "arch": self.arch,
            "objective": self.objective,
            "layers": [r.to_json() for r in self.layers],
            "total": self.totals(),
        }
