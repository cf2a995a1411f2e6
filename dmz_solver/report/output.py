"""JSON output files: written atomically (temporary name, then rename) or to standard output for '-'."""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..errors import InputError

FILE_MODE = 0o644


def write_json(target: str, obj: Any) -> None:
    """Write `obj` as JSON to the file `target`, or to standard output when `target` is '-'.

    A file is written under a temporary name and renamed when complete, so a failure leaves no
    partial file, and it is readable by all (0644) like any other output; an OS error becomes an
    `InputError` naming the target.
    """
    text = _dump_json(_finite(obj)) + "\n"
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(target)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.", suffix=".tmp")
        os.fchmod(fd, FILE_MODE)  # mkstemp makes 0600 files
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write ({exc.strerror})", source=target) from None


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
