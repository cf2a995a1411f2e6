"""The unit of work of a DSE: one distinct layer at one arch point, and the back-end that runs tasks in-process.

A back-end's `run(tasks)` yields (task, result) as each task finishes, in the calling process, so that the
caller stores each result as it comes back. `InProcess` solves them one after another; `cluster.DaskBackend`
spreads them over a Dask cluster. `layer_runner` puts a whole-model solve (`solve --scheduler`) on a back-end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..arch import Arch
from ..cache import SolveKey, code_fingerprint
from ..constraints.parse import ConstraintSet
from ..errors import InputError
from ..jit import limit_threads
from ..loopnest import LoopNest
from ..problem import Knobs
from ..result import LayerResult
from ..solving import LayerRunner, solve_layer

SCHEDULER_TIMEOUT = 10.0
"""Default seconds to reach a Dask scheduler (`--scheduler-timeout` of `dse` and `solve`)."""


@dataclass(frozen=True)
class Task:
    """One layer solve of a DSE: a distinct layer at an arch point, named by its solve key's digest (pairs of
    the DSE with the same key share one task)."""

    key: str
    nest: LoopNest
    arch: Arch
    objective: str
    constraints: ConstraintSet | None
    time_limit: float | None = None
    """Seconds for the layer's search (the command line's default: 600)."""
    search: str = "cpsat"
    knobs: Knobs | None = None


def solve_task(task: Task, code: str, threads: int | None = None) -> LayerResult:
    """Solve one task with the default search; `code` is the client's code fingerprint, which must be ours.

    `threads` limits numba's threads in the calling thread (a Dask worker's task thread: processes x threads
    stays at the core count).
    """
    if code != code_fingerprint():
        raise InputError(
            f"a worker runs another dmz-solver (code {code_fingerprint()}, the client's is {code}); "
            "install the same version on every worker",
            field="--scheduler",
        )
    if threads is not None:
        limit_threads(threads)
    return solve_layer(
        task.nest,
        task.arch,
        task.objective,
        search=task.search,
        knobs=task.knobs,
        constraints=task.constraints,
        time_limit=task.time_limit,
    )


def layer_runner(start: Callable[[], Backend]) -> LayerRunner:
    """A `solve_model` runner that solves a model's layers as tasks on the back-end `start()` gives (called once,
    when there is a layer to solve): one task per distinct solve key, results as they come back."""

    def run(
        nests: Sequence[LoopNest], arch: Arch, objective: str, options: dict[str, Any]
    ) -> Iterator[tuple[int, LayerResult]]:
        constraints, limit, search, knobs = (options[k] for k in ("constraints", "time_limit", "search", "knobs"))
        fingerprint = constraints.fingerprint if constraints else ""
        tasks: dict[str, Task] = {}
        answers: dict[str, list[int]] = {}  # layers of the same shape and options share one task
        for index, nest in enumerate(nests):
            key = SolveKey(nest, arch, objective, search, knobs, fingerprint, limit).digest
            tasks.setdefault(key, Task(key, nest, arch, objective, constraints, limit, search, knobs))
            answers.setdefault(key, []).append(index)
        for task, result in start().run(tasks.values()):
            for index in answers[task.key]:
                yield index, result

    return run


class Backend(Protocol):
    """What runs the tasks of a DSE."""

    @property
    def workers(self) -> int:
        """How many tasks run at once (0 on a cluster whose workers have not joined yet)."""
        ...

    def warm(self, task: Task) -> None:
        """Make every worker ready to solve (the compiled kernels loaded), using `task` as a first solve."""
        ...

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, LayerResult]]: ...

    def close(self) -> None: ...


class InProcess:
    """Solve the tasks one after another in this process (the default back-end)."""

    workers = 1

    def warm(self, task: Task) -> None:
        pass  # the first solve loads the kernels, as any solve in this process would

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, LayerResult]]:
        code = code_fingerprint()
        for task in tasks:
            yield task, solve_task(task, code)

    def close(self) -> None:
        pass
