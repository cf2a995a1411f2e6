"""Benchmark: evaluator throughput (batch path) and exhaustive vs CP-SAT search on ResNet-18 layers.

Run by hand: python bench/bench_resnet18.py [--layers NAME ...] [--objective edp] [--no-exhaustive]
Prints tilings per second per core and wall times, with ratios against the seed's figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dmz_solver.arch import load_arch  # noqa: E402
from dmz_solver.cost.batch import evaluate_batch  # noqa: E402
from dmz_solver.problem import Problem  # noqa: E402
from dmz_solver.problem.space import SP, LoopSpace, next_inner, problem_spatial_tuples  # noqa: E402
from dmz_solver.search.exhaustive import exhaustive_search  # noqa: E402
from dmz_solver.solving import solve_layer  # noqa: E402
from dmz_solver.workload.loader import load_model  # noqa: E402

SEED_TILINGS_PER_S_PER_CORE = 370  # the seed's code on this machine (issue 2)


def valid_tilings(problem: Problem, limit: int) -> np.ndarray:
    """The first `limit` valid tilings in enumeration order."""
    divs, ndivs = problem.divisor_table
    _, dram_one = problem.loop_masks
    ext = np.array(problem.nest.extents, np.int64)
    space = LoopSpace(ext, divs, ndivs, dram_one)
    out = []
    for sp in problem_spatial_tuples(problem)[::-1]:
        t = np.ones((4, len(ext)), np.int64)
        t[SP] = sp
        idx = np.full(2 * len(ext), -1, np.int64)
        tile = np.empty(len(ext), np.int64)
        pos = next_inner(t, 0, idx, space, problem.arrays, tile)
        while pos >= 0 and len(out) < limit:
            out.append(t.copy())
            pos = next_inner(t, pos, idx, space, problem.arrays, tile)
        if len(out) >= limit:
            break
    return np.array(out)


def bench_evaluator(problem: Problem, n: int = 200_000) -> float:
    tilings = valid_tilings(problem, n)
    arrays = problem.arrays
    out = np.zeros((len(tilings), 3))
    pairs = np.zeros((len(tilings), 3, 4), np.int64)
    prof = problem.batch_profiles(tilings)
    evaluate_batch(tilings[:10], arrays, problem.batch_profiles(tilings[:10]), out[:10], pairs[:10])  # compile
    start = time.process_time()
    evaluate_batch(tilings, arrays, prof, out, pairs)
    return len(tilings) / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layers", nargs="*")
    parser.add_argument("--objective", default="edp")
    parser.add_argument("--no-exhaustive", action="store_true")
    args = parser.parse_args()
    arch = load_arch("dmazerunner")
    layers = [n for n in load_model("resnet18").layers if not args.layers or n.name in args.layers]
    rate = bench_evaluator(Problem(layers[-2] if len(layers) > 1 else layers[0], arch))
    print(
        f"evaluator (batch, 1 thread): {rate:,.0f} tilings/s/core = {rate / SEED_TILINGS_PER_S_PER_CORE:,.0f}x the seed"
    )
    total_cp = total_ex = 0.0
    for nest in layers:
        start = time.perf_counter()
        result = solve_layer(nest, arch, args.objective, search="cpsat")
        cp = time.perf_counter() - start
        total_cp += cp
        line = f"{nest.name:20s} cpsat {result.status} {result.value:.4E} in {cp:7.2f} s"
        if not args.no_exhaustive:
            start = time.perf_counter()
            found = exhaustive_search(Problem(nest, arch))
            ex = time.perf_counter() - start
            total_ex += ex
            agree = "equal" if found.best[args.objective].value == result.value else "DIFFERENT"
            line += f" | exhaustive {found.tilings:,} tilings in {ex:7.2f} s ({found.tilings / ex:,.0f}/s), {agree}"
            line += f", ratio {ex / cp:.1f}x"
        print(line, flush=True)
    print(f"total cpsat {total_cp:.1f} s" + ("" if args.no_exhaustive else f", exhaustive {total_ex:.1f} s"))


if __name__ == "__main__":
    main()
