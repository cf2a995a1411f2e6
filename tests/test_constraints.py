"""Custom constraint files: presets hold in solutions, CP-SAT matches exhaustive search, errors name the cause."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmz_solver.arch import Arch, load_arch
from dmz_solver.cli import main
from dmz_solver.constraints import load_constraints
from dmz_solver.constraints.compile import compile_constraints
from dmz_solver.errors import InputError
from dmz_solver.problem import Problem
from dmz_solver.search.exhaustive import count_tilings, exhaustive_search
from dmz_solver.solving import solve_layer
from dmz_solver.vocabulary import LEVELS, Status
from dmz_solver.workload.loader import load_model
from dmz_solver.workload.templates import conv_nest, gemm_nest

REPO = Path(__file__).resolve().parent.parent
TINY = str(REPO / "models" / "tiny.json")
# A small array so that every preset (utilisation thresholds included) admits mappings of small layers.
SMALL = Arch("small", pe_count=16, rf_bytes=192, spm_banks=4, spm_bank_bytes=256)
CONV = conv_nest("c", n=1, m=8, c=4, in_rows=6, in_cols=6, f_rows=3, f_cols=3, stride=(1, 1))
LOOP = {name: i for i, name in enumerate(CONV.loops)}


def factor(result, level: str, loop: str) -> int:
    return int(result.mapping.array()[("DRAM", "SPM", "RF", "SPATIAL").index(level), LOOP[loop]])


def innermost(result, level: str) -> str | None:
    """Innermost loop with trip count > 1 of the reported order at a level (independent of the compiler)."""
    order = result.mapping.dram_order if level == "DRAM" else result.mapping.spm_order
    return next((name for name in reversed(order) if factor(result, level, name) > 1), None)


def extent(loop: str) -> int:
    return CONV.extents[LOOP[loop]]


def spatial_only(result, allowed: set[str]) -> bool:
    return all(factor(result, "SPATIAL", loop) == 1 for loop in CONV.loops if loop not in allowed)


def utilisation(result) -> tuple[float, float, float]:
    t = result.mapping.array()
    rf = sum(op.footprint(tuple(t[2])) for op in CONV.operands)
    spm = sum(op.footprint(tuple(t[1] * t[2] * t[3])) for op in CONV.operands) * SMALL.bytes_per_elem
    return math.prod(t[3]) / SMALL.pe_count, rf / SMALL.rf_elems, spm / SMALL.spm_bytes


CHECKS = {
    "ws": lambda r: (
        factor(r, "RF", "Fx") == extent("Fx")
        and factor(r, "RF", "Fy") == extent("Fy")
        and innermost(r, "SPM") in (None, "Ox", "Oy", "N")
    ),
    "os": lambda r: (
        factor(r, "RF", "C") * factor(r, "RF", "Fx") * factor(r, "RF", "Fy") == 4 * 3 * 3
        and spatial_only(r, {"N", "M", "Ox", "Oy"})
    ),
    "rs": lambda r: (
        factor(r, "RF", "Fx") == 3 and factor(r, "SPATIAL", "Fy") == 3 and spatial_only(r, {"Fy", "Oy", "M"})
    ),
    "seed_no_feature_dram": lambda r: factor(r, "DRAM", "Fx") == 1 and factor(r, "DRAM", "Fy") == 1,
    "seed_no_spatial_reduction": lambda r: spatial_only(r, {"N", "M", "Ox", "Oy"}),
    "seed_utilization": lambda r: all(u >= x for u, x in zip(utilisation(r), (0.8, 0.8, 0.5), strict=True)),
    "two_loop_array": lambda r: spatial_only(r, {"M", "C"}) and factor(r, "SPATIAL", "M") <= 16,
}


@pytest.mark.parametrize("preset", sorted(CHECKS))
def test_preset_solutions_obey_the_preset_and_match_exhaustive_search(preset: str) -> None:
    cs = load_constraints([preset])
    free = solve_layer(CONV, SMALL, "edp")
    found = solve_layer(CONV, SMALL, "edp", constraints=cs)
    exhaustive = solve_layer(CONV, SMALL, "edp", search="exhaustive", constraints=cs)
    assert found.status == Status.OPTIMAL and exhaustive.status == Status.OPTIMAL
    assert CHECKS[preset](found) and CHECKS[preset](exhaustive)
    assert found.cost.edp == pytest.approx(exhaustive.cost.edp, rel=1e-12)
    assert found.cost.edp >= free.cost.edp * (1 - 1e-12)


@pytest.mark.parametrize("objective", ["energy", "cycles"])
def test_combined_files_cpsat_optimum_equals_exhaustive(tmp_path: Path, objective: str) -> None:
    extra = tmp_path / "mine.yaml"
    extra.write_text(
        "name: mine\nconstraints:\n  - name: pe_product\n    expr: SPATIAL.M * SPATIAL.Ox <= 8\n"
        "  - name: inner\n    expr: innermost(DRAM) in [C, M, Oy]\n"
        "  - name: weights\n    expr: footprint(RF, W) >= 2\n"
    )
    cs = load_constraints(["seed_no_feature_dram", str(extra)])
    found = solve_layer(CONV, SMALL, objective, constraints=cs)
    exhaustive = solve_layer(CONV, SMALL, objective, search="exhaustive", constraints=cs)
    assert found.status == Status.OPTIMAL
    assert found.cost.value(objective) == pytest.approx(exhaustive.cost.value(objective), rel=1e-12)
    assert factor(found, "SPATIAL", "M") * factor(found, "SPATIAL", "Ox") <= 8
    assert innermost(found, "DRAM") in (None, "C", "M", "Oy")


def test_gemm_constraints_use_gemm_operands(tmp_path: Path) -> None:
    spec = tmp_path / "gemm.yaml"
    spec.write_text(
        "name: g\napplies_to: [GEMM]\nconstraints:\n  - name: small_a\n    expr: footprint(RF, A) <= 2\n"
        "  - name: k_spatial\n    spatial_loops: [K, X]\n"
    )
    nest = gemm_nest("g", x=8, y=6, k=4)
    cs = load_constraints([str(spec)])
    found = solve_layer(nest, SMALL, "edp", constraints=cs)
    exhaustive = solve_layer(nest, SMALL, "edp", search="exhaustive", constraints=cs)
    t = found.mapping.array()
    a = next(op for op in nest.operands if op.name == "A")
    assert a.footprint(tuple(t[2])) <= 2 and t[3, nest.loops.index("Y")] == 1
    assert found.cost.edp == pytest.approx(exhaustive.cost.edp, rel=1e-12)
    assert solve_layer(CONV, SMALL, "edp", constraints=cs).status == Status.OPTIMAL  # applies_to skips CONV


def test_fingerprint_depends_on_contents(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    a.write_text("name: a\nconstraints:\n  - name: x\n    expr: SPATIAL.C == 1\n")
    first = load_constraints([str(a)]).fingerprint
    a.write_text("name: a\nconstraints:\n  - name: x\n    expr: SPATIAL.C <= 2\n")
    assert load_constraints([str(a)]).fingerprint != first
    assert load_constraints(["ws", "os"]).fingerprint == load_constraints(["os", "ws"]).fingerprint


def test_conflicting_files_name_the_minimal_conflict_and_exit_2(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(
        "name: tiny\nconstraints:\n  - name: pe_free\n    expr: SPATIAL.N == 1\n"
        "  - name: rf_narrow\n    expr: RF.Fx <= 1\n"
    )
    code = main(
        [
            "solve",
            "--model",
            TINY,
            "--arch",
            "dmazerunner",
            "--layer",
            "tiny_conv3x3",
            "--no-cache",
            "--constraints",
            "ws",
            str(tiny),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "'ws.weights_in_rf' (constraints/ws.yaml:8)" in err
    assert f"'tiny.rf_narrow' ({tiny}:5)" in err
    assert "weight_rows_in_rf" not in err and "pe_free" not in err
    assert "cannot hold together" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: bad\nconstraints:\n  - name: x\n    expr: [unclosed\n", "not valid YAML"),
        (
            "name: bad\nconstraints:\n  - name: x\n    expr: SPATIAL.Q == 1\n",
            "bad.yaml:3: constraint 'bad.x': unknown loop 'Q'",
        ),
        ("name: bad\nconstraints:\n  - name: x\n    expr: L3.C == 1\n", "unknown level 'L3'"),
        ("name: bad\nconstraints:\n  - name: x\n    expr: footprint(RF, Z) <= 4\n", "unknown operand 'Z'"),
        ("name: bad\nconstraints:\n  - name: x\n    expr: area(RF) <= 4\n", "unknown function 'area'"),
        ("name: bad\nconstraints:\n  - name: x\n    expr: __import__('os') == 1\n", "unknown name '__import__'"),
        ("name: bad\nconstraints:\n  - name: x\n    expr: RF.C > C\n", "'bad.x' (bad.yaml:3) can never hold"),
        (
            "name: bad\nconstraints:\n  - name: x\n    expr: footprint(RF, A) <= 4\n",
            "unknown operand 'A' (operands of CONV: O, I, W)",
        ),
        ("name: bad\nconstraints:\n  - name: x\n    spatial_loops: [X, M]\n", "unknown loop 'X' (loops of CONV"),
    ],
)
def test_malformed_files_give_one_line_and_exit_2(tmp_path: Path, capsys, monkeypatch, text: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(text)
    code = main(
        [
            "solve",
            "--model",
            TINY,
            "--arch",
            "dmazerunner",
            "--layer",
            "tiny_conv3x3",
            "--no-cache",
            "--constraints",
            "bad.yaml",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and message in err, err


def test_arch_spec_names_default_constraints(tmp_path: Path, capsys) -> None:
    arch = tmp_path / "arch.json"
    arch.write_text('{"name": "m_by_c", "constraints": ["two_loop_array"]}')
    out = tmp_path / "r.json"
    code = main(
        ["solve", "--model", TINY, "--arch", str(arch), "--layer", "tiny_conv3x3", "--no-cache", "--json", str(out)]
    )
    capsys.readouterr()
    assert code == 0
    mapping = json.loads(out.read_text())["layers"][0]["mapping"]
    spatial = dict(zip(mapping["loops"], mapping["tiling"]["SPATIAL"], strict=True))
    assert all(v == 1 for loop, v in spatial.items() if loop not in ("M", "C"))


def test_compiled_check_agrees_with_leaf_predicate() -> None:
    from dmz_solver.constraints.compile import compile_constraints, leaf_ok
    from dmz_solver.problem import Problem

    cs = load_constraints(["seed_utilization", "os"])
    compiled = compile_constraints(cs, CONV, SMALL)
    arrays = Problem(CONV, SMALL).arrays
    rng = np.random.default_rng(0)
    for _ in range(200):
        t = np.ones((4, len(CONV.loops)), np.int64)
        for i, e in enumerate(CONV.extents):
            for _ in range(3):
                d = [x for x in range(1, e + 1) if e % x == 0 and (e // math.prod(t[:, i])) % x == 0]
                level = rng.integers(1, 4)
                t[level, i] *= rng.choice(d)
            t[0, i] = e // math.prod(t[1:, i])
        atoms, ext = np.empty(compiled.natoms, np.int64), np.empty(len(CONV.loops), np.int64)
        ok = leaf_ok(t, arrays.dcoef, arrays.ndims, SMALL.bytes_per_elem, compiled.arrays, atoms, ext)
        assert ok == (compiled.check(t) == [])


def test_unknown_loop_is_skipped_where_the_file_does_not_apply() -> None:
    cs = load_constraints(["two_loop_array"])  # CONV only: names C, M
    assert solve_layer(gemm_nest("g", x=4, y=4, k=4), SMALL, "edp", constraints=cs).status == Status.OPTIMAL
    with pytest.raises(InputError, match="unknown loop 'M' \\(loops of GEMM: X, Y, K\\)"):
        from dmz_solver.constraints.parse import ConstraintFile, ConstraintSet

        bad = ConstraintSet(
            tuple(
                ConstraintFile(
                    f.path,
                    f.name,
                    f.description,
                    tuple(c.__class__(**{**c.__dict__, "applies_to": ()}) for c in f.constraints),
                    f.digest,
                )
                for f in cs.files
            )
        )
        solve_layer(gemm_nest("g", x=4, y=4, k=4), SMALL, "edp", constraints=bad)


def test_order_rules_alone_excluding_every_order_are_named(tmp_path: Path) -> None:
    spec = tmp_path / "orders.yaml"
    spec.write_text(
        "name: o\nconstraints:\n  - name: m_tiled\n    expr: SPM.M >= 2\n"
        "  - name: fx_whole\n    expr: SPM.Fx == 1\n"
        "  - name: fx_inner\n    expr: innermost(SPM) in [Fx]\n"
    )
    result = solve_layer(CONV, SMALL, "edp", constraints=load_constraints([str(spec)]))
    assert result.status == Status.INFEASIBLE and result.mapping is None
    assert re.search(r"loop-order 'o.fx_inner' \(.*orders.yaml:7\) leave no order", result.reason)


def test_order_rule_changes_the_optimum_consistently(tmp_path: Path) -> None:
    spec = tmp_path / "inner.yaml"
    spec.write_text(
        "name: i\nconstraints:\n  - name: tile_m\n    expr: DRAM.M * DRAM.C >= 4\n"
        "  - name: inner\n    expr: innermost(DRAM) in [C]\n"
    )
    cs = load_constraints([str(spec)])
    found = solve_layer(CONV, SMALL, "energy", constraints=cs)
    exhaustive = solve_layer(CONV, SMALL, "energy", search="exhaustive", constraints=cs)
    assert found.status == Status.OPTIMAL and innermost(found, "DRAM") == "C" and innermost(exhaustive, "DRAM") == "C"
    assert found.cost.energy_pj == pytest.approx(exhaustive.cost.energy_pj, rel=1e-12)


TEMPLATES = (
    "{l1}.{a} * {l2}.{b} <= {k}",
    "{l1}.{a} != {k}",
    "footprint({f}, {op}) >= {k}",
    "footprint({f}, {op}) <= {k2}",
    "utilization(PE) >= 0.{k}",
    "utilization(RF) * 2 >= {k} / 10",
    "innermost({o}) in [{a}, {b}]",
)


@st.composite
def constraint_files(draw) -> str:
    lines = ["name: r", "constraints:"]
    for i in range(draw(st.integers(1, 3))):
        expr = draw(st.sampled_from(TEMPLATES)).format(
            l1=draw(st.sampled_from(LEVELS)),
            l2=draw(st.sampled_from(LEVELS)),
            a=draw(st.sampled_from(CONV.loops)),
            b=draw(st.sampled_from(CONV.loops)),
            k=draw(st.integers(1, 9)),
            k2=draw(st.integers(4, 60)),
            f=draw(st.sampled_from(("RF", "PE", "SPM"))),
            op=draw(st.sampled_from(("O", "I", "W"))),
            o=draw(st.sampled_from(("DRAM", "SPM"))),
        )
        lines += [f"  - name: c{i}", f"    expr: {expr}"]
    return "\n".join(lines) + "\n"


@settings(max_examples=25, deadline=None, derandomize=True)
@given(text=constraint_files())
def test_random_constraints_cpsat_equals_exhaustive(tmp_path_factory, text: str) -> None:
    path = tmp_path_factory.mktemp("random") / "r.yaml"
    path.write_text(text)
    cs = load_constraints([str(path)])
    outcomes = []
    for search in ("cpsat", "exhaustive"):
        try:
            result = solve_layer(CONV, SMALL, "edp", search=search, constraints=cs)
        except InputError as exc:
            outcomes.append(("error", "cannot" in exc.reason or "never" in exc.reason or "no order" in exc.reason))
            continue
        assert result.status == Status.OPTIMAL
        assert (
            Problem(CONV, SMALL, constraints=cs).compiled.check(
                result.mapping.array(), (result.mapping.dram_order, result.mapping.spm_order)
            )
            == []
        )
        outcomes.append(("ok", result.cost.edp))
    (kind_a, value_a), (kind_b, value_b) = outcomes
    assert kind_a == kind_b
    if kind_a == "ok":
        assert value_a == pytest.approx(value_b, rel=1e-12)


def test_row_and_column_parts_on_a_2d_array(tmp_path: Path) -> None:
    """ROWS.LOOP / COLS.LOOP restrict the split: rs_array on eyeriss puts Fy down the rows, Oy across."""
    arch = load_arch("eyeriss")
    nest = conv_nest("c", n=1, m=4, c=2, in_rows=8, in_cols=8, f_rows=3, f_cols=3, stride=(1, 1))
    cs = load_constraints(["rs_array"])
    found = exhaustive_search(Problem(nest, arch, constraints=cs))
    result = solve_layer(nest, arch, "edp", constraints=cs)
    assert result.status == Status.OPTIMAL and result.value == found.best["edp"].value
    loops = nest.loops
    rows, cols = result.mapping.spatial_rows, result.mapping.spatial_cols
    assert rows[loops.index("Fy")] == 3 and cols[loops.index("Fy")] == 1
    assert rows[loops.index("Oy")] == 1
    free = solve_layer(nest, arch, "edp")
    assert free.value <= result.value  # the constraints only remove mappings


def test_row_parts_are_one_on_a_one_row_array(tmp_path: Path, capsys, monkeypatch) -> None:
    spec = tmp_path / "rows.yaml"
    spec.write_text("name: r\nconstraints:\n  - name: two_rows\n    expr: ROWS.M >= 2\n")
    monkeypatch.chdir(tmp_path)
    code = main(["solve", "--model", str(TINY), "--layer", "tiny_conv1x1", "--constraints", str(spec), "--no-cache"])
    assert code == 2 and "'r.two_rows'" in capsys.readouterr().err


def test_row_parts_combine_only_with_spatial_terms(tmp_path: Path) -> None:
    spec = tmp_path / "mixed.yaml"
    spec.write_text("name: m\nconstraints:\n  - name: mixed\n    expr: ROWS.M <= RF.M\n")
    nest = conv_nest("c", n=1, m=4, c=2, in_rows=4, in_cols=4, f_rows=3, f_cols=3, stride=(1, 1))
    with pytest.raises(InputError, match="combine only with spatial terms"):
        compile_constraints(load_constraints([str(spec)]), nest, load_arch("eyeriss"))


def test_count_obeys_constraint_files(capsys) -> None:
    cs = load_constraints(["ws"])
    constrained = Problem(CONV, SMALL, constraints=cs)
    valid = count_tilings(constrained)
    assert 0 < valid < count_tilings(Problem(CONV, SMALL))
    assert valid == exhaustive_search(constrained).tilings  # the same leaves pass
    assert main(["count", "--model", TINY, "--layer", "tiny_conv3x3", "--constraints", "ws", "--json", "-"]) == 0
    (layer,) = json.loads(capsys.readouterr().out)["layers"]
    tiny = load_model(TINY).layer("tiny_conv3x3")
    assert layer["valid_tilings"] == count_tilings(Problem(tiny, load_arch("dmazerunner"), constraints=cs))
