"""On-disk cache of solved layers: one JSON file per (loop nest, arch, objective, search, options, code) key.

- `key`: what an entry answers (`SolveKey`), hashed into its file name;
- `entry`: the entry's exact JSON, sealed with a checksum of its content and its key, read strictly;
- `check`: on every hit the stored mapping is re-evaluated with the exact cost model and must give the stored
  figures.

An entry that fails any of these is not used: one warning line on standard error names the file and the
reason, and the layer is solved again (its new result replaces the entry). Entries are written atomically
with the mode of any other output file, so parallel writers never clash and a crash leaves no partial or
temporary file.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import replace
from pathlib import Path

from ..constraints.parse import ConstraintSet
from ..errors import InputError
from ..result import LayerResult
from ..specio import atomic_file
from .check import check_result
from .entry import MAX_ENTRY_BYTES, BadEntry, result_from_json, seal, unseal
from .key import SolveKey, code_fingerprint

__all__ = ["DEFAULT_CACHE_DIR", "BadEntry", "LayerCache", "SolveKey", "code_fingerprint"]

DEFAULT_CACHE_DIR = ".dmz-cache"


class LayerCache:
    """A directory of cached layer results."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path(self, key: SolveKey) -> Path:
        """The file that holds the entry for `key`."""
        return self._path(key.digest)

    def _path(self, digest: str) -> Path:
        return self.directory / digest[:2] / f"{digest}.json"

    def get(self, key: SolveKey, constraints: ConstraintSet | None = None) -> LayerResult | None:
        """The cached result for `key` (attached to the key's nest), or None on a miss.

        `constraints` are the files whose fingerprint the key holds: the stored mapping must obey them. An entry
        that cannot be believed is a miss, with a warning on standard error.
        """
        assert (constraints.fingerprint if constraints else "") == key.constraints_fingerprint
        digest = key.digest
        path = self._path(digest)
        try:
            result = result_from_json(unseal(_entry_bytes(path), digest), key.nest)
            check_result(result, key, constraints)
        except FileNotFoundError:
            return None
        except BadEntry as why:
            print(f"warning: layer cache entry {path} not used: {why}; solving the layer again", file=sys.stderr)
            return None
        return replace(result, cached=True)

    def put(self, key: SolveKey, result: LayerResult) -> None:
        """Store a result atomically (a temporary file renamed over the entry); a cache that cannot be written
        only costs time, so failures are ignored."""
        digest = key.digest
        try:
            text = seal(digest, result)
        except ValueError:  # a figure that is not finite is never stored
            return
        path = self._path(digest)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_file(path) as handle:
                handle.write(text)
        except (OSError, InputError):  # atomic_file reports a failed write as an InputError
            pass


def _entry_bytes(path: Path) -> bytes:
    """The bytes of an entry file (FileNotFoundError on a miss); a BadEntry if it is not a readable file."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise BadEntry("it is not a regular file")
        with path.open("rb") as handle:
            return handle.read(MAX_ENTRY_BYTES + 1)  # more than any entry: unseal says so
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise BadEntry(f"it cannot be read ({exc.strerror or exc})") from None
