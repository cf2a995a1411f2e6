"""The `dmz` command line: one module per command (docs/cli.md).

Each command module has `add_arguments(parser)` and `run(args)`, and imports what it needs at the
top. A command's module is imported only when that command is parsed (`_CommandParser`): `dmz
--help` loads none of them, and `dmz layers` never loads the solver stack (numba, OR-Tools).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..version import __version__
from .common import run_command

COMMANDS: dict[str, tuple[str, str]] = {
    "solve": ("solve", "find the optimal mapping of every layer (or one)"),
    "evaluate": ("evaluate", "evaluate one given mapping with the exact cost model"),
    "layers": ("layers", "list the layers (loop nests) of a model"),
    "export-spec": ("export_spec", "write a model's layers as a seed-layout model spec JSON"),
    "count": ("count", "count the valid tilings of each layer"),
    "arch": ("arch", "show an arch spec as read (array, networks, capacities, energies)"),
    "dse": ("dse", "design-space exploration: solve the model at every arch point"),
}
"""Command name -> (module in this package, one-line help), in the order `dmz --help` lists them."""


class _CommandParser(argparse.ArgumentParser):
    """A command's parser, whose arguments are added the first time it parses."""

    command_module: str | None = None

    def parse_known_args(
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self.command_module is not None:
            # start-up: the command's module (and the stack it loads) is imported only when it runs
            module = importlib.import_module(f"{__package__}.{self.command_module}")
            self.command_module = None
            module.add_arguments(self)
            self.set_defaults(run=module.run, option_labels=_option_labels(self))
        return super().parse_known_args(args, namespace)


def _option_labels(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Argument name -> how the user spells it (`--output` for -o/--output, the metavar of a positional), for the
    messages of `run_command`'s checks."""
    labels = {}
    for action in parser._actions:  # argparse has no public list of a parser's arguments
        labels[action.dest] = max(action.option_strings, key=len) if action.option_strings else str(action.metavar)
    return labels


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with one subparser per command (each filled in when it parses)."""
    parser = argparse.ArgumentParser(
        prog="dmz",
        description="Optimal mappings of DNN loop nests onto dataflow accelerators (dMazeRunner's cost model).",
    )
    parser.add_argument("--version", action="version", version=f"dmz-solver {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_CommandParser)
    for name, (module, text) in COMMANDS.items():
        sub.add_parser(name, help=text).command_module = module
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 internal error, 2 bad input or usage)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (2) and --help/--version (0)
        return int(exc.code) if isinstance(exc.code, int) else 2
    args.command_line = ("dmz", *argv)  # recorded in result files, to run them again
    return run_command(args)


__all__ = ["build_parser", "main"]
