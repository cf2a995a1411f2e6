"""Model, arch and mapping readers: what they build, and errors that name the file, the field and the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dmz_solver.arch import Arch, arch_from_json, load_arch
from dmz_solver.errors import InputError
from dmz_solver.problem.mapping import mapping_from_json
from dmz_solver.specio import read_json
from dmz_solver.workload.loader import load_model
from dmz_solver.workload.spec_json import layers_from_json, load_spec

CONV = {"name": "c", "size_tensor_A": [1, 8, 6, 6], "size_tensor_B": [4, 8, 3, 3], "strides": [1, 1]}
GEMM = {"name": "g", "size_tensor_A": [4, 5], "size_tensor_B": [5, 6]}


def _error(func, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        func(*args, **kwargs)
    return info.value


def _dims(nest) -> dict:
    return nest.dims_summary()


# ---------------------------------------------------------------------------------------------------------------------
# Model specs


def test_conv_layer_extents_follow_the_seed_formula() -> None:
    """§1.7: Ox = floor((ix - fx) / s) + 1 on the already padded input."""
    (nest,) = layers_from_json({"CONV": [{**CONV, "size_tensor_A": [2, 8, 17, 17], "strides": [2, 2]}]}, source="m")
    assert _dims(nest) == {"N": 2, "M": 4, "C": 8, "Ox": 8, "Oy": 8, "Fx": 3, "Fy": 3, "stride": 2}
    assert nest.instances == 1


def test_layers_are_read_in_the_seeds_section_order_whatever_the_key_order() -> None:
    spec = {
        "BATCH_GEMM": [{"name": "b", "size_tensor_A": [3, 4, 5], "size_tensor_B": [3, 5, 6]}],
        "DW_CONV": [{"name": "d", "size_tensor_A": [1, 8, 6, 6], "size_tensor_B": [1, 8, 3, 3]}],
        "GEMM": [GEMM],
        "CONV": [CONV],
    }
    assert [n.op for n in layers_from_json(spec, source="m")] == ["CONV", "GEMM", "DW_CONV", "BATCH_GEMM"]


def test_duplicate_shapes_merge_into_the_first_with_instances_summed() -> None:
    """§1.7: identical layers of one type merge; their instances add up."""
    spec = {
        "CONV": [
            {**CONV, "name": "first", "instances": 2},
            {**CONV, "name": "other_stride", "strides": [2, 2]},
            {**CONV, "name": "second", "instances": 3},
            {**CONV, "name": "third"},
        ],
        "GEMM": [GEMM, {**GEMM, "name": "g2", "instances": 4}],
    }
    layers = layers_from_json(spec, source="m")
    assert [(n.name, n.instances) for n in layers] == [("first", 6), ("other_stride", 1), ("g", 5)]


def test_dw_conv_has_m_one_and_channels_from_the_input() -> None:
    """§1.7: the first two entries of a DW_CONV filter are ignored."""
    spec = {"DW_CONV": [{"name": "d", "size_tensor_A": [1, 8, 6, 6], "size_tensor_B": [1, 1, 3, 3]}]}
    (nest,) = layers_from_json(spec, source="m")
    assert _dims(nest) == {"N": 1, "M": 1, "C": 8, "Ox": 4, "Oy": 4, "Fx": 3, "Fy": 3, "stride": 1}


def test_group_conv_section() -> None:
    spec = {
        "GROUP_CONV": [
            {"name": "gc", "size_tensor_A": [1, 8, 6, 6], "size_tensor_B": [8, 2, 3, 3], "groups": 4, "strides": [1, 2]}
        ]
    }
    (nest,) = layers_from_json(spec, source="m")
    assert nest.op == "GROUP_CONV"
    assert _dims(nest) == {"N": 1, "M": 2, "C": 2, "Ox": 4, "Oy": 2, "Fx": 3, "Fy": 3, "G": 4, "stride": [1, 2]}
    assert nest.macs == 1 * 4 * 2 * 2 * 4 * 2 * 3 * 3


def test_group_conv_groups_must_divide_the_filters() -> None:
    spec = {"GROUP_CONV": [{"name": "gc", "size_tensor_A": [1, 9, 6, 6], "size_tensor_B": [8, 3, 3, 3], "groups": 3}]}
    err = _error(layers_from_json, spec, source="m.json")
    assert (err.source, err.field) == ("m.json", "GROUP_CONV[0].groups")
    assert "do not divide" in err.reason


def test_batch_gemm_section() -> None:
    spec = {"BATCH_GEMM": [{"name": "bg", "size_tensor_A": [3, 4, 5], "size_tensor_B": [3, 5, 6], "instances": 2}]}
    (nest,) = layers_from_json(spec, source="m")
    assert (nest.op, _dims(nest), nest.instances) == ("BATCH_GEMM", {"B": 3, "X": 4, "Y": 6, "K": 5}, 2)
    assert [op.shape for op in nest.operands] == [(3, 4, 6), (3, 4, 5), (3, 5, 6)]


def test_batch_gemm_batches_must_agree() -> None:
    spec = {"BATCH_GEMM": [{"name": "bg", "size_tensor_A": [3, 4, 5], "size_tensor_B": [2, 5, 6]}]}
    err = _error(layers_from_json, spec, source="m.json")
    assert err.field == "BATCH_GEMM[0].size_tensor_B"


@pytest.mark.parametrize(
    ("spec", "field", "reason"),
    [
        ({"CONV": [CONV], "POOL": []}, "POOL", "unknown field"),
        ({"CONV": {"name": "c"}}, "CONV", "expected a list of layers"),
        ({"CONV": [{**CONV, "size_tensor_B": None}]}, "CONV[0].size_tensor_B", "expected a list of integers"),
        ({"CONV": [{k: v for k, v in CONV.items() if k != "size_tensor_A"}]}, "CONV[0].size_tensor_A", "missing field"),
        ({"CONV": [{**CONV, "size_tensor_A": [1, 8, 6]}]}, "CONV[0].size_tensor_A", "expected 4 integers, got 3"),
        ({"CONV": [{**CONV, "size_tensor_A": [1, 0, 6, 6]}]}, "CONV[0].size_tensor_A", "sizes must be positive"),
        (
            {"CONV": [{**CONV, "size_tensor_A": [1, 8, 6, True]}]},
            "CONV[0].size_tensor_A",
            "expected a list of integers",
        ),
        ({"CONV": [{**CONV, "size_tensor_B": [4, 6, 3, 3]}]}, "CONV[0].size_tensor_B", "input channels"),
        ({"CONV": [{**CONV, "size_tensor_A": [1, 8, 2, 2]}]}, "CONV[0].size_tensor_B", "does not fit"),
        ({"CONV": [{**CONV, "strides": [0, 1]}]}, "CONV[0].strides", "sizes must be positive"),
        ({"CONV": [{**CONV, "instances": 0}]}, "CONV[0].instances", "must be at least 1"),
        ({"CONV": [{**CONV, "instances": "two"}]}, "CONV[0].instances", "expected an integer"),
        ({"CONV": [{**CONV, "name": ""}]}, "CONV[0].name", "expected a non-empty string"),
        ({"GEMM": [GEMM, {**GEMM, "size_tensor_B": [6, 6]}]}, "GEMM[1].size_tensor_B", "does not match"),
        ({"CONV": ["c"]}, "CONV[0]", "expected an object"),
        ({"CONV": [{**CONV, "instances": 1e308}]}, "CONV[0].instances", "must be at most 1048576"),
        ({"CONV": [{**CONV, "size_tensor_A": [1, 8, 2**40, 6]}]}, "CONV[0].size_tensor_A", "at most 2147483647"),
    ],
)
def test_model_spec_errors_name_the_field(spec: dict, field: str, reason: str) -> None:
    err = _error(layers_from_json, spec, source="model.json")
    assert err.source == "model.json"
    assert err.field == field
    assert reason in err.reason
    assert err.message.startswith(f"model.json: {field}: ")


@pytest.mark.parametrize(
    ("entry", "field", "reason"),
    [
        ({**CONV, "instance": 4}, "CONV[0].instance", "did you mean 'instances'?"),
        ({**CONV, "stride": [2, 2]}, "CONV[0].stride", "did you mean 'strides'?"),
        ({**CONV, "nmae": "x"}, "CONV[0].nmae", "did you mean 'name'?"),
        ({**CONV, "Strides": [2, 2]}, "CONV[0].Strides", "did you mean 'strides'?"),
        ({**CONV, "padding": [1, 1]}, "CONV[0].padding", "give size_tensor_A already padded"),
        ({**CONV, "groups": 2}, "CONV[0].groups", "only GROUP_CONV layers have groups"),
        ({**CONV, "dilation": [2, 2]}, "CONV[0].dilation", "did you mean 'dilations'?"),
    ],
)
def test_misspelled_layer_fields_are_refused_with_the_close_spelling(entry: dict, field: str, reason: str) -> None:
    """A typo inside a layer used to be ignored: 1 instance, stride 1, a made-up name, and exit 0."""
    err = _error(layers_from_json, {"CONV": [entry]}, source="model.json")
    assert (err.source, err.field) == ("model.json", field)
    assert reason in err.reason


def test_gemm_layer_refuses_convolution_fields_but_takes_the_seeds_strides() -> None:
    err = _error(layers_from_json, {"GEMM": [{**GEMM, "dilations": [1, 1]}]}, source="m.json")
    assert (err.field, "unknown field" in err.reason) == ("GEMM[0].dilations", True)
    (nest,) = layers_from_json({"GEMM": [{**GEMM, "strides": [1, 1]}]}, source="m.json")
    assert _dims(nest) == {"X": 4, "Y": 6, "K": 5}


def test_the_seeds_free_text_layer_fields_and_underscore_comments_are_accepted() -> None:
    """The seed's own model files carry `comment` and `names_repeated_layers` (models/transformer.json)."""
    entry = {**GEMM, "comment": "24 samples", "names_repeated_layers": ["g.1"], "_note": "mine", "instances": 2}
    (nest,) = layers_from_json({"GEMM": [entry]}, source="m.json")
    assert (nest.name, nest.instances, _dims(nest)) == ("g", 2, {"X": 4, "Y": 6, "K": 5})


def test_duplicate_layer_names_are_refused_naming_both_places() -> None:
    """--layer used to take the first of two layers with one name, quietly."""
    spec = {"CONV": [CONV], "GEMM": [{**GEMM, "name": CONV["name"]}]}
    err = _error(layers_from_json, spec, source="m.json")
    assert (err.field, err.reason) == ("GEMM[0].name", "duplicate layer name 'c' (also CONV[0])")
    default_clash = {
        "CONV": [{k: v for k, v in CONV.items() if k != "name"}, {**CONV, "name": "CONV_0", "strides": [2, 2]}]
    }
    assert _error(layers_from_json, default_clash, source="m.json").field == "CONV[1].name"


def test_group_conv_without_groups_says_groups_is_missing() -> None:
    spec = {"GROUP_CONV": [{"name": "gc", "size_tensor_A": [1, 8, 6, 6], "size_tensor_B": [8, 2, 3, 3]}]}
    err = _error(layers_from_json, spec, source="m.json")
    assert err.field == "GROUP_CONV[0].groups" and err.reason.startswith("missing field")


def test_dilations_widen_the_filter_window() -> None:
    """Ox = floor((ix - d (fx - 1) - 1) / s) + 1; a dilated filter that spans more than the input is refused."""
    (nest,) = layers_from_json({"CONV": [{**CONV, "size_tensor_A": [1, 8, 9, 7], "dilations": [2, 1]}]}, source="m")
    assert _dims(nest) == {"N": 1, "M": 4, "C": 8, "Ox": 5, "Oy": 5, "Fx": 3, "Fy": 3, "stride": 1}
    err = _error(layers_from_json, {"CONV": [{**CONV, "dilations": [3, 1]}]}, source="m.json")
    assert (err.field, err.reason) == (
        "CONV[0].size_tensor_B",
        "filter 3x3 (dilated to 7x3) does not fit the 6x6 input",
    )


def test_model_without_layers_is_refused() -> None:
    assert "no layers" in _error(layers_from_json, {"CONV": []}, source="m.json").reason
    assert _error(layers_from_json, [CONV], source="m.json").reason.startswith("expected an object")


def test_malformed_and_missing_files_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"CONV": [\n')
    err = _error(load_spec, bad)
    assert err.source == str(bad) and "invalid JSON at line 2" in err.reason
    missing = tmp_path / "missing.json"
    assert "cannot read file" in _error(read_json, missing).reason
    assert _error(load_model, str(missing)).source == str(missing)


def test_model_names_resolve_to_shipped_specs() -> None:
    model = load_model("tiny")
    assert model.name == "tiny" and {n.op for n in model.layers} == {"CONV", "GEMM", "DW_CONV"}
    err = _error(load_model, "no_such_model")
    assert err.source == "no_such_model" and "resnet18" in err.reason
    err = _error(model.layer, "nope")
    assert err.field == "--layer" and "tiny_gemm" in err.reason


# ---------------------------------------------------------------------------------------------------------------------
# Arch specs


def test_empty_arch_spec_is_the_seeds_default_and_the_shipped_file() -> None:
    assert arch_from_json({}, source="a", name="x") == Arch("x")
    shipped = load_arch("dmazerunner")
    assert shipped == Arch("dmazerunner")
    assert arch_from_json(shipped.to_seed_json(), source="a", name="dmazerunner") == shipped
    assert (shipped.rf_elems, shipped.spm_bytes) == (256.0, 65536)


def test_arch_spec_fields_map_to_the_arch() -> None:
    spec = {
        "arch_basic": {"CGRA_SIZE": 64, "RF_SIZE": 256, "TOTAL_BANKS_IN_SPM": 16},
        "arch_details": {"dram_energy": 160, "mac_energy": 0.2, "dma_frequency": 1600},
    }
    arch = arch_from_json(spec, source="a", name="variant")
    assert (arch.pe_count, arch.rf_bytes, arch.spm_banks, arch.spm_bank_bytes) == (64, 256, 16, 2048)
    assert (arch.dram_energy_pj, arch.mac_energy_pj, arch.dma_mhz, arch.rf_energy_pj) == (160, 0.2, 1600, 0.96)


@pytest.mark.parametrize(
    ("spec", "field", "reason"),
    [
        ({"arch_basic": {"CGRA_SZE": 64}}, "arch_basic.CGRA_SZE", "unknown field"),
        ({"arch": {}}, "arch", "unknown field"),
        ({"arch_basic": {"CGRA_SIZE": 0}}, "arch_basic.CGRA_SIZE", "must be at least 1"),
        ({"arch_basic": {"RF_SIZE": "512"}}, "arch_basic.RF_SIZE", "expected an integer"),
        ({"arch_details": {"dram_energy": -1}}, "arch_details.dram_energy", "must not be negative"),
        ({"arch_details": {"dma_frequency": 0}}, "arch_details.dma_frequency", "must be positive"),
        ({"arch_details": {"pe_pipelined": False}}, "arch_details.pe_pipelined", "pipelined"),
        ({"arch_details": []}, "arch_details", "expected an object"),
        ({"arch_details": {"rf_energy": float("nan")}}, "arch_details.rf_energy", "must be finite, got nan"),
        ({"arch_details": {"dma_frequency": float("inf")}}, "arch_details.dma_frequency", "must be finite"),
        ({"arch_basic": {"RF_SIZE": 1e30}}, "arch_basic.RF_SIZE", "must be at most 2147483647"),
        ({"arch_basic": {"CGRA_SIZE": 100000}}, "arch_basic.CGRA_SIZE", "at most 65536 are supported"),
        ({"arch_basic": {"CGRA_SZE": 64}}, "arch_basic.CGRA_SZE", "did you mean 'CGRA_SIZE'?"),
    ],
)
def test_arch_spec_errors_name_the_field(spec: dict, field: str, reason: str) -> None:
    err = _error(arch_from_json, spec, source="arch.json", name="a")
    assert (err.source, err.field) == ("arch.json", field)
    assert reason in err.reason


def test_arch_files_and_names(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"arch_basic": {"CGRA_SIZE": 16}}))
    arch = load_arch(str(path))
    assert (arch.name, arch.pe_count) == ("mine", 16)
    err = _error(load_arch, "no_such_arch")
    assert err.source == "no_such_arch" and "dmazerunner" in err.reason


# ---------------------------------------------------------------------------------------------------------------------
# Mappings


@pytest.fixture(scope="module")
def gemm():
    (nest,) = layers_from_json({"GEMM": [GEMM]}, source="m")
    return nest


def test_mapping_reads_factors_and_orders(gemm) -> None:
    obj = {
        "loops": ["X", "Y", "K"],
        "tiling": {"DRAM": [1, 1, 5], "SPM": [1, 2, 1], "RF": [4, 1, 1], "SPATIAL": [1, 3, 1]},
        "order": {"DRAM": ["K", "X", "Y"], "SPM": ["Y", "X", "K"]},
    }
    mapping = mapping_from_json(obj, gemm, source="map.json")
    assert mapping.factors == ((1, 1, 5), (1, 2, 1), (4, 1, 1), (1, 3, 1))
    assert (mapping.dram_order, mapping.spm_order) == (("K", "X", "Y"), ("Y", "X", "K"))
    assert mapping.to_json() == obj
    no_order = mapping_from_json({"tiling": obj["tiling"]}, gemm, source="map.json")
    assert no_order.dram_order is None and "order" not in no_order.to_json()


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"colour": 1}, "colour", "unknown field"),
        ({"loops": ["K", "X", "Y"]}, "loops", "expected"),
        ({"loops": 0.5}, "loops", "expected ['X', 'Y', 'K']"),  # raised TypeError
        ({"tiling": {"DRAM": [1, 1, 5], "SPM": [1, 2, 1], "RF": [4, 1, 1]}}, "tiling.SPATIAL", "missing field"),
        (
            {"tiling": {"DRAM": [1, 1, 5], "SPM": [1, 2, 1], "RF": [4, 1, 1], "SPATIAL": [1, 1, 1]}},
            "tiling.Y",
            "multiply to 2, its extent is 6",
        ),
        (
            {"tiling": {"DRAM": [1, 1], "SPM": [1, 2, 1], "RF": [4, 1, 1], "SPATIAL": [1, 3, 1]}},
            "tiling.DRAM",
            "expected 3 integers",
        ),
        ({"order": {"DRAM": ["K", "X", "X"], "SPM": ["Y", "X", "K"]}}, "order.DRAM", "permutation"),
        ({"order": {"DRAM": ["K", "X", "Y"]}}, "order.SPM", "missing field"),
    ],
)
def test_mapping_errors_name_the_field(gemm, change: dict, field: str, reason: str) -> None:
    obj = {
        "loops": ["X", "Y", "K"],
        "tiling": {"DRAM": [1, 1, 5], "SPM": [1, 2, 1], "RF": [4, 1, 1], "SPATIAL": [1, 3, 1]},
        **change,
    }
    err = _error(mapping_from_json, obj, gemm, source="map.json")
    assert (err.source, err.field) == ("map.json", field)
    assert reason in err.reason
