"""The Dask back-end of `dse`: a 2-worker LocalCluster gives the serial results (mappings, totals, Pareto flags),
also when a worker is killed mid-run; bad or unreachable schedulers are one line and exit status 2."""

from __future__ import annotations

import csv
import json
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


def solve_json(path: Path) -> dict:
    """A result JSON less what differs between runs: timings and the command line."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("seconds", "command")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(json.loads(path.read_text()))


@pytest.fixture(scope="module")
def serial_solves(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, dict]]:
    """`solve` of tiny in this process: (exit status, standard error, result JSON), plain and with a knob that
    leaves some layers INFEASIBLE (every PE used)."""
    out = tmp_path_factory.mktemp("serial-solve")
    runs = {}
    for name, extra in SOLVE_VARIANTS.items():
        code, err = solve_cli([*extra, "--json", str(out / f"{name}.json")])
        runs[name] = (code, err, solve_json(out / f"{name}.json"))
    return runs


SOLVE_VARIANTS = {"plain": [], "knob": ["--opt-min-utilization", "1", "0", "0"]}


def solve_cli(argv: list[str]) -> tuple[int, str]:
    """`solve --model tiny --no-cache ARGV` in a child process: (exit status, standard error)."""
    child = subprocess.run(
        [sys.executable, "cli.py", "solve", "--model", "tiny", "--no-cache", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return child.returncode, child.stderr


@pytest.mark.parametrize("variant", list(SOLVE_VARIANTS))
def test_solve_on_a_scheduler_gives_the_serial_mappings_totals_and_statuses(
    cluster: DaskBackend, serial_solves: dict, tmp_path: Path, variant: str
) -> None:
    address = cluster.client.scheduler.address
    code, err = solve_cli([*SOLVE_VARIANTS[variant], "--scheduler", address, "--json", str(tmp_path / "r.json")])
    assert (code, err, solve_json(tmp_path / "r.json")) == serial_solves[variant]


def test_the_knob_variant_leaves_some_layers_infeasible_and_fails(serial_solves: dict) -> None:
    code, err, result = serial_solves["knob"]
    statuses = [layer["status"] for layer in result["layers"]]
    assert code == 2 and "no valid mapping of" in err and "OPTIMAL" in statuses and "INFEASIBLE" in statuses
    assert serial_solves["plain"][0] == 0


def test_solve_on_a_local_cluster_of_its_own_gives_the_serial_result(serial_solves: dict, tmp_path: Path) -> None:
    code, err = solve_cli(["--cluster-workers", "2", "--json", str(tmp_path / "r.json")])
    assert (code, err, solve_json(tmp_path / "r.json")) == serial_solves["plain"]


COMMANDS = {
    "dse": ["dse", "--model", "tiny", "--sweep", SWEEPS[0]],
    "solve": ["solve", "--model", "tiny", "--no-cache"],
}
"""Each command that solves on a Dask cluster, less --out / --json."""


def output_option(command: str, tmp_path: Path) -> tuple[list[str], Path]:
    target = tmp_path / ("o" if command == "dse" else "r.json")
    return ["--out" if command == "dse" else "--json", str(target)], target


@pytest.mark.parametrize("command", list(COMMANDS))
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
    tmp_path: Path, capsys: pytest.CaptureFixture, command: str, address: str, says: str
) -> None:
    port = closed_port()
    address, says = address.format(closed=port), says.format(closed=port)
    output, target = output_option(command, tmp_path)
    code = main([*COMMANDS[command], *output, "--scheduler", address])
    captured = capsys.readouterr()
    assert code == 2 and captured.err.count("\n") == 1
    assert captured.err.startswith("error: --scheduler: ") and says in captured.err
    assert not target.exists() and captured.out == ""  # nothing solved, nothing written


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_port_where_no_scheduler_answers_is_one_line_and_exit_2(tmp_path: Path, command: str) -> None:
    """A listening socket that never speaks Dask: the handshake is bounded by --scheduler-timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        argv = [*COMMANDS[command], *output_option(command, tmp_path)[0]]
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


@pytest.mark.parametrize(
    "argv",
    [
        [*COMMANDS["dse"], "--workers", "2", "--scheduler", "tcp://h:1"],
        [*COMMANDS["solve"], "--workers", "2", "--scheduler", "tcp://h:1"],
        [*COMMANDS["solve"], "--workers", "2", "--cluster-workers", "2"],
        [*COMMANDS["solve"], "--cluster-workers", "2", "--scheduler", "tcp://h:1"],
    ],
)
def test_two_places_to_solve_are_a_usage_error(capsys: pytest.CaptureFixture, argv: list[str]) -> None:
    code = main(argv)
    assert code == 2 and "not allowed with argument" in capsys.readouterr().err
