"""Ablation: the proof with and without CP-SAT's candidates and bound, and how tight CP-SAT's root bound is.

Run by hand: python bench/bench_supply.py [--model resnet18] [--archs ...] [--objectives ...] [--layers ...]

For each layer, arch and objective the branch and bound (search/bnb.py) runs twice in the same process:
with the default supplier (CP-SAT: top candidates and a certified bound) and with none (the proof starts
from its own spatial bounds). It prints both wall times, the tilings each evaluated, their ratio, and
the root gap of CP-SAT's bound to the optimum; it stops if the two optima or mappings differ. The
summary gives the median and worst root gap per arch and objective.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dmz_solver.arch import load_arch  # noqa: E402
from dmz_solver.problem import Problem  # noqa: E402
from dmz_solver.search.bnb import branch_and_bound  # noqa: E402
from dmz_solver.search.supply import no_supply  # noqa: E402
from dmz_solver.vocabulary import OBJECTIVES, Objective  # noqa: E402
from dmz_solver.workload.loader import load_model  # noqa: E402


def timed(problem: Problem, objective: Objective, **options):
    start = time.perf_counter()
    result = branch_and_bound(problem, objective, **options)
    return result, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--archs", nargs="+", default=["dmazerunner", "eyeriss"])
    parser.add_argument("--objectives", nargs="+", default=["edp", "cycles"], choices=OBJECTIVES)
    parser.add_argument("--layers", nargs="*", help="layer names (default: all)")
    args = parser.parse_args()
    nests = [n for n in load_model(args.model).layers if not args.layers or n.name in args.layers]
    warm = Problem(nests[-1], load_arch(args.archs[0]))
    branch_and_bound(warm, Objective.EDP)  # compile or load the numba cache outside the timings
    print(
        f"{'layer':<22} {'arch':<12} {'obj':<7} {'with s':>8} {'without s':>9} {'ratio':>6} "
        f"{'tilings with':>13} {'without':>13} {'root gap':>9}"
    )
    gaps: dict[tuple[str, str], list[float]] = {}
    totals = [0.0, 0.0]
    for arch_name in args.archs:
        arch = load_arch(arch_name)
        for objective in map(Objective, args.objectives):
            for nest in nests:
                problem = Problem(nest, arch)
                with_cpsat, t_with = timed(problem, objective)
                alone, t_alone = timed(problem, objective, supplier=no_supply)
                if (with_cpsat.mapping, with_cpsat.cost) != (alone.mapping, alone.cost):
                    print(f"{nest.name} {arch_name} {objective}: the two proofs disagree")
                    return 1
                gap = with_cpsat.proof.root_gap(with_cpsat.value)
                gaps.setdefault((arch_name, objective), []).append(gap)
                totals[0] += t_with
                totals[1] += t_alone
                print(
                    f"{nest.name:<22} {arch_name:<12} {objective:<7} {t_with:8.2f} {t_alone:9.2f} "
                    f"{t_alone / t_with:6.2f} {with_cpsat.tilings_evaluated:13,} {alone.tilings_evaluated:13,} "
                    f"{gap:9.2%}",
                    flush=True,
                )
    print(f"\ntotal: {totals[0]:.2f} s with CP-SAT, {totals[1]:.2f} s without ({totals[1] / totals[0]:.2f}x)")
    print("CP-SAT root gap to the optimum (median, worst):")
    for (arch_name, objective), values in gaps.items():
        print(f"  {arch_name:<12} {objective:<7} {statistics.median(values):8.2%} {max(values):8.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
