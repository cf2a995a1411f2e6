"""Reading spec files with errors that name the file, the field and the reason; and writing outputs atomically.

Every file the command line reads goes through `read_bytes`: only a regular file, at most a stated size
(docs/formats.md, "Limits"), so that a FIFO, a device or a directory is refused at once and a huge file
before it is parsed. JSON is parsed strictly: NaN and infinities, numbers beyond a double, duplicate keys
and nesting deeper than `MAX_NESTING` are refused, naming the field.
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import json
import math
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO

from .errors import InputError

MAX_INTEGER = 2**31 - 1
"""Largest integer a spec field takes: sizes, counts and capacities beyond it are mistakes, and would not fit
the kernels' and CP-SAT's 64-bit arithmetic once multiplied together."""
MAX_SPEC_BYTES = 1 << 20
"""Largest spec file (model, arch, mapping, scaling, constraints): 1 MiB, over 100 times the largest shipped
one (mobilenetv2.json, 8.5 kB); 13,000 distinct layers in 1 MiB are read in about 2 s."""
MAX_RESULT_BYTES = 64 << 20
"""Largest result JSON `solve --rerun` reads: 64 MiB, written by the tool (about 45 kB per 50 layers)."""
MAX_ONNX_BYTES = 2 << 30
"""Largest ONNX file: 2 GiB, protobuf's own limit on one serialised message (larger models keep their weights
in external data files)."""
MAX_NESTING = 64
"""Deepest nesting of objects and lists in a JSON or YAML input; the formats need fewer than ten levels."""
_MAX_DIGITS = 30
"""Integer literals with more digits are refused while parsing (no field takes them; Python would parse
them in quadratic time)."""


def read_bytes(path: str | Path, limit: int = MAX_SPEC_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; anything else is an InputError naming it."""
    source = str(path)
    with _open_checked(path, limit) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InputError(f"cannot read file ({exc.strerror})", source=source) from None
    if len(data) > limit:  # it grew since it was checked
        raise _too_large(source, limit)
    return data


def file_digest(path: str | Path, limit: int = MAX_ONNX_BYTES) -> str:
    """The SHA-256 of a regular file of at most `limit` bytes, read in chunks (an InputError for anything else)."""
    with _open_checked(path, limit) as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def check_file(path: str | Path, limit: int) -> None:
    """Refuse anything but a regular file of at most `limit` bytes (for readers that open the file themselves)."""
    _open_checked(path, limit).close()


def _open_checked(path: str | Path, limit: int) -> BinaryIO:
    """The file opened for reading once it is known to be a regular file within `limit` bytes.

    It is opened without blocking and checked on its descriptor, so a FIFO never blocks the reader and a
    device such as /dev/zero is never read."""
    source = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=source) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise InputError(f"is {_file_kind(info.st_mode)}, not a regular file", source=source)
    if info.st_size > limit:
        os.close(fd)
        raise _too_large(source, limit)
    return os.fdopen(fd, "rb")


def _too_large(source: str, limit: int) -> InputError:
    return InputError(
        f"is larger than {_size_text(limit)}, the limit for this kind of file (docs/formats.md)", source=source
    )


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((text for test, text in kinds if test(mode)), "a special file")


def _size_text(size: int) -> str:
    return f"{size >> 30} GiB" if size >= 1 << 30 else f"{size >> 20} MiB"


def decode_text(data: bytes, source: str) -> str:
    """`data` as UTF-8 text (a leading byte-order mark is dropped); other bytes are refused with their place."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise InputError(f"not UTF-8 text: byte 0x{byte} at line {line} column {column}", source=source) from None


class _Refused:
    """Put in the parsed document in place of a value JSON should not hold; `check_parsed` reports it by path."""

    def __init__(self, reason: str, *, key: str | None = None, what: str = "") -> None:
        self.reason = reason
        self.key = key
        self.what = what  # the value as written, for a document that is nothing else


def _constant(name: str) -> _Refused:
    return _Refused(f"must be finite, got {name} (NaN and infinities are refused)", what=name)


def _float(text: str) -> float | _Refused:
    value = float(text)
    return (
        value
        if math.isfinite(value)
        else _Refused(f"must be finite, got {text} (beyond the range of a number)", what=text)
    )


def _int(text: str) -> int | _Refused:
    digits = len(text.lstrip("-"))
    return (
        int(text)
        if digits <= _MAX_DIGITS
        else _Refused(f"an integer of {digits} digits is far too large", what=f"a {digits}-digit integer")
    )


def _object(pairs: list[tuple[str, Any]]) -> dict | _Refused:
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            return _Refused("given twice (JSON keys must be unique)", key=key)
        obj[key] = value
    return obj


def parse_json(text: str, source: str) -> Any:
    """Parse JSON text strictly (module docstring); errors name the file and the field."""
    try:
        doc = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int, object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", source=source) from None
    except RecursionError:
        raise InputError(f"nested more than {MAX_NESTING} levels deep", source=source) from None
    check_parsed(doc, source)
    return doc


def check_parsed(doc: Any, source: str) -> None:
    """Refuse the first value the strict parser marked, and nesting beyond MAX_NESTING, naming the field."""
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_NESTING:
            raise InputError(f"nested more than {MAX_NESTING} levels deep", source=source, field=path or None)
        if isinstance(value, _Refused):
            field = _join(path, value.key) if value.key is not None else path
            if not field:  # the whole document is one bad number; every input the tool reads is an object
                raise InputError(f"expected an object, got {value.what}", source=source)
            raise InputError(value.reason, source=source, field=field)
        if isinstance(value, dict):
            stack.extend((item, _join(path, key), depth + 1) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in reversed(list(enumerate(value))))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def read_json(path: str | Path, limit: int = MAX_SPEC_BYTES) -> Any:
    """Parse a JSON file of at most `limit` bytes; an unreadable, oversized or malformed file is an InputError
    naming it (and the field, where one is at fault)."""
    source = str(path)
    return parse_json(decode_text(read_bytes(path, limit), source), source)


def resolve_named_file(spec: str, directory: Path, kind: str, suffixes: tuple[str, ...]) -> Path:
    """A command-line file argument: a path, or the name of a file shipped in `directory`.

    A bare name (no directory separator, no extension) always means the shipped file `directory/NAME.SUFFIX`,
    whatever the working directory holds; anything else is a path. A file in the working directory named like
    a shipped one is read as `./NAME`.
    """
    path = Path(spec)
    separators = [sep for sep in (os.sep, os.altsep) if sep]
    if any(sep in spec for sep in separators) or path.suffix or spec in (".", ".."):
        return path
    for suffix in suffixes:
        named = directory / f"{spec}{suffix}"
        if named.is_file():
            return named
    known = ", ".join(sorted(p.stem for p in directory.iterdir() if p.suffix in suffixes))
    local = f"; to read {spec!r} in the working directory, write ./{spec}" if path.exists() else ""
    raise InputError(f"no such {kind} among the shipped ones ({known}){local}", source=spec)


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

    def integer(self, key: str, default: int | None = None, *, minimum: int = 1, maximum: int = MAX_INTEGER) -> int:
        """An integer (a number with no fraction) in [minimum, maximum]."""
        value = self._get(key, default)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, got {_kind(value)}")
        if value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {value}")
        if value > maximum:
            raise self.error(key, f"must be at most {maximum}, got {_number_text(value)}")
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
            raise self.error(key, f"expected a list of integers, got {json_text(value)}")
        if length is not None and len(value) != length:
            raise self.error(key, f"expected {length} integers, got {len(value)}")
        if any(v < 1 for v in value):
            raise self.error(key, f"sizes must be positive, got {value}")
        if any(v > MAX_INTEGER for v in value):
            raise self.error(key, f"sizes must be at most {MAX_INTEGER}, got [{', '.join(map(_number_text, value))}]")
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


def json_text(value: Any, limit: int = 60) -> str:
    """A value read from a JSON file, echoed in a message as JSON (`null`, `true`, `["X", "Y"]`), cut short."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):  # not from JSON after all (an API caller's object)
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _number_text(value: int) -> str:
    """A number as it is echoed in a message: in full, or its digit count when it is very long."""
    text = str(value)
    return text if len(text) <= 20 else f"a number of {len(text)} digits"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    return {list: "a list", dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


def output_target(target: str | os.PathLike[str]) -> Path:
    """The file an output to `target` replaces: `target`, or the file a symbolic link points to; an InputError if
    that exists and is not a regular file (a device such as /dev/null, a FIFO, a socket, a directory)."""
    path = Path(target)
    if path.is_symlink():
        try:
            path = path.resolve()
        except (RuntimeError, OSError):  # a loop: Python 3.11 raises RuntimeError, later versions OSError
            raise InputError("is a symbolic link that loops", source=str(target)) from None
    if path.exists() and not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file (a device, FIFO or socket)"
        message = f"is {kind}; outputs are written to regular files (use - for standard output)"
        raise InputError(message, source=str(target))
    return path


def broken_link(link: Path) -> str:
    """Why the symbolic link `link`, which leads to nothing that exists, cannot be written through."""
    if _loops(link):
        return f"{str(link)!r} is a symbolic link that loops"
    return f"{str(link)!r} is a symbolic link to {os.readlink(link)!r}, which does not exist"


def _loops(link: Path) -> bool:
    try:
        os.stat(link)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def file_mode() -> int:
    """The mode of a new file: 0666 less the process's umask, as `open` would create it."""
    mask = os.umask(0o022)  # the umask can only be read by setting it: set it back at once
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_file(target: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """A handle on a temporary file beside `target`, renamed to `target` when the block completes.

    `mode` is "w" (text, no newline translation) or "wb". If the block raises, the temporary file is
    removed and `target` is left as it was. A symbolic link is written through (its target is replaced, the link
    stays); a device, FIFO or socket is never replaced (an InputError).
    """
    path = output_target(target)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, mode, **({} if "b" in mode else {"newline": ""})) as handle:
            os.fchmod(handle.fileno(), file_mode())  # mkstemp makes 0600 files
            yield handle
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise InputError(f"cannot write ({exc.strerror or exc})", source=str(target)) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
