"""The `dse` command: parse the sweeps, solve every arch point, print a table, write dse.csv and plots."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

OBJECTIVES = ("edp", "energy", "cycles")


def add_dse_command(
    sub: argparse._SubParsersAction,
    add_model_arch: Callable[[argparse.ArgumentParser], None],
    add_cache: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register `dse` with the CLI's shared --model/--arch and cache options."""
    dse = sub.add_parser("dse", help="design-space exploration: solve the model at every arch point")
    add_model_arch(dse)
    dse.add_argument(
        "--sweep",
        action="append",
        required=True,
        metavar="KEY=V1,V2,...",
        help="an arch parameter (seed or Arch field name, or pe_array.rows, networks.input.bandwidth, ...) and its "
        "values; repeat for a product",
    )
    dse.add_argument("--objective", choices=OBJECTIVES, default="edp", help="what to minimise (default: edp)")
    dse.add_argument("--out", default="dse-out", metavar="DIR", help="output directory (default: dse-out)")
    dse.add_argument("--scale", metavar="FILE", help="energy scaling table JSON (docs/reports-and-dse.md)")
    dse.add_argument("--workers", type=_positive_int, metavar="N", help="distinct layers solved in N processes")
    add_cache(dse)
    dse.set_defaults(run=cmd_dse)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def cmd_dse(args: argparse.Namespace) -> int:
    """Run the DSE; bad sweeps fail (exit 2) before anything is solved."""
    from tqdm import tqdm

    from ..arch import load_arch
    from ..cli import format_table
    from ..constraints import load_constraints
    from ..report.dse_plots import objective_vs_parameter, pareto_plot
    from ..workload.loader import load_model
    from .run import run_dse, write_csv
    from .sweep import arch_points, load_scaling, parse_sweep

    sweeps = [parse_sweep(text) for text in args.sweep]
    scaling = load_scaling(args.scale) if args.scale else None
    model = load_model(args.model)
    base = load_arch(args.arch)
    constraints = load_constraints(list(base.constraints)) if base.constraints else None
    points = arch_points(base, sweeps, scaling)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    keys = [s.key for s in sweeps]
    print(f"DSE of {model.name} on {base.name}: {len(points)} points, minimise {args.objective}", flush=True)
    bar = tqdm(total=len(points), unit="point", file=sys.stderr, disable=not sys.stderr.isatty())
    try:
        results = run_dse(model.layers, points, args.objective, model=model.name,
                          cache_dir=None if args.no_cache else args.cache_dir, workers=args.workers,
                          progress=lambda p: bar.update(1), constraints=constraints)  # fmt: skip
    finally:
        bar.close()
    write_csv(results, keys, out / "dse.csv")
    for key in keys:
        objective_vs_parameter(results, keys, key, args.objective, model.name, out / f"{args.objective}_vs_{key}.png")
    pareto_plot(results, model.name, out / "pareto.png")
    rows = [
        [*(f"{p.params[k]:g}" for k in keys), f"{int(p.cycles)}" if p.solved else "-",
         f"{p.energy_pj:.4E}" if p.solved else "-", f"{p.edp:.4E}" if p.solved else "-", p.status,
         "*" if p.pareto else "", f"{p.seconds:.2f}"]
        for p in results
    ]  # fmt: skip
    header = [*keys, "cycles", "energy (pJ)", "EDP", "status", "pareto", "seconds"]
    print(format_table(header, rows, align="r" * len(keys) + "rrrllr"))
    print(f"wrote {out / 'dse.csv'} and plots in {out}")
    return 0
