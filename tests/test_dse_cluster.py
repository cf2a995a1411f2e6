"""The Dask back-end of `dse`: a 2-worker LocalCluster gives the serial results (mappings, totals, Pareto flags),
also when a worker is killed mid-run; bad or unreachable schedulers are one line and exit status 2."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dmz_solver.arch import load_arch
from dmz_solver.cli import main
from dmz_solver.dse.cluster import DaskBackend, local_cluster
from dmz_solver.dse.run import Dse, DseProgress, write_csv
from dmz_solver.dse.sweep import arch_points, parse_sweep
from dmz_solver.dse.task import InProcess
from dmz_solver.workload.loader import load_model

ROOT = Path(__file__).resolve().parent.parent
SWEEPS = ["CGRA_SIZE=16,64", "RF_SIZE=64,512"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskBackend]:
    backend = local_cluster(2)
    try:
        yield backend
    finally:
        backend.close()


def tiny_dse() -> Dse:
    points = arch_points(load_arch("dmazerunner"), [parse_sweep(s) for s in SWEEPS])
    return Dse(load_model("tiny").layers, points, "edp")


@pytest.fixture(scope="module")
def serial() -> Dse:
    dse = tiny_dse()
    dse.solve(InProcess())
    return dse


def same_results(a: Dse, b: Dse) -> None:
    """Every layer's status, mapping and exact cost, and every point's totals and Pareto flag."""
    assert a.results.keys() == b.results.keys()
    for key, result in a.results.items():
        other = b.results[key]
        assert (result.status, result.mapping, result.cost, result.lower_bound) == (
            other.status,
            other.mapping,
            other.cost,
            other.lower_bound,
        )
    totals = [(p.params, p.cycles, p.energy_pj, p.status, p.pareto) for p in a.finish()]
    assert totals == [(p.params, p.cycles, p.energy_pj, p.status, p.pareto) for p in b.finish()]


def test_a_local_cluster_of_two_workers_gives_the_serial_results(cluster: DaskBackend, serial: Dse) -> None:
    dse = tiny_dse()
    dse.solve(cluster)
    assert cluster.workers == 2 and dse.solved == 20
    same_results(dse, serial)


def test_a_worker_killed_mid_run_has_its_tasks_solved_again(cluster: DaskBackend, serial: Dse) -> None:
    pids = cluster.client.run(os.getpid)
    before = set(pids)
    victim = max(pids.values())
    killed: list[int] = []

    def kill_one(state: DseProgress) -> None:
        if not killed:  # after the first point, with the other tasks queued or running on both workers
            os.kill(victim, signal.SIGKILL)
            killed.append(state.done)

    dse = tiny_dse()
    dse.solve(cluster, kill_one)
    assert killed == [1] and dse.done_points() == 4
    same_results(dse, serial)
    cluster.client.wait_for_workers(2, timeout=60)  # the nanny restarts the worker under a new address
    assert set(cluster.client.run(os.getpid)) != before


def test_dse_on_a_scheduler_writes_the_serial_csv(cluster: DaskBackend, serial: Dse, tmp_path: Path) -> None:
    address = cluster.client.scheduler.address
    argv = ["dse", "--model", "tiny", *(a for s in SWEEPS for a in ("--sweep", s)), "--no-cache"]
    assert main([*argv, "--out", str(tmp_path / "dask"), "--scheduler", address]) == 0
    write_csv(serial.finish(), ["CGRA_SIZE", "RF_SIZE"], tmp_path / "serial.csv")

    def table(path: Path) -> list[dict[str, str]]:
        with open(path, newline="") as handle:
            return [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(handle)]

    assert table(tmp_path / "dask" / "dse.csv") == table(tmp_path / "serial.csv")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once closed: nothing listens there


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("nonsense", "expected tcp://HOST:PORT, got 'nonsense'"),
        ("udp://127.0.0.1:8786", "expected tcp://HOST:PORT"),
        ("tcp://127.0.0.1:port", "expected tcp://HOST:PORT"),
        (
            "tcp://127.0.0.1:{closed}",
            "cannot reach the Dask scheduler at tcp://127.0.0.1:{closed} (Connection refused)",
        ),
    ],
)
def test_a_bad_or_unreachable_scheduler_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, address: str, says: str
) -> None:
    port = closed_port()
    address, says = address.format(closed=port), says.format(closed=port)
    out = tmp_path / "o"
    code = main(["dse", "--model", "tiny", "--sweep", SWEEPS[0], "--out", str(out), "--scheduler", address])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: --scheduler: ") and says in err
    assert not out.exists()


def test_a_port_where_no_scheduler_answers_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A listening socket that never speaks Dask: the handshake is bounded by --scheduler-timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        argv = ["dse", "--model", "tiny", "--sweep", SWEEPS[0], "--out", str(tmp_path / "o")]
        child = subprocess.run(  # a separate process: the stuck handshake's thread dies with it
            [sys.executable, "cli.py", *argv, "--scheduler", address, "--scheduler-timeout", "1"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert child.returncode == 2
    assert (
        child.stderr
        == f"error: --scheduler: cannot use the Dask scheduler at {address} (no Dask scheduler answered within 1 s)\n"
    )


def test_workers_and_scheduler_together_are_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    code = main(["dse", "--model", "tiny", "--sweep", SWEEPS[0], "--workers", "2", "--scheduler", "tcp://h:1"])
    assert code == 2 and "not allowed with argument" in capsys.readouterr().err
