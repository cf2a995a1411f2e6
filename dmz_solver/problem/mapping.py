"""Mappings: tiling factors per level and the DRAM/SPM loop orders, as plain data (docs/formats.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..loopnest import LoopNest
from ..specio import Fields, json_text
from ..vocabulary import LEVELS, ORDER_LEVELS


@dataclass(frozen=True)
class Mapping:
    """Factors per level (DRAM, SPM, RF, SPATIAL) over the loops, and optional orders (outer to inner).

    On an array with several PE rows, spatial_rows gives the part of each spatial factor unrolled
    over the rows; the rest goes over the columns (None: not chosen, or a one-row array).
    """

    loops: tuple[str, ...]
    factors: tuple[tuple[int, ...], ...]
    dram_order: tuple[str, ...] | None = None
    spm_order: tuple[str, ...] | None = None
    spatial_rows: tuple[int, ...] | None = None

    @classmethod
    def from_array(
        cls, loops: tuple[str, ...], tiling: np.ndarray, orders: tuple | None = None, rows: np.ndarray | None = None
    ) -> Mapping:
        factors = tuple(tuple(int(f) for f in row) for row in tiling)
        dram, spm = orders if orders else (None, None)
        return cls(loops, factors, dram, spm, None if rows is None else tuple(int(r) for r in rows))

    @property
    def spatial_cols(self) -> tuple[int, ...] | None:
        if self.spatial_rows is None:
            return None
        return tuple(f // r for f, r in zip(self.factors[3], self.spatial_rows, strict=True))

    def array(self) -> np.ndarray:
        """The (4 x loops) int64 tiling the kernels take."""
        return np.array(self.factors, np.int64)

    def with_orders(self, dram: tuple[str, ...], spm: tuple[str, ...]) -> Mapping:
        return Mapping(self.loops, self.factors, dram, spm, self.spatial_rows)

    def with_rows(self, rows: tuple[int, ...] | None) -> Mapping:
        return Mapping(self.loops, self.factors, self.dram_order, self.spm_order, rows)

    def to_json(self) -> dict:
        out: dict = {
            "loops": list(self.loops),
            "tiling": {lv: list(f) for lv, f in zip(LEVELS, self.factors, strict=True)},
        }
        if self.dram_order is not None and self.spm_order is not None:
            out["order"] = {"DRAM": list(self.dram_order), "SPM": list(self.spm_order)}
        if self.spatial_rows is not None:
            out["array"] = {"rows": list(self.spatial_rows), "cols": list(self.spatial_cols or ())}
        return out


def mapping_from_json(obj: object, nest: LoopNest, *, source: str) -> Mapping:
    """Read and check a mapping JSON object for a given layer."""
    top = Fields(obj, source, "")
    _refuse_whole_results(top, nest)
    top.reject_unknown({"loops", "tiling", "order", "array"})
    loops = top.obj.get("loops", list(nest.loops))
    if loops != list(nest.loops):
        raise top.error("loops", f"expected {list(nest.loops)} for layer {nest.name}, got {json_text(loops)}")
    tiling = top.child("tiling")
    tiling.reject_unknown(set(LEVELS))
    factors = tuple(tuple(tiling.int_list(level, len(nest.loops))) for level in LEVELS)
    for i, (loop, extent) in enumerate(zip(nest.loops, nest.extents, strict=True)):
        product = math.prod(level[i] for level in factors)
        if product != extent:
            raise tiling.error(loop, f"factors of loop {loop} multiply to {product}, its extent is {extent}")
    orders: list[tuple[str, ...] | None] = [None, None]
    if "order" in top.obj:
        order = top.child("order")
        order.reject_unknown(set(ORDER_LEVELS))
        for j, level in enumerate(ORDER_LEVELS):
            if level not in order.obj:
                raise order.error(level, "missing field (an order gives both DRAM and SPM)")
            names = order.obj[level]
            if not isinstance(names, list) or sorted(map(str, names)) != sorted(nest.loops):
                raise order.error(level, f"expected a permutation of {list(nest.loops)}, got {json_text(names)}")
            orders[j] = tuple(names)
    rows = None
    if "array" in top.obj:
        array = top.child("array")
        array.reject_unknown({"rows", "cols"})
        rows = tuple(array.int_list("rows", len(nest.loops)))
        cols = tuple(array.int_list("cols", len(nest.loops), [f // r for f, r in zip(factors[3], rows, strict=True)]))
        for loop, f, r, c in zip(nest.loops, factors[3], rows, cols, strict=True):
            if r * c != f:
                wrong = "cols" if "cols" in array.obj and f % r == 0 else "rows"
                raise array.error(wrong, f"loop {loop}: {r} rows x {c} columns is not its spatial factor {f}")
    return Mapping(tuple(nest.loops), factors, orders[0], orders[1], rows)


def _refuse_whole_results(top: Fields, nest: LoopNest) -> None:
    """A result JSON (`solve --json`) or an evaluation JSON given where one mapping is expected: say where it is."""
    if "tiling" in top.obj:
        return
    if isinstance(top.obj.get("layers"), list):
        names = [layer.get("name") if isinstance(layer, dict) else None for layer in top.obj["layers"]]
        where = f"layers[{names.index(nest.name)}].mapping" if nest.name in names else "layers[i].mapping"
        raise top.error(
            "layers",
            f"this is a result JSON, not a mapping: --mapping takes one layer's mapping object; save {where} "
            f"(layer {nest.name}) as a file of its own",
        )
    if isinstance(top.obj.get("mapping"), dict):
        raise top.error(
            "mapping", "this is an evaluation JSON, not a mapping: --mapping takes its 'mapping' object, saved alone"
        )
