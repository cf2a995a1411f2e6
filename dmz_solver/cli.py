"""The `dmz` command line: solve, evaluate, layers, export-spec and count (docs/cli.md, interfaces.md).

Every command reads its inputs first, so bad input fails before any search starts. An
`InputError` becomes one line `error: <file>: <field>: <reason>` on standard error and
exit status 2; JSON output files are written to a temporary name and renamed only after
success, so a failed run leaves no partial file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from . import __version__
from .errors import InputError

if TYPE_CHECKING:
    from .arch import Arch
    from .cost.evaluate import Cost
    from .loopnest import LoopNest
    from .problem import Knobs
    from .problem.mapping import Mapping
    from .result import LayerResult, ModelResult
    from .workload.loader import Model

OBJECTIVES = ("edp", "energy", "cycles")
SEARCHES = ("cpsat", "exhaustive", "auto")
LEVEL_ROWS = ("DRAM", "SPM", "RF", "SPATIAL")


# ----------------------------------------------------------------------------------------------------------------------
# Argument parsing


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="dmz",
        description="Optimal mappings of DNN loop nests onto dataflow accelerators (dMazeRunner's cost model).",
    )
    parser.add_argument("--version", action="version", version=f"dmz-solver {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    solve = sub.add_parser("solve", help="find the optimal mapping of every layer (or one)")
    _add_model_arch(solve)
    solve.add_argument("--objective", choices=OBJECTIVES, default="edp", help="what to minimise (default: edp)")
    solve.add_argument("--layer", metavar="NAME", help="solve only this layer")
    solve.add_argument("--search", choices=SEARCHES, default="cpsat", help="search method (default: cpsat)")
    solve.add_argument("--auto-optimize", action="store_true", help="the seed's heuristic; same as --search auto")
    solve.add_argument("--time-limit", type=_positive_float, metavar="S", help="seconds per layer for the search")
    solve.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="distinct layers solved in N processes, one thread each (default: this process, all cores)",
    )
    _add_cache(solve)
    solve.add_argument("--report", metavar="DIR", help="write DIR/result.json, PNG plots and DIR/report.md")
    _add_constraints(solve)
    _add_knobs(solve)
    _add_json(solve, "write the result JSON to OUT ('-' for standard output)")
    solve.set_defaults(run=cmd_solve)

    evaluate = sub.add_parser("evaluate", help="evaluate one given mapping with the exact cost model")
    _add_model_arch(evaluate)
    evaluate.add_argument("--layer", metavar="NAME", required=True, help="the layer the mapping is for")
    evaluate.add_argument("--mapping", metavar="MAPPING.json", required=True, help="mapping JSON (interfaces.md)")
    evaluate.add_argument(
        "--objective", choices=OBJECTIVES, default="edp",
        help="picks the ordering pair (and row/column split) the mapping leaves open",
    )  # fmt: skip
    _add_json(evaluate, "write the evaluation JSON to OUT ('-' for standard output)")
    evaluate.set_defaults(run=cmd_evaluate)

    layers = sub.add_parser("layers", help="list the layers (loop nests) of a model")
    layers.add_argument("--model", required=True, metavar="M", help="model spec JSON, .onnx file or models/ name")
    _add_json(layers, "write the layer list as JSON to OUT ('-' for standard output)")
    layers.set_defaults(run=cmd_layers)

    export = sub.add_parser("export-spec", help="write a model's layers as a seed-layout model spec JSON")
    export.add_argument("model", metavar="MODEL", help="an .onnx file (or any model the loader reads)")
    export.add_argument("-o", "--output", metavar="OUT.json", help="output file (default: standard output)")
    export.set_defaults(run=cmd_export_spec)

    count = sub.add_parser("count", help="count the valid tilings of each layer")
    _add_model_arch(count)
    count.add_argument("--layer", metavar="NAME", help="count only this layer")
    _add_knobs(count)
    _add_constraints(count)
    _add_json(count, "write the counts as JSON to OUT ('-' for standard output)")
    count.set_defaults(run=cmd_count)

    arch = sub.add_parser("arch", help="show an arch spec as read (array, networks, capacities, energies)")
    arch.add_argument("arch", metavar="A", help="arch spec JSON or archspecs/ name")
    arch.add_argument("--draw", metavar="OUT.png", help="draw the PE array and its networks (networkx graph) to a PNG")
    arch.set_defaults(run=cmd_arch)

    from .dse.command import add_dse_command

    add_dse_command(sub, _add_model_arch, _add_cache)
    return parser


def _add_cache(parser: argparse.ArgumentParser) -> None:
    """The on-disk cache of solved layers (dmz_solver/cache.py)."""
    parser.add_argument("--cache-dir", default=".dmz-cache", metavar="DIR", help="layer cache (default: .dmz-cache)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the layer cache")


def _add_model_arch(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="M", help="model spec JSON, .onnx file or models/ name")
    parser.add_argument(
        "--arch", default="dmazerunner", metavar="A", help="arch spec JSON or archspecs/ name (default: dmazerunner)"
    )


def _add_constraints(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--constraints", nargs="+", default=[], metavar="FILE",
        help="constraint files (YAML/JSON, or names in constraints/), added to the arch spec's (docs/constraints.md)",
    )  # fmt: skip


def _add_json(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--json", metavar="OUT", help=text)


def _add_knobs(parser: argparse.ArgumentParser) -> None:
    """The seed's search-space reduction knobs (cost-model.md §8)."""
    group = parser.add_argument_group("search-space knobs of the seed (cost-model.md §8)")
    group.add_argument(
        "--opt-min-utilization",
        nargs=3,
        type=_fraction,
        metavar=("PE", "RF", "SPM"),
        help="minimum PE, RF and SPM utilisation of a tiling (fractions in [0, 1])",
    )
    group.add_argument("--opt-no-feature-dram", action="store_true", help="no DRAM-level tiling of Fx, Fy")
    group.add_argument("--opt-no-spatial-reduction", action="store_true", help="no spatial unrolling of reductions")
    group.add_argument(
        "--opt-min-exec-methods",
        type=int,
        default=1,
        metavar="N",
        help="a layer with fewer valid tilings is reported as not optimisable",
    )


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def knobs_from_args(args: argparse.Namespace) -> Knobs:
    """The Knobs of the command line; MIN_EXEC_METHODS = max(n, 1) as in the seed."""
    from .problem import Knobs

    pe, rf, spm = args.opt_min_utilization or (0.0, 0.0, 0.0)
    return Knobs(
        pe_util=pe,
        rf_util=rf,
        spm_util=spm,
        no_feature_dram=args.opt_no_feature_dram,
        no_spatial_reduction=args.opt_no_spatial_reduction,
        min_exec_methods=max(args.opt_min_exec_methods, 1),
    )


# ----------------------------------------------------------------------------------------------------------------------
# Entry point


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 internal error, 2 bad input or usage)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (2) and --help/--version (0)
        return int(exc.code) if isinstance(exc.code, int) else 2
    try:
        return args.run(args)
    except InputError as exc:
        sys.stdout.flush()
        print(f"error: {_one_line(exc.message)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `dmz layers ... | head`
        return 0
    except Exception:  # noqa: BLE001 - anything else is our bug: show it
        traceback.print_exc()
        print("error: internal error (the traceback above is a bug in dmz-solver)", file=sys.stderr)
        return 1


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ----------------------------------------------------------------------------------------------------------------------
# Commands


def cmd_solve(args: argparse.Namespace) -> int:
    """`solve`: the optimal mapping of each layer, as text and optionally JSON."""
    from .arch import load_arch
    from .workload.loader import load_model

    search = "auto" if args.auto_optimize else args.search
    _check_output_path(args.json, "--json")
    model = load_model(args.model)
    arch = load_arch(args.arch)
    layers = (model.layer(args.layer),) if args.layer else model.layers
    knobs = knobs_from_args(args)
    constraints = _constraints(arch, args)  # read (and checked) before anything is printed
    if args.workers:
        _set_threads(args.workers)
    out = _text_stream(args.json)
    _print(out, _solve_header(model, arch, search, args.objective, knobs))
    result = _solve_layers(model, layers, arch, args, search, knobs, constraints, out)
    if len(result.layers) > 1:
        _print(out, format_summary(result))
    failed = [r.nest.name for r in result.layers if r.mapping is None]
    if failed:
        reason = f"no valid mapping on arch {arch.name}{_knobs_text(knobs)}"
        raise InputError(reason, source=model.source, field=", ".join(failed))
    if args.json:
        write_json(args.json, result.to_json())
    if args.report:
        from .report.model_report import write_model_report

        write_model_report(result, arch, args.report, write_json)
    return 0


def _solve_layers(
    model: Model,
    layers: Sequence[LoopNest],
    arch: Arch,
    args: argparse.Namespace,
    search: str,
    knobs: Knobs,
    constraints: object,
    out: TextIO | None,
) -> ModelResult:
    """Solve the layers through solve_model, printing each layer's block as it finishes."""
    from tqdm import tqdm

    from .solving import solve_model

    bar = tqdm(total=len(layers), unit="layer", file=sys.stderr, disable=len(layers) < 2 or not sys.stderr.isatty())
    finished: dict[int, LayerResult] = {}  # by id of the nest: layers may finish out of order

    def progress(result: LayerResult) -> None:
        finished[id(result.nest)] = result
        if out is not None:
            bar.clear()
            _print(out, format_layer_result(result, knobs.min_exec_methods))
        bar.set_postfix_str(result.nest.name)
        bar.update(1)

    # With --auto-optimize the schedule starts from 0.8/0.8/0.5 unless utilisations are given (§8).
    search_knobs = knobs if (search != "auto" or args.opt_min_utilization) else None
    try:
        result = solve_model(
            layers,
            arch,
            args.objective,
            model=model.name,
            search=search,
            knobs=search_knobs,
            time_limit=args.time_limit,
            progress=progress,
            constraints=constraints,
            cache_dir=None if args.no_cache else args.cache_dir,
            workers=args.workers,
        )
    finally:
        bar.close()
    return replace(result, layers=tuple(finished[id(r.nest)] for r in result.layers))


def _constraints(arch: Arch, args: argparse.Namespace):
    """The arch spec's constraint files and those of --constraints, as one ConstraintSet (None if none)."""
    from .constraints import load_constraints

    specs = list(arch.constraints) + list(getattr(args, "constraints", []))
    return load_constraints(specs) if specs else None


def cmd_evaluate(args: argparse.Namespace) -> int:
    """`evaluate`: the exact cost of one given mapping."""
    from .arch import load_arch
    from .cost.evaluate import evaluate_mapping
    from .problem import Problem
    from .problem.mapping import mapping_from_json
    from .specio import read_json
    from .workload.loader import load_model

    _check_output_path(args.json, "--json")
    model = load_model(args.model)
    nest = model.layer(args.layer)
    arch = load_arch(args.arch)
    mapping = mapping_from_json(read_json(args.mapping), nest, source=args.mapping)
    given_order = mapping.dram_order is not None
    used, cost = evaluate_mapping(Problem(nest, arch), mapping, args.objective, source=args.mapping)
    out = _text_stream(args.json)
    how = "given" if given_order else f"best candidate pair for {args.objective}"
    _print(out, f"Evaluation on arch {arch.name} ({model.source})")
    _print(out, format_mapping_block(nest, used, cost, f"orders: {how}"))
    if args.json:
        write_json(args.json, evaluation_json(nest, used, cost))
    return 0


def evaluation_json(nest: LoopNest, mapping: Mapping, cost: Cost) -> dict[str, Any]:
    """The Evaluation JSON of interfaces.md."""
    return {
        "name": nest.name,
        "op": nest.op,
        "dims": nest.dims_summary(),
        "mapping": mapping.to_json(),
        **cost.to_json(),
    }


def cmd_layers(args: argparse.Namespace) -> int:
    """`layers`: the loop nests the front-end extracts."""
    from .workload.loader import load_model

    _check_output_path(args.json, "--json")
    model = load_model(args.model)
    out = _text_stream(args.json)
    rows = [[nest.name, nest.op, _dims_text(nest), _stride_text(nest), str(nest.instances)] for nest in model.layers]
    instances = sum(n.instances for n in model.layers)
    _print(out, f"Model {model.name} ({model.source}): {len(model.layers)} layers, {instances} instances")
    _print(out, format_table(["layer", "op", "dims", "stride", "instances"], rows, align="llllr"))
    if model.ignored:
        _print(out, "Ignored (no multiply-accumulate):")
        for item in model.ignored:
            _print(out, f"  {item}")
    if args.json:
        write_json(
            args.json,
            {
                "model": model.name,
                "source": model.source,
                "layers": [
                    {"name": n.name, "op": n.op, "dims": n.dims_summary(), "instances": n.instances}
                    for n in model.layers
                ],
                "ignored": list(model.ignored),
            },
        )
    return 0


def cmd_export_spec(args: argparse.Namespace) -> int:
    """`export-spec`: a model's layers in the seed's model spec layout."""
    from .workload.export import export_spec
    from .workload.loader import load_model

    target = args.output or "-"
    _check_output_path(target, "--output")
    model = load_model(args.model)
    write_json(target, export_spec(model.layers))
    return 0


def cmd_count(args: argparse.Namespace) -> int:
    """`count`: how many tilings of each layer are valid under the knobs and the constraint files."""
    import time

    from .arch import load_arch
    from .problem import Problem
    from .search.exhaustive import count_tilings
    from .workload.loader import load_model

    _check_output_path(args.json, "--json")
    model = load_model(args.model)
    arch = load_arch(args.arch)
    layers = (model.layer(args.layer),) if args.layer else model.layers
    knobs = knobs_from_args(args)
    constraints = _constraints(arch, args)
    out = _text_stream(args.json)
    rows, entries = [], []
    for nest in layers:
        start = time.perf_counter()
        valid = count_tilings(Problem(nest, arch, knobs, constraints))
        seconds = time.perf_counter() - start
        rows.append([nest.name, nest.op, _dims_text(nest), str(valid), f"{seconds:.2f}"])
        entries.append({"name": nest.name, "op": nest.op, "dims": nest.dims_summary(), "valid_tilings": valid})
    _print(out, f"Valid tilings on arch {arch.name}{_knobs_text(knobs)}")
    _print(out, format_table(["layer", "op", "dims", "valid tilings", "seconds"], rows, align="lllrr"))
    if args.json:
        write_json(args.json, {"model": model.name, "arch": arch.name, "layers": entries})
    return 0


def cmd_arch(args: argparse.Namespace) -> int:
    """`arch`: the arch spec as dmz-solver reads it, optionally drawn."""
    from .arch import describe_arch, load_arch

    if args.draw:
        _check_output_path(args.draw, "--draw")
    arch = load_arch(args.arch)
    print(describe_arch(arch))
    if args.draw:
        from .report.noc_plot import draw_arch

        print(f"wrote {draw_arch(arch, Path(args.draw))}")
    return 0


# ----------------------------------------------------------------------------------------------------------------------
# Output files


def _check_output_path(target: str | None, option: str) -> None:
    """Fail before any work if an output file could not be written."""
    if target is None or target == "-":
        return
    path = Path(target)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError("is a directory, expected a file name", source=target, field=option)
    if not parent.is_dir():
        raise InputError(f"directory {str(parent)!r} does not exist", source=target, field=option)


def _finite(value: Any) -> Any:
    """JSON has no infinities: an unknown bound or gap is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def write_json(target: str, obj: Any) -> None:
    """Write JSON to a file (atomically: temp file, then rename) or to standard output for '-'."""
    text = _dump_json(_finite(obj)) + "\n"
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(target)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write ({exc.strerror})", source=target) from None


def _dump_json(value: Any, indent: int = 0) -> str:
    """JSON with two-space indentation, but lists of plain values (factors, orders, sizes) on one line."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(str(k))}: {_dump_json(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return "[\n" + ",\n".join(inner + _dump_json(v, indent + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value, allow_nan=False)


def _text_stream(json_target: str | None) -> TextIO | None:
    """Where the text report goes: standard output, unless the JSON goes there."""
    return None if json_target == "-" else sys.stdout


def _print(out: TextIO | None, text: str) -> None:
    if out is not None:
        print(text, file=out, flush=True)


def _set_threads(workers: int) -> None:
    """Limit numba's parallel kernels (the exhaustive search) to `workers` threads."""
    import numba

    numba.set_num_threads(min(workers, numba.config.NUMBA_NUM_THREADS))


# ----------------------------------------------------------------------------------------------------------------------
# Text formatting


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    """A plain text table; align has one 'l' or 'r' per column (default: first left, others right)."""
    align = align or "l" + "r" * (len(header) - 1)
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [str(c).ljust(w) if a == "l" else str(c).rjust(w) for c, w, a in zip(row, widths, align, strict=True)]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def _layer_head(nest: LoopNest) -> str:
    stride = f" stride={_stride_text(nest)}" if "stride" in nest.dims_summary() else ""
    return f"Layer {nest.name}: {nest.op} {_dims_text(nest)}{stride} instances={nest.instances}"


def _dims_text(nest: LoopNest) -> str:
    dims = nest.dims_summary()
    return " ".join(f"{k}={v}" for k, v in dims.items() if k != "stride")


def _stride_text(nest: LoopNest) -> str:
    stride = nest.dims_summary().get("stride")
    if stride is None:
        return "-"
    return "x".join(map(str, stride)) if isinstance(stride, list) else str(stride)


def _knobs_text(knobs: Knobs) -> str:
    from .problem import Knobs

    if knobs == Knobs():
        return ""
    parts = []
    if (knobs.pe_util, knobs.rf_util, knobs.spm_util) != (0, 0, 0):
        parts.append(f"min utilisation PE {knobs.pe_util:g} RF {knobs.rf_util:g} SPM {knobs.spm_util:g}")
    if knobs.no_feature_dram:
        parts.append("no feature DRAM tiling")
    if knobs.no_spatial_reduction:
        parts.append("no spatial reduction")
    if knobs.min_exec_methods > 1:
        parts.append(f"min {knobs.min_exec_methods} execution methods")
    return " (knobs: " + ", ".join(parts) + ")"


def _solve_header(model: Model, arch: Arch, search: str, objective: str, knobs: Knobs) -> str:
    knob_text = " (knobs of the seed's schedule)" if search == "auto" else _knobs_text(knobs)
    return f"Model {model.name} ({model.source}) on arch {arch.name}: minimise {objective}, search {search}{knob_text}"


def _sci(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.4E}"


def format_tiling(nest: LoopNest, mapping: Mapping) -> str:
    """The factors per level as a table: rows DRAM/SPM/RF/SPATIAL, columns the loops."""
    rows = [[level, *map(str, factors)] for level, factors in zip(LEVEL_ROWS, mapping.factors, strict=True)]
    if mapping.spatial_rows is not None:  # the spatial factors split over the PE rows and columns
        rows.append(["  rows", *map(str, mapping.spatial_rows)])
        rows.append(["  cols", *map(str, mapping.spatial_cols or ())])
    return format_table(["level", *nest.loops], rows)


def format_mapping_block(nest: LoopNest, mapping: Mapping, cost: Cost, order_note: str = "") -> str:
    """A layer's header, tiling table, orders, cycles, energy, EDP and energy breakdown."""
    lines = [_layer_head(nest)]
    lines += ["  " + row for row in format_tiling(nest, mapping).splitlines()]
    note = f"  ({order_note})" if order_note else ""
    lines.append(f"  DRAM order (outer to inner): {' '.join(mapping.dram_order or ())}{note}")
    lines.append(f"  SPM order  (outer to inner): {' '.join(mapping.spm_order or ())}")
    lines.append(f"  cycles        {int(cost.cycles)}")
    lines.append(f"  energy (pJ)   {int(cost.energy_pj)}  ({_sci(cost.energy_pj)})")
    lines.append(f"  EDP           {_sci(cost.edp)}")
    total = sum(cost.breakdown_pj) or 1.0
    from .cost.evaluate import BREAKDOWN

    parts = [
        f"{name} {value:.4E} pJ ({100 * value / total:.1f}%)"
        for name, value in zip(BREAKDOWN, cost.breakdown_pj, strict=True)
    ]
    lines.append("  breakdown     " + "  ".join(parts))
    return "\n".join(lines)


def format_layer_result(result: LayerResult, min_exec_methods: int = 1) -> str:
    """One layer's execution method as the solve command prints it."""
    nest = result.nest
    if result.mapping is None or result.cost is None:
        if result.tilings_evaluated:
            why = (
                f"not optimised: {result.tilings_evaluated} valid tilings, fewer than the "
                f"{min_exec_methods} execution methods asked for"
            )
        else:
            why = f"no valid tiling (search {result.search})"
        return f"{_layer_head(nest)}\n  status {result.status}: {why}\n"
    block = format_mapping_block(nest, result.mapping, result.cost)
    tail = [
        f"  status        {result.status} (objective {result.objective}, search {result.search})",
        f"  lower bound   {_sci(result.lower_bound)}  gap {_percent(result.gap)}",
        f"  tilings evaluated {result.tilings_evaluated}, {result.seconds:.2f} s",
    ]
    return block + "\n" + "\n".join(tail) + "\n"


def _percent(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{100 * value:.2f}%"


def format_summary(result: ModelResult) -> str:
    """The model summary: one row per layer, then totals counting each layer `instances` times."""
    rows = []
    for r in result.layers:
        cost = r.cost
        rows.append(
            [
                r.nest.name,
                r.nest.op,
                str(r.nest.instances),
                r.status,
                str(int(cost.cycles)) if cost else "-",
                _sci(cost.energy_pj) if cost else "-",
                _sci(cost.edp) if cost else "-",
                _percent(r.gap),
                f"{r.seconds:.2f}",
            ]
        )
    totals = result.totals()
    rows.append(
        [
            f"total ({totals['layers']} layers)",
            "",
            str(totals["layers"]),
            "OPTIMAL" if totals["all_optimal"] else "-",
            str(totals["cycles"]),
            _sci(totals["energy_pj"]),
            _sci(totals["edp"]),
            "",
            f"{result.seconds:.2f}",
        ]
    )
    header = ["layer", "op", "instances", "status", "cycles", "energy (pJ)", "EDP", "gap", "seconds"]
    title = f"Summary of {result.model} on {result.arch} (objective {result.objective}; totals count instances)"
    return title + "\n" + format_table(header, rows, align="llrlrrrrr")


if __name__ == "__main__":
    sys.exit(main())
