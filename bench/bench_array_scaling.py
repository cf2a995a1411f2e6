"""Benchmark: the proven search as the PE array grows, and whole ResNet-18 on the two TPU-sized shipped archs.

Run by hand: python bench/bench_array_scaling.py [--sizes 16 32 64 128 256] [--layers NAME ...] [--objective edp]
[--models resnet18] [--no-model]. Part 1: `tpu_like` with its array resized to N x N (its networks, energies and
buffers as shipped) on the same layers (default ResNet-18 CONV_4_1b and CONV_3_1a): the row/column splits that
fit and can reduce, the tasks kept after merging equal ones, the search calls they make (one per spatial tuple:
its splits are searched together, search/table_search.py), the seconds to build the tasks, and the solve's wall
seconds with its proof phases. Part 2: the whole model on `mxu_128` and `tpu_v1_256`: wall seconds and whether
every layer is OPTIMAL; with --per-layer, the same columns for each layer. Every solve is warm (one call first for
numba's compilation or cache load); the layer cache is not used.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from dmz_solver.arch import arch_from_json, load_arch, resolve_arch_path  # noqa: E402
from dmz_solver.noc.tasks import build_tasks, make_tasks, pe_array  # noqa: E402
from dmz_solver.problem import Problem  # noqa: E402
from dmz_solver.problem.space import problem_spatial_tuples  # noqa: E402
from dmz_solver.search.table_search import tuple_runs  # noqa: E402
from dmz_solver.solving import solve_layer  # noqa: E402
from dmz_solver.specio import read_json  # noqa: E402
from dmz_solver.vocabulary import Status  # noqa: E402
from dmz_solver.workload.loader import load_model  # noqa: E402

SIZES = (16, 32, 64, 128, 256)
LAYERS = ("ResNet18_CONV_4_1b", "ResNet18_CONV_3_1a")
MODEL_ARCHS = ("mxu_128", "tpu_v1_256")


def square_tpu(size: int):
    """tpu_like with a size x size array."""
    spec = read_json(resolve_arch_path("tpu_like"))
    spec["pe_array"] = {"rows": size, "cols": size}
    return arch_from_json(spec, source="tpu_like.json", name=f"tpu_like_{size}x{size}")


def layer_row(label: str, nest, arch, objective: str) -> str:
    problem = Problem(nest, arch)
    tuples = problem_spatial_tuples(problem)
    splits = len(build_tasks(tuples, problem.arrays.isidx, pe_array(arch)))
    start = time.perf_counter()
    tasks = make_tasks(tuples, problem.arrays.isidx, arch)
    build = time.perf_counter() - start
    calls = len(tuple_runs(tasks.sps)) - 1
    start = time.perf_counter()
    result = solve_layer(nest, arch, objective)
    wall = time.perf_counter() - start
    phases = " ".join(f"{k} {v:.2f}" for k, v in (result.proof.seconds if result.proof else {}).items())
    return (
        f"{label:<11} {nest.name:<20} {len(tuples):>6} {splits:>7} {len(tasks):>6} {calls:>6} {build:>7.2f} "
        f"{wall:>7.2f} {result.status.name:<8} {result.value:.6E}  {phases}"
    )


HEADER = (
    f"{'array':<11} {'layer':<20} {'tuples':>6} {'splits':>7} {'tasks':>6} {'calls':>6} {'build s':>7} {'solve s':>7}"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--layers", nargs="+", default=list(LAYERS))
    parser.add_argument("--objective", default="edp", choices=("edp", "energy", "cycles"))
    parser.add_argument("--models", nargs="+", default=["resnet18"])
    parser.add_argument("--no-model", action="store_true", help="skip the whole-model solves")
    parser.add_argument("--per-layer", action="store_true", help="a row per layer of the whole-model solves")
    args = parser.parse_args()

    layers = {n.name: n for n in load_model("resnet18").layers}
    solve_layer(layers["ResNet18_FC"], square_tpu(16), args.objective)  # warm-up
    print(HEADER)
    for size in args.sizes:
        for name in args.layers:
            print(layer_row(f"{size:>4} x {size:<4}", layers[name], square_tpu(size), args.objective), flush=True)
    if args.no_model:
        return
    for model_name in args.models:
        model = load_model(model_name)
        for arch_name in MODEL_ARCHS:
            arch = load_arch(arch_name)
            if args.per_layer:
                print(HEADER)
                for nest in model.layers:
                    print(layer_row(arch_name, nest, arch, args.objective), flush=True)
            start = time.perf_counter()
            results = [solve_layer(nest, arch, args.objective) for nest in model.layers]
            wall = time.perf_counter() - start
            optimal = all(r.status == Status.OPTIMAL for r in results)
            slowest = max(zip(results, model.layers, strict=True), key=lambda p: p[0].seconds)
            print(
                f"{model_name} on {arch_name}, {args.objective}: {wall:.2f} s wall, {len(results)} layers, "
                f"{'all OPTIMAL' if optimal else 'NOT all optimal'}; slowest {slowest[1].name} "
                f"{slowest[0].seconds:.2f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
