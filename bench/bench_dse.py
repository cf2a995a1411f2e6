"""Benchmark: a 48-point DSE (PE count x RF size x SPM bank size) on ResNet-18, serial against a Dask LocalCluster.

Run by hand: python bench/bench_dse.py [--model resnet18] [--objective edp] [--workers 2] [--points N]
[--rounds R] [--worker-threads T] [--ceiling-seconds S]. Both runs start from an empty layer cache and store
every result in a results store (as `dse --out` does), in this process: the serial run, then the cluster's (with
--rounds R, the points are cut into R parts, each solved serially and then on the cluster, so that on a busy
machine both see about the same load). Printed: the serial wall time; the cluster's start-up (processes,
imports, kernels), solving and shutdown; the ratio; and the scheduler overhead, the share of the workers' time
in the solving phase not spent inside a layer solve (1 - sum of task solve seconds / (workers x solving wall)).
The two runs must give the same mapping, cycles and energy for every (point, layer), or the run stops.

Beside the DSE figures, the machine's own ceiling, before and after: a CPU-bound kernel that touches no memory
(an integer xorshift loop in registers, compiled by numba) runs in one process alone, then in N processes at
once. N times the lone time over the concurrent wall time is the throughput N processes get on this host at
best: N on N free physical cores, less when the virtual CPUs share a core or other jobs hold them. The serial
run is not one-threaded (its table search runs on numba's threads), so N one-thread workers can beat it by at
most the ceiling over the serial run's own gain from its threads (measured on the first points).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numba

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dmz_solver.arch import load_arch  # noqa: E402
from dmz_solver.dse.cluster import local_cluster  # noqa: E402
from dmz_solver.dse.run import Dse, dse_identity  # noqa: E402
from dmz_solver.dse.store import DseStore  # noqa: E402
from dmz_solver.dse.sweep import arch_points, parse_sweep  # noqa: E402
from dmz_solver.dse.task import Backend, InProcess  # noqa: E402
from dmz_solver.workload.loader import load_model  # noqa: E402

GAIN_POINTS = 4
"""Points solved again on one thread and on all, to measure the serial run's own parallel gain."""
SWEEPS = ("CGRA_SIZE=64,128,256,512", "RF_SIZE=256,512,1024,2048", "TOTAL_BYTES_IN_BANK=1024,2048,4096")


@numba.njit(cache=False)
def spin(n: int) -> int:
    """n steps of xorshift64: integer work in registers, no memory traffic."""
    x = 88172645463325252
    for _ in range(n):
        x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 7
        x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
    return x


def _spin_seconds(steps: int, start: Any, seconds: Any) -> None:
    """In a child process: compile `spin`, wait for the others, then time `steps` of it."""
    spin(1000)
    start.wait()
    begin = time.perf_counter()
    spin(steps)
    seconds.put(time.perf_counter() - begin)


def concurrent_spins(steps: int, processes: int) -> list[float]:
    """Seconds each of `processes` spawned processes takes for `steps` of `spin`, all started together."""
    context = multiprocessing.get_context("spawn")
    start, seconds = context.Barrier(processes), context.Queue()
    children = [context.Process(target=_spin_seconds, args=(steps, start, seconds)) for _ in range(processes)]
    for child in children:
        child.start()
    times = [seconds.get() for _ in children]
    for child in children:
        child.join()
    return times


def machine_ceiling(processes: int, seconds: float, repeats: int = 3) -> tuple[float, float, float]:
    """(lone seconds, concurrent wall seconds, throughput ratio) of the CPU-bound kernel, about `seconds` alone;
    each the best of `repeats` runs, alternated, so that another job's burst counts as little as it can."""
    spin(1000)  # compiled before the calibration is timed
    begin = time.perf_counter()
    spin(100_000_000)
    steps = int(100_000_000 * seconds / (time.perf_counter() - begin))
    alone, together = [], []
    for _ in range(repeats):
        alone += concurrent_spins(steps, 1)
        together.append(max(concurrent_spins(steps, processes)))
    return min(alone), min(together), processes * min(alone) / min(together)


def thread_gain(layers: list, points: list, objective: str) -> tuple[float, float]:
    """Seconds to solve `points` in this process on one numba thread, then on numba's default threads (the serial
    DSE's own parallelism: its table search runs on those threads)."""
    default = numba.get_num_threads()
    seconds = []
    for threads in (1, default):
        numba.set_num_threads(threads)
        start = time.perf_counter()
        Dse(layers, points, objective).solve(InProcess())
        seconds.append(time.perf_counter() - start)
    numba.set_num_threads(default)
    return seconds[0], seconds[1]


def run(layers: list, points: list, objective: str, backend: Backend, out: Path) -> tuple[Dse, float, float]:
    """The DSE solved on `backend` into a fresh store in `out`: (dse, wall seconds, sum of task solve seconds)."""
    out.mkdir()
    with DseStore.open(out, dse_identity(layers, points, objective, None)) as store:
        dse = Dse(layers, points, objective, cache_dir=None, store=store)
        tasks, _ = dse.tasks()
        start = time.perf_counter()
        dse.solve(backend)
        wall = time.perf_counter() - start
    busy = sum(dse.results[p, layer].seconds for p in range(len(points)) for layer in range(len(layers)))
    assert dse.solved == len(tasks)
    return dse, wall, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--objective", default="edp", choices=("edp", "energy", "cycles"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--points", type=int, help="only the first N of the 48 points")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="solve the points in R parts, each serially and then on the cluster (on a busy machine both runs "
        "then see about the same load)",
    )
    parser.add_argument("--worker-threads", type=int, default=1, help="numba threads of each cluster task")
    parser.add_argument("--ceiling-seconds", type=float, default=3.0, help="length of one lone ceiling run")
    args = parser.parse_args()

    layers = list(load_model(args.model).layers)
    points = arch_points(load_arch("dmazerunner"), [parse_sweep(s) for s in SWEEPS])[: args.points]
    alone, together, ceiling = machine_ceiling(args.workers, args.ceiling_seconds)
    print(
        f"machine:       a CPU-bound kernel takes {alone:.2f} s alone, {together:.2f} s as {args.workers} processes "
        f"at once: {ceiling:.2f}x is the most {args.workers} processes can gain here "
        f"(load average {os.getloadavg()[0]:.2f})",
        flush=True,
    )
    print(
        f"{args.model}: {len(points)} points x {len(layers)} distinct layers, minimise {args.objective}, "
        f"{args.rounds} round(s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        backend = local_cluster(args.workers, args.worker_threads)
        backend.warm(min(Dse(layers, points, args.objective).tasks()[0], key=lambda t: t.nest.macs))
        started = time.perf_counter() - start
        walls = {"serial": 0.0, "dask": 0.0}
        busy = {"serial": 0.0, "dask": 0.0}
        size = -(-len(points) // args.rounds)
        for part in range(args.rounds):  # the serial run loads the compiled kernels in its first solve, as dse does
            chunk = points[part * size : (part + 1) * size]
            runs, took = {}, {}
            for name, where in (("serial", InProcess()), ("dask", backend)):
                runs[name], took[name], solves = run(layers, chunk, args.objective, where, Path(tmp) / f"{name}{part}")
                walls[name] += took[name]
                busy[name] += solves
            same_results(runs["serial"], runs["dask"], layers)
            if args.rounds > 1:
                print(
                    f"  round {part + 1}:    serial {took['serial']:.1f} s, cluster solving {took['dask']:.1f} s "
                    f"({took['serial'] / took['dask']:.2f}x), load average {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
        start = time.perf_counter()
        backend.close()
        closed = time.perf_counter() - start
        one, default = thread_gain(layers, points[:GAIN_POINTS], args.objective)
    report(args, walls, busy, (started, closed), ceiling, one / default)
    print(f"               (thread gain on the first {GAIN_POINTS} points: {one:.1f} s on 1 thread, {default:.1f} s)")
    alone, together, after = machine_ceiling(args.workers, args.ceiling_seconds)
    print(
        f"machine after: {after:.2f}x ({alone:.2f} s alone, {together:.2f} s at once, load average "
        f"{os.getloadavg()[0]:.2f})"
    )
    print("results: identical (every mapping, cycles and energy)")


def same_results(serial: Dse, dask: Dse, layers: list) -> None:
    """Stop the bench unless both runs gave every (point, layer) the same mapping, cost and status."""
    for key, result in serial.results.items():
        other = dask.results[key]
        if (result.mapping, result.cost, result.status) != (other.mapping, other.cost, other.status):
            raise SystemExit(f"point {key[0]}, layer {layers[key[1]].name}: the cluster's result differs")


def report(
    args: argparse.Namespace,
    walls: dict[str, float],
    busy: dict[str, float],
    edges: tuple[float, float],
    ceiling: float,
    gain: float,
) -> None:
    """The figures: serial and cluster times, the speed-up against the machine's ceiling, the overhead."""
    started, closed = edges
    total = started + walls["dask"] + closed
    overhead = 1 - busy["dask"] / (args.workers * walls["dask"])
    threads = numba.get_num_threads()
    print(f"serial:        {walls['serial']:7.1f} s (sum of layer solves {busy['serial']:.1f} s)")
    print(
        f"LocalCluster:  {total:7.1f} s = start-up and warm-up {started:.1f} s + solving {walls['dask']:.1f} s "
        f"+ shutdown {closed:.1f} s ({args.workers} workers, sum of layer solves {busy['dask']:.1f} s)"
    )
    print(
        f"speed-up:      {walls['serial'] / total:.2f}x overall, {walls['serial'] / walls['dask']:.2f}x in the "
        f"solving phase"
    )
    print(
        f"ceiling:       the serial run gains {gain:.2f}x from its {threads} numba threads, so {args.workers} workers "
        f"can beat it by at most {ceiling:.2f} / {gain:.2f} = {ceiling / gain:.2f}x on this machine"
    )
    print(
        f"overhead:      {100 * overhead:.1f}% of the workers' solving-phase time outside layer solves; "
        f"start-up and shutdown {100 * (started + closed) / total:.1f}% of the cluster's total"
    )


if __name__ == "__main__":
    main()
