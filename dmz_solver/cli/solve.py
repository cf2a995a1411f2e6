"""`dmz solve`: the optimal mapping of every layer (or one), as text, JSON and an optional report directory."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

import numba
from tqdm import tqdm

from ..arch import load_arch
from ..errors import InputError
from ..report.output import write_json
from ..report.text import format_layer_result, format_summary
from ..search.registry import SEARCHES as SEARCH_METHODS
from ..solving import SEARCHES, solve_model
from ..vocabulary import OBJECTIVES
from ..workload.loader import load_model
from .common import (
    add_cache,
    add_constraints,
    add_json,
    add_knobs,
    add_model_arch,
    check_output_path,
    emit,
    positive_float,
    positive_int,
    text_stream,
)
from .space_options import knobs_from_args, knobs_text, load_constraint_set

if TYPE_CHECKING:
    from ..arch import Arch
    from ..constraints import ConstraintSet
    from ..loopnest import LoopNest
    from ..problem import Knobs
    from ..result import LayerResult, ModelResult
    from ..workload.loader import Model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `solve`."""

    add_model_arch(parser)
    parser.add_argument("--objective", choices=OBJECTIVES, default="edp", help="what to minimise (default: edp)")
    parser.add_argument("--layer", metavar="NAME", help="solve only this layer")
    methods = "; ".join(f"{name}: {method.summary}" for name, method in SEARCH_METHODS.items())
    parser.add_argument("--search", choices=SEARCHES, help=f"search method (default: {SEARCHES[0]}) - {methods}")
    parser.add_argument(
        "--auto-optimize",
        action="store_true",
        help="the seed's heuristic: the same as --search auto",
    )
    parser.add_argument("--time-limit", type=positive_float, metavar="S", help="seconds per layer for the search")
    parser.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="distinct layers solved in N processes, one thread each (default: this process, all cores)",
    )
    add_cache(parser)
    parser.add_argument("--report", metavar="DIR", help="write DIR/result.json, PNG plots and DIR/report.md")
    add_constraints(parser)
    add_knobs(parser)
    add_json(parser, "write the result JSON to OUT ('-' for standard output)")


def run(args: argparse.Namespace) -> int:
    """Solve the layers, printing each layer's block as it finishes, then the summary; write JSON and report."""

    search = search_of(args)
    check_output_path(args.json, "--json")
    model = load_model(args.model)
    arch = load_arch(args.arch)
    layers = (model.layer(args.layer),) if args.layer else model.layers
    knobs = knobs_from_args(args)
    constraints = load_constraint_set(arch, args)  # read (and checked) before anything is printed
    if args.workers:
        _set_threads(args.workers)
    out = text_stream(args.json)
    emit(out, _header(model, arch, search, args.objective, knobs))
    result = _solve_layers(model, layers, arch, args, search=search, knobs=knobs, constraints=constraints, out=out)
    if len(result.layers) > 1:
        emit(out, format_summary(result))
    failed = [r.nest.name for r in result.layers if r.mapping is None]
    if failed:
        reason = f"no valid mapping on arch {arch.name}{knobs_text(knobs)}"
        raise InputError(reason, source=model.source, field=", ".join(failed))
    if args.json:
        write_json(args.json, result.to_json())
    if args.report:
        from ..report.model_report import write_model_report  # start-up: the report loads matplotlib

        write_model_report(result, arch, args.report)
    return 0


def search_of(args: argparse.Namespace) -> str:
    """The search --search and --auto-optimize ask for; the two naming different searches is an error."""
    if args.auto_optimize and args.search not in (None, "auto"):
        raise InputError(
            f"is the seed's heuristic, --search auto, and conflicts with --search {args.search}; give one of the two",
            field="--auto-optimize",
        )
    return "auto" if args.auto_optimize else args.search or SEARCHES[0]


def _header(model: Model, arch: Arch, search: str, objective: str, knobs: Knobs) -> str:
    knob_text = " (knobs of the seed's schedule)" if search == "auto" else knobs_text(knobs)
    return f"Model {model.name} ({model.source}) on arch {arch.name}: minimise {objective}, search {search}{knob_text}"


def _solve_layers(
    model: Model,
    layers: Sequence[LoopNest],
    arch: Arch,
    args: argparse.Namespace,
    *,
    search: str,
    knobs: Knobs,
    constraints: ConstraintSet | None,
    out: TextIO | None,
) -> ModelResult:
    """Solve the layers through solve_model, printing each layer's block as it finishes."""

    bar = tqdm(total=len(layers), unit="layer", file=sys.stderr, disable=len(layers) < 2 or not sys.stderr.isatty())
    finished: dict[int, LayerResult] = {}  # by id of the nest: layers may finish out of order

    def progress(result: LayerResult) -> None:
        finished[id(result.nest)] = result
        if out is not None:
            bar.clear()
            emit(out, format_layer_result(result, knobs.min_exec_methods))
        bar.set_postfix_str(result.nest.name)
        bar.update(1)

    try:
        result = solve_model(
            layers,
            arch,
            args.objective,
            model=model.name,
            search=search,
            knobs=knobs,
            time_limit=args.time_limit,
            progress=progress,
            constraints=constraints,
            cache_dir=None if args.no_cache else args.cache_dir,
            workers=args.workers,
        )
    finally:
        bar.close()
    return replace(result, layers=tuple(finished[id(r.nest)] for r in result.layers))


def _set_threads(workers: int) -> None:
    """Limit numba's parallel kernels (the exhaustive search) to `workers` threads."""

    numba.set_num_threads(min(workers, numba.config.NUMBA_NUM_THREADS))
