"""Write loop nests as a model spec JSON in the seed's layout (docs/cost-model.md §1.7), with GROUP_CONV, BATCH_GEMM."""

from __future__ import annotations

from collections.abc import Sequence

from ..loopnest import LoopNest


def export_spec(layers: Sequence[LoopNest]) -> dict[str, list[dict[str, object]]]:
    """The model spec object of these layers: the seed's sections CONV, GEMM, DW_CONV, then any others used."""
    spec: dict[str, list[dict[str, object]]] = {"CONV": [], "GEMM": [], "DW_CONV": []}
    for nest in layers:
        spec.setdefault(nest.op, []).append(layer_entry(nest))
    return spec


def layer_entry(nest: LoopNest) -> dict[str, object]:
    """One layer object: tensor sizes from the loop extents and the (padded) input's size."""
    e = dict(zip(nest.loops, nest.extents, strict=True))
    if nest.op == "GEMM":
        a, b = [e["X"], e["K"]], [e["K"], e["Y"]]
        return {"name": nest.name, "size_tensor_A": a, "size_tensor_B": b, "instances": nest.instances}
    if nest.op == "BATCH_GEMM":
        a, b = [e["B"], e["X"], e["K"]], [e["B"], e["K"], e["Y"]]
        return {"name": nest.name, "size_tensor_A": a, "size_tensor_B": b, "instances": nest.instances}
    (rows, dil_x), (cols, dil_y) = _window_dim(nest, "Ox", "Fx"), _window_dim(nest, "Oy", "Fy")
    groups = nest.groups if nest.op == "GROUP_CONV" else 1
    c_in = e["C"] * groups
    m_filters = 1 if nest.op == "DW_CONV" else e["M"] * groups
    entry: dict[str, object] = {
        "name": nest.name,
        "size_tensor_A": [e["N"], c_in, rows, cols],
        "size_tensor_B": [m_filters, e["C"], e["Fx"], e["Fy"]],
        "strides": list(nest.stride),
        "instances": nest.instances,
    }
    if nest.op == "GROUP_CONV":
        entry["groups"] = groups
    if (dil_x, dil_y) != (1, 1):  # not in the seed's layout; dmz-solver's reader takes it
        entry["dilations"] = [dil_x, dil_y]
    return entry


def _window_dim(nest: LoopNest, out_loop: str, window_loop: str) -> tuple[int, int]:
    """(size, window coefficient) of the input dimension that the output loop slides along."""
    o, f = nest.loop(out_loop), nest.loop(window_loop)
    for dim in nest.operands[1].dims:
        terms = dict(dim.terms)
        if o in terms or f in terms:
            return dim.size, terms.get(f, 1)
    raise ValueError(f"layer {nest.name}: no input dimension is indexed by {out_loop} or {window_loop}")
