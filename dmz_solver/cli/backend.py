"""Where `dse` and `solve` run their layer solves: in this process, or on a Dask cluster (`--scheduler`, or a
LocalCluster the command starts). A scheduler is reached at once, so that a bad or unreachable address fails
before anything is solved; a LocalCluster is started only when there is something to solve."""

from __future__ import annotations

import argparse
from types import ModuleType

from ..dse.task import SCHEDULER_TIMEOUT, Backend, InProcess
from .common import positive_float


def add_scheduler_timeout(parser: argparse.ArgumentParser) -> None:
    """The --scheduler-timeout option of the commands that take --scheduler."""
    parser.add_argument(
        "--scheduler-timeout",
        type=positive_float,
        default=SCHEDULER_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to try reaching --scheduler (default: {SCHEDULER_TIMEOUT:g})",
    )


class BackendStarter:
    """Starts the back-end when there is something to solve, and closes it."""

    def __init__(self, scheduler: str | None, timeout: float, local_workers: int | None) -> None:
        """`scheduler`: the address of a running Dask scheduler; else `local_workers`: the worker processes of a
        LocalCluster; neither: solve in this process."""
        self.backend: Backend | None = None
        self.local_workers = local_workers
        self.cluster: ModuleType | None = None
        if scheduler is None and local_workers is None:
            return
        from ..dse import cluster  # start-up: Dask is loaded only for a solve on a cluster

        self.cluster = cluster
        if scheduler is not None:
            self.backend = cluster.connect(scheduler, timeout)

    @property
    def distributed(self) -> bool:
        """Whether the solves go to a Dask cluster."""
        return self.cluster is not None

    def start(self) -> Backend:
        if self.backend is None:
            if self.cluster is None:
                self.backend = InProcess()
            else:
                assert self.local_workers is not None
                self.backend = self.cluster.local_cluster(self.local_workers)
        return self.backend

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()
