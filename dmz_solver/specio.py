"""Reading JSON spec files with errors that name the file, the field and the reason."""

from __future__ import annotations

import difflib
import json
import math
from pathlib import Path
from typing import Any

from .errors import InputError

MAX_INTEGER = 2**31 - 1
"""Largest integer a spec field takes: sizes, counts and capacities beyond it are mistakes, and would not fit
the kernels' and CP-SAT's 64-bit arithmetic once multiplied together."""


def read_json(path: str | Path) -> Any:
    """Parse a JSON file; an unreadable or malformed file is an InputError naming it."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=str(path)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", source=str(path)) from None


def resolve_named_file(
    spec: str, directory: Path, kind: str, suffixes: tuple[str, ...], path_suffixes: tuple[str, ...] = ()
) -> Path:
    """A command-line file argument: a path, or the name of a file shipped in `directory`.

    A spec ending in one of `suffixes` or `path_suffixes`, or naming an existing file, is a path;
    otherwise `directory/spec + suffix` for the first suffix that exists.
    """
    path = Path(spec)
    if path.suffix in suffixes + path_suffixes or path.exists():
        return path
    for suffix in suffixes:
        named = directory / f"{spec}{suffix}"
        if named.exists():
            return named
    known = ", ".join(sorted(p.stem for p in directory.iterdir() if p.suffix in suffixes))
    raise InputError(f"no such {kind} file or name (shipped: {known})", source=spec)


class Fields:
    """Typed access to one JSON object, reporting problems as `file: field: reason`."""

    def __init__(self, obj: Any, source: str, path: str) -> None:
        if not isinstance(obj, dict):
            raise InputError(f"expected an object, got {_kind(obj)}", source=source, field=path)
        self.obj = obj
        self.source = source
        self.path = path

    def field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, reason: str) -> InputError:
        return InputError(reason, source=self.source, field=self.field(key))

    def reject_unknown(self, known: set[str], hints: dict[str, str] | None = None) -> None:
        """Refuse keys outside `known` (keys starting with `_` are comments), suggesting the closest spelling;
        `hints` gives the reason for keys that users write by habit (e.g. `padding` where there is none)."""
        for key in self.obj:
            if key not in known and not key.startswith("_"):
                hint = (hints or {}).get(key) or did_you_mean(key, known)
                raise self.error(key, f"unknown field{hint} (expected one of {', '.join(sorted(known))})")

    def number(self, key: str, default: float | None = None, *, positive: bool = True, signed: bool = False) -> float:
        """A finite number: > 0 when `positive`, else >= 0, or of either sign when `signed`."""
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"expected a number, got {_kind(value)}")
        if not math.isfinite(value):
            raise self.error(key, f"must be finite, got {value}")
        if signed:
            return value
        if positive and not value > 0:
            raise self.error(key, f"must be positive, got {value}")
        if not positive and value < 0:
            raise self.error(key, f"must not be negative, got {value}")
        return value

    def integer(self, key: str, default: int | None = None, *, minimum: int = 1) -> int:
        value = self._get(key, default)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, got {_kind(value)}")
        if value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {value}")
        if value > MAX_INTEGER:
            raise self.error(key, f"must be at most {MAX_INTEGER}, got {value}")
        return value

    def boolean(self, key: str, default: bool | None = None) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {_kind(value)}")
        return value

    def string(self, key: str, default: str | None = None) -> str:
        value = self._get(key, default)
        if not isinstance(value, str) or not value:
            raise self.error(key, f"expected a non-empty string, got {_kind(value)}")
        return value

    def int_list(self, key: str, length: int | None = None, default: list[int] | None = None) -> list[int]:
        value = self._get(key, default)
        if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
            raise self.error(key, f"expected a list of integers, got {json.dumps(value)}")
        if length is not None and len(value) != length:
            raise self.error(key, f"expected {length} integers, got {len(value)}")
        if any(v < 1 for v in value):
            raise self.error(key, f"sizes must be positive, got {value}")
        if any(v > MAX_INTEGER for v in value):
            raise self.error(key, f"sizes must be at most {MAX_INTEGER}, got {value}")
        return value

    def child(self, key: str, default: dict | None = None) -> Fields:
        return Fields(self._get(key, default), self.source, self.field(key))

    def _get(self, key: str, default: Any) -> Any:
        if key in self.obj:
            return self.obj[key]
        if default is None:
            raise self.error(key, "missing field")
        return default


def did_you_mean(key: str, known: set[str] | tuple[str, ...] | list[str]) -> str:
    """`; did you mean 'x'?` for the known name closest to a misspelled `key` (case aside), else empty."""
    by_folded = {name.lower(): name for name in known}
    close = difflib.get_close_matches(key.lower(), list(by_folded), n=1, cutoff=0.6)
    return f"; did you mean {by_folded[close[0]]!r}?" if close else ""


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    return {list: "a list", dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)
