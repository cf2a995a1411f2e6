"""Benchmark: a 48-point DSE (PE count x RF size x SPM bank size) on ResNet-18, serial against a Dask LocalCluster.

Run by hand: python bench/bench_dse.py [--model resnet18] [--objective edp] [--workers 2] [--points N]
[--ceiling-seconds S]. Both runs start from an empty layer cache and store every result in a results store (as
`dse --out` does), one after the other in this process. Printed: the serial wall time; the cluster's start-up
(processes, imports, kernels), solving and shutdown; the ratio; and the scheduler overhead, the share of the
workers' time in the solving phase not spent inside a layer solve (1 - sum of task solve seconds / (workers x
solving wall)). The two runs must give the same mapping, cycles and energy for every (point, layer), or the
run stops.

Beside the DSE figures, the machine's own ceiling: a CPU-bound kernel that touches no memory (an integer
xorshift loop in registers, compiled by numba) runs in one process alone, then in N processes at once. N times
the lone time over the concurrent wall time is the throughput N processes get on this host at best: N on N
free physical cores, less when the virtual CPUs share a core or other jobs hold them. A DSE speed-up is to be
read against it.
"""

from __future__ import annotations

import argparse
import multiprocessing
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
    parser.add_argument("--worker-threads", type=int, default=1, help="numba threads of each cluster task")
    parser.add_argument("--ceiling-seconds", type=float, default=3.0, help="length of one lone ceiling run")
    args = parser.parse_args()

    layers = list(load_model(args.model).layers)
    points = arch_points(load_arch("dmazerunner"), [parse_sweep(s) for s in SWEEPS])[: args.points]
    alone, together, ceiling = machine_ceiling(args.workers, args.ceiling_seconds)
    print(
        f"machine:       a CPU-bound kernel takes {alone:.2f} s alone, {together:.2f} s as {args.workers} processes "
        f"at once: {ceiling:.2f}x is the most {args.workers} processes can gain here"
    )
    print(f"{args.model}: {len(points)} points x {len(layers)} distinct layers, minimise {args.objective}")
    with tempfile.TemporaryDirectory() as tmp:
        # the serial run loads the compiled kernels inside its first solve, as `dse` does
        serial, serial_wall, serial_busy = run(layers, points, args.objective, InProcess(), Path(tmp) / "serial")
        print(f"serial:        {serial_wall:7.1f} s (sum of layer solves {serial_busy:.1f} s)")

        start = time.perf_counter()
        backend = local_cluster(args.workers, args.worker_threads)
        backend.warm(min(Dse(layers, points, args.objective).tasks()[0], key=lambda t: t.nest.macs))
        started = time.perf_counter() - start
        dask, solve_wall, busy = run(layers, points, args.objective, backend, Path(tmp) / "dask")
        start = time.perf_counter()
        backend.close()
        closed = time.perf_counter() - start
    total = started + solve_wall + closed
    overhead = 1 - busy / (args.workers * solve_wall)
    print(
        f"LocalCluster:  {total:7.1f} s = start-up and warm-up {started:.1f} s + solving {solve_wall:.1f} s "
        f"+ shutdown {closed:.1f} s ({args.workers} workers, sum of layer solves {busy:.1f} s)"
    )
    print(
        f"speed-up:      {serial_wall / total:.2f}x overall, {serial_wall / solve_wall:.2f}x in the solving phase "
        f"(the machine's ceiling: {ceiling:.2f}x)"
    )
    print(
        f"overhead:      {100 * overhead:.1f}% of the workers' solving-phase time outside layer solves; "
        f"start-up and shutdown {100 * (started + closed) / total:.1f}% of the cluster's total"
    )
    for key, result in serial.results.items():
        other = dask.results[key]
        if (result.mapping, result.cost, result.status) != (other.mapping, other.cost, other.status):
            raise SystemExit(f"point {key[0]}, layer {layers[key[1]].name}: the cluster's result differs")
    print("results: identical (every mapping, cycles and energy)")


if __name__ == "__main__":
    main()
