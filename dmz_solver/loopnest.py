"""Loop nests: the loops of a layer, their extents, and the affine accesses of its operands.

A `LoopNest` is the one description of a workload that every later stage reads. Each
operand dimension is an affine function of the loop variables (for example `ox*S + fx`),
so the footprint of any tile, the loops that index an operand and the row-major DMA
layout all derive from the same coefficients (docs/cost-model.md §1.4-§1.6).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

OP_CLASSES: tuple[str, ...] = ("CONV", "DW_CONV", "GROUP_CONV", "GEMM", "BATCH_GEMM")


@dataclass(frozen=True)
class TensorDim:
    """One dimension of an operand: index = sum of coefficient * loop variable, and its size."""

    terms: tuple[tuple[int, int], ...]  # (loop position, coefficient), coefficients > 0
    size: int

    def extent(self, loop_extents: tuple[int, ...] | list[int]) -> int:
        """Distinct indices touched when each loop i runs over `loop_extents[i]` values."""
        return 1 + sum(coef * (loop_extents[loop] - 1) for loop, coef in self.terms)


@dataclass(frozen=True)
class Operand:
    """A tensor of the loop nest and how the loops index it."""

    name: str
    dims: tuple[TensorDim, ...]
    is_output: bool
    index_loops: tuple[int, ...]
    """idx(op): loops of extent > 1 that index it, by decreasing row-major coefficient (§1.4)."""

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(dim.size for dim in self.dims)

    def footprint(self, loop_extents: tuple[int, ...] | list[int]) -> int:
        """D(op, e): distinct elements touched by a tile with these loop extents (§1.5)."""
        return math.prod(dim.extent(loop_extents) for dim in self.dims)


@dataclass(frozen=True)
class LoopNest:
    """A perfectly nested layer: loops in canonical order, extents, operands (output first)."""

    name: str
    op: str
    loops: tuple[str, ...]
    extents: tuple[int, ...]
    operands: tuple[Operand, ...]
    instances: int = 1
    stride: tuple[int, ...] = ()
    groups: int = 1
    window_loops: tuple[int, ...] = field(default=())
    """Loops that slide a window over an input (Fx, Fy): the seed's no-feature-DRAM knob keys on them."""

    @property
    def macs(self) -> int:
        return math.prod(self.extents)

    @property
    def output(self) -> Operand:
        return self.operands[0]

    def loop(self, name: str) -> int:
        return self.loops.index(name)

    def reduction_loops(self) -> tuple[int, ...]:
        """Loops that do not index the output: unrolling them spatially needs a reduction."""
        out = self.output
        return tuple(i for i in range(len(self.loops)) if not _indexes(out, i))

    def not_indexing(self, operand: Operand) -> tuple[int, ...]:
        """inv(op): loops outside idx(op), including extent-1 loops, in reverse default order (§1.4)."""
        return tuple(i for i in reversed(range(len(self.loops))) if i not in operand.index_loops)

    def dims_summary(self) -> dict[str, object]:
        """The `dims` object of the result JSON (docs/formats.md)."""
        dims: dict[str, object] = dict(zip(self.loops, self.extents, strict=True))
        if self.op in ("CONV", "DW_CONV", "GROUP_CONV"):
            dims.pop("G", None)
            if self.op == "GROUP_CONV":
                dims["G"] = self.groups
            sy, sx = self.stride if len(self.stride) == 2 else (1, 1)
            dims["stride"] = sy if sy == sx else [sy, sx]
        return dims


def _indexes(operand: Operand, loop: int) -> bool:
    return any(term_loop == loop for dim in operand.dims for term_loop, _ in dim.terms)


def make_operand(
    name: str,
    dims: list[tuple[dict[int, int], int]],
    extents: tuple[int, ...],
    *,
    is_output: bool,
) -> Operand:
    """Build an operand from per-dimension {loop: coefficient} maps and sizes.

    idx(op) keeps the loops of extent > 1 sorted by decreasing coefficient of the
    row-major flattened offset; equal coefficients keep the canonical loop order (§1.4).
    """
    tensor_dims = tuple(
        TensorDim(tuple(sorted((loop, coef) for loop, coef in terms.items() if coef)), size) for terms, size in dims
    )
    flat: dict[int, int] = {}
    row_stride = 1
    for dim in reversed(tensor_dims):
        for loop, coef in dim.terms:
            flat[loop] = flat.get(loop, 0) + coef * row_stride
        row_stride *= dim.size
    index_loops = tuple(loop for loop in sorted(flat, key=lambda lp: (-flat[lp], lp)) if extents[loop] > 1)
    return Operand(name, tensor_dims, is_output, index_loops)


@functools.lru_cache(maxsize=256)
def touched_elements(operand: Operand, extents: tuple[int, ...], dims: int | None = None) -> int:
    """Distinct elements of an operand the whole loop nest reads or writes (with `dims`: distinct index tuples of its
    first `dims` dimensions, the outermost ones).

    Smaller than the footprint box when a stride skips elements (a 1x1 filter with stride 2).
    Each dimension counts the distinct values of its index; with dimensions indexed by
    disjoint loops the counts multiply, otherwise the largest one is still a lower bound.
    A dimension indexed by one loop has as many values as the loop's extent; the others are counted.
    """
    counts = []
    for dim in operand.dims[:dims]:
        terms = [(loop, coef) for loop, coef in dim.terms if coef != 0 and extents[loop] > 1]
        if len(terms) <= 1:
            counts.append(extents[terms[0][0]] if terms else 1)
            continue
        values = np.zeros(1, np.int64)
        for loop, coef in terms:
            values = np.unique(np.add.outer(values, coef * np.arange(extents[loop], dtype=np.int64)).ravel())
        counts.append(len(values))
    if not counts:
        return 1
    loops = [loop for dim in operand.dims[:dims] for loop, _ in dim.terms]
    return math.prod(counts) if len(loops) == len(set(loops)) else max(counts)


def touched_total(nest: LoopNest) -> int:
    """Distinct elements of all the nest's operands together: each crosses DRAM at least once."""
    return sum(touched_elements(op, tuple(nest.extents)) for op in nest.operands)
