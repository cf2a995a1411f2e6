"""The results store of a DSE: one SQLite row per finished (arch point, distinct layer), written as it arrives.

The store is `DIR/dse.sqlite` (`dse --out DIR`). It is opened in WAL mode and every result is its own
transaction, committed with a full sync, so a killed client, a killed worker or a full disk loses no result
that was stored and never leaves a half-written one. A row is inserted once: storing a (point, layer) twice
is an error, not an update, so a resumed DSE cannot solve a pair again unnoticed.

The store records which DSE it belongs to: the hashes of its parts (the points' arches, the model's layers,
the objective and options, the solver's code). A store of another DSE, or a file that is not a store, is
refused with an `InputError` that names the file and what differs.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

from ..cache.entry import BadEntry, result_from_json, result_to_json, unsolved_from_json
from ..errors import InputError
from ..loopnest import LoopNest
from ..result import LayerResult
from ..specio import file_mode

STORE_NAME = "dse.sqlite"
APPLICATION_ID = 0x646D7A31  # "dmz1": PRAGMA application_id of a store, so another SQLite file is told apart
FORMAT = 1
SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE results (
    point INTEGER NOT NULL,
    layer INTEGER NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('solved', 'cache')),
    run INTEGER NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (point, layer)
);
"""
SOURCES = ("solved", "cache")
"""Where a stored result came from: solved by this DSE, or read from the layer cache."""


class DseStore:
    """An open store; `put` one result at a time, `results` to read them all back."""

    def __init__(self, path: Path, connection: sqlite3.Connection, run: int, lock: int) -> None:
        self.path = path
        self._db = connection
        self._lock = lock
        self.run = run
        """This run's number (1 for the run that created the store): each row records the run that stored it."""

    @classmethod
    def open(cls, directory: str | Path, identity: dict[str, str]) -> DseStore:
        """Open `directory/dse.sqlite`, creating it for the DSE `identity` (part -> hash), or check it is ours."""
        path = Path(directory) / STORE_NAME
        if not path.exists():
            _create(path, identity)
        try:
            db = sqlite3.connect(path, isolation_level=None, timeout=30)
        except sqlite3.Error as exc:
            raise InputError(f"cannot open the DSE store ({exc})", source=str(path)) from None
        try:
            _check(db, path, identity)
            lock = _lock(path)
        except sqlite3.DatabaseError as exc:
            db.close()
            foreign = InputError(f"is not a DSE store of dmz-solver ({exc})", source=str(path))
            raise _full(exc, path) or foreign from None
        except BaseException:
            db.close()
            raise
        try:
            run = _next_run(db)
        except sqlite3.Error as exc:  # the store is ours: what fails now is writing to it
            db.close()
            os.close(lock)
            raise _write_error(exc, path) from None
        return cls(path, db, run, lock)

    def put(self, point: int, layer: int, result: LayerResult, source: str) -> None:
        """Store one result in its own transaction (synced before this returns)."""
        assert source in SOURCES
        text = json.dumps(_row_json(result), allow_nan=False, separators=(",", ":"))
        try:
            self._db.execute(
                "INSERT INTO results (point, layer, source, run, result) VALUES (?, ?, ?, ?, ?)",
                (point, layer, source, self.run, text),
            )
        except sqlite3.IntegrityError:
            raise AssertionError(f"point {point}, layer {layer} stored twice in {self.path}") from None
        except sqlite3.Error as exc:  # a full disk, a read-only directory: what is stored stays stored
            raise _write_error(exc, self.path) from None

    def results(
        self, layers: list[LoopNest], points: int, check: Callable[[int, int, LayerResult], None] | None = None
    ) -> tuple[dict[tuple[int, int], LayerResult], dict[tuple[int, int], str]]:
        """Every stored result that reads back and passes `check(point, layer, result)` (which raises BadEntry),
        by (point, layer), attached to its layer's nest; and why each other stored result was rejected."""
        out, rejected = {}, {}
        try:
            rows = self._db.execute("SELECT point, layer, result FROM results").fetchall()
        except sqlite3.DatabaseError as exc:  # a damaged file: SQLite notices pages it cannot read only now
            raise _damaged(exc, self.path) from None
        for point, layer, text in rows:
            if not (isinstance(point, int) and isinstance(layer, int) and 0 <= point < points):
                raise InputError(f"holds a result for point {point!r}, outside the DSE", source=str(self.path))
            if not 0 <= layer < len(layers):
                raise InputError(f"holds a result for layer {layer}, outside the model", source=str(self.path))
            try:
                result = _row_result(_row_body(text), layers[layer])
                if check is not None:
                    check(point, layer, result)
            except BadEntry as exc:
                rejected[point, layer] = str(exc)
            else:
                out[point, layer] = result
        return out, rejected

    def discard(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Delete the results of these (point, layer) pairs, all in one transaction, so that they are solved again."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("DELETE FROM results WHERE point = ? AND layer = ?", list(pairs))
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise _write_error(exc, self.path) from None

    def counts(self) -> dict[tuple[int, str], int]:
        """Stored results by (run, source)."""
        rows = self._db.execute("SELECT run, source, COUNT(*) FROM results GROUP BY run, source")
        return {(run, source): n for run, source, n in rows}

    def close(self) -> None:
        self._db.close()
        os.close(self._lock)  # releases the lock

    def __enter__(self) -> DseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _disk_full(exc: BaseException) -> bool:
    """Whether `exc` says the disk is full: SQLite's SQLITE_FULL or the OS's ENOSPC."""
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOSPC
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def _full(exc: sqlite3.Error, path: Path) -> InputError | None:
    """The error to report when `exc` says the disk is full, else None."""
    if not _disk_full(exc):
        return None
    return InputError(
        "cannot write the DSE store: the disk is full; every result stored so far is kept, and the same command "
        "run again with free space resumes",
        source=str(path),
    )


def _write_error(exc: sqlite3.Error, path: Path) -> InputError:
    """One line for a failed write to the store at `path`: a full disk said plainly, another error as SQLite says."""
    return _full(exc, path) or InputError(f"cannot write the DSE store ({exc})", source=str(path))


def _create(path: Path, identity: dict[str, str]) -> None:
    """A new, empty store at `path` for the DSE `identity`: built under a temporary name and linked into place
    when complete, so a store is never seen half-made (a kill leaves at most a temporary file, not a store)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _create_error(exc, path) from None
    try:
        os.fchmod(fd, file_mode())  # mkstemp makes 0600 files
        os.close(fd)
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=FULL")
            db.execute("BEGIN")
            db.execute(f"PRAGMA application_id={APPLICATION_ID}")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            meta = {"format": str(FORMAT), "identity": json.dumps(identity, sort_keys=True), "runs": "0"}
            db.executemany("INSERT INTO meta (name, value) VALUES (?, ?)", meta.items())
            db.execute("COMMIT")
        finally:
            db.close()
        with contextlib.suppress(FileExistsError):  # another run made it first: that one is checked instead
            os.link(tmp, path)
    except (OSError, sqlite3.Error) as exc:
        raise _create_error(exc, path) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def _create_error(exc: OSError | sqlite3.Error, path: Path) -> InputError:
    why = "the disk is full" if _disk_full(exc) else getattr(exc, "strerror", None) or str(exc)
    return InputError(f"cannot create the DSE store ({why})", source=str(path))


def _damaged(exc: sqlite3.DatabaseError, path: Path) -> InputError:
    return InputError(
        f"cannot read the DSE store ({exc}); move it away, or give another --out, to start the DSE afresh",
        source=str(path),
    )


def _check(db: sqlite3.Connection, path: Path, identity: dict[str, str]) -> None:
    """The store at `path` must be one of ours, of this format, for this DSE; an InputError says what differs.
    A table or column missing is a sqlite3.DatabaseError, which the caller reports as not a store."""
    (app,) = db.execute("PRAGMA application_id").fetchone()
    if app != APPLICATION_ID:
        raise InputError("is not a DSE store of dmz-solver (another SQLite database)", source=str(path))
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    meta = dict(db.execute("SELECT name, value FROM meta"))
    if "format" not in meta:
        raise InputError("is not a DSE store of dmz-solver (no record of its format)", source=str(path))
    if meta["format"] != str(FORMAT):
        raise InputError(f"is a DSE store of format {meta['format']}, not {FORMAT}", source=str(path))
    try:
        stored = json.loads(meta["identity"])
        differ = [part for part in identity if stored.get(part) != identity[part]]
    except (KeyError, ValueError, AttributeError):
        raise InputError("is not a DSE store of dmz-solver (no record of its DSE)", source=str(path)) from None
    if differ:
        raise InputError(
            f"belongs to another DSE (other {', '.join(differ)}); give another --out or delete the file",
            source=str(path),
        )
    if not meta.get("runs", "").isdigit():  # isdigit: the count of runs, never signed or empty
        raise InputError("is not a DSE store of dmz-solver (no count of its runs)", source=str(path))
    db.execute("SELECT point, layer, source, run, result FROM results LIMIT 0")  # its table, every column


def _lock(path: Path) -> int:
    """An exclusive lock on the store for this run (released when its descriptor closes, or the process dies)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InputError("is in use by another dse run; wait for it or give another --out", source=str(path)) from None
    return fd


def _next_run(db: sqlite3.Connection) -> int:
    db.execute("BEGIN IMMEDIATE")
    (runs,) = db.execute("SELECT value FROM meta WHERE name = 'runs'").fetchone()
    run = int(runs) + 1
    db.execute("UPDATE meta SET value = ? WHERE name = 'runs'", (str(run),))
    db.execute("COMMIT")
    return run


def _row_json(result: LayerResult) -> dict[str, Any]:
    """A result as stored: the layer cache's exact JSON, plus the reason of a layer without a mapping."""
    if result.mapping is None:
        return {
            "objective": result.objective,
            "status": result.status,
            "reason": result.reason,
            "seconds": result.seconds,
            "search": result.search,
            "tilings_evaluated": result.tilings_evaluated,
        }
    body = result_to_json(result)
    if not math.isfinite(body["lower_bound"]):
        body["lower_bound"] = None
    return body


def _row_body(text: Any) -> dict[str, Any]:
    """The JSON object a row's `result` holds; a BadEntry if it does not parse (or is not text at all)."""
    if not isinstance(text, str):
        raise BadEntry(f"it is {type(text).__name__}, not JSON text")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise BadEntry(f"it is not complete JSON ({exc.msg} at character {exc.pos})") from None
    except (ValueError, RecursionError) as exc:  # a number beyond Python's digit limit; nesting beyond the stack
        raise BadEntry(f"it cannot be read ({type(exc).__name__})") from None


def _no_constant(name: str) -> NoReturn:
    raise BadEntry(f"it holds {name}, which no figure may be")


def _row_result(body: Any, nest: LoopNest) -> LayerResult:
    """Inverse of _row_json for the layer `nest`; a BadEntry for any field missing, mistyped or out of range."""
    if not isinstance(body, dict):
        raise BadEntry("it is not an object")
    if "reason" in body:
        return unsolved_from_json(body, nest)
    bound = body.get("lower_bound")
    result = result_from_json({**body, "lower_bound": 0.0 if bound is None else bound}, nest)
    return result if bound is not None else replace(result, lower_bound=math.inf)
