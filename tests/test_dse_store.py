"""The DSE results store: a killed DSE resumes without losing or repeating a solve, a store of another DSE or
a file that is not a store is refused, results round-trip exactly; Latin hypercube samples; report.md."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dmz_solver.arch import load_arch
from dmz_solver.cli import main
from dmz_solver.dse.run import Dse, DsePoint, dse_identity
from dmz_solver.dse.sample import latin_hypercube
from dmz_solver.dse.store import DseStore
from dmz_solver.dse.summary import sensitivity
from dmz_solver.dse.sweep import arch_points, parse_sweep
from dmz_solver.dse.task import InProcess
from dmz_solver.workload.loader import load_model

ROOT = Path(__file__).resolve().parent.parent
KILL_SWEEP = ["--sweep", "CGRA_SIZE=16,32,64", "--sweep", "RF_SIZE=64,128,512"]  # 9 points x 5 layers of tiny
SMALL = ["--model", "tiny", "--sweep", "CGRA_SIZE=16,64", "--sweep", "rf_bytes=64,512"]


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def without_seconds(path: Path) -> list[dict[str, str]]:
    """dse.csv less its timing column, the one figure that differs between runs."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows(path)]


def stored(path: Path) -> list[tuple[int, int, str, int]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT point, layer, source, run FROM results ORDER BY point, layer").fetchall()


def run_cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def tampered_store(small_dse: Path, tmp_path: Path, sql: str, parameters: tuple = ()) -> Path:
    """A copy of the small DSE's output directory whose store has had one SQL statement run on it."""
    out = tmp_path / "o"
    shutil.copytree(small_dse, out)
    with contextlib.closing(sqlite3.connect(out / "dse.sqlite")) as db, db:
        db.execute(sql, parameters)
    return out


@pytest.fixture(scope="module")
def small_dse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 4-point DSE of tiny (its store, CSV and report)."""
    out = tmp_path_factory.mktemp("dse-store") / "o"
    assert main(["dse", *SMALL, "--out", str(out), "--no-cache"]) == 0
    return out


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 9-point DSE of KILL_SWEEP run without interruption (its store, CSV and report)."""
    out = tmp_path_factory.mktemp("dse-whole") / "o"
    assert main(["dse", "--model", "tiny", *KILL_SWEEP, "--no-cache", "--out", str(out)]) == 0
    return out


def test_a_dse_killed_mid_run_resumes_without_losing_or_repeating_a_solve(
    tmp_path: Path, uninterrupted: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "killed"
    argv = ["dse", "--model", "tiny", *KILL_SWEEP, "--no-cache"]
    child = subprocess.Popen(
        [sys.executable, "cli.py", *argv, "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store = out / "dse.sqlite"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:  # kill it once a few results are stored
            with contextlib.suppress(sqlite3.OperationalError):  # a writer holds a lock for a moment
                if store.exists() and len(stored(store)) >= 5:
                    break
            time.sleep(0.02)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    before = stored(store)
    assert 5 <= len(before) < 45, "the DSE was not killed mid-run"
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    code, text, _ = run_cli(capsys, *argv, "--out", str(out))
    assert code == 0
    complete = sum([p for p, *_ in before].count(p) == 5 for p in range(9))  # points with all 5 layers stored
    expected = (
        f"resuming {store}: {complete} of 9 points done (from the store), 0 layer results from the layer cache, "
        f"{45 - len(before)} layer solves left"
    )
    assert expected in text
    after = stored(store)
    assert [(p, layer) for p, layer, *_ in after] == [(p, layer) for p in range(9) for layer in range(5)]
    assert set(before) <= set(after)  # the first run's rows are kept as they were
    assert {run for *_, run in after} == {1, 2} and {source for _, _, source, _ in after} == {"solved"}
    assert sum(run == 2 for *_, run in after) == 45 - len(before)  # the resumed run solved only what was missing

    assert without_seconds(out / "dse.csv") == without_seconds(uninterrupted / "dse.csv")
    assert (out / "report.md").read_text() == (uninterrupted / "report.md").read_text()


FULL_DISK = """
set -u
mnt=$1 keep=$2 python=$3
shift 3
dse() { "$python" cli.py "$@" --out "$mnt/o" > "$keep/out$run" 2> "$keep/err$run"; echo $? > "$keep/rc$run"; }
mount -t tmpfs -o size=128k tmpfs "$mnt" || exit 3
run=1; dse "$@"; cp -a "$mnt/o" "$keep/full"
run=2; dse "$@"; cp -a "$mnt/o" "$keep/still-full"
mount -o remount,size=64m "$mnt" || exit 3
run=3; dse "$@"; cp -a "$mnt/o" "$keep/done"
"""
"""Runs a DSE on a 128 KiB file system (a tmpfs in a private mount namespace) until the disk is full, once more
while it is full, and again once it has room; each run's status, output and store are kept in $keep."""


def private_mounts() -> bool:
    """Whether this user may mount a tmpfs in a user and mount namespace of its own (no privileges needed)."""
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not private_mounts(), reason="needs `unshare -rm` to mount a small tmpfs without privileges")
def test_a_full_disk_stops_the_dse_in_one_line_and_keeps_every_stored_result(
    tmp_path: Path, uninterrupted: Path
) -> None:
    mnt, keep = tmp_path / "mnt", tmp_path / "keep"
    mnt.mkdir()
    keep.mkdir()
    argv = ["dse", "--model", "tiny", *KILL_SWEEP, "--no-cache"]
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", FULL_DISK, "sh", str(mnt), str(keep), sys.executable, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    store = mnt / "o" / "dse.sqlite"  # as the runs saw it
    full = f"error: {store}: cannot write the DSE store: the disk is full; every result stored so far is kept, "
    for run in (1, 2):  # filled up while solving; still full when the next run starts
        assert (keep / f"rc{run}").read_text() == "2\n"
        err = (keep / f"err{run}").read_text()
        assert err.startswith(full) and err.count("\n") == 1  # one line, no traceback
    assert {p.name for p in (keep / "full").iterdir()} <= {"dse.sqlite", "dse.sqlite-wal", "dse.sqlite-shm"}
    assert (keep / "full" / "dse.sqlite-wal").exists()  # the disk filled while results were written
    before = stored(keep / "full" / "dse.sqlite")  # every result stored before the disk filled, readable
    assert 1 <= len(before) < 45
    assert stored(keep / "still-full" / "dse.sqlite") == before
    for copy in ("full", "still-full"):
        with sqlite3.connect(keep / copy / "dse.sqlite") as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    assert (keep / "rc3").read_text() == "0\n", (keep / "err3").read_text()
    complete = sum([p for p, *_ in before].count(p) == 5 for p in range(9))
    assert (
        f"resuming {store}: {complete} of 9 points done (from the store), 0 layer results from the layer "
        f"cache, {45 - len(before)} layer solves left" in (keep / "out3").read_text()
    )
    after = stored(keep / "done" / "dse.sqlite")
    assert set(before) <= set(after) and len(after) == 45
    assert sum(run == 2 for *_, run in after) == 45 - len(before)  # the run that failed at start stored nothing
    assert without_seconds(keep / "done" / "dse.csv") == without_seconds(uninterrupted / "dse.csv")
    assert (keep / "done" / "report.md").read_text() == (uninterrupted / "report.md").read_text()


def test_a_store_that_may_not_grow_fails_like_a_full_disk(
    tmp_path: Path, uninterrupted: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's own "database or disk is full" (SQLITE_FULL), forced by capping the store's pages."""
    opened = DseStore.open

    def capped(directory: Path, identity: dict[str, str]) -> DseStore:
        store = opened(directory, identity)
        (pages,) = store._db.execute("PRAGMA page_count").fetchone()
        store._db.execute(f"PRAGMA max_page_count = {pages + 3}")
        return store

    out = tmp_path / "o"
    argv = ["dse", "--model", "tiny", *KILL_SWEEP, "--no-cache", "--out", str(out)]
    with monkeypatch.context() as patch:
        patch.setattr(DseStore, "open", capped)
        code, _, err = run_cli(capsys, *argv)
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"error: {out / 'dse.sqlite'}: cannot write the DSE store: the disk is full;")
    assert {p.name for p in out.iterdir()} == {"dse.sqlite"}  # no CSV, report or plot; no temporary file
    before = stored(out / "dse.sqlite")
    assert 1 <= len(before) < 45
    code, text, _ = run_cli(capsys, *argv)
    assert code == 0 and f"{45 - len(before)} layer solves left" in text
    after = stored(out / "dse.sqlite")
    assert set(before) <= set(after) and sum(run == 2 for *_, run in after) == 45 - len(before)
    assert without_seconds(out / "dse.csv") == without_seconds(uninterrupted / "dse.csv")


def test_running_a_finished_dse_again_solves_nothing_and_writes_the_same_files(
    small_dse: Path, capsys: pytest.CaptureFixture
) -> None:
    first = (small_dse / "dse.csv").read_text()
    code, text, err = run_cli(capsys, "dse", *SMALL, "--out", str(small_dse), "--no-cache")
    assert code == 0 and err == ""  # every stored result re-evaluated and believed
    assert "4 of 4 points done (from the store), 0 layer results from the layer cache, 0 layer solves left" in text
    assert (small_dse / "dse.csv").read_text() == first  # the seconds too: they are the stored solve times


def test_stored_results_the_cost_model_disagrees_with_are_solved_again(
    small_dse: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Rows edited by hand: an energy one ulp off, a mapping whose figures are another's, text that is not JSON."""
    out = tmp_path / "o"
    out.mkdir()
    (out / "dse.sqlite").write_bytes((small_dse / "dse.sqlite").read_bytes())
    names = [nest.name for nest in load_model("tiny").layers]
    with sqlite3.connect(out / "dse.sqlite") as db:

        def edit(point: int, layer: int, change: Callable[[dict], object]) -> None:
            (text,) = db.execute("SELECT result FROM results WHERE point = ? AND layer = ?", (point, layer)).fetchone()
            body = json.loads(text)
            changed = change(body)
            text = changed if isinstance(changed, str) else json.dumps(body)
            db.execute("UPDATE results SET result = ? WHERE point = ? AND layer = ?", (text, point, layer))

        edit(0, 1, lambda b: b["cost"].update(energy_pj=math.nextafter(b["cost"]["energy_pj"], math.inf)))
        mapping = {
            p: json.loads(t)["mapping"] for p, t in db.execute("SELECT point, result FROM results WHERE layer = 3")
        }
        edit(2, 3, lambda b: b.update(mapping=mapping[0]))  # point 0's mapping (valid here) with this row's figures
        edit(0, 3, lambda b: b.update(mapping=mapping[2]))  # too many PEs for point 0
        edit(3, 0, lambda b: "{not json")
    db.close()
    before = stored(out / "dse.sqlite")

    code, text, err = run_cli(capsys, "dse", *SMALL, "--out", str(out), "--no-cache")
    assert code == 0 and err.count("\n") == 1
    assert err.startswith(f"warning: {out / 'dse.sqlite'}: 4 stored result(s) not used, solved again: ")
    assert re.search(f"point 0 layer {names[1]} \\(its energy_pj [0-9.e+]+ is not the cost model's ", err)
    assert f"point 0 layer {names[3]} (its mapping is not valid here: uses 64 PEs, the array has 16)" in err
    assert f"point 2 layer {names[3]} (its cycles 1080.0 is not the cost model's 1392.0)" in err
    assert f"point 3 layer {names[0]} (it is not complete JSON (" in err
    assert "1 of 4 points done (from the store), 0 layer results from the layer cache, 4 layer solves left" in text
    after = stored(out / "dse.sqlite")
    resolved = {(0, 1), (0, 3), (2, 3), (3, 0)}
    latest = max(run for *_, run in after)  # this run (the fixture's store may have been resumed before)
    assert latest > max(run for *_, run in before)
    assert [(p, layer) for p, layer, _, run in after if run == latest] == sorted(resolved)
    assert [r for r in after if r[:2] not in resolved] == [r for r in before if r[:2] not in resolved]
    assert without_seconds(out / "dse.csv") == without_seconds(small_dse / "dse.csv")
    code, text, err = run_cli(capsys, "dse", *SMALL, "--out", str(out), "--no-cache")
    assert code == 0 and err == "" and "0 layer solves left" in text


UNSOLVED = {"objective": "edp", "status": "INFEASIBLE", "reason": "r", "seconds": 0.1, "search": "cpsat"}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (json.dumps({**UNSOLVED, "tilings_evaluated": 1e400}), "it holds Infinity"),  # was a traceback
        ("[" * 100_000 + "]" * 100_000, "it cannot be read (RecursionError)"),  # was a traceback
        (json.dumps({**UNSOLVED, "seconds": float("nan"), "tilings_evaluated": 0}), "it holds NaN"),  # was believed
        (json.dumps({**UNSOLVED, "seconds": "5", "tilings_evaluated": 0}), "result.seconds is a str, not a number"),
        (json.dumps({**UNSOLVED, "tilings_evaluated": 2.5}), "result.tilings_evaluated is 2.5, not a count"),
        (json.dumps({**UNSOLVED, "status": "OPTIMAL", "tilings_evaluated": 0}), "result.status is 'OPTIMAL', not one"),
        (b"\x00", "it is bytes, not JSON text"),
    ],
    ids=["infinite_count", "deep", "nan_seconds", "text_seconds", "fractional_count", "optimal_unsolved", "blob"],
)
def test_a_hostile_row_without_a_mapping_is_solved_again(
    small_dse: Path, tmp_path: Path, capsys: pytest.CaptureFixture, text: str | bytes, why: str
) -> None:
    out = tampered_store(small_dse, tmp_path, "UPDATE results SET result = ? WHERE point = 1 AND layer = 2", (text,))
    code, _, err = run_cli(capsys, "dse", *SMALL, "--out", str(out), "--no-cache")
    name = load_model("tiny").layers[2].name
    assert code == 0 and err.count("\n") == 1
    assert err.startswith(f"warning: {out / 'dse.sqlite'}: 1 stored result(s) not used, solved again: point 1 layer")
    assert f"point 1 layer {name} ({why}" in err
    assert without_seconds(out / "dse.csv") == without_seconds(small_dse / "dse.csv")


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("UPDATE meta SET value = 'x' WHERE name = 'runs'", "is not a DSE store of dmz-solver (no count of its runs)"),
        ("DELETE FROM meta WHERE name = 'runs'", "is not a DSE store of dmz-solver (no count of its runs)"),
        ("DROP TABLE results", "is not a DSE store of dmz-solver (no such table: results)"),
    ],
)
def test_a_store_missing_its_parts_is_refused_in_one_line(
    small_dse: Path, tmp_path: Path, capsys: pytest.CaptureFixture, sql: str, says: str
) -> None:
    """Each was a traceback."""
    out = tampered_store(small_dse, tmp_path, sql)
    code, _, err = run_cli(capsys, "dse", *SMALL, "--out", str(out), "--no-cache")
    assert (code, err) == (2, f"error: {out / 'dse.sqlite'}: {says}\n")


def test_a_store_with_a_damaged_page_is_refused_in_one_line(
    small_dse: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Bytes overwritten in the middle of the file: the header reads, the results do not (was a traceback)."""
    out = tmp_path / "o"
    shutil.copytree(small_dse, out)
    data = bytearray((out / "dse.sqlite").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 3000] = b"\xab" * 3000
    (out / "dse.sqlite").write_bytes(bytes(data))
    code, _, err = run_cli(capsys, "dse", *SMALL, "--out", str(out), "--no-cache")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"error: {out / 'dse.sqlite'}: cannot read the DSE store (database disk image is malformed)")


@pytest.mark.parametrize(
    ("change", "differs"),
    [
        (["--sweep", "CGRA_SIZE=16,64", "--sweep", "rf_bytes=64,256"], "points"),
        (["--sweep", "CGRA_SIZE=16,64", "--sweep", "rf_bytes=64,512", "--objective", "energy"], "objective"),
    ],
)
def test_a_store_of_another_dse_is_refused_in_one_line(
    small_dse: Path, capsys: pytest.CaptureFixture, change: list[str], differs: str
) -> None:
    before = (small_dse / "dse.sqlite").read_bytes()
    code, _, err = run_cli(capsys, "dse", "--model", "tiny", *change, "--out", str(small_dse), "--no-cache")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"error: {small_dse / 'dse.sqlite'}: belongs to another DSE (other {differs})")
    assert (small_dse / "dse.sqlite").read_bytes() == before


def test_a_store_of_another_model_is_refused(small_dse: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    other = tmp_path / "o"
    other.mkdir()
    (other / "dse.sqlite").write_bytes((small_dse / "dse.sqlite").read_bytes())
    code, _, err = run_cli(capsys, "dse", "--model", "alexnet", *SMALL[2:], "--out", str(other), "--no-cache")
    assert code == 2 and "(other model)" in err and err.count("\n") == 1


@pytest.mark.parametrize("kind", ["random bytes", "another SQLite database"])
def test_a_file_that_is_not_a_store_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, kind: str
) -> None:
    out = tmp_path / "o"
    out.mkdir()
    target = out / "dse.sqlite"
    if kind == "random bytes":
        target.write_bytes(bytes(range(256)) * 20)
    else:
        with sqlite3.connect(target) as db:
            db.execute("CREATE TABLE results (x)")
        db.close()
    before = target.read_bytes()
    code, _, err = run_cli(capsys, "dse", *SMALL, "--out", str(out), "--no-cache")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"error: {target}: is not a DSE store of dmz-solver")
    assert target.read_bytes() == before
    assert not (out / "dse.csv").exists()


@pytest.mark.parametrize(
    ("value", "says"),
    [(None, "is not a DSE store of dmz-solver (no record of its format)"), ("7", "is a DSE store of format 7, not 1")],
)
def test_a_store_without_our_format_record_says_what_it_holds(
    small_dse: Path, tmp_path: Path, capsys: pytest.CaptureFixture, value: str | None, says: str
) -> None:
    """A store whose format row is gone said `is a DSE store of format None`."""
    if value is None:
        out = tampered_store(small_dse, tmp_path, "DELETE FROM meta WHERE name = 'format'")
    else:
        out = tampered_store(small_dse, tmp_path, "UPDATE meta SET value = ? WHERE name = 'format'", (value,))
    code, _, err = run_cli(capsys, "dse", *SMALL, "--out", str(out), "--no-cache")
    assert (code, err) == (2, f"error: {out / 'dse.sqlite'}: {says}\n")


def test_a_store_in_use_by_another_run_is_refused(small_dse: Path, capsys: pytest.CaptureFixture) -> None:
    layers = load_model("tiny").layers
    points = arch_points(load_arch("dmazerunner"), [parse_sweep("CGRA_SIZE=16,64"), parse_sweep("rf_bytes=64,512")])
    with DseStore.open(small_dse, dse_identity(layers, points, "edp", None)):
        code, _, err = run_cli(capsys, "dse", *SMALL, "--out", str(small_dse), "--no-cache")
    assert code == 2 and "is in use by another dse run" in err and err.count("\n") == 1


def test_stored_results_read_back_equal_to_the_solved_ones(small_dse: Path, tmp_path: Path) -> None:
    """Every field of every layer result (mapping, cost, bound, proof), and an infeasible layer with its reason."""
    layers = load_model("tiny").layers
    sweeps = [parse_sweep("CGRA_SIZE=16,64"), parse_sweep("rf_bytes=64,512")]
    points = arch_points(load_arch("dmazerunner"), sweeps)
    solved = Dse(layers, points, "edp")
    solved.solve(InProcess())
    identity = {"test": "1"}
    with DseStore.open(tmp_path, identity) as store:
        for (point, layer), result in solved.results.items():
            store.put(point, layer, result, "solved")
    with DseStore.open(tmp_path, identity) as store:
        assert store.results(layers, len(points)) == (solved.results, {})


def test_an_infeasible_layer_is_stored_with_its_reason(tmp_path: Path) -> None:
    layers = load_model("tiny").layers
    points = arch_points(load_arch("dmazerunner"), [parse_sweep("RF_SIZE=2")])  # no operand fits in 2 bytes
    dse = Dse(layers, points, "edp")
    dse.solve(InProcess())
    infeasible = {k: r for k, r in dse.results.items() if r.mapping is None}
    assert infeasible and all(r.reason for r in infeasible.values())
    with DseStore.open(tmp_path, {"test": "1"}) as store:
        for (point, layer), result in dse.results.items():
            store.put(point, layer, result, "solved")
        assert store.results(layers, 1) == (dse.results, {})
    (point,) = dse.finish()
    assert point.status == "INFEASIBLE" and math.isnan(point.cycles)


# ----------------------------------------------------------------------------------------------------------------------
# Samples


def test_latin_hypercube_sample_is_reproducible_and_spreads_every_value_evenly() -> None:
    sizes = [10, 5, 4, 10]  # 2,000 grid points
    sample = latin_hypercube(sizes, 20, seed=7)
    assert sample == latin_hypercube(sizes, 20, seed=7)
    assert sample != latin_hypercube(sizes, 20, seed=8)
    assert len(set(sample)) == 20 and sample == sorted(sample)
    for axis, size in enumerate(sizes):
        counts = [sum(c[axis] == v for c in sample) for v in range(size)]
        assert counts == [20 // size] * size  # each value equally often: a Latin hypercube


def test_a_dense_sample_has_distinct_points_and_a_sample_of_the_whole_grid_is_the_grid() -> None:
    dense = latin_hypercube([3, 3], 7, seed=1)
    assert len(set(dense)) == 7 and all(0 <= a < 3 and 0 <= b < 3 for a, b in dense)
    assert latin_hypercube([2, 3], 6, seed=1) == [(a, b) for a in range(2) for b in range(3)]


def test_dse_sample_solves_the_sampled_points_and_resumes_only_with_the_same_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = ["dse", "--model", "tiny", "--sweep", "CGRA_SIZE=16,32,64", "--sweep", "RF_SIZE=64,128,512", "--no-cache"]
    out = str(tmp_path / "o")
    code, text, _ = run_cli(capsys, *argv, "--sample", "4", "--seed", "3", "--out", out)
    assert code == 0 and "4 points (a Latin hypercube sample of the 9-point grid, seed 3)" in text
    grid = [(16, 64), (16, 128), (16, 512), (32, 64), (32, 128), (32, 512), (64, 64), (64, 128), (64, 512)]
    expected = [grid[3 * a + b] for a, b in latin_hypercube([3, 3], 4, seed=3)]
    assert [(int(r["CGRA_SIZE"]), int(r["RF_SIZE"])) for r in rows(tmp_path / "o" / "dse.csv")] == expected
    code, text, _ = run_cli(capsys, *argv, "--sample", "4", "--seed", "3", "--out", out)
    assert code == 0 and "4 of 4 points done" in text
    code, _, err = run_cli(capsys, *argv, "--sample", "4", "--seed", "4", "--out", out)
    assert code == 2 and "(other points)" in err


# ----------------------------------------------------------------------------------------------------------------------
# report.md


def test_report_lists_the_pareto_front_and_the_best_point_of_each_objective(small_dse: Path) -> None:
    table = rows(small_dse / "dse.csv")
    report = (small_dse / "report.md").read_text()
    front = re.findall(r"^\| (\d+) \| (\d+) \| (\d+) \|", report.split("## Best")[0], flags=re.M)
    expected = sorted((int(r["cycles"]), r["CGRA_SIZE"], r["rf_bytes"]) for r in table if r["pareto"] == "1")
    assert [(c, a, b) for a, b, c in ((a, b, int(c)) for a, b, c in front)] == expected
    best_edp = min(table, key=lambda r: float(r["edp"]))
    assert f"| edp | CGRA_SIZE={best_edp['CGRA_SIZE']}, rf_bytes={best_edp['rf_bytes']} |" in report
    best_cycles = min(table, key=lambda r: int(r["cycles"]))
    assert f"| cycles | CGRA_SIZE={best_cycles['CGRA_SIZE']}, rf_bytes={best_cycles['rf_bytes']} |" in report


def test_sensitivity_is_the_geometric_mean_of_the_objective_at_each_value() -> None:
    arch = load_arch("dmazerunner")

    def point(pe: int, rf: int, cycles: float, energy: float) -> DsePoint:
        return DsePoint({"PE": pe, "RF": rf}, arch, cycles, energy, "OPTIMAL", 0.0)

    points = [point(16, 64, 10, 1), point(16, 512, 40, 1), point(64, 64, 5, 2), point(64, 512, 5, 8)]
    assert sensitivity(points, "PE", "edp") == {16: pytest.approx(20.0), 64: pytest.approx(20.0)}  # sqrt(10*40)
    assert sensitivity(points, "RF", "cycles") == {64: pytest.approx(math.sqrt(50)), 512: pytest.approx(math.sqrt(200))}


def test_a_seed_without_a_sample_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run_cli(capsys, "dse", *SMALL, "--seed", "3", "--out", str(tmp_path / "o"), "--no-cache")
    assert code == 2 and err == "error: --seed: draws the points of --sample; give --sample N too\n"
    assert not (tmp_path / "o").exists()
