"""How the numba kernels are compiled and cached, so that a fresh clone runs without compiling them, and never
runs code compiled from older sources.

Every kernel module decorates with `njit` from here. Three things make the compiled kernels portable:

- they target a generic x86-64 CPU (`NUMBA_CPU_NAME=generic`, unless the environment says otherwise): the same
  machine code on every such CPU, and no slower on the kernels measured (docs/architecture.md, "Kernels");
- numba keys a cached kernel by the content hash of its source file, the numba version and the CPU target, never
  by a path or a time stamp, so an entry compiled in one clone is valid in another;
- `dmz_solver/kernel_cache/` ships those entries. On import, `seed_kernel_cache` copies each shipped entry that is
  still fresh into the `__pycache__` directory beside its source, where numba looks.

numba checks only the kernel's own file. A kernel compiles in the code of the jitted functions it calls and the
constants it reads from other modules, so an entry whose file did not change still holds old code when one of
those modules did (an upgrade, a `git pull`). Here an entry is fresh only if every package file its module may
depend on is unchanged: the module itself and every package module it imports, directly or through others
(`dependencies`, read from the sources' import statements).

- The shipped manifest records, per kernel module, those files and their SHA-256 at build time; an entry of a
  changed dependency is never copied (`shipped_entries`), so numba compiles that kernel again.
- Each numba cache directory of the package (`__pycache__`, or numba's user-wide or NUMBA_CACHE_DIR directory)
  holds a marker (`kernel-sources.json`): the hash of every package source when entries were last checked there.
  On import, `drop_stale_entries` compares it with the sources now; when they differ it deletes the numba entries
  (`*.nbi`, `*.nbc`) of the package's modules that depend on a changed file, and rewrites the marker. Unchanged
  sources cost one hash of the package's Python files (about 2 ms). A directory without a marker holds entries of
  unknown origin (an older dmz-solver): they are all dropped once.

Unwritable directories are skipped (numba does not read them either). A process that was started before its
sources changed may still write entries compiled from the old code after another process checked; restart
long-running jobs after updating the sources.

`bench/build_kernel_cache.py` rebuilds the shipped entries after kernels change. When a kernel compiles anyway (changed
code, another numba), a terminal shows "compiling kernels (one time, ~60 s)" first.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sys
from collections.abc import Callable, Collection, Iterable
from pathlib import Path, PurePosixPath
from typing import NamedTuple

os.environ.setdefault("NUMBA_CPU_NAME", "generic")  # before numba reads its configuration

import numba  # noqa: E402 - after the CPU target is chosen
from numba.core import config, event  # noqa: E402
from numba.core.caching import _CacheLocator  # noqa: E402
from numba.misc.appdirs import AppDirs  # noqa: E402

from .errors import InputError  # noqa: E402
from .specio import atomic_file  # noqa: E402

if config.CPU_NAME is None:  # numba was imported first: choose the target before anything compiles
    config.CPU_NAME, config.CPU_FEATURES = "generic", ""


def njit(**options: object) -> Callable:
    """numba.njit(**options), releasing the GIL unless told otherwise: a kernel called from Python then lets the
    other threads run (layers solved in threads overlap one's tables with another's set-up)."""
    return numba.njit(**{"nogil": True, **options})


prange = numba.prange

PACKAGE = Path(__file__).resolve().parent
SHIPPED = PACKAGE / "kernel_cache"
"""The shipped entries, laid out as the package's directories (`cost/`, `search/`, ...; the top level at the top)."""
COMPILE_SECONDS = 60
"""About how long compiling every kernel takes on a 2-core machine (measured with a cold cache)."""

MANIFEST = "manifest.json"
"""In SHIPPED: what the entries were compiled from (`build_manifest`)."""
MANIFEST_FORMAT = 2
"""2: per kernel module the files it depends on, and their hashes (1 hashed each entry's own file only)."""
MARKER = "kernel-sources.json"
"""In each numba cache directory of the package: the sources its entries were last checked against."""

Sources = dict[str, str]
"""Each Python file of a package (its path relative to the package, with "/") and the SHA-256 of its content."""


def limit_threads(threads: int) -> None:
    """Run the calling thread's numba-parallel work and searches on at most `threads` threads (numba's setting is
    per thread, and never above the pool numba started with)."""
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


# ---- the package's sources and what each kernel module depends on


def source_state(package: Path = PACKAGE) -> Sources:
    """The hash of every Python file of `package` (its caches left out), in path order."""
    state = {}
    for root, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = Path(root, name)
                try:
                    state[path.relative_to(package).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
                except OSError:
                    continue
    return state


def module_of(index_name: str) -> str:
    """The source file of a numba index named relative to the package: `noc/tasks.build_tasks-66.py311.nbi` ->
    `noc/tasks.py` (numba names an index after its module's file and the function)."""
    path = PurePosixPath(index_name)
    return path.with_name(path.name.split(".", 1)[0] + ".py").as_posix()


def _imported_modules(tree: ast.AST, path: str, top: str) -> Iterable[list[str]]:
    """The package modules a file's import statements name, as name parts below the package `top` (`[]` is the
    package itself); for `from x import y`, both `x` and `x.y` (y may be a module)."""
    package_parts = list(PurePosixPath(path).parent.parts)
    for node in ast.walk(tree):  # statements inside functions too
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == top:
                    yield parts[1:]
        elif isinstance(node, ast.ImportFrom):
            parts = _from_parts(node, package_parts, top)
            if parts is not None:
                yield parts
                yield from (parts + [alias.name] for alias in node.names)


def _from_parts(node: ast.ImportFrom, package_parts: list[str], top: str) -> list[str] | None:
    """The module a `from ... import` names, as parts below the package `top`; None if outside the package."""
    named = node.module.split(".") if node.module else []
    if not node.level:
        return named[1:] if named[:1] == [top] else None
    keep = len(package_parts) - (node.level - 1)  # `from .` is the importing file's own package
    return package_parts[:keep] + named if keep >= 0 else None


def _files_imported(path: str, package: Path, files: Collection[str]) -> set[str]:
    """The package files importing `path` runs: each module it imports and the `__init__.py` of every package on
    the way. A file that does not parse may import anything: every file."""
    try:
        tree = ast.parse((package / path).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return set(files)
    found = set()
    own = list(PurePosixPath(path).parent.parts)
    for parts in (own, *_imported_modules(tree, path, package.name)):  # a module's own packages run first
        for end in range(len(parts) + 1):
            stem = "/".join(parts[:end])
            for candidate in (f"{stem}.py", f"{stem}/__init__.py" if stem else "__init__.py"):
                if candidate in files:
                    found.add(candidate)
    return found


def dependencies(modules: Iterable[str], package: Path = PACKAGE, files: Collection[str] = ()) -> dict[str, list[str]]:
    """For each module (a file of `package`, e.g. `cost/terms.py`), the package files whose code or constants its
    kernels may compile in: itself and every file it imports, directly or through others (sorted).

    `files` are the package's Python files (all of them when empty)."""
    files = set(files or source_state(package))
    imports: dict[str, set[str]] = {}
    result = {}
    for module in modules:
        seen: set[str] = set()
        todo = [module]
        while todo:
            path = todo.pop()
            if path in seen or path not in files:
                continue
            seen.add(path)
            if path not in imports:
                imports[path] = _files_imported(path, package, files)
            todo.extend(imports[path])
        result[module] = sorted(seen)
    return result


def fingerprint(files: Iterable[str], state: Sources) -> str:
    """One hash of the named files' paths and contents."""
    lines = "".join(f"{path} {state.get(path, '')}\n" for path in sorted(files))
    return hashlib.sha256(lines.encode()).hexdigest()


# ---- the shipped entries


class ShippedEntry(NamedTuple):
    """A shipped numba index, the source file it belongs to, and whether it may be used with the sources now."""

    index: Path
    source: Path
    fresh: bool
    why_stale: str
    """Empty when fresh; else what changed (the numba version, or the dependencies whose content differs)."""


def build_manifest(indexes: Iterable[str], package: Path) -> dict:
    """The manifest of shipped indexes (named relative to the shipped directory, laid out as `package`) compiled
    from `package`'s sources as they are now under this numba."""
    indexes = sorted(indexes)
    state = source_state(package)
    kernels = dependencies(sorted({module_of(name) for name in indexes}), package, state)
    files = sorted({path for depends in kernels.values() for path in depends})
    return {
        "format": MANIFEST_FORMAT,
        "numba": numba.__version__,
        "files": {path: state[path] for path in files},
        "kernels": kernels,
        "entries": indexes,
    }


def _read_manifest(shipped: Path) -> dict:
    try:
        manifest = json.loads((shipped / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) and manifest.get("format") == MANIFEST_FORMAT else {}


def shipped_entries(
    shipped: Path = SHIPPED, package: Path = PACKAGE, state: Sources | None = None
) -> list[ShippedEntry]:
    """Each shipped index and whether every file its module depends on still has the hash the manifest records,
    under the numba it was compiled with (nothing here unpickles). `state` is `source_state(package)`."""
    manifest = _read_manifest(shipped)
    state = source_state(package) if state is None else state
    recorded: dict[str, str] = manifest.get("files", {})
    changed = {path for path, digest in recorded.items() if state.get(path) != digest}
    kernels: dict[str, list[str]] = manifest.get("kernels", {})
    entries = []
    for name in manifest.get("entries", []):
        module = module_of(name)
        if manifest.get("numba") != numba.__version__:
            why = f"compiled with numba {manifest.get('numba')}"
        elif module not in kernels:
            why = "the manifest lists no dependencies"
        else:
            why = ", ".join(f"{path} changed" for path in kernels[module] if path in changed)
        entries.append(ShippedEntry(shipped / name, package / module, not why, why))
    return entries


def seed_kernel_cache(shipped: Path = SHIPPED, package: Path = PACKAGE, state: Sources | None = None) -> int:
    """Copy the fresh shipped entries into the `__pycache__` directories; return how many kernels were copied.

    A marker beside each copied index (`.seeded`: numba version and a fingerprint of the files it depends on) says
    it was copied for these sources, so an entry is copied once: numba later adds entries to that index (other
    signatures, another CPU target) and they stay. Stale entries and unwritable directories are left alone.
    """
    state = source_state(package) if state is None else state
    kernels = _read_manifest(shipped).get("kernels", {})
    wanted = {module: f"{numba.__version__} {fingerprint(depends, state)}" for module, depends in kernels.items()}
    copied = 0
    for index, source, fresh, _ in shipped_entries(shipped, package, state):
        target = source.parent / "__pycache__"
        marker = target / f"{index.name}.seeded"
        try:
            if not fresh or marker.read_text() == wanted[source.relative_to(package).as_posix()]:
                continue
        except OSError:
            pass  # never seeded here
        try:
            target.mkdir(exist_ok=True)
            if not (target / MARKER).exists():  # what is copied here matches the sources now
                _write_marker(target, state)
            for data in _entry_files(index):
                with atomic_file(target / data.name, "wb") as copy:  # a process starting beside us never reads half
                    copy.write(data.read_bytes())
            marker.write_text(wanted[source.relative_to(package).as_posix()])
        except (OSError, InputError):  # atomic_file reports a failed write as an InputError
            continue
        copied += 1
    return copied


def _entry_files(index: Path) -> list[Path]:
    """An index's data files, then the index (the index makes an entry visible, so it goes last)."""
    base = index.name.removesuffix(".nbi")
    return [*sorted(index.parent.glob(f"{base}.*.nbc")), index]


# ---- the entries numba compiled here


def _cache_dirs(package: Path, state: Sources) -> Iterable[tuple[Path, Path]]:
    """Each directory of the package that holds Python files, and each existing directory where numba may have
    cached its modules' kernels: `__pycache__` beside them, NUMBA_CACHE_DIR, or numba's user-wide cache."""
    user_wide = AppDirs(appname="numba", appauthor=False).user_cache_dir
    roots = [Path(root) for root in (config.CACHE_DIR, user_wide) if root]
    for relative in sorted({PurePosixPath(path).parent for path in state}):
        directory = package / relative
        subpath = _CacheLocator.get_suitable_cache_subpath(str(directory / "__init__.py"))  # numba's own naming
        for cache in (directory / "__pycache__", *(root / subpath for root in roots)):
            if cache.is_dir():
                yield directory, cache


def _marker_text(state: Sources) -> str:
    return json.dumps(state, indent=0, sort_keys=True) + "\n"


def _write_marker(cache: Path, state: Sources) -> None:
    with atomic_file(cache / MARKER) as marker:
        marker.write(_marker_text(state))


def _changed_since(marker_text: str | None, state: Sources) -> set[str] | None:
    """The files whose hash differs from the marker's (added and removed ones too); None if there is no readable
    marker."""
    try:
        before = json.loads(marker_text) if marker_text is not None else None
    except ValueError:
        before = None
    if not isinstance(before, dict):
        return None
    return {path for path in before.keys() | state.keys() if before.get(path) != state.get(path)}


def drop_stale_entries(package: Path = PACKAGE, state: Sources | None = None) -> int:
    """Delete the cached numba entries of `package`'s modules compiled before a file they depend on changed, and
    mark each checked cache directory with the sources now; return how many indexes were deleted.

    A directory whose marker matches costs one read. Without a marker, every entry of the package there is of
    unknown origin and dropped. Unwritable directories are skipped: numba neither reads nor writes them.
    """
    state = source_state(package) if state is None else state
    text = _marker_text(state)
    dropped = 0
    for directory, cache in _cache_dirs(package, state):
        try:
            before = (cache / MARKER).read_text()
        except OSError:
            before = None
        if before == text or not os.access(cache, os.W_OK):
            continue
        dropped += _drop_dependents(directory, cache, _changed_since(before, state), package, state)
        try:
            _write_marker(cache, state)
        except InputError:  # atomic_file reports a failed write as an InputError
            continue
    return dropped


def _drop_dependents(directory: Path, cache: Path, changed: set[str] | None, package: Path, state: Sources) -> int:
    """Delete the entries in `cache` of `directory`'s modules that depend on a changed file (every entry when
    `changed` is None); return how many indexes were deleted."""
    relative = directory.relative_to(package)
    modules = {index: module_of((relative / index.name).as_posix()) for index in sorted(cache.glob("*.nbi"))}
    modules = {index: module for index, module in modules.items() if module in state}  # another package's entries
    depends = dependencies(set(modules.values()), package, state) if changed else {}
    dropped = 0
    for index, module in modules.items():
        if changed is None or changed.intersection(depends.get(module, ())):
            try:
                for path in (*reversed(_entry_files(index)), index.with_name(f"{index.name}.seeded")):
                    path.unlink(missing_ok=True)  # the index first: numba then finds no entry to load
            except OSError:
                continue
            dropped += 1
    return dropped


# ---- the first compilation


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


_SOURCES = source_state()
drop_stale_entries(state=_SOURCES)
seed_kernel_cache(state=_SOURCES)
if sys.stderr.isatty():  # on a terminal, say why the first run waits; pipes and logs stay as they were
    on_first_compile(_notice)
