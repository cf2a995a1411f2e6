"""Proof times of whole models: every arch and objective, with the root gap, beside an older commit in the same run.

Run by hand from the repository root:

    python bench/bench_proofs.py                                   # ResNet-18, every shipped arch and objective
    python bench/bench_proofs.py --models mobilenetv2 --archs dmazerunner eyeriss --objectives edp
    python bench/bench_proofs.py --baseline 4b327cc                # also time commit 4b327cc, same inputs

Each (model, arch, objective) is solved warm (numba compiled by a first tiny solve) with the layer cache off, in a
fresh process: one after the rows before it in the same process measured up to 1.5 times slower than the same code
in a fresh one, which made a ratio against the baseline (always in a fresh process) look like a regression.
Printed per row: wall seconds, whether every layer is OPTIMAL, the slowest layer, the tilings evaluated, and
CP-SAT's root gap `(optimum - root bound) / optimum` over the layers (median and worst). With `--baseline`, the
same solves run with the code of that commit (checked out into a temporary git worktree, in a subprocess),
and the row gains its seconds and the ratio; the optima must be equal.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMED = """
import json, sys, time
import dmz_solver
model, arch, objective = sys.argv[1:4]
dmz_solver.solve("tiny", arch, objective, cache_dir=None)
start = time.perf_counter()
result = dmz_solver.solve(model, arch, objective, cache_dir=None)
seconds = time.perf_counter() - start
layers = [
    {
        "name": r.nest.name,
        "status": str(r.status),
        "value": r.value,
        "root": r.proof.root_bound if r.proof is not None else None,
        "seconds": r.seconds,
        "evaluated": r.tilings_evaluated,
    }
    for r in result.layers
]
print(json.dumps({"seconds": seconds, "layers": layers}))
"""


def measure_at(tree: Path, model: str, arch: str, objective: str) -> dict:
    """The figures of one row: a warm solve with the code in `tree`, in a fresh process (this checkout's too, so
    that both sides of a ratio start alike)."""
    argv = [sys.executable, "-c", TIMED, model, arch, objective]
    out = subprocess.run(argv, cwd=tree, capture_output=True, text=True)
    if out.returncode != 0:  # an old baseline may lack what the script reads, its results' proof object for one
        raise SystemExit(f"{model} {arch} {objective} with the code in {tree} failed:\n{out.stderr[-3000:]}")
    found = json.loads(out.stdout.strip().splitlines()[-1])
    layers = found["layers"]
    slowest = max(layers, key=lambda r: r["seconds"])
    gaps = [(r["value"] - r["root"]) / r["value"] for r in layers if r["root"] is not None and r["value"] > 0]
    return {
        "seconds": found["seconds"],
        "optimal": all(r["status"] == "OPTIMAL" for r in layers),
        "slowest": f"{slowest['name']} {slowest['seconds']:.2f} s",
        "evaluated": sum(r["evaluated"] for r in layers),
        "gap_median": statistics.median(gaps) if gaps else float("nan"),
        "gap_worst": max(gaps) if gaps else float("nan"),
        "values": [r["value"] for r in layers],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["resnet18"])
    parser.add_argument(
        "--archs", nargs="+", default=["dmazerunner", "eyeriss", "tpu_like", "edge_8x8", "tpu_v1_256", "mxu_128"]
    )
    parser.add_argument("--objectives", nargs="+", default=["edp", "cycles", "energy"])
    parser.add_argument("--baseline", metavar="REV", help="also time this commit, in a temporary worktree")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tree = None
        if args.baseline:
            tree = Path(scratch) / "baseline"
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.baseline], cwd=ROOT, check=True)
        try:
            run_rows(args, tree)
        finally:
            if tree is not None:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)


def run_rows(args: argparse.Namespace, tree: Path | None) -> None:
    head = f"{'model':12} {'arch':12} {'objective':9} {'wall s':>7} {'OPTIMAL':>7} {'evaluated':>12} "
    head += f"{'root gap med':>12} {'worst':>7}  slowest layer"
    if tree:
        head += f"  {'baseline s':>10} {'ratio':>6}"
    print(head)
    for model in args.models:
        for arch in args.archs:
            for objective in args.objectives:
                row = measure_at(ROOT, model, arch, objective)
                line = (
                    f"{model:12} {arch:12} {objective:9} {row['seconds']:7.2f} {row['optimal']!s:>7} "
                    f"{row['evaluated']:12,} {row['gap_median']:12.1%} {row['gap_worst']:7.1%}  {row['slowest']}"
                )
                if tree:
                    base = measure_at(tree, model, arch, objective)
                    if base["values"] != row["values"]:
                        raise SystemExit(f"{model} {arch} {objective}: the optima differ from the baseline's")
                    line += f"  {base['seconds']:10.2f} {base['seconds'] / row['seconds']:6.1f}x"
                print(line, flush=True)


if __name__ == "__main__":
    main()
