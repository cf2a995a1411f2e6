"""`dmz solve`: the optimal mapping of every layer (or one), as text, JSON and an optional report directory."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tqdm import tqdm

from ..api import SolvePlan, find_layer, read_rerun, with_model
from ..arch import load_arch
from ..dse.task import layer_runner
from ..errors import InputError
from ..jit import limit_threads
from ..report.output import REPORT_FILES, write_json
from ..report.text import format_layer_result, format_summary, progress_text
from ..search.registry import SEARCHES as SEARCH_METHODS
from ..solving import DEFAULT_TIME_LIMIT, SEARCHES, LayerRunner
from ..version import __version__
from ..vocabulary import OBJECTIVES
from ..workload.loader import load_model
from .backend import BackendStarter, add_scheduler_timeout
from .common import (
    add_cache,
    add_constraints,
    add_json,
    add_knobs,
    add_layer,
    add_model_arch,
    check_cache_dir,
    check_files_in,
    check_not_an_input,
    check_output_dir,
    check_output_path,
    emit,
    files_in,
    input_files,
    positive_float,
    positive_int,
    text_stream,
)
from .space_options import knobs_from_args, load_constraint_set, restrictions_text

if TYPE_CHECKING:
    from ..loopnest import LoopNest
    from ..result import LayerResult, ModelResult, ProofProgress

PROGRESS_EVERY = 0.25
"""Seconds between redraws of a running proof's line on a terminal."""
RERUN_FIXED = {
    "model": "--model",
    "arch": "--arch",
    "layer": "--layer",
    "objective": "--objective",
    "search": "--search",
    "auto_optimize": "--auto-optimize",
    "time_limit": "--time-limit",
    "constraints": "--constraints",
    "opt_min_utilization": "--opt-min-utilization",
    "opt_no_feature_dram": "--opt-no-feature-dram",
    "opt_no_spatial_reduction": "--opt-no-spatial-reduction",
    "opt_min_exec_methods": "--opt-min-exec-methods",
}
"""What `--rerun` takes from the result file: argument name -> option. These options have no default in the
parser (None: not given), so that one given alongside `--rerun` is caught even when it repeats the default."""
DEFAULTS = {
    "arch": "dmazerunner",
    "objective": "edp",
    "search": SEARCHES[0],
    "opt_min_exec_methods": 1,
    "time_limit": DEFAULT_TIME_LIMIT,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `solve`."""

    add_model_arch(parser, model_required=False)
    parser.add_argument("--objective", choices=OBJECTIVES, help="what to minimise (default: edp)")
    add_layer(parser, "solve only this layer (once; without it every layer is solved)")
    methods = "; ".join(f"{name}: {method.summary}" for name, method in SEARCH_METHODS.items())
    parser.add_argument("--search", choices=SEARCHES, help=f"search method (default: {SEARCHES[0]}) - {methods}")
    parser.add_argument(
        "--auto-optimize",
        action="store_true",
        help="the seed's heuristic: the same as --search auto",
    )
    parser.add_argument(
        "--time-limit",
        type=positive_float,
        metavar="S",
        help=f"seconds per layer for the search (default: {DEFAULT_TIME_LIMIT:g})",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="distinct layers solved in N processes, one thread each (default: this process, all cores)",
    )
    where.add_argument(
        "--cluster-workers",
        type=positive_int,
        metavar="N",
        help="distinct layers solved on a Dask LocalCluster of N worker processes, one thread each",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="distinct layers solved on the Dask cluster of this scheduler (tcp://HOST:PORT)",
    )
    add_scheduler_timeout(parser)
    add_cache(parser)
    parser.add_argument("--report", metavar="DIR", help="write DIR/result.json, PNG plots and DIR/report.md")
    add_constraints(parser)
    add_knobs(parser)
    parser.add_argument(
        "--unrestricted",
        action="store_true",
        help="with knobs or constraint files: also solve every layer without them, and report that optimum and "
        "bound beside each result",
    )
    parser.add_argument(
        "--rerun",
        metavar="RESULT.json",
        help="solve again what a result JSON records (model, layer, arch, objective, search, knobs, constraint "
        "files, time limit); other options say only where the output goes and how the solve runs",
    )
    add_json(parser, "write the result JSON to OUT ('-' for standard output)")
    parser.set_defaults(**dict.fromkeys(DEFAULTS))  # applied in run(), after the --rerun check


def run(args: argparse.Namespace) -> int:
    """Solve the layers, printing each layer's block as it finishes, then the summary; write JSON and report.

    A layer without a mapping does not stop the others: every layer is reported and written (that one
    INFEASIBLE, with its reason), and then the command fails with status 2 naming the layers and why.
    """

    check_output_path(args.json, "--json")
    check_output_dir(args.report, "--report")
    check_files_in(args.report, REPORT_FILES, "--report")
    check_cache_dir(args)
    check_not_an_input([(args.json, "--json"), *files_in(args.report, REPORT_FILES, "--report")], input_files(args))
    plan = _plan_from_result(args) if args.rerun else _plan_from_options(args)
    if args.workers:
        limit_threads(args.workers)  # numba's parallel kernels (the exhaustive search)
    starter = BackendStarter(args.scheduler, args.scheduler_timeout, args.cluster_workers)  # a bad address fails here
    try:
        out = text_stream(args.json)
        emit(out, _header(plan))
        runner = layer_runner(starter.start) if starter.distributed else None
        result = _solve_layers(plan, args, out=out, runner=runner)
    finally:
        starter.close()
    result = with_model(result, plan.model, plan.layer, getattr(args, "command_line", None))
    if len(result.layers) > 1:
        emit(out, format_summary(result))
    if args.json:
        write_json(args.json, result.to_json())
    if args.report:
        from ..report.model_report import write_model_report  # start-up: the report loads matplotlib

        write_model_report(result, plan.arch, args.report)
    failed = [r for r in result.layers if r.mapping is None]
    if failed:
        solved = len(result.layers) - len(failed)
        note = f" ({solved} other layer(s) solved and reported)" if solved else ""
        reasons = "; ".join(r.reason or f"no valid mapping of {r.nest.name}" for r in failed)
        raise InputError(f"{reasons}{note}", source=plan.model.source)
    return 0


def search_of(args: argparse.Namespace) -> str:
    """The search --search and --auto-optimize ask for; the two naming different searches is an error."""
    if args.auto_optimize and args.search not in (None, "auto"):
        raise InputError(
            f"is the seed's heuristic, --search auto, and conflicts with --search {args.search}; give one of the two",
            field="--auto-optimize",
        )
    return "auto" if args.auto_optimize else args.search or SEARCHES[0]


def _plan_from_options(args: argparse.Namespace) -> SolvePlan:
    """The plan the options give; inputs are read and checked before anything is printed."""
    search = search_of(args)
    args = _with_defaults(args)
    if not args.model:
        raise InputError("required: a model (--model M), or a result file to run again (--rerun RESULT.json)")
    model = load_model(args.model)
    arch = load_arch(args.arch)
    if args.layer:
        find_layer(model, args.layer, field="--layer")
    constraints = load_constraint_set(arch, args)
    return SolvePlan(
        model, args.layer, arch, args.objective, search, knobs_from_args(args), constraints, args.time_limit
    )


def _with_defaults(args: argparse.Namespace) -> argparse.Namespace:
    """The options with the defaults of those left out."""
    left_out = {name: default for name, default in DEFAULTS.items() if getattr(args, name) is None}
    return argparse.Namespace(**{**vars(args), **left_out})


def _plan_from_result(args: argparse.Namespace) -> SolvePlan:
    """The plan a result file records; options it would override are refused."""
    given = [option for name, option in RERUN_FIXED.items() if getattr(args, name) not in (None, False, [])]
    if given:
        raise InputError(
            f"the result file fixes what is solved; leave out {', '.join(given)} (or drop --rerun)", field="--rerun"
        )
    recorded = _read_result_file(args.rerun)
    if recorded.version != __version__:
        print(
            f"note: {args.rerun} was written by dmz-solver {recorded.version}, this is {__version__}", file=sys.stderr
        )
    return recorded


def _read_result_file(path: str) -> SolvePlan:
    """What the result file `path` records; a problem with the file itself (missing, a directory, not JSON) is one
    line naming --rerun, and a directory that holds a --report's result.json names that file."""
    if os.path.isdir(path):
        inside = Path(path) / "result.json"
        written = f"{inside}, which --report wrote there" if inside.is_file() else "a JSON of solve --json or --report"
        raise InputError(f"is a directory, not a result file; give {written}", source=path, field="--rerun")
    try:
        return read_rerun(path)
    except InputError as exc:
        if exc.source != path or exc.field is not None:  # a field of the file: it names the file and the field
            raise
        raise InputError(exc.reason, source=path, field="--rerun") from None


def _header(plan: SolvePlan) -> str:
    model, arch = plan.model, plan.arch
    return (
        f"Model {model.name} ({model.source}) on arch {arch.name}: minimise {plan.objective}, search {plan.search}"
        f"{restrictions_text(plan.restrictions)}"
    )


def _solve_layers(
    plan: SolvePlan, args: argparse.Namespace, *, out: TextIO | None, runner: LayerRunner | None
) -> ModelResult:
    """Solve the layers through solve_model (on `runner`, if any), printing each layer's block as it finishes."""

    layers = plan.layers
    bar = tqdm(total=len(layers), unit="layer", file=sys.stderr, disable=not sys.stderr.isatty())
    finished: dict[int, LayerResult] = {}  # by id of the nest: layers may finish out of order
    shown: dict[str, float] = {}  # per layer (two may run at once): when its proof's line was last redrawn

    def monitor(nest: LoopNest, state: ProofProgress) -> None:
        if state.seconds - shown.get(nest.name, 0.0) >= PROGRESS_EVERY:  # proofs report often: redraw a few
            shown[nest.name] = state.seconds  # times a second
            bar.set_postfix_str(progress_text(nest.name, state))

    def progress(result: LayerResult) -> None:
        shown.pop(result.nest.name, None)
        finished[id(result.nest)] = result
        if out is not None:
            bar.clear()
            emit(out, format_layer_result(result))
        bar.set_postfix_str(result.nest.name)
        bar.update(1)

    try:
        result = plan.solve(
            progress=progress,
            cache_dir=None if args.no_cache else args.cache_dir,
            workers=args.workers,
            unrestricted=args.unrestricted,
            monitor=None if bar.disable else monitor,
            runner=runner,
        )
    finally:
        bar.close()
    return replace(result, layers=tuple(finished[id(r.nest)] for r in result.layers))
