"""The `dmz` command line: one module per command (docs/cli.md).

Each command module has `HELP`, `add_arguments(parser)` and `run(args)`. A command's arguments
are added only when that command is parsed (`_CommandParser`), so `dmz --help` and the light
commands never load the solver stack that some choices (the search names) come from.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from types import ModuleType

from .. import __version__
from . import arch, count, dse, evaluate, export_spec, layers, solve
from .common import run_command

COMMANDS: dict[str, ModuleType] = {
    "solve": solve,
    "evaluate": evaluate,
    "layers": layers,
    "export-spec": export_spec,
    "count": count,
    "arch": arch,
    "dse": dse,
}
"""The commands in the order `dmz --help` lists them."""


class _CommandParser(argparse.ArgumentParser):
    """A command's parser, whose arguments are added the first time it parses."""

    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None

    def parse_known_args(
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self.add_arguments is not None:
            add, self.add_arguments = self.add_arguments, None
            add(self)
        return super().parse_known_args(args, namespace)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with one subparser per command (each filled in when it parses)."""
    parser = argparse.ArgumentParser(
        prog="dmz",
        description="Optimal mappings of DNN loop nests onto dataflow accelerators (dMazeRunner's cost model).",
    )
    parser.add_argument("--version", action="version", version=f"dmz-solver {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_CommandParser)
    for name, module in COMMANDS.items():
        command = sub.add_parser(name, help=module.HELP)
        command.add_arguments = module.add_arguments
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 internal error, 2 bad input or usage)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (2) and --help/--version (0)
        return int(exc.code) if isinstance(exc.code, int) else 2
    return run_command(args)


__all__ = ["build_parser", "main"]
