"""`dse` over the PE array and network sections: dotted sweep keys, the arch-spec writer, validation, end to end."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest

from dmz_solver.arch import arch_from_json, load_arch
from dmz_solver.cli import main
from dmz_solver.dse.sweep import arch_points, load_scaling, parse_sweep
from dmz_solver.errors import InputError

SHIPPED = ("dmazerunner", "eyeriss", "tpu_like", "edge_8x8", "tpu_v1_256", "mxu_128")


def points(arch: str, *sweeps: str) -> list:
    return arch_points(load_arch(arch), [parse_sweep(text) for text in sweeps])


@pytest.mark.parametrize("name", SHIPPED)
def test_to_json_reads_back_as_the_same_arch(name: str) -> None:
    arch = load_arch(name)
    spec = json.loads(json.dumps(arch.to_json()))  # plain JSON, as a file would hold it
    assert arch_from_json(spec, source="written", name="other") == arch
    assert ("pe_array" in spec) == (arch.noc_spec is not None)


def test_to_json_writes_a_shared_network_once_and_groups_only_when_smaller() -> None:
    edge, eyeriss = load_arch("edge_8x8").to_json(), load_arch("eyeriss").to_json()
    assert list(edge["networks"]) == ["default"] and edge["pe_groups"] == {"rows": 4, "cols": 4}
    assert set(eyeriss["networks"]) == {"input", "weight", "output", "reduction"} and "pe_groups" not in eyeriss
    assert "direction" in eyeriss["networks"]["reduction"] and "segments" not in eyeriss["networks"]["reduction"]
    assert load_arch("dmazerunner").to_json() == {"name": "dmazerunner", **load_arch("dmazerunner").to_seed_json()}


def test_dotted_keys_parse_to_spec_paths_with_their_types() -> None:
    rows = parse_sweep("pe_array.rows=8,12,16")
    assert (rows.key, rows.field, rows.values, rows.dotted) == ("pe_array.rows", "pe_array.rows", (8, 12, 16), True)
    assert parse_sweep("networks.input.bandwidth=1,2.5").values == (1.0, 2.5)
    assert parse_sweep("networks.reduction.latency=0,1").values == (0, 1)
    assert not parse_sweep("CGRA_SIZE=16").dotted


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("pe_array.depth=2", "pe_array.rows or pe_array.cols"),
        ("pe_array.rows.x=2", "pe_array.rows or pe_array.cols"),
        ("network.input.bandwidth=2", "networks.ROLE.FIELD"),
        ("networks.psum.bandwidth=2", "unknown network role 'psum'"),
        ("networks.input.kind=2", "non-numeric network field 'kind'"),
        ("networks.input.colour=2", "network field 'colour'"),
        ("pe_array.rows=8,1.5", "not an integer"),
        ("networks.reduction.latency=0.5", "not an integer"),
    ],
)
def test_unknown_dotted_keys_and_bad_values_name_the_key(text: str, reason: str) -> None:
    with pytest.raises(InputError) as info:
        parse_sweep(text)
    assert info.value.field == f"--sweep {text.partition('=')[0]}" and reason in info.value.reason


def test_points_carry_the_array_shape_and_the_pe_count_follows() -> None:
    got = {p["pe_array.rows"]: a for p, a in points("eyeriss", "pe_array.rows=8,12,16")}
    assert {r: (a.noc.rows, a.noc.cols, a.pe_count) for r, a in got.items()} == {
        8: (8, 14, 112),
        12: (12, 14, 168),
        16: (16, 14, 224),
    }
    assert got[12] == replace(load_arch("eyeriss"), name=got[12].name)  # the arch's own shape: the arch itself
    assert [(a.noc.cols, a.pe_count) for _, a in points("eyeriss", "pe_array.cols=8,14")] == [(8, 96), (14, 168)]
    # groups follow the array where the arch has none; an arch with groups keeps them
    (_, grouped), *_ = points("eyeriss", "pe_groups.rows=2,4")
    assert (grouped.noc.group_rows, grouped.noc.group_cols, grouped.pe_count) == (2, 14, 168)
    (_, edge), *_ = points("edge_8x8", "pe_array.rows=4,12")
    assert (edge.noc.rows, edge.noc.group_rows, edge.noc.group_cols, edge.pe_count) == (4, 4, 4, 32)
    # the seed's arch: one row of CGRA_SIZE PEs to start from
    ((_, seed),) = points("dmazerunner", "pe_array.rows=2")
    assert (seed.noc.rows, seed.noc.cols, seed.pe_count) == (2, 256, 512)


def test_points_carry_network_values_and_roles_inherit_as_the_reader_does() -> None:
    base = load_arch("edge_8x8").noc
    for params, arch in points("edge_8x8", "networks.input.bandwidth=1,2,4"):
        assert arch.noc.network("input").bandwidth == params["networks.input.bandwidth"]
        assert arch.noc.network("input").segments == "groups"  # the rest of `default`, inherited
        assert arch.noc.network("weight") == base.network("weight")
    for params, arch in points("eyeriss", "networks.reduction.latency=0,1"):
        assert arch.noc.network("reduction").latency == params["networks.reduction.latency"]
        assert arch.noc.network("reduction").kind == "systolic"
    # default reaches every role without its own network; a role's own sweep still wins
    ((_, arch),) = points("edge_8x8", "networks.default.bandwidth=3", "networks.input.latency=2")
    assert [arch.noc.network(r).bandwidth for r in ("input", "weight", "output", "reduction")] == [3, 3, 3, 3]
    assert (arch.noc.network("input").latency, arch.noc.network("weight").latency) == (2, 0)
    # the seed's arch: a role starts from the seed's bus, the other roles stay the seed's
    ((_, seed),) = points("dmazerunner", "networks.reduction.latency=1")
    assert seed.noc.network("reduction").latency == 1 and seed.noc.network("input").latency == 0
    assert seed.noc.network("reduction").energy_pj(seed.noc_energy_pj) == load_arch("dmazerunner").noc_energy_pj


def test_flat_sweeps_keep_the_network_sections() -> None:
    for params, arch in points("tpu_like", "RF_SIZE=32,64"):
        assert arch.rf_bytes == params["RF_SIZE"] and arch.noc == load_arch("tpu_like").noc


@pytest.mark.parametrize(
    ("arch", "sweeps", "field", "reason"),
    [
        ("eyeriss", ["pe_groups.rows=5"], "--sweep pe_groups.rows", "does not tile the 12 x 14 array"),
        ("eyeriss", ["networks.input.bandwidth=2,0"], "--sweep networks.input.bandwidth", "must be positive"),
        ("eyeriss", ["networks.output.energy=-1"], "--sweep networks.output.energy", "must not be negative"),
        (
            "eyeriss",
            ["networks.reduction.segment_bandwidth=2"],
            "--sweep networks.reduction.segment_bandwidth",
            "bus networks only",
        ),
        ("eyeriss", ["pe_array.rows=0"], "--sweep pe_array.rows", "at least 1"),
        ("edge_8x8", ["pe_array.rows=6"], "--sweep pe_array.rows: pe_groups.rows", "does not tile the 6 x 8 array"),
        ("eyeriss", ["networks.default.bandwidth=2"], "--sweep networks.default.bandwidth", "is unused"),
        ("eyeriss", ["CGRA_SIZE=168,256"], "--sweep CGRA_SIZE", "cannot be swept"),
        ("eyeriss", ["pe_array.rows=4", "CGRA_SIZE=56"], "--sweep CGRA_SIZE", "sweep the array shape or the PE count"),
    ],
)
def test_bad_points_are_input_errors_naming_the_key(arch: str, sweeps: list[str], field: str, reason: str) -> None:
    with pytest.raises(InputError) as info:
        points(arch, *sweeps)
    assert info.value.field == field and reason in info.value.reason


def test_energy_scaling_follows_a_swept_array(tmp_path: Path) -> None:
    scale = tmp_path / "scale.json"
    scale.write_text(json.dumps({"spm_energy": {"by": "CGRA_SIZE", "table": {"112": 5.0, "168": 6.0}}}))
    base = load_arch("eyeriss")
    got = arch_points(base, [parse_sweep("pe_array.rows=8,12")], load_scaling(str(scale)))
    assert [(a.pe_count, a.spm_energy_pj, a.noc.rows) for _, a in got] == [(112, 5.0, 8), (168, 6.0, 12)]


def test_dse_over_the_array_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "o"
    code = main(
        [
            "dse",
            "--model",
            "tiny",
            "--arch",
            "eyeriss",
            "--sweep",
            "pe_array.rows=4,12",
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    assert code == 0
    with open(out / "dse.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == ["pe_array.rows", "cycles", "energy_pj", "edp", "status", "seconds", "pareto"]
    assert [r["pe_array.rows"] for r in table] == ["4", "12"]
    assert all(r["status"] == "OPTIMAL" for r in table)
    assert (out / "edp_vs_pe_array.rows.png").read_bytes()[:4] == b"\x89PNG"
    assert "pe_array.rows" in capsys.readouterr().out


def test_bad_dotted_sweep_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(
        [
            "dse",
            "--model",
            "tiny",
            "--arch",
            "eyeriss",
            "--sweep",
            "networks.input.bandwidth=1,-2",
            "--out",
            str(tmp_path / "o"),
            "--no-cache",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--sweep networks.input.bandwidth: must be positive" in err
    assert not (tmp_path / "o").exists()
