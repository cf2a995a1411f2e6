"""Rebuild dmz_solver/kernel_cache/: the compiled numba kernels a fresh clone starts from (dmz_solver/jit.py).

Run by hand from the repository root after kernels change (a shipped entry is ignored once a file its module
depends on changed, so a stale cache costs compile time, never a wrong result):

    python bench/build_kernel_cache.py            # compile with a workload that calls every kernel
    python bench/build_kernel_cache.py --check    # only list the stale shipped entries, and what changed

The package is copied to a temporary directory without its caches, the workload runs there (so every kernel
compiles from scratch, for the generic CPU target), and the entries it leaves in the copy's __pycache__
directories replace the shipped ones. The manifest records, per kernel module, the package files it depends on
(itself and what it imports, directly or not) and their hashes in the copy, the sources the entries were compiled
from. Kernels the workload never called are listed: they compile on first use.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dmz_solver"
SHIPPED = PACKAGE / "kernel_cache"
MANIFEST = "manifest.json"

WORKLOAD = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import numba
    from numba.core.registry import CPUDispatcher
    import dmz_solver
    from dmz_solver.arch import load_arch
    from dmz_solver.cost.evaluate import evaluate_mapping
    from dmz_solver.problem import Problem
    from dmz_solver.search.exhaustive import exhaustive_search
    from dmz_solver.solving import solve_layer
    from dmz_solver.workload.loader import load_model
    from dmz_solver.workload.templates import conv_nest, gemm_nest

    small = [gemm_nest("g", x=8, y=6, k=4), conv_nest("c", n=1, m=4, c=4, in_rows=6, in_cols=6, f_rows=3,
             f_cols=3, stride=(1, 1)), conv_nest("s", n=1, m=4, c=4, in_rows=7, in_cols=7, f_rows=3, f_cols=3,
             stride=(2, 2))]
    for arch_name in ("dmazerunner", "eyeriss", "tpu_like", "edge_8x8"):
        arch = load_arch(arch_name)
        for nest in small:
            exhaustive_search(Problem(nest, arch))
            for objective in ("energy", "cycles", "edp"):
                for search in ("cpsat", "auto"):
                    result = solve_layer(nest, arch, objective, search=search)
                    if result.mapping is not None:
                        evaluate_mapping(Problem(nest, arch), result.mapping, objective)
    dmz_solver.solve("resnet18", "dmazerunner", cache_dir=None)
    dmz_solver.solve("tiny", "eyeriss", constraints=["rs_array"], cache_dir=None)
    dmz_solver.solve("tiny", "dmazerunner", knobs={"no_spatial_reduction": True}, cache_dir=None)
    from dmz_solver.cli import main
    for argv in (["count", "--model", "tiny"], ["count", "--model", "tiny", "--arch", "eyeriss"]):
        main(argv)
    # the kernels only the slow paths and the tests call: the per-tiling search (layers too large for the tables),
    # the parallel batch evaluator, a mapping without orders, and the bound checkers of tests/test_bound_soundness
    import dataclasses, warnings
    import numpy as np
    from dmz_solver.cost.batch import evaluate_batch, evaluate_batch_parallel
    from dmz_solver.search import exhaustive
    from dmz_solver.search.bounds import block_bounds_of, energy_floor, leaf_bounds_of
    from dmz_solver.search.exhaustive import count_tilings
    from dmz_solver.search.table_search import Pruning

    for arch_name in ("dmazerunner", "eyeriss"):
        problem = Problem(small[1], load_arch(arch_name))
        cap, exhaustive.MAX_TABLE_BYTES = exhaustive.MAX_TABLE_BYTES, 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = exhaustive_search(problem)
            count_tilings(problem)
        exhaustive.MAX_TABLE_BYTES = cap
        tilings = np.array([best.tiling for best in found.best.values()])  # its optima, one per objective
        prof = problem.batch_profiles(tilings)
        values, pairs = np.zeros((len(tilings), 3)), np.zeros((len(tilings), 3, 4), np.int64)
        evaluate_batch(tilings, problem.arrays, prof, values, pairs)
        evaluate_batch_parallel(tilings, problem.arrays, prof, values, pairs)
        pruning = Pruning(0, np.inf, energy_floor(problem))
        block_bounds_of(tilings, problem.arrays, prof, pruning, values)
        leaf_bounds_of(tilings, problem.arrays, prof, pruning, values)
        mapping = solve_layer(small[1], problem.arch, "edp").mapping
        evaluate_mapping(problem, dataclasses.replace(mapping, dram_order=None, spm_order=None), "edp")
    idle = set()
    for name, module in sorted(sys.modules.items()):
        if name.startswith("dmz_solver"):
            for value in vars(module).values():
                inlined = isinstance(value, CPUDispatcher) and value.targetoptions.get("inline") == "always"
                if isinstance(value, CPUDispatcher) and not value.signatures and not inlined:
                    idle.add(f"{value.py_func.__module__}.{value.py_func.__qualname__}")
    print(json.dumps(sorted(idle)))
    """
)


sys.path.insert(0, str(ROOT))
from dmz_solver.jit import build_manifest, shipped_entries  # noqa: E402 - the tool reads the package it rebuilds


def stale_entries(shipped: Path = SHIPPED, package: Path = PACKAGE) -> list[str]:
    """Each shipped index that may not be used with the sources now (or this numba), and why."""
    return [
        f"{entry.index.relative_to(shipped)}: {entry.why_stale}"
        for entry in shipped_entries(shipped, package)
        if not entry.fresh
    ]


def build() -> int:
    with tempfile.TemporaryDirectory(prefix="dmz-kernels-") as tmp:
        copy = Path(tmp)
        ignore = shutil.ignore_patterns("__pycache__", "kernel_cache", "*.egg-info")
        shutil.copytree(PACKAGE, copy / "dmz_solver", ignore=ignore)
        for data in ("models", "archspecs", "constraints"):
            shutil.copytree(ROOT / data, copy / data)
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-c", WORKLOAD], cwd=copy, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            print(run.stderr, file=sys.stderr)
            return 1
        print(f"compiled in {time.perf_counter() - start:.0f} s")
        shutil.rmtree(SHIPPED, ignore_errors=True)
        indexes: list[str] = []
        for cache in sorted((copy / "dmz_solver").rglob("__pycache__")):
            entries = sorted([*cache.glob("*.nbi"), *cache.glob("*.nbc")])
            if not entries:
                continue
            relative = cache.parent.relative_to(copy / "dmz_solver")
            target = SHIPPED / relative
            target.mkdir(parents=True, exist_ok=True)
            for entry in entries:
                shutil.copyfile(entry, target / entry.name)
                if entry.suffix == ".nbi":
                    indexes.append((target / entry.name).relative_to(SHIPPED).as_posix())
        manifest = build_manifest(indexes, copy / "dmz_solver")  # the workload ran on this interpreter's numba
        (SHIPPED / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        size = sum(f.stat().st_size for f in SHIPPED.rglob("*") if f.is_file())
        print(f"{len(indexes)} kernels, {size / 2**20:.1f} MiB in {SHIPPED.relative_to(ROOT)}")
        idle = run.stdout.strip().splitlines()[-1]
        print(f"never called by the workload (compiled on first use): {idle}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only list the stale shipped entries, and what changed")
    args = parser.parse_args()
    if args.check:
        if not shipped_entries():
            print(f"no shipped entry: {(SHIPPED / MANIFEST).relative_to(ROOT)} is missing or of another format")
            return 1
        stale = stale_entries()
        print("\n".join(stale) if stale else "every shipped entry matches the sources it depends on")
        return 1 if stale else 0
    return build()


if __name__ == "__main__":
    sys.exit(main())
