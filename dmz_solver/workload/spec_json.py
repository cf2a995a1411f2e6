"""The seed's model spec JSON (keys CONV, GEMM, DW_CONV), read verbatim and validated (docs/cost-model.md §1.7)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import InputError
from ..loopnest import LoopNest
from ..specio import Fields, read_json
from .templates import conv_nest, gemm_nest, group_conv_nest

MODEL_DIR = Path(__file__).resolve().parent.parent.parent / "models"
SECTIONS = ("CONV", "GEMM", "DW_CONV", "GROUP_CONV", "BATCH_GEMM")
"""The seed's three sections in the order it processes and merges them, then dmz-solver's two."""


def layer_from_json(op: str, obj: object, *, source: str, path: str) -> LoopNest:
    """One layer object of a model spec as a loop nest; errors name the file and field."""
    f = Fields(obj, source, path)
    name = f.string("name", f"{op}_{path.rsplit('[', 1)[-1].rstrip(']')}")
    instances = f.integer("instances", 1)
    if op == "GEMM":
        m, k = f.int_list("size_tensor_A", 2)
        k_b, n = f.int_list("size_tensor_B", 2)
        if k != k_b:
            raise f.error("size_tensor_B", f"inner dimension {k_b} does not match size_tensor_A's {k}")
        return gemm_nest(name, x=m, y=n, k=k_b, instances=instances)
    if op == "BATCH_GEMM":
        b, m, k = f.int_list("size_tensor_A", 3)
        b_b, k_b, n = f.int_list("size_tensor_B", 3)
        if (b, k) != (b_b, k_b):
            raise f.error(
                "size_tensor_B", f"batch and inner dimensions {[b_b, k_b]} do not match size_tensor_A's {[b, k]}"
            )
        return gemm_nest(name, x=m, y=n, k=k, batch=b, instances=instances)
    n, c, rows, cols = f.int_list("size_tensor_A", 4)
    m, c_w, f_rows, f_cols = f.int_list("size_tensor_B", 4)
    s_rows, s_cols = f.int_list("strides", 2, [1, 1])
    groups = f.integer("groups", 1) if op == "GROUP_CONV" else 1
    if op in ("CONV", "GROUP_CONV") and c_w * groups != c:
        raise f.error(
            "size_tensor_B", f"filter has {c_w} input channels per group, the input has {c} in {groups} group(s)"
        )
    if op == "GROUP_CONV" and m % groups:
        raise f.error("groups", f"{groups} groups do not divide the {m} output channels")
    if f_rows > rows or f_cols > cols:
        raise f.error("size_tensor_B", f"filter {f_rows}x{f_cols} does not fit the {rows}x{cols} input")
    if op == "GROUP_CONV":
        return group_conv_nest(
            name,
            n=n,
            groups=groups,
            m_per_group=m // groups,
            c_per_group=c_w,
            in_rows=rows,
            in_cols=cols,
            f_rows=f_rows,
            f_cols=f_cols,
            stride=(s_rows, s_cols),
            instances=instances,
        )
    return conv_nest(
        name,
        n=n,
        m=m,
        c=c,
        in_rows=rows,
        in_cols=cols,
        f_rows=f_rows,
        f_cols=f_cols,
        stride=(s_rows, s_cols),
        depthwise=op == "DW_CONV",
        instances=instances,
    )


def layers_from_json(obj: object, *, source: str) -> list[LoopNest]:
    """All layers of a model spec, identical shapes merged into the first (§1.7)."""
    top = Fields(obj, source, "")
    top.reject_unknown(set(SECTIONS))
    merged: dict[tuple, LoopNest] = {}
    for op in SECTIONS:
        entries = top.obj.get(op, [])
        if not isinstance(entries, list):
            raise InputError("expected a list of layers", source=source, field=op)
        for i, entry in enumerate(entries):
            nest = layer_from_json(op, entry, source=source, path=f"{op}[{i}]")
            key = (nest.op, nest.extents, nest.stride, nest.operands)
            if key in merged:
                first = merged[key]
                merged[key] = _with_instances(first, first.instances + nest.instances)
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
