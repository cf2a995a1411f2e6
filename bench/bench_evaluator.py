"""Benchmark: throughput of the batch evaluator (cost.batch.evaluate_batch and evaluate_batch_parallel).

Run by hand: python bench/bench_evaluator.py [--layers NAME ...] [--tilings N] [--repeat R]
For each ResNet-18 layer it evaluates a batch of valid tilings (taken along the enumeration, spread over
the spatial tuples) after a warm-up call, so numba's compile time is excluded, and prints tilings per
second per core (from CPU time, best of R runs, with the median) and the ratio to the seed's figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numba  # noqa: E402

from dmz_solver.arch import load_arch  # noqa: E402
from dmz_solver.cost.batch import evaluate_batch, evaluate_batch_parallel  # noqa: E402
from dmz_solver.layout import SP  # noqa: E402
from dmz_solver.problem import Problem  # noqa: E402
from dmz_solver.problem.space import LoopSpace, next_inner, problem_spatial_tuples  # noqa: E402
from dmz_solver.workload.loader import load_model  # noqa: E402

SEED_TILINGS_PER_S_PER_CORE = 370  # the seed tool's evaluator on this machine


def sample_tilings(problem: Problem, limit: int, per_tuple: int = 2000) -> np.ndarray:
    """Up to `limit` valid tilings: the first `per_tuple` of evenly spaced spatial tuples, in enumeration order."""
    divs, ndivs = problem.divisor_table
    _, dram_one = problem.loop_masks
    ext = np.array(problem.nest.extents, np.int64)
    space = LoopSpace(ext, divs, ndivs, dram_one)
    sps = problem_spatial_tuples(problem)
    step = max(1, len(sps) // max(1, limit // per_tuple))
    out = []
    for sp in sps[::step]:
        t = np.ones((4, len(ext)), np.int64)
        t[SP] = sp
        idx = np.full(2 * len(ext), -1, np.int64)
        tile = np.empty(len(ext), np.int64)
        pos = next_inner(t, 0, idx, space, problem.arrays, tile)
        taken = 0
        while pos >= 0 and taken < per_tuple and len(out) < limit:
            out.append(t.copy())
            taken += 1
            pos = next_inner(t, pos, idx, space, problem.arrays, tile)
        if len(out) >= limit:
            break
    return np.array(out)


def timed(fn, *args) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--arch", default="dmazerunner")
    parser.add_argument("--layers", nargs="*", help="layer names (default: every layer)")
    parser.add_argument("--tilings", type=int, default=300_000, help="batch size per layer")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (best and median shown)")
    args = parser.parse_args()

    arch = load_arch(args.arch)
    layers = [n for n in load_model(args.model).layers if not args.layers or n.name in args.layers]
    threads = numba.get_num_threads()
    print(
        f"{'layer':<22} {'tilings':>8} {'1 thread /s/core':>17} {'median':>10} {'x seed':>7} "
        f"{f'{threads} threads /s':>16} {'/s/core':>10}"
    )
    totals = {"n": 0, "cpu1": 0.0, "wallp": 0.0, "cpup": 0.0}
    for nest in layers:
        problem = Problem(nest, arch)
        arrays = problem.arrays
        tilings = sample_tilings(problem, args.tilings)
        n = len(tilings)
        out = np.empty((n, 3))
        pairs = np.empty((n, 3, 4), np.int64)
        out_p = np.empty((n, 3))
        pairs_p = np.empty((n, 3, 4), np.int64)
        prof = problem.batch_profiles(tilings)
        warm = problem.batch_profiles(tilings[:64])
        evaluate_batch(tilings[:64], arrays, warm, out[:64], pairs[:64])  # warm-up: compile or load the cache
        evaluate_batch_parallel(tilings[:64], arrays, warm, out_p[:64], pairs_p[:64])
        serial = [timed(evaluate_batch, tilings, arrays, prof, out, pairs)[1] for _ in range(args.repeat)]
        parallel = [timed(evaluate_batch_parallel, tilings, arrays, prof, out_p, pairs_p) for _ in range(args.repeat)]
        if not (np.array_equal(out, out_p) and np.array_equal(pairs, pairs_p)):
            raise SystemExit(f"{nest.name}: evaluate_batch_parallel disagrees with evaluate_batch")
        cpu1 = min(serial)
        wallp, cpup = min(parallel)
        rate = n / cpu1
        print(
            f"{nest.name:<22} {n:>8} {rate:>17,.0f} {n / statistics.median(serial):>10,.0f} "
            f"{rate / SEED_TILINGS_PER_S_PER_CORE:>7,.0f} {n / wallp:>16,.0f} {n / cpup:>10,.0f}"
        )
        totals["n"] += n
        totals["cpu1"] += cpu1
        totals["wallp"] += wallp
        totals["cpup"] += cpup
    if len(layers) > 1:
        rate = totals["n"] / totals["cpu1"]
        print(
            f"{'all':<22} {totals['n']:>8} {rate:>17,.0f} {'':>10} {rate / SEED_TILINGS_PER_S_PER_CORE:>7,.0f} "
            f"{totals['n'] / totals['wallp']:>16,.0f} {totals['n'] / totals['cpup']:>10,.0f}"
        )
    print(
        f"seed: {SEED_TILINGS_PER_S_PER_CORE} tilings/s/core. CPU time is that of the whole process; on a "
        "shared machine, repeat and compare best-of figures."
    )


if __name__ == "__main__":
    main()
