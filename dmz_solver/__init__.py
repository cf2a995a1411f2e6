"""dmz-solver: proven-optimal mappings of deep-learning loop nests onto dataflow accelerators.

`dmz_solver.solve(model, arch, objective="edp", constraints=None, ...)` solves a whole model
(see `dmz_solver.api.solve`); it is imported on first use, so `import dmz_solver` stays light.
"""

from __future__ import annotations

from typing import Any

from .version import __version__

__all__ = ["__version__", "solve"]


def __getattr__(name: str) -> Any:
    if name == "solve":
        from .api import solve  # start-up: `import dmz_solver` does not load numba, OR-Tools or TVM

        return solve
    raise AttributeError(f"module 'dmz_solver' has no attribute {name!r}")
