"""Benchmark: a 48-point DSE (PE count x RF size x SPM bank size) on ResNet-18, serial against a Dask LocalCluster.

Run by hand: python bench/bench_dse.py [--model resnet18] [--objective edp] [--workers 2]. Both runs start from an
empty layer cache and store every result in a results store (as `dse --out` does), one after the other in this
process. Printed: the serial wall time; the cluster's start-up (processes, imports, kernels), solving and
shutdown; the ratio; and the scheduler overhead, the share of the workers' time in the solving phase not spent
inside a layer solve (1 - sum of task solve seconds / (workers x solving wall)). The two runs must give the same
mapping, cycles and energy for every (point, layer), or the run stops.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dmz_solver.arch import load_arch  # noqa: E402
from dmz_solver.dse.cluster import local_cluster  # noqa: E402
from dmz_solver.dse.run import Dse, dse_identity  # noqa: E402
from dmz_solver.dse.store import DseStore  # noqa: E402
from dmz_solver.dse.sweep import arch_points, parse_sweep  # noqa: E402
from dmz_solver.dse.task import Backend, InProcess  # noqa: E402
from dmz_solver.workload.loader import load_model  # noqa: E402

SWEEPS = ("CGRA_SIZE=64,128,256,512", "RF_SIZE=256,512,1024,2048", "TOTAL_BYTES_IN_BANK=1024,2048,4096")


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
    args = parser.parse_args()

    layers = list(load_model(args.model).layers)
    points = arch_points(load_arch("dmazerunner"), [parse_sweep(s) for s in SWEEPS])
    print(f"{args.model}: {len(points)} points x {len(layers)} distinct layers, minimise {args.objective}")
    with tempfile.TemporaryDirectory() as tmp:
        # the serial run loads the compiled kernels inside its first solve, as `dse` does
        serial, serial_wall, serial_busy = run(layers, points, args.objective, InProcess(), Path(tmp) / "serial")
        print(f"serial:        {serial_wall:7.1f} s (sum of layer solves {serial_busy:.1f} s)")

        start = time.perf_counter()
        backend = local_cluster(args.workers)
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
    print(f"speed-up:      {serial_wall / total:.2f}x overall, {serial_wall / solve_wall:.2f}x in the solving phase")
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
