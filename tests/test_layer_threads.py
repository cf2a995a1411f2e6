"""Layers solved by threads of one process: the serial results, in layer order, and a Ctrl-C that ends them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numba
import numpy as np
import pytest

from dmz_solver import solving
from dmz_solver.arch import load_arch
from dmz_solver.problem import Problem
from dmz_solver.search import exhaustive, stopping
from dmz_solver.search.exhaustive import TaskSearch
from dmz_solver.vocabulary import Status
from dmz_solver.workload.loader import load_model

REPO = Path(__file__).resolve().parent.parent


def _solved(monkeypatch: pytest.MonkeyPatch, threads: int) -> list[tuple]:
    monkeypatch.setattr(solving, "LAYER_THREADS", threads)
    layers = load_model("resnet18").layers[:5]
    result = solving.solve_model(layers, load_arch("eyeriss"), "edp", cache_dir=None)
    return [(r.nest.name, r.status, r.mapping, r.cost, r.lower_bound) for r in result.layers]


def test_layer_threads_give_the_serial_results_in_layer_order(monkeypatch: pytest.MonkeyPatch) -> None:
    threaded = _solved(monkeypatch, 2)
    assert threaded == _solved(monkeypatch, 1)
    assert [name for name, *_ in threaded] == [n.name for n in load_model("resnet18").layers[:5]]
    assert all(status == Status.OPTIMAL for _, status, *_ in threaded)


def _in_thread(work, *args) -> threading.Thread:
    runner = threading.Thread(target=work, args=args)
    runner.start()
    return runner


@pytest.mark.wallclock
def test_halting_a_group_ends_its_running_search_and_no_other() -> None:
    problem = Problem(load_model("resnet18").layers[1], load_arch("eyeriss"))
    search = TaskSearch(problem)  # the whole space, unpruned: about a minute
    group, found = stopping.HaltGroup(), {}

    def member() -> None:
        group.join()
        found["member"] = search.run(np.arange(len(search.sps)))
        with stopping.stop_flag() as flag:  # the group is halted: a new search would end at once
            found["next flag"] = int(flag[0])

    def outsider() -> None:
        with stopping.stop_flag() as flag:
            time.sleep(1.0)
            found["outsider flag"] = int(flag[0])

    runners = [_in_thread(member), _in_thread(outsider)]
    time.sleep(0.5)
    start = time.perf_counter()
    group.halt()
    for runner in runners:
        runner.join(timeout=30)
    assert time.perf_counter() - start < 5.0
    assert not found["member"].complete.all()
    assert found["next flag"] == 1 and found["outsider flag"] == 0


def _hear_ctrl_c() -> None:
    """In the child: SIGINT at its default, as in a terminal. A suite started in the background of a shell inherits
    it ignored, and Python then keeps ignoring it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.wallclock
def test_ctrl_c_during_a_solve_says_interrupted_and_writes_nothing(tmp_path: Path) -> None:
    """CP-SAT used to leave SIGINT at the C default after its first solve, so a Ctrl-C killed the process outright."""
    out = tmp_path / "r.json"
    argv = ["cli.py", "solve", "--model", "resnet18", "--arch", "eyeriss", "--search", "exhaustive", "--no-cache"]
    proc = subprocess.Popen(
        [sys.executable, *argv, "--json", str(out)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_hear_ctrl_c,
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # the header: the layers are being solved (an exhaustive ResNet-18 takes minutes)
    time.sleep(3.0)
    proc.send_signal(signal.SIGINT)
    sent = time.perf_counter()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "error: interrupted"
    assert time.perf_counter() - sent < 10.0
    assert not out.exists()


def test_a_python_session_keeps_its_ctrl_c_after_a_cpsat_solve() -> None:
    script = (
        "import os, signal, threading, time\n"
        "from dmz_solver import solve\n"
        "solve('tiny', 'dmazerunner', cache_dir=None)\n"
        "threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\n"
        "try:\n"
        "    time.sleep(10)\n"
        "except KeyboardInterrupt:\n"
        "    print('caught')\n"
    )
    run = [sys.executable, "-c", script]
    proc = subprocess.run(run, cwd=REPO, capture_output=True, text=True, timeout=120, preexec_fn=_hear_ctrl_c)
    assert proc.returncode == 0 and proc.stdout.strip() == "caught", (proc.returncode, proc.stderr[-300:])


def test_a_finished_search_lets_go_of_its_flag() -> None:
    group, flags = stopping.HaltGroup(), {}

    def member() -> None:
        group.join()
        with stopping.stop_flag() as finished:
            pass
        with stopping.stop_flag() as running:
            group.halt()
        flags["finished"], flags["running"] = int(finished[0]), int(running[0])

    _in_thread(member).join(timeout=10)
    assert flags == {"finished": 0, "running": 1}


@pytest.mark.filterwarnings("ignore::dmz_solver.errors.SlowSearchWarning")
def test_the_per_tiling_search_keeps_the_callers_numba_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Layers too large for tables run search_all in a helper thread, which starts with numba's default threads."""
    seen = []
    real = exhaustive.search_all

    def recording(*args):  # noqa: ANN002, ANN202 - a pass-through of the kernel's arguments
        seen.append(numba.get_num_threads())
        return real(*args)

    monkeypatch.setattr(exhaustive, "search_all", recording)
    monkeypatch.setattr(exhaustive, "MAX_TABLE_BYTES", 0)
    nest = load_model("tiny").layers[0]

    def one_thread() -> None:
        numba.set_num_threads(1)
        exhaustive.exhaustive_search(Problem(nest, load_arch("dmazerunner")))

    _in_thread(one_thread).join(timeout=120)
    assert seen == [1]


def _live_processes_in_session(session: int) -> list[int]:
    """Pids of the processes of a session that still run (zombies, which only wait to be reaped, do not count)."""
    live = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # not a process, or gone meanwhile
        state, sid = fields[0], int(fields[3])
        if sid == session and state != "Z":
            live.append(int(entry.name))
    return live


@pytest.mark.wallclock
def test_ctrl_c_to_a_pool_of_workers_ends_them_within_seconds(tmp_path: Path) -> None:
    """The pool used to wait for its running layer searches (up to the time limit) and leave them running when only
    the main process heard the SIGINT."""
    out = tmp_path / "r.json"
    argv = ["cli.py", "solve", "--model", "vgg16", "--search", "exhaustive", "--no-cache", "--time-limit", "120"]
    proc = subprocess.Popen(
        [sys.executable, *argv, "--workers", "2", "--json", str(out)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_hear_ctrl_c,
        start_new_session=True,  # the workers share the session: a search for survivors finds them
    )
    time.sleep(8.0)  # the workers start and take their first layers
    proc.send_signal(signal.SIGINT)  # the main process only, as `kill -INT` does
    sent = time.perf_counter()
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        time.sleep(1.0)
        survivors = _live_processes_in_session(proc.pid)
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "error: interrupted"
    assert time.perf_counter() - sent < 10.0
    assert survivors == []
    assert not out.exists()
