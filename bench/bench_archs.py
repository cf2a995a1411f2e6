"""Benchmark: the proven-optimal search on every shipped architecture, against exhaustive search.

Run by hand: python bench/bench_archs.py [--archs NAME ...] [--layers NAME ...] [--objective edp]
[--no-exhaustive]. Per arch and layer: tasks (spatial tuples x distinct row/column splits), the
CP-SAT search's wall time and value, the exhaustive search's wall time, value and tiling count, and
their ratio; a value that differs from the exhaustive optimum stops the run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dmz_solver.arch import load_arch  # noqa: E402
from dmz_solver.noc.tasks import make_tasks  # noqa: E402
from dmz_solver.problem import Problem  # noqa: E402
from dmz_solver.problem.space import problem_spatial_tuples  # noqa: E402
from dmz_solver.search.exhaustive import exhaustive_search  # noqa: E402
from dmz_solver.solving import solve_layer  # noqa: E402
from dmz_solver.workload.loader import load_model  # noqa: E402

SHIPPED = ("dmazerunner", "eyeriss", "tpu_like", "edge_8x8", "tpu_v1_256", "mxu_128")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--archs", nargs="*", default=list(SHIPPED))
    parser.add_argument("--layers", nargs="*", help="layer names (default: every layer)")
    parser.add_argument("--objective", default="edp", choices=("edp", "energy", "cycles"))
    parser.add_argument("--no-exhaustive", action="store_true", help="time the proven search only")
    args = parser.parse_args()

    layers = [n for n in load_model(args.model).layers if not args.layers or n.name in args.layers]
    print(
        f"{'arch':<12} {'layer':<20} {'tuples':>6} {'tasks':>6} {'cpsat s':>8} {args.objective:>11} "
        f"{'exhaustive s':>12} {'tilings':>11} {'ratio':>6}"
    )
    for name in args.archs:
        arch = load_arch(name)
        total_cpsat = total_exh = 0.0
        for nest in layers:
            problem = Problem(nest, arch)
            tuples = problem_spatial_tuples(problem)
            tasks = make_tasks(tuples, problem.arrays.isidx, arch)
            solve_layer(nest, arch, args.objective)  # warm-up: numba compilation or cache load
            start = time.perf_counter()
            result = solve_layer(nest, arch, args.objective)
            cpsat = time.perf_counter() - start
            total_cpsat += cpsat
            line = f"{name:<12} {nest.name:<20} {len(tuples):>6} {len(tasks):>6} {cpsat:>8.2f} {result.value:>11.4E}"
            if not args.no_exhaustive:
                start = time.perf_counter()
                found = exhaustive_search(problem)
                exh = time.perf_counter() - start
                total_exh += exh
                if found.best[args.objective].value != result.value:
                    raise SystemExit(f"{line}: exhaustive optimum {found.best[args.objective].value:.6E} differs")
                line += f" {exh:>12.2f} {found.tilings:>11,} {exh / cpsat:>5.0f}x"
            print(line, flush=True)
        summary = f"{name:<12} {'total':<20} {'':>6} {'':>6} {total_cpsat:>8.2f}"
        print(summary + (f" {'':>11} {total_exh:>12.2f}" if not args.no_exhaustive else ""), flush=True)


if __name__ == "__main__":
    main()
