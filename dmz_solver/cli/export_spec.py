"""`dmz export-spec`: a model's layers written in the seed's model spec layout."""

from __future__ import annotations

import argparse

from ..report.output import write_json
from ..workload.export import export_spec
from ..workload.loader import load_model
from .common import check_output_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `export-spec`."""
    parser.add_argument("model", metavar="MODEL", help="an .onnx file (or any model the loader reads)")
    parser.add_argument("-o", "--output", metavar="OUT.json", help="output file (default: standard output)")


def run(args: argparse.Namespace) -> int:
    """Read the model and write its spec JSON to --output or standard output."""

    target = args.output or "-"
    check_output_file(args, target, "--output")
    model = load_model(args.model)
    write_json(target, export_spec(model.layers))
    return 0
