"""Output files: every file a command writes goes through here.

A file is written under a temporary name in its own directory and renamed over the target when
complete, so a failure (a full disk, an exception while plotting) leaves no partial file and no
temporary one; it gets the mode a plain `open(..., "w")` would give (0666 less the umask, so 0644
under the usual umask 022). JSON can also go to standard output ('-'). An OS error becomes an
`InputError` naming the target.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import IO, Any, Protocol

from ..errors import InputError
from ..specio import atomic_file

FIGURE_FORMATS = ("png", "svg", "pdf")
"""File types of the figures (`arch --draw`), named by the output file's extension."""
REPORT_FILES = ("result.json", "energy_breakdown.png", "cycles.png", "utilisation.png", "report.md")
"""The files `solve --report DIR` writes in DIR (report/model_report.py), named here so the CLI checks them first."""

SVG_HASH_SALT = "dmz-solver"
"""matplotlib names SVG elements by hashes salted with a random value unless given one: fixed, the SVG is
the same on every run."""


class Figure(Protocol):
    """What `write_figure` needs of a matplotlib figure."""

    def savefig(self, fname: IO[bytes], **kwargs: Any) -> None: ...


def write_text(target: str | os.PathLike[str], text: str) -> None:
    """Write `text` (Markdown, CSV) to the file `target`, atomically."""
    with atomic_file(target) as handle:
        handle.write(text)


def write_json(target: str, obj: Any) -> None:
    """Write `obj` as JSON to the file `target` (atomically), or to standard output when `target` is '-'."""
    text = _dump_json(_finite(obj)) + "\n"
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_text(target, text)


def write_figure(fig: Figure, target: str | os.PathLike[str], *, dpi: int = 110) -> Path:
    """Save a matplotlib figure to `target` (atomically) in the format its extension names.

    SVG and PDF carry no date, and SVG element names do not change between runs, so that a figure
    is the same file every time.
    """
    import matplotlib  # start-up: only a command that draws has loaded matplotlib already

    path = Path(target)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FIGURE_FORMATS:
        raise InputError(f"unknown figure type {path.suffix or '(none)'!r} ({supported_figures()})", source=str(path))
    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt, {})
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT}), atomic_file(path, "wb") as handle:
        fig.savefig(handle, format=fmt, dpi=dpi, metadata=metadata)
    return path


def supported_figures() -> str:
    """The figure types, for messages: 'supported: .png, .svg, .pdf'."""
    return "supported: " + ", ".join(f".{fmt}" for fmt in FIGURE_FORMATS)


def make_directory(target: str | os.PathLike[str]) -> Path:
    """Create the output directory `target` (and its parents) unless it exists; an OS error is an InputError."""
    path = Path(target)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the directory ({exc.strerror or exc})", source=str(target)) from None
    return path


def _finite(value: Any) -> Any:
    """Replace infinities and NaN (an unknown bound or gap) by None, which JSON writes as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _dump_json(value: Any, indent: int = 0) -> str:
    """Two-space indented JSON that keeps lists of plain values (factors, orders, sizes) on one line."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(str(k))}: {_dump_json(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return "[\n" + ",\n".join(inner + _dump_json(v, indent + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value, allow_nan=False)
