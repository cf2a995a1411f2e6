"""`dmz layers`: the loop nests the front-end extracts from a model."""

from __future__ import annotations

import argparse

from ..report.output import write_json
from ..report.text import dims_text, format_table, stride_text
from ..workload.loader import load_model
from .common import add_json, check_output_file, emit, text_stream


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `layers`."""
    parser.add_argument("--model", required=True, metavar="M", help="model spec JSON, .onnx file or models/ name")
    add_json(parser, "write the layer list as JSON to OUT ('-' for standard output)")


def run(args: argparse.Namespace) -> int:
    """Print the model's layers as a table (and the operators it ignored); optionally write them as JSON."""

    check_output_file(args, args.json, "--json")
    model = load_model(args.model)
    out = text_stream(args.json)
    rows = [[nest.name, nest.op, dims_text(nest), stride_text(nest), str(nest.instances)] for nest in model.layers]
    instances = sum(n.instances for n in model.layers)
    emit(out, f"Model {model.name} ({model.source}): {len(model.layers)} layers, {instances} instances")
    emit(out, format_table(["layer", "op", "dims", "stride", "instances"], rows, align="llllr"))
    if model.ignored:
        emit(out, "Ignored (no multiply-accumulate):")
        for item in model.ignored:
            emit(out, f"  {item}")
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
