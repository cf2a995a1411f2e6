"""`dmz evaluate`: the exact cost of one given mapping of one layer."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..arch import load_arch
from ..cost.evaluate import evaluate_mapping
from ..problem import Problem
from ..problem.mapping import mapping_from_json
from ..report.output import write_json
from ..report.text import format_mapping_block
from ..specio import read_json
from ..vocabulary import OBJECTIVES
from ..workload.loader import load_model
from .common import add_json, add_model_arch, check_output_path, emit, text_stream

if TYPE_CHECKING:
    from ..cost.evaluate import Cost
    from ..loopnest import LoopNest
    from ..problem.mapping import Mapping


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `evaluate`."""
    add_model_arch(parser)
    parser.add_argument("--layer", metavar="NAME", required=True, help="the layer the mapping is for")
    parser.add_argument("--mapping", metavar="MAPPING.json", required=True, help="mapping JSON (docs/formats.md)")
    parser.add_argument(
        "--objective",
        choices=OBJECTIVES,
        default="edp",
        help="picks the ordering pair (and row/column split) the mapping leaves open",
    )
    add_json(parser, "write the evaluation JSON to OUT ('-' for standard output)")


def run(args: argparse.Namespace) -> int:
    """Read the mapping, evaluate it on the layer and print (and optionally write) its cost."""

    check_output_path(args.json, "--json")
    model = load_model(args.model)
    nest = model.layer(args.layer)
    arch = load_arch(args.arch)
    mapping = mapping_from_json(read_json(args.mapping), nest, source=args.mapping)
    given_order = mapping.dram_order is not None
    used, cost = evaluate_mapping(Problem(nest, arch), mapping, args.objective, source=args.mapping)
    out = text_stream(args.json)
    how = "given" if given_order else f"best candidate pair for {args.objective}"
    emit(out, f"Evaluation on arch {arch.name} ({model.source})")
    emit(out, format_mapping_block(nest, used, cost, f"orders: {how}"))
    if args.json:
        write_json(args.json, evaluation_json(nest, used, cost))
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
