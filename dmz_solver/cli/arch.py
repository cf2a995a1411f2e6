"""`dmz arch`: an arch spec as dmz-solver reads it, optionally drawn to a PNG."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..arch import describe_arch, load_arch
from .common import check_output_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `arch`."""
    parser.add_argument("arch", metavar="A", help="arch spec JSON or archspecs/ name")
    parser.add_argument(
        "--draw", metavar="OUT.png", help="draw the PE array and its networks (networkx graph) to a PNG"
    )


def run(args: argparse.Namespace) -> int:
    """Print the arch's description; with --draw, also draw its PE array and networks."""

    if args.draw:
        check_output_path(args.draw, "--draw")
    arch = load_arch(args.arch)
    print(describe_arch(arch))
    if args.draw:
        from ..report.noc_plot import draw_arch  # start-up: the drawing loads matplotlib

        print(f"wrote {draw_arch(arch, Path(args.draw))}")
    return 0
