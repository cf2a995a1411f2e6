"""The seed's model spec JSON (keys CONV, GEMM, DW_CONV), read verbatim and validated (docs/cost-model.md §1.7)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import InputError
from ..loopnest import LoopNest
from ..specio import Fields, read_json
from .limits import MAX_INSTANCES, size_problem
from .templates import conv_nest, gemm_nest, group_conv_nest

MODEL_DIR = Path(__file__).resolve().parent.parent.parent / "models"
SECTIONS = ("CONV", "GEMM", "DW_CONV", "GROUP_CONV", "BATCH_GEMM")
"""The seed's three sections in the order it processes and merges them, then dmz-solver's two."""


LAYER_FIELDS = {"name", "size_tensor_A", "size_tensor_B", "instances", "comment", "names_repeated_layers"}
"""Fields of every layer object; `comment` and `names_repeated_layers` are free text the seed's own files carry."""
CONV_FIELDS = {"strides", "dilations"}
GEMM_FIELDS = {"strides"}
"""The seed's GEMM ignores `strides` (docs/cost-model.md §1.7), so a GEMM object may carry it."""
FIELD_HINTS = {
    "padding": "; there is no padding field: give size_tensor_A already padded",
    "pads": "; there is no padding field: give size_tensor_A already padded",
    "group": "; did you mean 'groups'? (GROUP_CONV layers only)",
}


def layer_fields(op: str) -> set[str]:
    """The fields a layer object of section `op` may have."""
    if op in ("GEMM", "BATCH_GEMM"):
        return LAYER_FIELDS | GEMM_FIELDS
    return LAYER_FIELDS | CONV_FIELDS | ({"groups"} if op == "GROUP_CONV" else set())


def layer_from_json(op: str, obj: object, *, source: str, path: str) -> LoopNest:
    """One layer object of a model spec as a loop nest; errors name the file and field."""
    f = Fields(obj, source, path)
    if "groups" in f.obj and op != "GROUP_CONV":
        raise f.error("groups", "only GROUP_CONV layers have groups; move the layer to GROUP_CONV or drop groups")
    f.reject_unknown(layer_fields(op), FIELD_HINTS)
    name = f.string("name", f"{op}_{path.rsplit('[', 1)[-1].rstrip(']')}")
    instances = f.integer("instances", 1, maximum=MAX_INSTANCES)
    if op in ("GEMM", "BATCH_GEMM"):
        if "strides" in f.obj:
            f.int_list("strides", 2)  # not used, but a malformed value is still a mistake
        nest = _gemm(f, op, name, instances)
    else:
        nest = _conv(f, op, name, instances)
    too_large = size_problem(nest)
    if too_large:
        raise f.error("size_tensor_A", f"layer {name} is too large to solve: {too_large}")
    return nest


def _gemm(f: Fields, op: str, name: str, instances: int) -> LoopNest:
    if op == "GEMM":
        m, k = f.int_list("size_tensor_A", 2)
        k_b, n = f.int_list("size_tensor_B", 2)
        if k != k_b:
            raise f.error("size_tensor_B", f"inner dimension {k_b} does not match size_tensor_A's {k}")
        return gemm_nest(name, x=m, y=n, k=k_b, instances=instances)
    b, m, k = f.int_list("size_tensor_A", 3)
    b_b, k_b, n = f.int_list("size_tensor_B", 3)
    if (b, k) != (b_b, k_b):
        raise f.error("size_tensor_B", f"batch and inner dimensions {[b_b, k_b]} do not match size_tensor_A's {[b, k]}")
    return gemm_nest(name, x=m, y=n, k=k, batch=b, instances=instances)


def _conv(f: Fields, op: str, name: str, instances: int) -> LoopNest:
    n, c, rows, cols = f.int_list("size_tensor_A", 4)
    m, c_w, f_rows, f_cols = f.int_list("size_tensor_B", 4)
    stride = tuple(f.int_list("strides", 2, [1, 1]))
    d_rows, d_cols = f.int_list("dilations", 2, [1, 1])
    groups = 1
    if op == "GROUP_CONV":
        if "groups" not in f.obj:
            raise f.error("groups", "missing field: a GROUP_CONV layer needs its number of groups")
        groups = f.integer("groups")
    if op in ("CONV", "GROUP_CONV") and c_w * groups != c:
        raise f.error(
            "size_tensor_B", f"filter has {c_w} input channels per group, the input has {c} in {groups} group(s)"
        )
    if op == "GROUP_CONV" and m % groups:
        raise f.error("groups", f"{groups} groups do not divide the {m} output channels")
    span_rows, span_cols = d_rows * (f_rows - 1) + 1, d_cols * (f_cols - 1) + 1
    if span_rows > rows or span_cols > cols:
        dilated = f" (dilated to {span_rows}x{span_cols})" if (d_rows, d_cols) != (1, 1) else ""
        raise f.error("size_tensor_B", f"filter {f_rows}x{f_cols}{dilated} does not fit the {rows}x{cols} input")
    window = {
        "in_rows": rows,
        "in_cols": cols,
        "f_rows": f_rows,
        "f_cols": f_cols,
        "stride": stride,
        "dilation": (d_rows, d_cols),
        "instances": instances,
    }
    if op == "GROUP_CONV":
        return group_conv_nest(name, n=n, groups=groups, m_per_group=m // groups, c_per_group=c_w, **window)
    return conv_nest(name, n=n, m=m, c=c, depthwise=op == "DW_CONV", **window)


def layers_from_json(obj: object, *, source: str) -> list[LoopNest]:
    """All layers of a model spec, identical shapes merged into the first (§1.7)."""
    top = Fields(obj, source, "")
    top.reject_unknown(set(SECTIONS))
    merged: dict[tuple, LoopNest] = {}
    named: dict[str, str] = {}  # layer name -> where it was first given
    for op in SECTIONS:
        entries = top.obj.get(op, [])
        if not isinstance(entries, list):
            raise InputError("expected a list of layers", source=source, field=op)
        for i, entry in enumerate(entries):
            nest = layer_from_json(op, entry, source=source, path=f"{op}[{i}]")
            if nest.name in named:
                reason = f"duplicate layer name {nest.name!r} (also {named[nest.name]})"
                raise InputError(reason, source=source, field=f"{op}[{i}].name")
            named[nest.name] = f"{op}[{i}]"
            key = (nest.op, nest.extents, nest.stride, nest.operands)
            if key in merged:
                first = merged[key]
                instances = first.instances + nest.instances
                if instances > MAX_INSTANCES:
                    reason = f"merged with {first.name}, the layer occurs {instances} times; at most {MAX_INSTANCES}"
                    raise InputError(reason, source=source, field=f"{op}[{i}].instances")
                merged[key] = _with_instances(first, instances)
            else:
                merged[key] = nest
    if not merged:
        raise InputError("the model has no layers", source=source)
    return list(merged.values())


def _with_instances(nest: LoopNest, instances: int) -> LoopNest:
    return replace(nest, instances=instances)


def load_spec(path: str | Path) -> list[LoopNest]:
    """Read a model spec file."""
    return layers_from_json(read_json(path), source=str(path))
