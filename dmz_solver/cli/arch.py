"""`dmz arch`: an arch spec as dmz-solver reads it, optionally drawn to a PNG, SVG or PDF file."""

from __future__ import annotations

import argparse

from ..arch import describe_arch, load_arch
from ..report.output import FIGURE_FORMATS, supported_figures
from .common import check_output_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `arch`."""
    parser.add_argument("arch", metavar="A", help="arch spec JSON or archspecs/ name")
    parser.add_argument(
        "--draw",
        metavar="OUT",
        help=f"draw the PE array and each role's network to OUT, of the type its extension names "
        f"({supported_figures()})",
    )


def run(args: argparse.Namespace) -> int:
    """Print the arch's description; with --draw, also draw its PE array and networks."""

    check_output_file(args, args.draw, "--draw", suffixes=FIGURE_FORMATS)
    arch = load_arch(args.arch)
    print(describe_arch(arch))
    if args.draw:
        from ..report.noc_plot import draw_arch  # start-up: the drawing loads matplotlib

        print(f"wrote {draw_arch(arch, args.draw)}")
    return 0
