"""The shipped kernel cache (dmz_solver/jit.py): what is copied where, and when it is left alone."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numba
import pytest

from dmz_solver import jit

INDEX = "mod.kernel-3.py311.nbi"
ROOT = Path(__file__).resolve().parent.parent


def _shipped(tmp_path: Path, source_text: str, numba_version: str = numba.__version__) -> tuple[Path, Path]:
    """A package whose subpackage `sub` has one module `mod`, and a shipped cache holding one entry compiled from
    source_text."""
    package, shipped = tmp_path / "pkg", tmp_path / "pkg" / "kernel_cache"
    (package / "sub").mkdir(parents=True)
    (package / "sub" / "mod.py").write_text(source_text)
    (shipped / "sub").mkdir(parents=True)
    (shipped / "sub" / INDEX).write_bytes(b"index")
    (shipped / "sub" / "mod.kernel-3.py311.1.nbc").write_bytes(b"code")
    digest = hashlib.sha256(source_text.encode()).hexdigest()
    manifest = {"numba": numba_version, "sources": {f"sub/{INDEX}": digest}}
    (shipped / "manifest.json").write_text(json.dumps(manifest))
    return package, shipped


def test_an_entry_matching_its_source_is_copied_beside_it_once(tmp_path: Path) -> None:
    package, shipped = _shipped(tmp_path, "def kernel(): pass\n")
    assert jit.seed_kernel_cache(shipped, package) == 1
    cache = package / "sub" / "__pycache__"
    assert (cache / INDEX).read_bytes() == b"index" and (cache / "mod.kernel-3.py311.1.nbc").read_bytes() == b"code"
    (cache / INDEX).write_bytes(b"index with what numba added since")
    assert jit.seed_kernel_cache(shipped, package) == 0  # the marker says it was copied for this source
    assert (cache / INDEX).read_bytes() == b"index with what numba added since"


def test_an_entry_of_changed_code_or_another_numba_is_not_copied(tmp_path: Path) -> None:
    package, shipped = _shipped(tmp_path, "def kernel(): pass\n")
    (package / "sub" / "mod.py").write_text("def kernel(): return 1\n")
    assert jit.seed_kernel_cache(shipped, package) == 0
    assert not (package / "sub" / "__pycache__").exists()
    other = tmp_path / "other"
    package, shipped = _shipped(other, "x = 1\n", numba_version="0.0.1")
    assert jit.seed_kernel_cache(shipped, package) == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only directories")
def test_an_unwritable_package_is_left_alone(tmp_path: Path) -> None:
    package, shipped = _shipped(tmp_path, "def kernel(): pass\n")
    (package / "sub").chmod(0o555)
    try:
        assert jit.seed_kernel_cache(shipped, package) == 0
    finally:
        (package / "sub").chmod(0o755)


def test_every_shipped_entry_names_a_kernel_module_of_the_package() -> None:
    entries = jit.shipped_entries()
    assert entries, "dmz_solver/kernel_cache/ ships no entry"
    for index, source, _ in entries:
        assert index.is_file() and source.is_file(), (index, source)
        assert "njit" in source.read_text()


@pytest.mark.parametrize(("chosen", "expected"), [(None, "generic ''"), ("skylake", "skylake None")])
def test_kernels_compile_for_the_generic_cpu_unless_the_environment_chooses(chosen: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES")}
    if chosen:
        env["NUMBA_CPU_NAME"] = chosen
    code = "import numba; import dmz_solver.jit; print(numba.config.CPU_NAME, repr(numba.config.CPU_FEATURES))"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    assert run.stdout.strip() == expected
