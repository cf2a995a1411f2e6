"""What a cached layer result answers: everything its solve depends on, hashed into the entry's name.

A layer's result depends only on the shape of its loop nest, the architecture's numbers, the
objective, the search, its knobs, the constraints and the time limit, and on the solver's own
code. The key hashes all of these (not the layer or arch *names*, so identical layers of
different models and identical arch points of a DSE share entries); the code enters as the
package version plus a hash of the package's source files, so an edited solver never reads
results of an older one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from ..arch import Arch
from ..loopnest import LoopNest
from ..problem import Knobs
from ..version import __version__

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
