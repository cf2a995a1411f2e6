"""Results of solving layers and models, and their JSON form (docs/formats.md, "Result")."""

from __future__ import annotations

from dataclasses import dataclass

from .cost.evaluate import Cost
from .loopnest import LoopNest
from .problem.mapping import Mapping
from .vocabulary import Objective, Status


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
