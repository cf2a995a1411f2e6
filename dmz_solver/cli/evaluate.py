"""`dmz evaluate`: the exact cost of one given mapping of one layer."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..api import find_layer
from ..arch import load_arch
from ..problem import Problem
from ..problem.mapping import mapping_from_json
from ..report.output import write_json
from ..report.text import format_mapping_block
from ..result import ModelSource, RunRecord, file_sha256
from ..solving import evaluate_layer
from ..specio import read_json
from ..vocabulary import OBJECTIVES
from ..workload.loader import load_model
from .common import (
    add_constraints,
    add_json,
    add_layer,
    add_model_arch,
    check_output_file,
    emit,
    text_stream,
)
from .space_options import load_constraint_set, restrictions_text

if TYPE_CHECKING:
    from ..cost.evaluate import Cost
    from ..loopnest import LoopNest
    from ..problem.mapping import Mapping


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `evaluate`."""
    add_model_arch(parser)
    add_layer(parser, "the layer the mapping is for", required=True)
    parser.add_argument("--mapping", metavar="MAPPING.json", required=True, help="mapping JSON (docs/formats.md)")
    parser.add_argument(
        "--objective",
        choices=OBJECTIVES,
        default="edp",
        help="picks the ordering pair (and row/column split) the mapping leaves open",
    )
    add_constraints(parser)
    add_json(parser, "write the evaluation JSON to OUT ('-' for standard output)")


def run(args: argparse.Namespace) -> int:
    """Read the mapping, evaluate it on the layer and print (and optionally write) its cost.

    The mapping must obey the arch spec's constraint files and those of --constraints; one that breaks any
    is an error naming them.
    """

    check_output_file(args, args.json, "--json")
    model = load_model(args.model)
    nest = find_layer(model, args.layer, field="--layer")
    arch = load_arch(args.arch)
    constraints = load_constraint_set(arch, args)
    mapping = mapping_from_json(read_json(args.mapping), nest, source=args.mapping)
    given_order = mapping.dram_order is not None
    problem = Problem(nest, arch, constraints=constraints)
    used, cost = evaluate_layer(problem, mapping, args.objective, source=args.mapping)
    record = RunRecord(
        arch,
        args.objective,
        constraints=constraints,
        model=ModelSource(model.name, model.source, file_sha256(model.source), nest.name),
        command=getattr(args, "command_line", None),
    )
    out = text_stream(args.json)
    how = "given" if given_order else f"best candidate pair for {args.objective}"
    emit(out, f"Evaluation on arch {arch.name} ({model.source}){restrictions_text(record.restrictions())}")
    emit(out, format_mapping_block(nest, used, cost, f"orders: {how}"))
    if args.json:
        inputs = {**record.to_json(), "mapping": {"path": args.mapping, "sha256": file_sha256(args.mapping)}}
        write_json(args.json, {**evaluation_json(nest, used, cost), "inputs": inputs})
    return 0


def evaluation_json(nest: LoopNest, mapping: Mapping, cost: Cost) -> dict[str, Any]:
    """The evaluation JSON (docs/formats.md, "Evaluation")."""
    return {
        "name": nest.name,
        "op": nest.op,
        "dims": nest.dims_summary(),
        "mapping": mapping.to_json(),
        **cost.to_json(),
    }
