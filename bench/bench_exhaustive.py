"""Benchmark: exhaustive search (every valid tiling, every ordering pair, all three objectives) per layer.

Run by hand: python bench/bench_exhaustive.py [--layers NAME ...] [--max-seconds S]
For each unique layer of the model it prints the number of valid tilings, wall and CPU time and tilings
per second (wall, and per core from CPU time), after a warm-up search of a small layer so numba's compile
time is excluded. Layers whose estimated time (valid tilings / the rate of the last layer searched)
exceeds --max-seconds are skipped; layers run in ascending size so that the estimate is calibrated first.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numba  # noqa: E402

from dmz_solver.arch import load_arch  # noqa: E402
from dmz_solver.problem import Problem  # noqa: E402
from dmz_solver.search.exhaustive import (
    count_tilings,  # noqa: E402
    exhaustive_search,  # noqa: E402
)
from dmz_solver.workload.loader import load_model  # noqa: E402

# Valid tilings of the ResNet-18 layers on the seed architecture (as counted by search.exhaustive.count_tilings):
# the size estimate for --max-seconds, and a check of the search's count.
KNOWN_COUNTS = {
    ("dmazerunner", "ResNet18_CONV_1_1"): 23_426_659,
    ("dmazerunner", "ResNet18_CONV_2_1a"): 209_347_516,
    ("dmazerunner", "ResNet18_CONV_3_1a"): 70_826_899,
    ("dmazerunner", "ResNet18_CONV_3_1b"): 104_106_229,
    ("dmazerunner", "ResNet18_CONV_4_1a"): 20_949_720,
    ("dmazerunner", "ResNet18_CONV_4_1b"): 27_560_657,
    ("dmazerunner", "ResNet18_CONV_5_1a"): 2_050_736,
    ("dmazerunner", "ResNet18_CONV_5_1b"): 2_398_874,
    ("dmazerunner", "ResNet18_FC"): 111_419,
}
SEED_TILINGS_PER_S_PER_CORE = 370  # the seed tool's evaluator on this machine
START_RATE = 2e6  # tilings per second (wall) assumed before the first measurement


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--arch", default="dmazerunner")
    parser.add_argument("--layers", nargs="*", help="layer names (default: every layer)")
    parser.add_argument("--max-seconds", type=float, default=float("inf"), help="skip layers estimated to take longer")
    args = parser.parse_args()

    arch = load_arch(args.arch)
    layers = [n for n in load_model(args.model).layers if not args.layers or n.name in args.layers]
    sizes = {}
    for nest in layers:
        known = KNOWN_COUNTS.get((args.arch, nest.name))
        sizes[nest.name] = known if known is not None else count_tilings(Problem(nest, arch))
    smallest = min(layers, key=lambda n: sizes[n.name])
    exhaustive_search(Problem(smallest, arch))  # warm-up: compile or load numba's cache

    print(f"threads: {numba.get_num_threads()}")
    print(
        f"{'layer':<22} {'tilings':>12} {'wall s':>9} {'cpu s':>9} {'tilings/s':>12} {'/s/core':>11} "
        f"{'x seed':>7}  minima (EDP, energy pJ, cycles)"
    )
    rate = START_RATE
    total_wall = 0.0
    for nest in sorted(layers, key=lambda n: sizes[n.name]):
        estimate = sizes[nest.name] / rate
        if estimate > args.max_seconds:
            print(f"{nest.name:<22} {sizes[nest.name]:>12,} skipped: estimated {estimate:,.0f} s")
            continue
        wall, cpu = time.perf_counter(), time.process_time()
        result = exhaustive_search(Problem(nest, arch))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        total_wall += wall
        if result.tilings >= 1_000_000:  # small layers are dominated by fixed costs
            rate = result.tilings / wall
        known = KNOWN_COUNTS.get((args.arch, nest.name))
        flag = "" if known in (None, result.tilings) else f"  COUNT MISMATCH (expected {known:,})"
        minima = ", ".join(f"{result.best[o].value:.6E}" for o in ("edp", "energy", "cycles") if o in result.best)
        per_core = result.tilings / cpu
        print(
            f"{nest.name:<22} {result.tilings:>12,} {wall:>9.2f} {cpu:>9.2f} {result.tilings / wall:>12,.0f} "
            f"{per_core:>11,.0f} {per_core / SEED_TILINGS_PER_S_PER_CORE:>7,.0f}  {minima}{flag}"
        )
    print(f"total wall {total_wall:.1f} s. CPU time is that of the whole process; on a shared machine, repeat.")


if __name__ == "__main__":
    main()
