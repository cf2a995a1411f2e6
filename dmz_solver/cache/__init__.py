"""On-disk cache of solved layers: one JSON file per (loop nest, arch, objective, search, options, code) key.

A layer's result depends only on the shape of its loop nest, the architecture's numbers, the
objective, the search, its knobs, the constraints and the time limit, and on the solver's own
code. The key hashes all of these (not the layer or arch *names*, so identical layers of
different models and identical arch points of a DSE share entries); the code enters as the
package version plus a hash of the package's source files, so an edited solver never reads
results of an older one. Floats are stored by `repr`, so a cached result round-trips exactly.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..arch import Arch
from ..cost.evaluate import Cost
from ..loopnest import LoopNest
from ..problem import Knobs
from ..problem.mapping import Mapping
from ..result import LayerResult, Proof
from ..version import __version__
from ..vocabulary import Objective, Status

DEFAULT_CACHE_DIR = ".dmz-cache"
PACKAGE_DIR = Path(__file__).resolve().parent.parent
NOT_SOLVER = ("cli", "api.py", "report", "dse")
"""Package parts that only present results: editing them does not invalidate cached solves."""


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Package version plus a hash of the source files of the solver (all but NOT_SOLVER)."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if path.relative_to(PACKAGE_DIR).parts[0] in NOT_SOLVER:
            continue
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode())
        digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:16]}"


@dataclass(frozen=True)
class SolveKey:
    """Everything a layer's solve depends on; `digest` names its cache file."""

    nest: LoopNest
    arch: Arch
    objective: str
    search: str
    knobs: Knobs | None
    constraints_fingerprint: str
    time_limit: float | None

    @property
    def digest(self) -> str:
        shape = replace(self.nest, name="", instances=1)  # names and instance counts do not change a solve
        parts = [
            repr(shape),
            repr(replace(self.arch, name="")),
            self.objective,
            self.search,
            repr(self.knobs),
            self.constraints_fingerprint,
            repr(self.time_limit),
            code_fingerprint(),
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class LayerCache:
    """A directory of cached layer results."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def _path(self, key: SolveKey) -> Path:
        digest = key.digest
        return self.directory / digest[:2] / f"{digest}.json"

    def get(self, key: SolveKey) -> LayerResult | None:
        """The cached result for `key` (attached to the key's nest), or None on a miss or an unreadable entry."""
        try:
            data = json.loads(self._path(key).read_text())
            return replace(result_from_json(data, key.nest), cached=True)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: SolveKey, result: LayerResult) -> None:
        """Store a result atomically (write a temporary file, then rename), so parallel writers never clash."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            with os.fdopen(fd, "w") as handle:
                json.dump(result_to_json(result), handle)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def result_to_json(result: LayerResult) -> dict[str, Any]:
    """The exact content of a layer result, without its nest (the key holds the nest)."""
    mapping = result.mapping
    cost = result.cost
    return {
        "objective": result.objective,
        "status": result.status,
        "mapping": None
        if mapping is None
        else {
            "loops": list(mapping.loops),
            "factors": [list(row) for row in mapping.factors],
            "dram_order": None if mapping.dram_order is None else list(mapping.dram_order),
            "spm_order": None if mapping.spm_order is None else list(mapping.spm_order),
            "spatial_rows": None if mapping.spatial_rows is None else list(mapping.spatial_rows),
        },
        "cost": None
        if cost is None
        else {"energy_pj": cost.energy_pj, "cycles": cost.cycles, "breakdown_pj": list(cost.breakdown_pj)},
        "lower_bound": result.lower_bound,
        "seconds": result.seconds,
        "search": result.search,
        "tilings_evaluated": result.tilings_evaluated,
        "proof": None if result.proof is None else result.proof.to_json(result.value),
    }


def result_from_json(data: dict[str, Any], nest: LoopNest) -> LayerResult:
    """Inverse of result_to_json for the given nest."""
    m = data["mapping"]
    mapping = None
    if m is not None:
        mapping = Mapping(
            tuple(m["loops"]),
            tuple(tuple(int(f) for f in row) for row in m["factors"]),
            None if m["dram_order"] is None else tuple(m["dram_order"]),
            None if m["spm_order"] is None else tuple(m["spm_order"]),
            None if m.get("spatial_rows") is None else tuple(m["spatial_rows"]),
        )
    c = data["cost"]
    cost = None if c is None else Cost(float(c["energy_pj"]), float(c["cycles"]), tuple(map(float, c["breakdown_pj"])))
    return LayerResult(
        nest,
        Objective(data["objective"]),
        Status(data["status"]),
        mapping,
        cost,
        float(data["lower_bound"]),
        float(data["seconds"]),
        data["search"],
        int(data["tilings_evaluated"]),
        proof=Proof.from_json(data.get("proof")),
    )
