"""dmz-solver: proven-optimal mappings of deep-learning loop nests onto dataflow accelerators.

    import dmz_solver
    result = dmz_solver.solve("resnet18", "eyeriss", "edp", constraints=["rs_array"])
    result.layer("ResNet18_CONV_2_1a").cost.breakdown_pj.DRAM

`solve` solves a whole model (`dmz_solver.api.solve`), `rerun` solves again what a result JSON records,
`load_model`, `load_arch` and `load_constraints` read the inputs, `Knobs` holds the seed's knobs, and a
`ModelResult` holds one `LayerResult` per layer. Everything but the exception and the vocabulary is
imported on first use, so `import dmz_solver` stays light (no numba, OR-Tools or TVM).
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import InputError
from .version import __version__
from .vocabulary import Objective, Status

_LAZY: dict[str, str] = {
    "solve": "api",
    "rerun": "api",
    "load_model": "workload.loader",
    "load_arch": "arch",
    "load_constraints": "constraints",
    "Knobs": "problem.knobs",
    "Model": "workload.loader",
    "Arch": "arch",
    "LoopNest": "loopnest",
    "Mapping": "problem.mapping",
    "Cost": "cost.evaluate",
    "LayerResult": "result",
    "ModelResult": "result",
}
"""Public name -> the module (in this package) that defines it, imported when the name is first used."""

__all__ = ["InputError", "Objective", "Status", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        # start-up: the solver stack (numba, OR-Tools, sympy) loads only when a public name is used
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dmz_solver' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
