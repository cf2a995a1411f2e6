"""The kernel caches (dmz_solver/jit.py): what is copied where, and which entries are dropped or never copied
because a file their kernels depend on changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numba
import pytest
from numba.core.caching import _CacheLocator

from dmz_solver import jit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from build_kernel_cache import stale_entries  # noqa: E402 - bench/ is not a package

CALLER = "sub1/caller.kernel-3.py311.nbi"
ALONE = "sub1/other.alone-1.py311.nbi"
SOURCES = {
    "__init__.py": "",
    "sub1/__init__.py": "",
    "sub1/callee.py": "def value():\n    return 1\n",
    "sub1/caller.py": "from .callee import value\n\n\ndef kernel():\n    return value()\n",
    "sub1/other.py": "def alone():\n    return 3\n",
}


def _package(tmp_path: Path, sources: dict[str, str] = SOURCES) -> Path:
    package = tmp_path / "pkg"
    for name, text in sources.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    return package


def _shipped(tmp_path: Path, manifest: dict | None = None) -> tuple[Path, Path]:
    """The package of SOURCES and a shipped cache of two entries compiled from it: sub1/caller's kernel, which calls
    into sub1/callee, and sub1/other's, which calls nothing."""
    package, shipped = _package(tmp_path), tmp_path / "pkg" / "kernel_cache"
    (shipped / "sub1").mkdir(parents=True)
    for index in (CALLER, ALONE):
        (shipped / index).write_bytes(b"index " + index.encode())
        (shipped / index.replace(".nbi", ".1.nbc")).write_bytes(b"code " + index.encode())
    manifest = jit.build_manifest([CALLER, ALONE], package) if manifest is None else manifest
    (shipped / jit.MANIFEST).write_text(json.dumps(manifest))
    return package, shipped


def _local_entries(cache: Path, *indexes: str) -> None:
    """Fake numba entries (an index and one data file each) in a cache directory."""
    cache.mkdir(exist_ok=True)
    for index in indexes:
        (cache / index).write_bytes(b"index")
        (cache / index.replace(".nbi", ".1.nbc")).write_bytes(b"code")


def _kept(cache: Path) -> list[str]:
    return sorted(path.name for path in cache.iterdir() if path.name != jit.MARKER)


def test_a_module_depends_on_what_it_imports_directly_or_through_others(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "__init__.py": "",
            "sub1/__init__.py": "",
            "sub1/a.py": "import os\nfrom pkg.sub1 import b\n",
            "sub1/b.py": "def f():\n    from . import c  # inside a function\n",
            "sub1/c.py": "from ..top import X\n",
            "top.py": "X = 1\n",
            "sub1/unrelated.py": "from . import a\n",
        },
    )
    assert jit.dependencies(["sub1/a.py", "top.py"], package) == {
        "sub1/a.py": ["__init__.py", "sub1/__init__.py", "sub1/a.py", "sub1/b.py", "sub1/c.py", "top.py"],
        "top.py": ["__init__.py", "top.py"],
    }


def test_the_manifest_records_each_kernel_modules_dependencies_and_their_hashes(tmp_path: Path) -> None:
    package, shipped = _shipped(tmp_path)
    manifest = json.loads((shipped / jit.MANIFEST).read_text())
    assert manifest["kernels"] == {
        "sub1/caller.py": ["__init__.py", "sub1/__init__.py", "sub1/callee.py", "sub1/caller.py"],
        "sub1/other.py": ["__init__.py", "sub1/__init__.py", "sub1/other.py"],
    }
    assert manifest["files"] == {name: jit.source_state(package)[name] for name in SOURCES}
    assert manifest["entries"] == [CALLER, ALONE] and manifest["numba"] == numba.__version__


def test_unchanged_sources_keep_every_shipped_entry_fresh_and_copy_it_once(tmp_path: Path) -> None:
    package, shipped = _shipped(tmp_path)
    assert [(e.index.name, e.fresh, e.why_stale) for e in jit.shipped_entries(shipped, package)] == [
        ("caller.kernel-3.py311.nbi", True, ""),
        ("other.alone-1.py311.nbi", True, ""),
    ]
    assert stale_entries(shipped, package) == []
    assert jit.seed_kernel_cache(shipped, package) == 2
    cache = package / "sub1" / "__pycache__"
    assert (cache / "caller.kernel-3.py311.1.nbc").read_bytes() == f"code {CALLER}".encode()
    (cache / "caller.kernel-3.py311.nbi").write_bytes(b"index with what numba added since")
    assert jit.seed_kernel_cache(shipped, package) == 0  # the markers say they were copied for these sources
    assert (cache / "caller.kernel-3.py311.nbi").read_bytes() == b"index with what numba added since"


def test_a_changed_callee_in_another_file_makes_the_callers_shipped_entry_stale(tmp_path: Path) -> None:
    package, shipped = _shipped(tmp_path)
    (package / "sub1" / "callee.py").write_text("def value():\n    return 2\n")  # caller.py is unchanged
    fresh = {e.index.name: (e.fresh, e.why_stale) for e in jit.shipped_entries(shipped, package)}
    assert fresh == {
        "caller.kernel-3.py311.nbi": (False, "sub1/callee.py changed"),
        "other.alone-1.py311.nbi": (True, ""),
    }
    assert stale_entries(shipped, package) == [f"{CALLER}: sub1/callee.py changed"]
    assert jit.seed_kernel_cache(shipped, package) == 1
    assert _kept(package / "sub1" / "__pycache__") == [
        "other.alone-1.py311.1.nbc",
        "other.alone-1.py311.nbi",
        "other.alone-1.py311.nbi.seeded",
    ]


def test_entries_of_another_numba_or_an_older_manifest_are_not_copied(tmp_path: Path) -> None:
    package, shipped = _shipped(
        tmp_path / "a", {**jit.build_manifest([CALLER], _package(tmp_path / "a")), "numba": "0.0.1"}
    )
    assert [e.why_stale for e in jit.shipped_entries(shipped, package)] == ["compiled with numba 0.0.1"]
    assert jit.seed_kernel_cache(shipped, package) == 0
    package, shipped = _shipped(tmp_path / "b", {"numba": numba.__version__, "sources": {CALLER: "0" * 64}})
    assert jit.shipped_entries(shipped, package) == [] and jit.seed_kernel_cache(shipped, package) == 0
    assert not (package / "sub1" / "__pycache__").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only directories")
def test_an_unwritable_package_is_left_alone(tmp_path: Path) -> None:
    package, shipped = _shipped(tmp_path)
    _local_entries(package / "sub1" / "__pycache__", "caller.kernel-3.py311.nbi")
    (package / "sub1").chmod(0o555)
    (package / "sub1" / "__pycache__").chmod(0o555)
    try:
        assert jit.drop_stale_entries(package) == 0 and jit.seed_kernel_cache(shipped, package) == 0
        assert _kept(package / "sub1" / "__pycache__") == ["caller.kernel-3.py311.1.nbc", "caller.kernel-3.py311.nbi"]
    finally:
        (package / "sub1" / "__pycache__").chmod(0o755)
        (package / "sub1").chmod(0o755)


def test_a_changed_callee_drops_the_local_entries_of_the_modules_that_import_it(tmp_path: Path) -> None:
    package = _package(tmp_path)
    cache = package / "sub1" / "__pycache__"
    cache.mkdir()
    assert jit.drop_stale_entries(package) == 0  # marks the directory with the sources now
    _local_entries(cache, "caller.kernel-3.py311.nbi", "callee.value-1.py311.nbi", "other.alone-1.py311.nbi")
    (cache / "caller.cpython-311.pyc").write_bytes(b"bytecode")
    assert jit.drop_stale_entries(package) == 0  # unchanged sources: every entry stays
    assert len(_kept(cache)) == 7
    (package / "sub1" / "callee.py").write_text("def value():\n    return 2\n")
    assert jit.drop_stale_entries(package) == 2
    assert _kept(cache) == ["caller.cpython-311.pyc", "other.alone-1.py311.1.nbc", "other.alone-1.py311.nbi"]
    assert jit.drop_stale_entries(package) == 0


def test_local_entries_of_unknown_origin_are_dropped_once(tmp_path: Path) -> None:
    package = _package(tmp_path)
    cache = package / "sub1" / "__pycache__"
    _local_entries(cache, "other.alone-1.py311.nbi")  # compiled before markers existed: from which sources?
    assert jit.drop_stale_entries(package) == 1 and _kept(cache) == []
    _local_entries(cache, "other.alone-1.py311.nbi")  # compiled after the check, from these sources
    assert jit.drop_stale_entries(package) == 0 and len(_kept(cache)) == 2


def test_entries_in_numba_cache_dir_are_checked_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = _package(tmp_path)
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "numba-cache"))
    cache = tmp_path / "numba-cache" / _CacheLocator.get_suitable_cache_subpath(str(package / "sub1" / "caller.py"))
    cache.mkdir(parents=True)
    assert jit.drop_stale_entries(package) == 0
    _local_entries(cache, "caller.kernel-3.py311.nbi")
    (package / "sub1" / "callee.py").write_text("def value():\n    return 2\n")
    assert jit.drop_stale_entries(package) == 1 and _kept(cache) == []


CALLEE_KERNEL = "from numba import njit\n\n\n@njit(cache=True)\ndef value():\n    return {}\n"
CALLER_KERNEL = (
    "from numba import njit\n\nfrom .callee import value\n\n\n@njit(cache=True)\ndef kernel():\n    return value()\n"
)
RUN = """
import sys
from pathlib import Path
from dmz_solver import jit
jit.drop_stale_entries(Path(sys.argv[1]) / "pkg")
sys.path.insert(0, sys.argv[1])
from pkg.caller import kernel
print(kernel())
"""


def test_a_kernel_compiled_with_an_old_callee_is_compiled_again_after_the_callee_changes(tmp_path: Path) -> None:
    package = _package(tmp_path, {"__init__.py": "", "callee.py": CALLEE_KERNEL.format(1), "caller.py": CALLER_KERNEL})
    (package / "__pycache__").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", RUN, str(tmp_path)], env=env, cwd=ROOT, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    assert run() == "1"
    assert list((package / "__pycache__").glob("caller.kernel-*.nbi"))  # numba cached the caller
    (package / "callee.py").write_text(CALLEE_KERNEL.format(22))  # the caller's file is unchanged
    assert run() == "22"


def test_every_shipped_entry_names_a_kernel_module_of_the_package() -> None:
    entries = jit.shipped_entries()
    assert entries, "dmz_solver/kernel_cache/ ships no entry"
    for entry in entries:
        assert entry.index.is_file() and entry.source.is_file(), entry
        assert "njit" in entry.source.read_text()


@pytest.mark.parametrize(("chosen", "expected"), [(None, "generic ''"), ("skylake", "skylake None")])
def test_kernels_compile_for_the_generic_cpu_unless_the_environment_chooses(chosen: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES")}
    if chosen:
        env["NUMBA_CPU_NAME"] = chosen
    code = "import numba; import dmz_solver.jit; print(numba.config.CPU_NAME, repr(numba.config.CPU_FEATURES))"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    assert run.stdout.strip() == expected
