"""Benchmark: whole networks (bench/networks.py) through the ONNX front-end, proven optimal per objective.

Run by hand: python bench/bench_networks.py [--networks NAME ...] [--objectives edp energy] [--archs dmazerunner]
[--layers NAME ...] [--top N] [--time-limit S] [--progress] [--onnx-dir DIR]

The networks are built as ONNX files in a temporary directory (or --onnx-dir, kept) and read by the front-end
(its wall time and the layer counts are printed). After one warm-up solve of models/tiny.json per arch and
objective (numba's compile or cache load), each network is solved whole with the layer cache off, one row per
network, arch and objective: wall seconds, the process's CPU seconds (all threads; the stable figure on a shared
machine), the 1-minute load average at the end, whether every layer is OPTIMAL, the tilings evaluated, and the
slowest layer; then the `--top` slowest layers with their shapes, seconds, tilings, the seconds of each phase of
the proof and the gap of CP-SAT's root bound to the optimum.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from networks import NETWORKS, write_networks  # noqa: E402

from dmz_solver import solve  # noqa: E402
from dmz_solver.arch import load_arch  # noqa: E402
from dmz_solver.errors import InputError  # noqa: E402
from dmz_solver.result import LayerResult, ModelResult  # noqa: E402
from dmz_solver.vocabulary import OBJECTIVES, Status  # noqa: E402
from dmz_solver.workload.loader import Model, load_model  # noqa: E402

DIM_ORDER = ("G", "B", "N", "M", "C", "X", "Y", "K", "Ox", "Oy", "Fx", "Fy")


def shape(result: LayerResult) -> str:
    """A layer's op class and extents on one line, e.g. `CONV M64 C3 Ox112 Oy112 Fx7 Fy7 /2`."""
    dims = result.nest.dims_summary()
    stride = dims.pop("stride", 1)
    text = " ".join(f"{name}{dims[name]}" for name in DIM_ORDER if name in dims and dims[name] != 1)
    return f"{result.nest.op} {text}" + (f" /{stride}" if stride != 1 else "")


def load(name: str, path: Path, layers: list[str] | None) -> Model:
    """The front-end's layers of one network (only `layers`, when given), with its wall time and counts printed."""
    start = time.perf_counter()
    model = load_model(str(path))
    seconds = time.perf_counter() - start
    kept = tuple(n for n in model.layers if not layers or n.name in layers)
    instances = sum(n.instances for n in kept)
    print(f"{name:<18} front-end {seconds:5.1f} s: {instances} MAC layers, {len(kept)} distinct", flush=True)
    return Model(model.name, model.source, kept, model.ignored)


def report(network: str, result: ModelResult, seconds: tuple[float, float], top: int) -> None:
    """One summary row (`seconds`: wall and CPU), then the `top` slowest layers."""
    slowest = sorted(result.layers, key=lambda r: r.seconds, reverse=True)
    optimal = sum(r.status == Status.OPTIMAL for r in result.layers)
    tilings = sum(r.tilings_evaluated for r in result.layers)
    proven = "yes" if optimal == len(result.layers) else f"no ({optimal}/{len(result.layers)})"
    worst = slowest[0] if slowest else None
    worst_text = f"{worst.nest.name} {worst.seconds:.2f} s" if worst else "-"
    wall, cpu = seconds
    row = f"{network:<18} {result.arch:<12} {result.objective:<7} {wall:8.2f} {cpu:7.2f} {os.getloadavg()[0]:5.2f}"
    row += f" {proven:>12} {tilings:>14,}"
    print(f"{row}  {worst_text}", flush=True)
    for r in slowest[:top]:
        print(
            f"{'':<20}{r.seconds:7.2f} s {r.tilings_evaluated:>13,} tilings  {r.status:<9} x{r.nest.instances:<3}"
            f" {r.nest.name}: {shape(r)}{phases(r)}",
            flush=True,
        )


def phases(result: LayerResult) -> str:
    """Where a proven layer's seconds went (phases of 0.01 s or more) and the CP-SAT root bound's gap."""
    if result.proof is None:
        return ""
    spent = [f"{phase} {s:.2f}" for phase, s in result.proof.seconds.items() if s >= 0.01]
    gap = result.proof.root_gap(result.value)
    spent.append("root gap -" if gap is None else f"root gap {gap:.1%}")
    return f"  [{', '.join(spent)}]"


def progress_printer(enabled: bool):
    """A progress callback that prints each layer as it finishes (to see which layer a long run is on)."""

    def show(result: LayerResult) -> None:
        print(f"    done {result.nest.name} {result.seconds:.2f} s {result.status} {shape(result)}", flush=True)

    return show if enabled else None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--objectives", nargs="+", default=["edp", "energy"], choices=OBJECTIVES)
    parser.add_argument("--archs", nargs="+", default=["dmazerunner"], help="arch names or spec paths")
    parser.add_argument("--layers", nargs="*", help="only these layer names (default: every layer)")
    parser.add_argument("--top", type=int, default=3, help="slowest layers listed per network and objective")
    parser.add_argument("--time-limit", type=float, help="seconds per layer (a layer stopped early is FEASIBLE)")
    parser.add_argument("--progress", action="store_true", help="print each layer as it finishes")
    parser.add_argument("--onnx-dir", type=Path, help="write the ONNX files here and keep them")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    try:
        archs = [load_arch(name) for name in args.archs]  # a wrong name fails before the networks are built
        models = build_and_load(args.networks, args.onnx_dir, args.layers)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for arch in archs:
        for objective in args.objectives:
            solve("tiny", arch, objective, cache_dir=None)  # warm-up: numba's compile or cache load
    header = f"{'network':<18} {'arch':<12} {'obj':<7} {'wall s':>8} {'CPU s':>7} {'load':>5}"
    print(f"\n{header} {'all optimal':>12} {'tilings':>14}  slowest")
    totals: dict[tuple[str, str], float] = {}
    for arch in archs:
        for objective in args.objectives:
            for name, model in models.items():
                start, cpu_start = time.perf_counter(), time.process_time()
                result = solve(
                    model,
                    arch,
                    objective,
                    time_limit=args.time_limit,
                    cache_dir=None,
                    progress=progress_printer(args.progress),
                )
                seconds = time.perf_counter() - start
                totals[(arch.name, objective)] = totals.get((arch.name, objective), 0.0) + seconds
                report(name, result, (seconds, time.process_time() - cpu_start), args.top)
    for (arch_name, objective), seconds in totals.items():
        print(f"total {arch_name} {objective}: {seconds:.2f} s")
    return 0


def build_and_load(names: list[str], onnx_dir: Path | None, layers: list[str] | None) -> dict[str, Model]:
    """Write the networks' ONNX files (into `onnx_dir`, else a temporary directory) and read them back."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = onnx_dir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        models = {name: load(name, path, layers) for name, path in write_networks(names, directory).items()}
    found = {nest.name for model in models.values() for nest in model.layers}
    missing = sorted(set(layers or ()) - found)
    if missing:
        raise InputError(f"no layer named {', '.join(missing)} in {', '.join(names)}", field="--layers")
    return models


if __name__ == "__main__":
    sys.exit(main())
