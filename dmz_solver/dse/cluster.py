"""The Dask back-end of a DSE: tasks spread over a LocalCluster (`dse --workers N`) or an existing cluster
(`dse --scheduler tcp://HOST:PORT`), results taken back as they finish.

Only a DSE on a cluster imports this module (and Dask).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from distributed import Client, LocalCluster, WorkerPlugin, as_completed

from ..cache import code_fingerprint
from ..errors import InputError
from ..result import LayerResult
from .task import SCHEDULER_TIMEOUT, Task, solve_task

RETRIES = 2
"""Times Dask runs a task again after it raised. A task whose worker died is rescheduled by Dask itself (up to
its `distributed.scheduler.allowed-failures`, 3 by default)."""


class WarmWorker(WorkerPlugin):
    """On each worker as it starts (and on one that joins or is restarted later): solve one small layer, so
    that numba's kernels are loaded from its cache once per worker rather than inside a task."""

    name = "dmz-warm"

    def __init__(self, task: Task, code: str) -> None:
        self.task = task
        self.code = code

    def setup(self, worker: Any) -> None:
        solve_task(self.task, self.code, threads=1)


class DaskBackend:
    """Tasks spread over the workers of a Dask cluster; results come back as they finish (`as_completed`)."""

    def __init__(self, client: Client, cluster: LocalCluster | None = None, threads: int = 1) -> None:
        self.client = client
        self.cluster = cluster  # a LocalCluster this back-end started (closed with it), or None
        self.threads = threads
        """numba threads of each task (1: a worker process per core keeps processes x threads at the cores)."""

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def warm(self, task: Task) -> None:
        """Load the compiled kernels once on every worker, now and on any worker that joins later."""
        self.client.register_plugin(WarmWorker(task, code_fingerprint()))

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, LayerResult]]:
        code = code_fingerprint()
        futures = {}
        for task in tasks:
            key = f"dmz-solve-{task.key}"
            future = self.client.submit(solve_task, task, code, self.threads, key=key, retries=RETRIES)
            futures[future] = task
        try:
            for future, result in as_completed(futures, loop=self.client.loop, with_results=True):
                yield futures[future], result
        finally:
            self.client.cancel(list(futures))  # nothing of this DSE is left running (no-op when all finished)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def local_cluster(workers: int, threads: int = 1) -> DaskBackend:
    """A LocalCluster of `workers` processes with one Dask thread each, each task on `threads` numba threads, and
    a client of it."""
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # its HTTP server on a free port: no clash, no warning
        silence_logs=logging.CRITICAL,  # a worker stopping with the cluster logs noise; failures reach the client
    )
    try:
        return DaskBackend(Client(cluster, set_as_default=False), cluster, threads)
    except BaseException:
        cluster.close()
        raise


def connect(address: str, timeout: float = SCHEDULER_TIMEOUT) -> DaskBackend:
    """A client of the scheduler at `address` (`tcp://HOST:PORT`, `tls://HOST:PORT` or `HOST:PORT`); an
    InputError if the address is malformed or no scheduler answers there within `timeout` seconds."""
    host, port = _host_port(address)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
        raise InputError(f"cannot reach the Dask scheduler at {address} ({why})", field="--scheduler") from None
    return DaskBackend(_client_within(address, timeout))


def _host_port(address: str) -> tuple[str, int]:
    """HOST and PORT of a scheduler address; InputError for another scheme or a malformed address."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        port = None
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise InputError(f"expected tcp://HOST:PORT, got {address!r}", field="--scheduler")
    return parts.hostname, port


def _client_within(address: str, timeout: float) -> Client:
    """A Dask client of `address`, or an InputError when no scheduler answers within `timeout` seconds (a port
    that accepts connections but never answers would otherwise hang the handshake, whatever its timeout)."""
    box: dict[str, Any] = {}

    def make() -> None:
        try:
            box["client"] = Client(address, timeout=timeout, set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - reported by the calling thread
            box["error"] = exc

    thread = threading.Thread(target=make, name="dmz-dask-connect", daemon=True)
    thread.start()
    thread.join(2 * timeout + 1)  # the client's own timeout covers the connection, not a silent peer
    if "client" in box:
        return box["client"]
    why = box.get("error", f"no Dask scheduler answered within {timeout:g} s")
    raise InputError(f"cannot use the Dask scheduler at {address} ({why})", field="--scheduler")
