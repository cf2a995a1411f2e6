"""How the numba kernels are compiled and cached, so that a fresh clone runs without compiling them.

Every kernel module decorates with `njit` from here. Three things make the compiled kernels portable:

- they target a generic x86-64 CPU (`NUMBA_CPU_NAME=generic`, unless the environment says otherwise): the same
  machine code on every such CPU, and no slower on the kernels measured (docs/architecture.md, "Kernels");
- numba keys a cached kernel by the content hash of its source file, the numba version and the CPU target, never
  by a path or a time stamp, so an entry compiled in one clone is valid in another;
- `dmz_solver/kernel_cache/` ships those entries. On import, `seed_kernel_cache` copies each shipped entry whose
  source file still has the hash it was compiled from into the `__pycache__` directory beside that source, where
  numba looks. An entry of changed code is never copied, so numba compiles that kernel again, as it would anyway.

`bench/build_kernel_cache.py` rebuilds the shipped entries after kernels change. When a kernel compiles anyway (changed
code, another numba), a terminal shows "compiling kernels (one time, ~60 s)" first.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("NUMBA_CPU_NAME", "generic")  # before numba reads its configuration

import numba  # noqa: E402 - after the CPU target is chosen
from numba.core import config, event  # noqa: E402

from .errors import InputError  # noqa: E402
from .specio import atomic_file  # noqa: E402

if config.CPU_NAME is None:  # numba was imported first: choose the target before anything compiles
    config.CPU_NAME, config.CPU_FEATURES = "generic", ""

njit = numba.njit
prange = numba.prange

PACKAGE = Path(__file__).resolve().parent
SHIPPED = PACKAGE / "kernel_cache"
"""The shipped entries, laid out as the package's directories (`cost/`, `search/`, ...; the top level at the top)."""
COMPILE_SECONDS = 60
"""About how long compiling every kernel takes on a 2-core machine (measured with a cold cache)."""


MANIFEST = "manifest.json"
"""In SHIPPED: the numba version the entries were compiled with, and per index the SHA-256 of its source file."""


def limit_threads(threads: int) -> None:
    """Run the calling thread's numba-parallel work and searches on at most `threads` threads (numba's setting is
    per thread, and never above the pool numba started with)."""
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def _source_of(index: Path, package_dir: Path) -> Path:
    """The module an index belongs to: for `tasks.build_tasks-66.py311.nbi`, the file `tasks` in package_dir."""
    return package_dir / (index.name.split(".", 1)[0] + ".py")


@functools.cache
def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def shipped_entries(shipped: Path = SHIPPED, package: Path = PACKAGE) -> list[tuple[Path, Path, bool]]:
    """Each shipped index, the source file it was compiled from, and whether it still matches that source under
    this numba (the manifest says what it was compiled from; nothing here unpickles)."""
    try:
        manifest = json.loads((shipped / MANIFEST).read_text())
    except (OSError, ValueError):
        return []
    same_numba = manifest.get("numba") == numba.__version__
    hashes: dict[Path, str] = {}
    entries = []
    for name, source_hash in sorted(manifest.get("sources", {}).items()):
        index = shipped / name
        source = _source_of(index, package / index.parent.relative_to(shipped))
        if source not in hashes:
            hashes[source] = _sha256(source)
        entries.append((index, source, same_numba and hashes[source] == source_hash))
    return entries


def seed_kernel_cache(shipped: Path = SHIPPED, package: Path = PACKAGE) -> int:
    """Copy the shipped entries that match their sources into the `__pycache__` directories; return how many
    kernels were copied.

    A marker beside each copied index (`.seeded`: numba version and source hash) says it was copied for this
    source, so an entry is copied once: numba later adds entries to that index (other signatures, another
    CPU target) and they stay. Entries of changed sources and unwritable directories are left alone.
    """
    copied = 0
    version = numba.__version__
    for index, source, fresh in shipped_entries(shipped, package):
        target = source.parent / "__pycache__"
        marker = target / f"{index.name}.seeded"
        wanted = f"{version} {_sha256(source)}"
        try:
            if not fresh or marker.read_text() == wanted:
                continue
        except OSError:
            pass  # never seeded here
        base = index.name.removesuffix(".nbi")
        try:
            target.mkdir(exist_ok=True)
            entry = [*sorted(index.parent.glob(f"{base}.*.nbc")), index]  # the index last: it makes the entry visible
            for data in entry:
                with atomic_file(target / data.name, "wb") as copy:  # a process starting beside us never reads half
                    copy.write(data.read_bytes())
            marker.write_text(wanted)
        except (OSError, InputError):  # atomic_file reports a failed write as an InputError
            continue
        copied += 1
    return copied


def on_first_compile(announce: Callable[[], None]) -> None:
    """Call `announce` once, when the first dmz-solver kernel starts compiling in this process (a kernel whose
    entry is neither shipped nor cached)."""
    event.register("numba:compile", _FirstCompile(announce))


class _FirstCompile(event.Listener):
    """Calls its function at the start of the first compilation of a dmz-solver kernel."""

    def __init__(self, announce: Callable[[], None]) -> None:
        self.announce = announce
        self.done = False

    def on_start(self, ev: event.Event) -> None:
        dispatcher = ev.data.get("dispatcher")
        module = getattr(getattr(dispatcher, "py_func", None), "__module__", None) or ""
        if not self.done and module.startswith(f"{__package__}."):
            self.done = True
            self.announce()

    def on_end(self, ev: event.Event) -> None:
        pass


def _notice() -> None:
    print(f"compiling kernels (one time, ~{COMPILE_SECONDS} s)", file=sys.stderr, flush=True)


seed_kernel_cache()
if sys.stderr.isatty():  # on a terminal, say why the first run waits; pipes and logs stay as they were
    on_first_compile(_notice)
