"""`dmz dse`: solve the model at every point of the arch sweeps (or a sample of them), in this process or on a
Dask cluster; every result goes to the store in --out as it arrives, and the same command resumes a DSE.
Prints a table; writes dse.csv, the plots and report.md from the store."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

from tqdm import tqdm

from ..arch import Arch, load_arch
from ..constraints import ConstraintSet, load_constraints
from ..dse.run import Dse, DsePoint, DseProgress, dse_identity, write_csv
from ..dse.sample import latin_hypercube
from ..dse.store import STORE_NAME, DseStore
from ..dse.summary import dse_markdown
from ..dse.sweep import Sweep, arch_points, load_scaling, parse_sweep
from ..dse.task import Backend, Task
from ..errors import InputError
from ..problem.numeric import check_model_range
from ..report.output import make_directory, write_text
from ..report.text import format_table
from ..solving import DEFAULT_TIME_LIMIT
from ..vocabulary import OBJECTIVES
from ..workload.loader import Model, load_model
from .backend import BackendStarter, add_scheduler_timeout
from .common import (
    add_cache,
    add_model_arch,
    check_cache_dir,
    check_files_in,
    check_not_an_input,
    check_output_dir,
    files_in,
    input_files,
    integer,
    positive_int,
)

TABLE_POINTS = 100
"""Above this many points the printed table shows only the Pareto front (dse.csv has every point)."""


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
    parser.add_argument(
        "--out", default="dse-out", metavar="DIR", help="output directory and results store (default: dse-out)"
    )
    parser.add_argument("--scale", metavar="FILE", help="energy scaling table JSON (docs/reports-and-dse.md)")
    parser.add_argument(
        "--sample", type=positive_int, metavar="N", help="solve N points of the grid (a Latin hypercube sample)"
    )
    parser.add_argument("--seed", type=integer, metavar="S", help="seed of --sample (default: 0)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="solve on a local Dask cluster of N worker processes (1: in this process, the default)",
    )
    where.add_argument(
        "--scheduler", metavar="ADDRESS", help="solve on the Dask cluster of this scheduler (tcp://HOST:PORT)"
    )
    add_scheduler_timeout(parser)
    add_cache(parser)


def run(args: argparse.Namespace) -> int:
    """Run (or resume) the DSE; bad input fails (exit 2) before anything is solved."""

    from ..dse.plots import objective_vs_parameter, pareto_plot  # start-up: the plots load matplotlib

    check_output_dir(args.out, "--out")
    check_cache_dir(args)
    if args.seed is not None and args.sample is None:
        raise InputError("draws the points of --sample; give --sample N too", field="--seed")
    sweeps = [parse_sweep(text) for text in args.sweep]
    written = _written_files(args.objective, [s.key for s in sweeps])
    check_files_in(args.out, written, "--out")
    check_not_an_input(files_in(args.out, written, "--out"), input_files(args))
    scaling = load_scaling(args.scale) if args.scale else None
    model = load_model(args.model)
    base = load_arch(args.arch)
    constraints = load_constraints(list(base.constraints)) if base.constraints else None
    combos, note = _sample(sweeps, args.sample, args.seed or 0)
    points = arch_points(base, sweeps, scaling, combos)
    for _, arch in points:  # every point in the cost model's numeric range, before the store or a cluster exists
        check_model_range(model.layers, arch)
    keys = [s.key for s in sweeps]
    local = args.workers if args.workers and args.workers > 1 else None  # --workers 1: in this process
    starter = BackendStarter(args.scheduler, args.scheduler_timeout, local)  # a bad scheduler fails here
    print(f"DSE of {model.name} on {base.name}: {len(points)} points{note}, minimise {args.objective}", flush=True)
    try:
        out = make_directory(args.out)
        results = _stored_results(args, model, points, constraints, starter)
    finally:
        starter.close()
    write_csv(results, keys, out / "dse.csv")
    plots = []
    for key in keys:
        name = f"{args.objective}_vs_{key}.png"  # as _written_files names them
        plots.append(objective_vs_parameter(results, keys, key, args.objective, model.name, out / name).name)
    plots.append(pareto_plot(results, model.name, out / "pareto.png").name)
    title = f"DSE of {model.name} on {base.name}"
    write_text(out / "report.md", dse_markdown(results, keys, args.objective, title, plots, note=_report_note(note)))
    _print_table(results, keys)
    print(f"wrote {out / 'dse.csv'}, report.md and plots in {out}")
    return 0


def _written_files(objective: str, keys: list[str]) -> list[str]:
    """The names of the files `run` writes in --out: the store, dse.csv, the plots and report.md."""
    return [STORE_NAME, "dse.csv", *(f"{objective}_vs_{key}.png" for key in keys), "pareto.png", "report.md"]


def _stored_results(
    args: argparse.Namespace,
    model: Model,
    points: list[tuple[dict, Arch]],
    constraints: ConstraintSet | None,
    starter: BackendStarter,
) -> list[DsePoint]:
    """Every point's totals, from the store in --out after solving what it lacks (what is left is printed)."""
    identity = dse_identity(model.layers, points, args.objective, constraints)
    with DseStore.open(args.out, identity) as store:
        dse = Dse(
            model.layers,
            points,
            args.objective,
            model=model.name,
            constraints=constraints,
            cache_dir=None if args.no_cache else args.cache_dir,
            store=store,
            time_limit=DEFAULT_TIME_LIMIT,
        )
        cached = dse.take_cached()
        tasks, _ = dse.tasks()
        print(_plan_line(dse, store, cached, len(tasks)), flush=True)
        if tasks:
            _solve(dse, starter.start(), min(tasks, key=lambda t: t.nest.macs))
        return dse.finish()


def _sample(sweeps: list[Sweep], n: int | None, seed: int) -> tuple[list[tuple[int, ...]] | None, str]:
    """The grid points of `--sample N` (None: the whole grid) and how to describe them."""
    if n is None:
        return None, ""
    size = math.prod(len(s.values) for s in sweeps)
    if n >= size:
        return None, f" (the whole grid: --sample {n} is not below its {size} points)"
    combos = latin_hypercube([len(s.values) for s in sweeps], n, seed)
    return combos, f" (a Latin hypercube sample of the {size}-point grid, seed {seed})"


def _report_note(note: str) -> str:
    return f" Points: {note.strip(' ()')}." if note else ""


def _plan_line(dse: Dse, store: DseStore, cached: int, tasks: int) -> str:
    """What the run starts from: points done in the store, layer results from the cache, solves left."""
    done, total = dse.stored_points, len(dse.points)
    verb = "resuming" if store.run > 1 else "storing results in"
    return (
        f"{verb} {store.path}: {done} of {total} points done (from the store), {cached} layer results from the "
        f"layer cache, {tasks} layer solves left"
    )


def _solve(dse: Dse, backend: Backend, first: Task) -> None:
    """Solve what is left (warming the back-end with its smallest task, `first`), with a progress bar on a
    terminal: points done, ETA, size of the Pareto front."""
    backend.warm(first)
    bar = tqdm(
        total=len(dse.points),
        initial=dse.done_points(),
        unit="point",
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
    )

    def progress(state: DseProgress) -> None:
        bar.set_postfix_str(f"front {state.front}", refresh=False)
        bar.update(1)

    try:
        dse.solve(backend, progress)
    finally:
        bar.close()


def _print_table(results: Sequence[DsePoint], keys: Sequence[str]) -> None:
    shown = results if len(results) <= TABLE_POINTS else [p for p in results if p.pareto]
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
        for p in shown
    ]
    header = [*keys, "cycles", "energy (pJ)", "EDP", "status", "pareto", "seconds"]
    if len(shown) < len(results):
        print(f"the {len(shown)} points of the Pareto front (every point is in dse.csv):")
    print(format_table(header, rows, align="r" * len(keys) + "rrrllr"))
