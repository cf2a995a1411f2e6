"""`dse`: sweep parsing, arch points, energy scaling, the CSV, Pareto flags, plots and bad-input errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import dmz_solver.dse.task as task_module
from dmz_solver.arch import load_arch
from dmz_solver.cli import main
from dmz_solver.dse.run import DsePoint, mark_pareto
from dmz_solver.dse.sweep import arch_points, load_scaling, parse_sweep

SWEEP = ["--sweep", "CGRA_SIZE=16,64", "--sweep", "rf_bytes=64,512"]


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def dse_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dse")
    code = main(["dse", "--model", "tiny", *SWEEP, "--out", str(out / "o"), "--cache-dir", str(out / "cache")])
    assert code == 0
    return out


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_dse_csv_has_one_row_per_point_and_the_totals(dse_dir: Path) -> None:
    table = rows(dse_dir / "o" / "dse.csv")
    assert list(table[0]) == ["CGRA_SIZE", "rf_bytes", "cycles", "energy_pj", "edp", "status", "seconds", "pareto"]
    assert [(r["CGRA_SIZE"], r["rf_bytes"]) for r in table] == [
        ("16", "64"),
        ("16", "512"),
        ("64", "64"),
        ("64", "512"),
    ]
    for r in table:
        assert r["status"] == "OPTIMAL"
        assert float(r["edp"]) == pytest.approx(int(r["cycles"]) * float(r["energy_pj"]))
    by_point = {(r["CGRA_SIZE"], r["rf_bytes"]): int(r["cycles"]) for r in table}
    assert by_point[("64", "512")] < by_point[("16", "512")]  # more PEs, fewer cycles


def test_dse_point_totals_match_a_direct_solve(dse_dir: Path, capsys: pytest.CaptureFixture) -> None:
    arch = dse_dir / "arch.json"
    seed = load_arch("dmazerunner").to_seed_json()
    seed["arch_basic"].update(CGRA_SIZE=16, RF_SIZE=64)
    arch.write_text(json.dumps(seed))
    code, out, _ = run(capsys, "solve", "--model", "tiny", "--arch", str(arch), "--no-cache", "--json", "-")
    assert code == 0
    (first,) = [r for r in rows(dse_dir / "o" / "dse.csv") if (r["CGRA_SIZE"], r["rf_bytes"]) == ("16", "64")]
    assert int(first["cycles"]) == json.loads(out)["total"]["cycles"]


def test_dse_pareto_flags_match_a_direct_computation(dse_dir: Path) -> None:
    table = rows(dse_dir / "o" / "dse.csv")
    points = [(int(r["cycles"]), float(r["energy_pj"])) for r in table]
    expected = [not any(c2 <= c and e2 <= e and (c2, e2) != (c, e) for c2, e2 in points) for c, e in points]
    assert [r["pareto"] == "1" for r in table] == expected
    assert any(expected)


def test_dse_writes_the_plots(dse_dir: Path) -> None:
    for name in ("edp_vs_CGRA_SIZE.png", "edp_vs_rf_bytes.png", "pareto.png"):
        assert (dse_dir / "o" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dse_rerun_reuses_the_cache(dse_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    solved: list[str] = []
    monkeypatch.setattr(task_module, "solve_layer", lambda nest, *a, **k: solved.append(nest.name))
    code = main(
        ["dse", "--model", "tiny", *SWEEP, "--out", str(dse_dir / "again"), "--cache-dir", str(dse_dir / "cache")]
    )
    assert code == 0 and solved == []
    assert rows(dse_dir / "again" / "dse.csv")[0]["cycles"] == rows(dse_dir / "o" / "dse.csv")[0]["cycles"]


@pytest.mark.parametrize(
    ("sweep", "named"),
    [
        ("NOT_A_FIELD=1,2", "--sweep NOT_A_FIELD"),
        ("CGRA_SIZE=16,abc", "--sweep CGRA_SIZE"),
        ("CGRA_SIZE=0", "--sweep CGRA_SIZE"),
        ("RF_SIZE", "--sweep"),
        ("source=1,2", "--sweep source"),  # an Arch field, but a file name, not a number
    ],
)
def test_bad_sweep_exits_2_with_one_line_naming_the_key(
    capsys: pytest.CaptureFixture, tmp_path: Path, sweep: str, named: str
) -> None:
    code, _, err = run(capsys, "dse", "--model", "tiny", "--sweep", sweep, "--out", str(tmp_path / "o"), "--no-cache")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and named in err
    assert not (tmp_path / "o").exists()


def test_sweeping_one_parameter_under_two_names_is_an_error(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    code, _, err = run(
        capsys,
        "dse",
        "--model",
        "tiny",
        "--sweep",
        "RF_SIZE=64",
        "--sweep",
        "rf_bytes=128",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2 and "swept twice" in err


def test_energy_scaling_table_and_power_law(tmp_path: Path) -> None:
    scale = tmp_path / "scale.json"
    scale.write_text(
        json.dumps(
            {
                "rf_energy": {"by": "RF_SIZE", "table": {"256": 0.5, "512": 0.96}},
                "spm_energy": {"by": "TOTAL_BYTES_IN_BANK", "ref": 2048, "exponent": 0.5},
            }
        )
    )
    base = load_arch("dmazerunner")
    sweeps = [parse_sweep("RF_SIZE=256,512"), parse_sweep("TOTAL_BYTES_IN_BANK=512,2048")]
    points = arch_points(base, sweeps, load_scaling(str(scale)))
    got = {(p["RF_SIZE"], p["TOTAL_BYTES_IN_BANK"]): (a.rf_energy_pj, a.spm_energy_pj) for p, a in points}
    assert got[(256, 512)] == (0.5, pytest.approx(base.spm_energy_pj / 2))
    assert got[(512, 2048)] == (0.96, base.spm_energy_pj)


def test_energy_scaling_without_an_entry_for_a_point_exits_2(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    scale = tmp_path / "scale.json"
    scale.write_text(json.dumps({"rf_energy": {"by": "RF_SIZE", "table": {"256": 0.5}}}))
    code, _, err = run(
        capsys,
        "dse",
        "--model",
        "tiny",
        "--sweep",
        "RF_SIZE=256,1024",
        "--scale",
        str(scale),
        "--out",
        str(tmp_path / "o"),
        "--no-cache",
    )
    assert code == 2 and "RF_SIZE=1024" in err


def test_energy_scaling_driven_by_a_non_numeric_arch_field_exits_2(
    capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    scale = tmp_path / "scale.json"
    scale.write_text(json.dumps({"dram_energy": {"by": "source", "ref": 1, "exponent": 1}}))
    out = tmp_path / "o"
    code, _, err = run(
        capsys, "dse", "--model", "tiny", "--sweep", "RF_SIZE=256", "--scale", str(scale), "--out", str(out)
    )
    assert code == 2
    assert err == f"error: {scale}: dram_energy.by: unknown arch parameter 'source'\n"
    assert not out.exists()


def test_pareto_marks_only_undominated_solved_points() -> None:
    arch = load_arch("dmazerunner")

    def point(cycles: float, energy: float, status: str = "OPTIMAL") -> DsePoint:
        return DsePoint({}, arch, cycles, energy, status, 0.0)

    points = [point(1, 9), point(2, 5), point(3, 5), point(4, 1), point(5, 8), point(2, 5), point(0, 0, "INFEASIBLE")]
    assert [p.pareto for p in mark_pareto(points)] == [True, True, False, True, False, True, False]


def test_dse_keeps_the_arch_specs_constraint_files(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    """An arch spec that names constraint files constrains every DSE point, as it does `solve`."""
    spec = load_arch("dmazerunner").to_seed_json()
    spec["constraints"] = ["ws"]
    arch = tmp_path / "ws_arch.json"
    arch.write_text(json.dumps(spec))
    out = tmp_path / "o"
    assert (
        run(
            capsys,
            "dse",
            "--model",
            "tiny",
            "--arch",
            str(arch),
            "--sweep",
            "RF_SIZE=512",
            "--out",
            str(out),
            "--no-cache",
        )[0]
        == 0
    )
    (point,) = rows(out / "dse.csv")
    code, text, _ = run(capsys, "solve", "--model", "tiny", "--arch", str(arch), "--no-cache", "--json", "-")
    assert code == 0 and int(point["cycles"]) == json.loads(text)["total"]["cycles"]
    code, text, _ = run(capsys, "solve", "--model", "tiny", "--no-cache", "--json", "-")  # unconstrained differs
    assert code == 0 and float(point["edp"]) > json.loads(text)["total"]["edp"]
