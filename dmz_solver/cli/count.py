"""`dmz count`: how many tilings of each layer are valid under the knobs and the constraint files."""

from __future__ import annotations

import argparse
import time

from ..api import find_layer
from ..arch import load_arch
from ..problem import Problem
from ..report.output import write_json
from ..report.text import dims_text, format_table
from ..result import ModelSource, RunRecord, file_sha256
from ..search.exhaustive import count_tilings
from ..workload.loader import load_model
from .common import (
    add_constraints,
    add_json,
    add_knobs,
    add_layer,
    add_model_arch,
    check_output_file,
    emit,
    text_stream,
)
from .space_options import knobs_from_args, load_constraint_set, restrictions_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `count`."""
    add_model_arch(parser)
    add_layer(parser, "count only this layer")
    add_knobs(parser)
    add_constraints(parser)
    add_json(parser, "write the counts as JSON to OUT ('-' for standard output)")


def run(args: argparse.Namespace) -> int:
    """Count each layer's valid tilings, timing each count; print a table and optionally write JSON."""

    check_output_file(args, args.json, "--json")
    model = load_model(args.model)
    arch = load_arch(args.arch)
    layers = (find_layer(model, args.layer, field="--layer"),) if args.layer else model.layers
    knobs = knobs_from_args(args)
    constraints = load_constraint_set(arch, args)
    out = text_stream(args.json)
    rows, entries = [], []
    for nest in layers:
        start = time.perf_counter()
        valid = count_tilings(Problem(nest, arch, knobs, constraints))
        seconds = time.perf_counter() - start
        rows.append([nest.name, nest.op, dims_text(nest), str(valid), f"{seconds:.2f}"])
        entries.append({"name": nest.name, "op": nest.op, "dims": nest.dims_summary(), "valid_tilings": valid})
    record = RunRecord(
        arch,
        knobs=knobs,
        constraints=constraints,
        model=ModelSource(model.name, model.source, file_sha256(model.source), args.layer),
        command=getattr(args, "command_line", None),
    )
    emit(out, f"Valid tilings on arch {arch.name}{restrictions_text(record.restrictions())}")
    emit(out, format_table(["layer", "op", "dims", "valid tilings", "seconds"], rows, align="lllrr"))
    if args.json:
        restrictions = list(record.restrictions())
        summary = {"model": model.name, "arch": arch.name, "restrictions": restrictions, "layers": entries}
        write_json(args.json, {**summary, "inputs": record.to_json()})
    return 0
