"""What the commands share: argument adders and types, output handling and the error policy.

An `InputError` becomes one line `error: <file>: <field>: <reason>` on standard error and exit
status 2 (`run_command`); output paths are checked before any work, so bad input fails before a
search starts.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import sys
import tempfile
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ..errors import InputError, show_warning
from ..specio import broken_link, output_target

# ----------------------------------------------------------------------------------------------------------------------
# Arguments


def add_model_arch(parser: argparse.ArgumentParser, *, model_required: bool = True) -> None:
    """--model and --arch (a command that can take its model elsewhere checks --model itself)."""
    parser.add_argument(
        "--model", required=model_required, metavar="M", help="model spec JSON, .onnx file or models/ name"
    )
    parser.add_argument(
        "--arch", default="dmazerunner", metavar="A", help="arch spec JSON or archspecs/ name (default: dmazerunner)"
    )


class OnlyOnce(argparse.Action):
    """Store an option's value; giving the option again is refused by `run_command` (one line, exit 2) rather
    than keeping the last value silently (`--layer X --layer Y` would otherwise solve only Y)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        given: dict[str, list] = namespace.__dict__.setdefault("given_values", {})
        given.setdefault(option_string or self.dest, []).append(values)
        setattr(namespace, self.dest, values)


def check_given_once(args: argparse.Namespace) -> None:
    """An option of `OnlyOnce` given more than once is an InputError naming it and its values."""
    for option, values in getattr(args, "given_values", {}).items():
        if len(values) > 1:
            listed = ", ".join(map(str, values))
            raise InputError(f"given {len(values)} times ({listed}); give it once", field=option)


PATH_ARGUMENTS = ("model", "arch", "constraints", "mapping", "rerun", "scale", "json", "report", "output", "out",
                  "draw", "cache_dir")  # fmt: skip
"""The arguments that name a file or directory (input or output), by their argparse dest."""


def check_no_empty_paths(args: argparse.Namespace) -> None:
    """An empty path is an InputError naming the option: read, it would be taken for a missing option or a preset
    name; written, for standard output or the working directory."""
    labels: dict[str, str] = getattr(args, "option_labels", {})
    for name in PATH_ARGUMENTS:
        value = getattr(args, name, None)
        if "" in (value if isinstance(value, list) else [value]):
            raise InputError("is an empty path; give a file or directory name", field=labels.get(name, name))


def add_layer(parser: argparse.ArgumentParser, text: str, *, required: bool = False) -> None:
    """--layer NAME, which may be given once."""
    parser.add_argument("--layer", metavar="NAME", required=required, action=OnlyOnce, help=text)


def add_cache(parser: argparse.ArgumentParser) -> None:
    """The on-disk cache of solved layers (dmz_solver/cache/)."""
    parser.add_argument("--cache-dir", default=".dmz-cache", metavar="DIR", help="layer cache (default: .dmz-cache)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the layer cache")


def check_cache_dir(args: argparse.Namespace) -> None:
    """Fail before any work if the layer cache is used and --cache-dir is a file or cannot be written in (the
    cache would otherwise be skipped, with a warning per layer that does not say why)."""
    if not args.no_cache:
        check_output_dir(args.cache_dir, "--cache-dir")


def add_constraints(parser: argparse.ArgumentParser) -> None:
    """--constraints: files added to those the arch spec names."""
    parser.add_argument(
        "--constraints",
        nargs="+",
        default=[],
        metavar="FILE",
        help="constraint files (YAML/JSON, or names in constraints/), added to the arch spec's (docs/constraints.md)",
    )


def add_json(parser: argparse.ArgumentParser, text: str) -> None:
    """--json OUT, with the command's own help text."""
    parser.add_argument("--json", metavar="OUT", help=text)


def add_knobs(parser: argparse.ArgumentParser) -> None:
    """The seed's search-space reduction knobs (docs/cost-model.md §8)."""
    group = parser.add_argument_group("search-space knobs of the seed (docs/cost-model.md §8)")
    group.add_argument(
        "--opt-min-utilization",
        nargs=3,
        type=fraction,
        metavar=("PE", "RF", "SPM"),
        help="minimum PE, RF and SPM utilisation of a tiling (fractions in [0, 1])",
    )
    group.add_argument("--opt-no-feature-dram", action="store_true", help="no DRAM-level tiling of Fx, Fy")
    group.add_argument("--opt-no-spatial-reduction", action="store_true", help="no spatial unrolling of reductions")
    group.add_argument(
        "--opt-min-exec-methods",
        type=integer,
        default=1,
        metavar="N",
        help="a layer with fewer valid tilings is reported as not optimisable",
    )


def _parse(text: str, kind: type[int] | type[float], what: str) -> int | float:
    """`text` as a number of `kind`; anything else is a usage error saying what was expected."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def positive_float(text: str) -> float:
    """An argument type: a finite number > 0."""
    value = _parse(text, float, "a positive number")
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def positive_int(text: str) -> int:
    """An argument type: an integer >= 1."""
    value = _parse(text, int, "a positive integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def integer(text: str) -> int:
    """An argument type: an integer."""
    return int(_parse(text, int, "an integer"))


def fraction(text: str) -> float:
    """An argument type: a number in [0, 1]."""
    value = _parse(text, float, "a number between 0 and 1")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


# ----------------------------------------------------------------------------------------------------------------------
# Output


def check_output_path(target: str | None, option: str, *, suffixes: Sequence[str] = ()) -> None:
    """Fail before any work if the output file `target` of `option` could not be written.

    With `suffixes` (e.g. png, svg, pdf), the file's extension must be one of them.
    """
    if target is None or target == "-":
        return
    try:
        path = output_target(target)  # a link's target; never a directory, device, FIFO or socket
    except InputError as exc:
        raise InputError(exc.reason, source=target, field=option) from None
    if suffixes and path.suffix.lstrip(".").lower() not in suffixes:
        found = f"{path.suffix!r}" if path.suffix else "no extension"
        supported = ", ".join(f".{s}" for s in suffixes)
        raise InputError(f"unknown file type ({found}); supported: {supported}", source=target, field=option)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"directory {str(parent)!r} does not exist", source=target, field=option)
    _try_writing_in(parent, target, option)


def check_output_dir(target: str | None, option: str) -> None:
    """Fail before any work if the output directory `target` of `option` could not be written.

    It must be a directory that can be written in, or not exist yet below a directory that can be:
    it is created only when the command writes into it, so a command that fails leaves nothing behind.
    """
    if target is None:
        return
    path = Path(target)
    if path.exists() and not path.is_dir():
        raise InputError("exists and is not a directory", source=target, field=option)
    existing = next(p for p in (path, *path.parents) if _exists_or_leads_nowhere(p, target, option))
    if not existing.is_dir():
        raise InputError(f"{str(existing)!r} is not a directory", source=target, field=option)
    _try_writing_in(existing, target, option)


def _exists_or_leads_nowhere(path: Path, target: str, option: str) -> bool:
    """Whether `path` exists; an InputError if it is a symbolic link that leads nowhere (a directory cannot be made
    through it: mkdir meets the link and fails with `File exists`)."""
    if path.exists():
        return True
    if os.path.islink(path):
        raise InputError(broken_link(path), source=target, field=option)
    return False


def check_not_an_input(
    outputs: Sequence[tuple[str | None, str]], inputs: Sequence[tuple[str | None, str, str]]
) -> None:
    """Fail before any work if an output file would replace an input file.

    `outputs` are (path, option) pairs, `inputs` (path, option, what it is); an input that is not an existing file
    (a preset name, a missing file the loader reports later) cannot be overwritten and is skipped.
    """
    given = [(path, option, what) for path, option, what in inputs if path and os.path.isfile(path)]
    for target, option in outputs:
        if not target or target == "-" or not os.path.isfile(target):
            continue
        for path, input_option, what in given:
            if os.path.samefile(target, path):  # also through a link or another spelling of the path
                raise InputError(f"{option} would overwrite the {what} given to {input_option}", source=target)


def files_in(directory: str | None, names: Sequence[str], option: str) -> list[tuple[str, str]]:
    """(path, option) of each file named `names` that a command writes in the output directory `directory`."""
    return [] if directory is None else [(str(Path(directory, name)), option) for name in names]


def check_files_in(directory: str | None, names: Sequence[str], option: str) -> None:
    """Fail before any work if a file the command will write in the output directory `directory` is in the way
    (a directory or device by that name, a link to one): `check_output_dir` checks only the directory."""
    for path, _ in files_in(directory, names, option):
        if os.path.lexists(path) and not os.path.isfile(path):  # a regular file, or a link to one, is replaced
            kind = "a directory" if os.path.isdir(path) else "not a regular file"
            raise InputError(f"is {kind}; the command writes a file of that name there", source=path, field=option)


INPUT_FILES = {
    "model": "model",
    "arch": "arch spec",
    "mapping": "mapping",
    "rerun": "result file",
    "scale": "scaling table",
}
"""The file inputs of the commands: argument name -> what the file is; --constraints takes several."""


def input_files(args: argparse.Namespace) -> list[tuple[str | None, str, str]]:
    """The (path, option as the user spells it, what) of every input file the command's arguments name, for
    `check_not_an_input`."""
    labels: dict[str, str] = getattr(args, "option_labels", {})
    inputs = [(getattr(args, name, None), labels.get(name, f"--{name}"), what) for name, what in INPUT_FILES.items()]
    constraints = labels.get("constraints", "--constraints")
    inputs += [(path, constraints, "constraint file") for path in getattr(args, "constraints", None) or ()]
    return inputs


def check_output_file(
    args: argparse.Namespace, target: str | None, option: str, *, suffixes: Sequence[str] = ()
) -> None:
    """check_output_path, and that the file would not replace one of the command's input files (check_not_an_input)."""
    check_output_path(target, option, suffixes=suffixes)
    check_not_an_input([(target, option)], input_files(args))


def _try_writing_in(directory: Path, target: str, option: str) -> None:
    """The writers' first step, tried now: a temporary file in `directory` (removed at once)."""
    try:
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".dmz-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        # creating a file in /proc fails with "No such file or directory", which misleads here
        reason = "files cannot be created there" if exc.errno == errno.ENOENT else exc.strerror or str(exc)
        raise InputError(f"cannot write in {str(directory)!r} ({reason})", source=target, field=option) from None


def text_stream(json_target: str | None) -> TextIO | None:
    """Where the text report goes: standard output, unless the JSON goes there."""
    return None if json_target == "-" else sys.stdout


def emit(out: TextIO | None, text: str) -> None:
    """Print `text` to `out` (flushed), or nothing when `out` is None."""
    if out is not None:
        print(text, file=out, flush=True)


# ----------------------------------------------------------------------------------------------------------------------
# Errors


def _escape_unencodable(stream: TextIO) -> None:
    """Write the characters the stream's encoding lacks (a non-ASCII file or layer name on an ASCII terminal) as
    backslash escapes, as Python writes standard error, rather than failing with UnicodeEncodeError."""
    reconfigure = getattr(stream, "reconfigure", None)  # a TextIOWrapper; a test's replacement may lack it
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command; returns the exit status (0 ok, 1 internal error, 2 bad input, 130 interrupted)."""
    _escape_unencodable(sys.stdout)
    try:
        check_given_once(args)
        check_no_empty_paths(args)
        with warnings.catch_warnings():
            warnings.showwarning = show_warning  # a slow layer's warning as one line, before its long search
            return args.run(args)
    except InputError as exc:
        sys.stdout.flush()
        print(f"error: {' '.join(exc.message.split())}", file=sys.stderr)
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
