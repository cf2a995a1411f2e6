"""Property-based fuzzing of every input reader, from valid shipped files mutated the way users break them.

Fields are dropped, renamed (typos, other case, random names), retyped, set to NaN, infinities, huge,
negative, zero or fractional values, and files are truncated. Every case must end in an `InputError` whose
message is one line naming the file (and, through the CLI, exit status 2 with no traceback), or in a result
that checks out: a round trip through the writer gives it back, products equal extents, and so on. Any other
exception fails the test. Deterministic (`derandomize`) and bounded so that the file runs in well under 30 s.
"""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import onnx
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from dmz_solver.arch import Arch, arch_from_json, describe_arch, load_arch
from dmz_solver.cli import main
from dmz_solver.constraints import load_constraints
from dmz_solver.constraints.compile import compile_constraints
from dmz_solver.constraints.parse import load_constraint_file
from dmz_solver.cost.evaluate import evaluate_mapping
from dmz_solver.dse.sweep import arch_points, load_scaling, parse_sweep
from dmz_solver.errors import InputError
from dmz_solver.noc.spec import REDUCTION, ROLES
from dmz_solver.problem import Problem
from dmz_solver.problem.mapping import mapping_from_json
from dmz_solver.workload.export import export_spec
from dmz_solver.workload.onnx_tvm import load_onnx
from dmz_solver.workload.spec_json import SECTIONS, layers_from_json, load_spec

REPO = Path(__file__).resolve().parent.parent
MODELS = {p.stem: json.loads(p.read_text()) for p in sorted((REPO / "models").glob("*.json"))}
ARCHS = {p.stem: json.loads(p.read_text()) for p in sorted((REPO / "archspecs").glob("*.json"))}
CONSTRAINTS = {p.name: p.read_text() for p in sorted((REPO / "constraints").glob("*.yaml"))}
SCALING = {
    "rf_energy": {"by": "RF_SIZE", "table": {"256": 0.69, "512": 0.96, "1024": 1.38}},
    "spm_energy": {"by": "TOTAL_BYTES_IN_BANK", "ref": 2048, "exponent": 0.5},
}
GEMM = {"name": "g", "size_tensor_A": [16, 32], "size_tensor_B": [32, 24]}
GEMM_MAPPING = {
    "loops": ["X", "Y", "K"],
    "tiling": {"DRAM": [1, 1, 1], "SPM": [1, 1, 2], "RF": [2, 1, 16], "SPATIAL": [8, 24, 1]},
    "order": {"DRAM": ["K", "X", "Y"], "SPM": ["Y", "X", "K"]},
}
CONV = {"name": "c", "size_tensor_A": [1, 4, 6, 6], "size_tensor_B": [8, 4, 3, 3], "strides": [1, 1]}
CONV_MAPPING = {
    "tiling": {
        "DRAM": [1, 1, 1, 1, 1, 1, 1],
        "SPM": [1, 1, 4, 1, 1, 1, 1],
        "RF": [1, 1, 1, 1, 1, 3, 3],
        "SPATIAL": [1, 8, 1, 4, 4, 1, 1],
    },
    "array": {"rows": [1, 2, 1, 2, 2, 1, 1]},
}
SPECIAL: list[Any] = [
    math.nan,
    math.inf,
    -math.inf,
    10**30,
    2**63,
    1e308,
    -1,
    0,
    0.5,
    -0.0,
    2.0,
    True,
    None,
    "",
    "12",
    [],
    {},
    [1, 2],
]
FUZZ = settings(
    max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


# ---------------------------------------------------------------------------------------------------------------------
# Mutations


def _places(doc: Any, path: tuple = ()) -> list[tuple]:
    """Every path to a value inside `doc` (dict keys and list indices), the root included."""
    found = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _places(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += _places(value, (*path, i))
    return found


def _typo(draw: st.DrawFn, key: str) -> str:
    how = draw(st.sampled_from(["drop", "swap", "case", "plural", "random"]))
    if how == "drop" and len(key) > 1:
        i = draw(st.integers(0, len(key) - 1))
        return key[:i] + key[i + 1 :]
    if how == "swap" and len(key) > 1:
        i = draw(st.integers(0, len(key) - 2))
        return key[:i] + key[i + 1] + key[i] + key[i + 2 :]
    if how == "case":
        return key.swapcase()
    if how == "plural":
        return key[:-1] if key.endswith("s") else key + "s"
    return draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_ABC", min_size=1, max_size=12))


@st.composite
def mutated(draw: st.DrawFn, doc: Any, max_steps: int = 3) -> Any:
    """`doc` after 1 to `max_steps` mutations: drop, rename, retype or replace a value, empty a container."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, max_steps))):
        path = draw(st.sampled_from(_places(doc)))
        if not path:
            doc = _special(draw) if draw(st.booleans()) else doc
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        how = draw(st.sampled_from(["drop", "rename", "replace", "replace", "nudge", "empty"]))
        if how == "drop":
            del parent[key]
        elif how == "rename" and isinstance(parent, dict):
            parent[_typo(draw, key)] = parent.pop(key)
        elif how == "nudge" and isinstance(parent[key], int | float) and not isinstance(parent[key], bool):
            parent[key] = parent[key] * draw(st.sampled_from([-1, 0, 2, 10**6, 0.5, 1.5, math.nan, math.inf]))
        elif how == "empty" and isinstance(parent[key], list | dict):
            parent[key] = type(parent[key])()
        else:
            parent[key] = _special(draw)
    return doc


def _special(draw: st.DrawFn) -> Any:
    return copy.deepcopy(draw(st.sampled_from(SPECIAL)))  # a fresh [] or {}: later steps may fill it


WHOLE_FILE = ("invalid JSON", "expected an object", "the model has no layers", "not an ONNX model", "not valid YAML")
"""Reasons about the file as a whole, which name no field."""


def _one_line_naming(err: InputError, source: str) -> None:
    """The CLI prints err.message: one line that names the file, and the field unless the whole file is at fault
    (constraint files name the line, ONNX messages the node)."""
    assert "\n" not in err.message, err.message
    assert err.source is not None and err.source.startswith(source), (err.source, source)
    named = err.field or err.source != source or err.reason.startswith((*WHOLE_FILE, "node '", "input '", "TVM"))
    assert named, err.message


def _outcome(read: Callable[[], Any], source: str) -> Any:
    """What `read` returns, or None after checking its InputError; any other exception fails the test."""
    try:
        result = read()
    except InputError as err:
        _one_line_naming(err, source)
        event("refused")
        return None
    event("accepted")
    return result


def _truncated(text: str, data: st.DataObject) -> str:
    return text[: data.draw(st.integers(0, max(len(text) - 1, 0)), label="cut")]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# ---------------------------------------------------------------------------------------------------------------------
# Model specs


def _instances_given(doc: dict) -> int:
    return sum(entry.get("instances", 1) for op in SECTIONS for entry in doc.get(op, []))


def _check_model(doc: Any) -> None:
    layers = _outcome(lambda: layers_from_json(doc, source="model.json"), "model.json")
    if layers is None:
        return
    assert len({n.name for n in layers}) == len(layers)
    assert all(isinstance(e, int) and e >= 1 for n in layers for e in n.extents)
    assert sum(n.instances for n in layers) == _instances_given(doc)  # merging moves instances, never drops them
    assert layers_from_json(json.loads(json.dumps(export_spec(layers))), source="exported") == layers


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(MODELS)))
def test_mutated_model_specs_are_refused_naming_the_file_or_read_consistently(data: st.DataObject, name: str) -> None:
    _check_model(data.draw(mutated(MODELS[name]), label="model"))


@settings(max_examples=25, derandomize=True, deadline=None, database=None)
@given(data=st.data(), name=st.sampled_from(sorted(MODELS)))
def test_truncated_model_files_are_refused_naming_the_file(files: Path, data: st.DataObject, name: str) -> None:
    path = files / "truncated_model.json"
    path.write_text(_truncated(json.dumps(MODELS[name], indent=1), data))
    assert _outcome(lambda: load_spec(path), str(path)) is None  # a cut JSON text never parses


# ---------------------------------------------------------------------------------------------------------------------
# Arch specs


def _check_arch(doc: Any) -> Arch | None:
    arch = _outcome(lambda: arch_from_json(doc, source="arch.json", name="fuzzed"), "arch.json")
    if arch is None:
        return None
    numbers = [getattr(arch, f) for f in ("dma_init_cycles", "dma_cycles_per_byte", "dma_mhz", "accel_mhz")]
    numbers += [arch.rf_energy_pj, arch.noc_energy_pj, arch.spm_energy_pj, arch.dram_energy_pj, arch.mac_energy_pj]
    assert all(math.isfinite(x) and x >= 0 for x in numbers)
    assert min(arch.pe_count, arch.rf_bytes, arch.bytes_per_elem, arch.spm_banks, arch.spm_bank_bytes) >= 1
    assert _same_arch(arch_from_json(json.loads(json.dumps(arch.to_json())), source="again", name="x"), arch)
    assert describe_arch(arch).startswith(f"arch {arch.name}:")
    return arch


def _same_arch(again: Arch, arch: Arch) -> bool:
    """The same machine: every number, the array and groups, and every role's network (a spec that spells
    out the seed's network reads back as the implicit one)."""
    noc, noc_again = arch.noc, again.noc
    shape = (noc.rows, noc.cols, noc.group_rows, noc.group_cols)
    same_noc = shape == (noc_again.rows, noc_again.cols, noc_again.group_rows, noc_again.group_cols) and all(
        noc.network(role) == noc_again.network(role) for role in (*ROLES, REDUCTION)
    )
    plain = replace(arch, name="", constraints=(), noc_spec=None)
    return same_noc and replace(again, name="", constraints=(), noc_spec=None) == plain


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(ARCHS)))
def test_mutated_arch_specs_are_refused_naming_the_file_or_read_consistently(data: st.DataObject, name: str) -> None:
    _check_arch(data.draw(mutated(ARCHS[name]), label="arch"))


# ---------------------------------------------------------------------------------------------------------------------
# Mappings (read, then priced: a mapping the reader accepts is either priced or refused as invalid)


@pytest.fixture(scope="module")
def mapped() -> dict[str, tuple]:
    """(layer, arch, valid mapping): a GEMM on the seed's arch and a CONV on Eyeriss's 12 x 14 array."""
    (gemm,) = layers_from_json({"GEMM": [GEMM]}, source="m")
    (conv,) = layers_from_json({"CONV": [CONV]}, source="m")
    return {"gemm": (gemm, load_arch("dmazerunner"), GEMM_MAPPING), "conv": (conv, load_arch("eyeriss"), CONV_MAPPING)}


@FUZZ
@given(data=st.data(), which=st.sampled_from(["gemm", "conv"]))
def test_mutated_mappings_are_refused_naming_the_file_or_priced(mapped: dict, data: st.DataObject, which: str) -> None:
    nest, arch, valid = mapped[which]
    doc = data.draw(mutated(valid), label="mapping")
    mapping = _outcome(lambda: mapping_from_json(doc, nest, source="map.json"), "map.json")
    if mapping is None:
        return
    for i, extent in enumerate(nest.extents):
        assert math.prod(level[i] for level in mapping.factors) == extent
    assert mapping_from_json(json.loads(json.dumps(mapping.to_json())), nest, source="again") == mapping
    priced = _outcome(lambda: evaluate_mapping(Problem(nest, arch), mapping, source="map.json"), "map.json")
    if priced is not None:
        used, cost = priced
        assert used.factors == mapping.factors
        assert cost.cycles > 0 and cost.energy_pj > 0 and cost.edp == cost.energy_pj * cost.cycles


@st.composite
def factored_mapping(draw: st.DrawFn, nest: Any, rows: int) -> dict:
    """A mapping whose factors multiply to the extents (so the reader accepts it), with random orders and,
    on a multi-row array, a random row part of each spatial factor: the pricing decides."""
    levels: list[list[int]] = [[], [], [], []]
    row_parts = []
    for extent in nest.extents:
        rest = extent
        for level in range(3):
            factor = draw(st.sampled_from([d for d in range(1, rest + 1) if rest % d == 0]))
            levels[level].append(factor)
            rest //= factor
        levels[3].append(rest)
        row_parts.append(draw(st.sampled_from([d for d in range(1, rest + 1) if rest % d == 0])))
    doc: dict = {"tiling": dict(zip(("DRAM", "SPM", "RF", "SPATIAL"), levels, strict=True))}
    if draw(st.booleans()):
        doc["order"] = {level: draw(st.permutations(list(nest.loops))) for level in ("DRAM", "SPM")}
    if rows > 1 and draw(st.booleans()):
        doc["array"] = {"rows": row_parts}
    return doc


@FUZZ
@given(data=st.data(), which=st.sampled_from(["gemm", "conv"]))
def test_factored_mappings_are_priced_or_refused_as_invalid(mapped: dict, data: st.DataObject, which: str) -> None:
    """Every tiling of the right products: the exact model prices it, or evaluate names the rule it breaks."""
    nest, arch, _ = mapped[which]
    doc = data.draw(factored_mapping(nest, arch.noc.rows), label="mapping")
    mapping = mapping_from_json(doc, nest, source="map.json")
    priced = _outcome(lambda: evaluate_mapping(Problem(nest, arch), mapping, source="map.json"), "map.json")
    if priced is not None:
        used, cost = priced
        assert used.factors == mapping.factors
        assert cost.cycles > 0 and cost.energy_pj > 0 and cost.edp == cost.energy_pj * cost.cycles


# ---------------------------------------------------------------------------------------------------------------------
# Constraint files (YAML), read and bound to a layer


@st.composite
def mutated_constraint_text(draw: st.DrawFn) -> str:
    """A shipped constraint file, its parsed YAML mutated or one expression rewritten, or the text cut short."""
    text = CONSTRAINTS[draw(st.sampled_from(sorted(CONSTRAINTS)))]
    how = draw(st.sampled_from(["yaml", "yaml", "expr", "cut"]))
    if how == "cut":
        return text[: draw(st.integers(0, len(text)))]
    doc = yaml.safe_load(text)
    if how == "expr":
        items = [c for c in doc.get("constraints", []) if isinstance(c, dict) and "expr" in c]
        if items:
            tokens = ["SPM.M", "RF.C", "PE.K", "M", "Q.N", "footprint(RF, I)", "utilization(PE)", "nan", "1e999"]
            tokens += ["<=", ">=", "==", "<", "*", "/", "**", "(", ")", "+", "-", "0", "2", "0.5", "__x", "$", ","]
            draw(st.sampled_from(items))["expr"] = " ".join(draw(st.lists(st.sampled_from(tokens), max_size=7)))
        return yaml.safe_dump(doc)
    return yaml.safe_dump(draw(mutated(doc)))


@FUZZ
@given(text=mutated_constraint_text())
def test_mutated_constraint_files_are_refused_naming_the_file_or_bound(files: Path, mapped: dict, text: str) -> None:
    path = files / "fuzzed_constraints.yaml"
    path.write_text(text)
    loaded = _outcome(lambda: load_constraint_file(path), str(path))
    if loaded is None:
        return
    assert all(c.source.startswith(f"{path}:") or c.source.startswith(f"{path.name}:") for c in loaded.constraints)
    cs = load_constraints([str(path)])
    for nest, arch, _ in mapped.values():
        _outcome(lambda nest=nest, arch=arch: compile_constraints(cs, nest, arch), str(path))


# ---------------------------------------------------------------------------------------------------------------------
# Sweep keys (dse --sweep) and scaling files (dse --scale)

SWEEP_KEYS = ["CGRA_SIZE", "RF_SIZE", "rf_energy", "dma_cycles_per_byte", "pe_count", "pe_array.rows"]
SWEEP_KEYS += ["pe_groups.cols", "networks.input.bandwidth", "networks.default.latency", "networks.weight.energy"]
SWEEP_VALUES = ["1", "2", "0", "-1", "16", "256", "0.5", "1e9", "nan", "inf", "abc", "", "4096", "4097", "1e30", " "]


@st.composite
def sweep_text(draw: st.DrawFn) -> str:
    key = draw(st.sampled_from(SWEEP_KEYS))
    if draw(st.integers(0, 3)) == 0:
        key = _typo(draw, key)
    good = st.sampled_from(["1", "2", "4", "8", "16", "64", "256", "0.5", "1.5"])
    values = ",".join(draw(st.lists(st.one_of(good, good, st.sampled_from(SWEEP_VALUES)), min_size=1, max_size=3)))
    forms = [f"{key}={values}"] * 4 + [f"{key}{values}", f"={values}", f"{key}=", f"{key}={values},"]
    return draw(st.sampled_from(forms))


def _sweep_points(base: Arch, sweeps: list, scaling: Any = None) -> list | None:
    """The points, or None after checking the error names the option at fault (the sweeps, or the scaling)."""
    try:
        return arch_points(base, sweeps, scaling)
    except InputError as err:
        assert "\n" not in err.message and err.field is not None
        assert err.field.startswith("--scale" if scaling is not None else "--sweep"), err.message
        return None


@FUZZ
@given(texts=st.lists(sweep_text(), min_size=1, max_size=2), arch=st.sampled_from(["dmazerunner", "eyeriss"]))
def test_fuzzed_sweep_keys_are_refused_naming_the_key_or_give_those_points(texts: list[str], arch: str) -> None:
    sweeps = []
    for text in texts:
        try:
            sweeps.append(parse_sweep(text))
        except InputError as err:
            assert "\n" not in err.message and err.field is not None and err.field.startswith("--sweep")
            event("sweep refused")
            return
    points = _sweep_points(load_arch(arch), sweeps)
    event("point refused" if points is None else "points")
    for params, point in points or []:
        assert _same_arch(arch_from_json(point.to_json(), source="again", name=point.name), point)
        for sweep in sweeps:
            if not sweep.dotted:
                assert getattr(point, sweep.field) == params[sweep.key]


@FUZZ
@given(data=st.data())
def test_mutated_scaling_files_are_refused_naming_the_file_or_scale_finitely(files: Path, data: st.DataObject) -> None:
    path = files / "scale.json"
    doc = data.draw(mutated(SCALING), label="scaling")
    path.write_text(json.dumps(doc))
    scaling = _outcome(lambda: load_scaling(str(path)), str(path))
    if scaling is None:
        return
    sweeps = [parse_sweep("RF_SIZE=256,512"), parse_sweep("TOTAL_BYTES_IN_BANK=1024,2048")]
    for _, point in _sweep_points(load_arch("dmazerunner"), sweeps, scaling) or []:
        energies = (point.rf_energy_pj, point.spm_energy_pj, point.noc_energy_pj, point.dram_energy_pj)
        assert all(math.isfinite(e) and e >= 0 for e in energies)


def test_truncated_scaling_file_is_refused_naming_the_file(files: Path) -> None:
    path = files / "scale_cut.json"
    path.write_text(json.dumps(SCALING)[:40])
    with pytest.raises(InputError) as info:
        load_scaling(str(path))
    _one_line_naming(info.value, str(path))


# ---------------------------------------------------------------------------------------------------------------------
# ONNX attributes and shapes: a Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm graph with mutated numbers

CONV_GRAPH = {"N": 1, "C": 4, "H": 7, "W": 6, "M": 6, "G": 2, "KH": 3, "KW": 2, "Y": 5}
CONV_ATTRS = {"strides": [1, 2], "pads": [1, 0, 1, 1], "dilations": [1, 1]}
ODD_INTS = [0, -1, 1, 2, 3, 4, 12, 2**31, 2**40]


@st.composite
def conv_graph(draw: st.DrawFn) -> tuple[dict, dict]:
    """The graph's sizes and Conv attributes, each kept or replaced by an odd value (about one in five)."""

    def maybe(value: int) -> int:
        return draw(st.sampled_from(ODD_INTS)) if draw(st.integers(0, 4)) == 0 else value

    sizes = {key: maybe(value) for key, value in CONV_GRAPH.items()}
    attrs = {key: [maybe(v) for v in values] for key, values in CONV_ATTRS.items()}
    if draw(st.integers(0, 5)) == 0:
        attrs["kernel_shape"] = [maybe(sizes["KH"]), maybe(sizes["KW"])]
    return sizes, attrs


def _conv_model(sizes: dict, attrs: dict) -> onnx.ModelProto:
    s = sizes
    weight_c = s["C"] // s["G"] if s["G"] > 0 and s["C"] % s["G"] == 0 else s["C"]
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [s["N"], s["C"], s["H"], s["W"]]),
        helper.make_tensor_value_info("w", TensorProto.FLOAT, [s["M"], weight_c, s["KH"], s["KW"]]),
        helper.make_tensor_value_info("fc_w", TensorProto.FLOAT, [s["Y"], s["M"]]),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["y"], name="conv", group=s["G"], **attrs),
        helper.make_node("Relu", ["y"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc_w"], ["out"], name="fc", transB=1),
    ]
    graph = helper.make_graph(nodes, "fuzz", inputs, [helper.make_empty_tensor_value_info("out")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _expected_layers(sizes: dict, attrs: dict) -> list:
    """The same layers written as a model spec: the ONNX path and the JSON path must agree."""
    s, pads = sizes, attrs["pads"]
    padded = [s["N"], s["C"], s["H"] + pads[0] + pads[2], s["W"] + pads[1] + pads[3]]
    common = {"size_tensor_A": padded, "strides": attrs["strides"], "dilations": attrs["dilations"]}
    if s["G"] == 1:
        conv = ("CONV", {**common, "size_tensor_B": [s["M"], s["C"], s["KH"], s["KW"]]})
    elif s["G"] == s["C"] == s["M"]:
        conv = ("DW_CONV", {**common, "size_tensor_B": [1, s["C"], s["KH"], s["KW"]]})
    else:
        conv = (
            "GROUP_CONV",
            {**common, "size_tensor_B": [s["M"], s["C"] // s["G"], s["KH"], s["KW"]], "groups": s["G"]},
        )
    fc = {"name": "fc", "size_tensor_A": [s["N"], s["M"]], "size_tensor_B": [s["M"], s["Y"]]}
    spec = {conv[0]: [{"name": "conv", **conv[1]}], "GEMM": [fc]}
    return layers_from_json(spec, source="expected")


@settings(max_examples=80, derandomize=True, deadline=None, database=None)
@given(graph=conv_graph())
def test_mutated_onnx_attributes_and_shapes_are_refused_naming_the_file_or_read_as_the_spec(
    files: Path, graph: tuple[dict, dict]
) -> None:
    sizes, attrs = graph
    path = files / "fuzzed.onnx"
    onnx.save(_conv_model(sizes, attrs), str(path))
    read = _outcome(lambda: load_onnx(path), str(path))
    if read is not None:
        layers, _ = read
        assert sorted(layers, key=lambda n: n.name) == sorted(_expected_layers(sizes, attrs), key=lambda n: n.name)


# ---------------------------------------------------------------------------------------------------------------------
# Through the command line: exit status 2, one line naming the file and the field, no traceback, nothing written


def _cli_case(case: str, tmp: Path) -> tuple[list[str], str]:
    """The arguments of a command given one broken file, and the `file: field` its error line must start with."""
    if case == "model-typo":
        path = tmp / "model.json"
        path.write_text(json.dumps({"GEMM": [{**GEMM, "instance": 4}]}))
        return ["layers", "--model", str(path)], f"{path}: GEMM[0].instance: unknown field; did you mean 'instances'?"
    if case == "arch-nan":
        path = tmp / "arch.json"
        path.write_text('{"arch_details": {"dram_energy": NaN}}')
        return ["arch", str(path)], f"{path}: arch_details.dram_energy: must be finite"
    if case == "mapping-infinity":
        path = tmp / "mapping.json"
        path.write_text(json.dumps(GEMM_MAPPING).replace("16]", "Infinity]", 1))
        args = ["evaluate", "--model", str(REPO / "models" / "tiny.json"), "--layer", "tiny_gemm", "--mapping"]
        return [*args, str(path)], f"{path}: tiling.RF[2]: must be finite"
    if case == "constraints-cut":
        path = tmp / "cut.yaml"
        path.write_text(CONSTRAINTS["rs.yaml"][:60])
        return ["count", "--model", "tiny", "--layer", "tiny_gemm", "--constraints", str(path)], str(path)
    if case == "sweep-nan":
        return ["dse", "--model", "tiny", "--sweep", "RF_SIZE=256,nan", "--out", str(tmp / "dse")], "--sweep RF_SIZE: "
    if case == "scale-nan":
        path = tmp / "scale.json"
        path.write_text('{"rf_energy": {"by": "RF_SIZE", "table": {"256": NaN}}}')
        args = ["dse", "--model", "tiny", "--sweep", "RF_SIZE=256", "--scale", str(path), "--out", str(tmp / "dse")]
        return args, f"{path}: rf_energy.table.256: must be finite"
    path = tmp / "conv.onnx"
    onnx.save(_conv_model(CONV_GRAPH, {**CONV_ATTRS, "strides": [0, 2]}), str(path))
    return ["layers", "--model", str(path)], f"{path}: node 'conv' (op Conv): attribute strides must be positive"


CLI_CASES = ["model-typo", "arch-nan", "mapping-infinity", "constraints-cut", "sweep-nan", "scale-nan", "onnx-stride"]


@pytest.mark.parametrize("case", CLI_CASES)
def test_broken_files_through_the_command_line_exit_2_with_one_line(capsys, tmp_path: Path, case: str) -> None:
    args, start = _cli_case(case, tmp_path)
    code = main(args)
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), err
    assert err.startswith(f"error: {start}") and err.count("\n") == 1, err
    assert not (tmp_path / "dse").exists()  # nothing written


@pytest.mark.parametrize("case", ["model-typo", "scale-nan", "onnx-stride"])
def test_broken_files_in_a_fresh_process_exit_2_without_a_traceback(tmp_path: Path, case: str) -> None:
    args, start = _cli_case(case, tmp_path)
    proc = subprocess.run([sys.executable, "cli.py", *args], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith(f"error: {start}") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
