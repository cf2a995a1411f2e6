"""`dmz dse`: solve the model at every point of the arch sweeps; print a table, write dse.csv and plots."""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from ..arch import load_arch
from ..constraints import load_constraints
from ..dse.run import run_dse, write_csv
from ..dse.sweep import arch_points, load_scaling, parse_sweep
from ..report.output import make_directory
from ..report.text import format_table
from ..solving import DEFAULT_TIME_LIMIT
from ..vocabulary import OBJECTIVES
from ..workload.loader import load_model
from .common import add_cache, add_model_arch, check_output_dir, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `dse`."""
    add_model_arch(parser)
    parser.add_argument(
        "--sweep",
        action="append",
        required=True,
        metavar="KEY=V1,V2,...",
        help="an arch parameter (seed or Arch field name, or pe_array.rows, networks.input.bandwidth, ...) and its "
        "values; repeat for a product",
    )
    parser.add_argument("--objective", choices=OBJECTIVES, default="edp", help="what to minimise (default: edp)")
    parser.add_argument("--out", default="dse-out", metavar="DIR", help="output directory (default: dse-out)")
    parser.add_argument("--scale", metavar="FILE", help="energy scaling table JSON (docs/reports-and-dse.md)")
    parser.add_argument("--workers", type=positive_int, metavar="N", help="distinct layers solved in N processes")
    add_cache(parser)


def run(args: argparse.Namespace) -> int:
    """Run the DSE; bad sweeps fail (exit 2) before anything is solved."""

    from ..dse.plots import objective_vs_parameter, pareto_plot  # start-up: the plots load matplotlib

    check_output_dir(args.out, "--out")
    sweeps = [parse_sweep(text) for text in args.sweep]
    scaling = load_scaling(args.scale) if args.scale else None
    model = load_model(args.model)
    base = load_arch(args.arch)
    constraints = load_constraints(list(base.constraints)) if base.constraints else None
    points = arch_points(base, sweeps, scaling)
    keys = [s.key for s in sweeps]
    print(f"DSE of {model.name} on {base.name}: {len(points)} points, minimise {args.objective}", flush=True)
    bar = tqdm(total=len(points), unit="point", file=sys.stderr, disable=not sys.stderr.isatty())
    try:
        results = run_dse(
            model.layers,
            points,
            args.objective,
            model=model.name,
            cache_dir=None if args.no_cache else args.cache_dir,
            workers=args.workers,
            progress=lambda p: bar.update(1),
            constraints=constraints,
            time_limit=DEFAULT_TIME_LIMIT,
        )
    finally:
        bar.close()
    out = make_directory(args.out)  # only now: a DSE that fails on its input leaves no directory
    write_csv(results, keys, out / "dse.csv")
    for key in keys:
        objective_vs_parameter(results, keys, key, args.objective, model.name, out / f"{args.objective}_vs_{key}.png")
    pareto_plot(results, model.name, out / "pareto.png")
    rows = [
        [
            *(f"{p.params[k]:g}" for k in keys),
            f"{int(p.cycles)}" if p.solved else "-",
            f"{p.energy_pj:.4E}" if p.solved else "-",
            f"{p.edp:.4E}" if p.solved else "-",
            p.status,
            "*" if p.pareto else "",
            f"{p.seconds:.2f}",
        ]
        for p in results
    ]
    header = [*keys, "cycles", "energy (pJ)", "EDP", "status", "pareto", "seconds"]
    print(format_table(header, rows, align="r" * len(keys) + "rrrllr"))
    print(f"wrote {out / 'dse.csv'} and plots in {out}")
    return 0
