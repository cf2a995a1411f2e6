"""Plain-text tables and blocks that the commands print: layers, tilings, mappings, results and summaries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..vocabulary import BREAKDOWN, LEVELS, Status, relative_gap

if TYPE_CHECKING:
    from ..cost.evaluate import Cost
    from ..loopnest import LoopNest
    from ..problem.mapping import Mapping
    from ..result import LayerResult, ModelResult, Proof, ProofProgress


EXACT_DIGITS_BELOW = 2.0**53
"""Energies are doubles: below 2^53 every whole pJ is exact and printed; above, only the scientific form is."""


def escaped(text: str) -> str:
    """`text` on one line: each character that does not print (newline, tab, other controls) as its backslash
    escape (`\\n`, `\\x07`). Layer and model names are shown through it; they are read as given."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    """A plain text table; `align` has one 'l' or 'r' per column (default: first left, the others right).
    Cells are `escaped`, so a name with a newline keeps the table's rows."""
    align = align or "l" + "r" * (len(header) - 1)
    rows = [[escaped(str(c)) for c in row] for row in rows]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [str(c).ljust(w) if a == "l" else str(c).rjust(w) for c, w, a in zip(row, widths, align, strict=True)]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def dims_text(nest: LoopNest) -> str:
    """The loop extents as `N=1 M=64 ...`, without the stride."""
    return " ".join(f"{k}={v}" for k, v in nest.dims_summary().items() if k != "stride")


def stride_text(nest: LoopNest) -> str:
    """The stride as `2` or `2x1`, or '-' for a layer without one."""
    stride = nest.dims_summary().get("stride")
    if stride is None:
        return "-"
    return "x".join(map(str, stride)) if isinstance(stride, list) else str(stride)


def layer_head(nest: LoopNest) -> str:
    """The first line of a layer's block: name, op, extents, stride and instances."""
    stride = f" stride={stride_text(nest)}" if "stride" in nest.dims_summary() else ""
    return f"Layer {escaped(nest.name)}: {nest.op} {dims_text(nest)}{stride} instances={nest.instances}"


def format_tiling(nest: LoopNest, mapping: Mapping) -> str:
    """The factors per level as a table: one row per level (outermost first), one column per loop."""
    rows = [[level, *map(str, factors)] for level, factors in zip(LEVELS, mapping.factors, strict=True)]
    if mapping.spatial_rows is not None:  # the spatial factors split over the PE rows and columns
        rows.append(["  rows", *map(str, mapping.spatial_rows)])
        rows.append(["  cols", *map(str, mapping.spatial_cols or ())])
    return format_table(["level", *nest.loops], rows)


def format_mapping_block(nest: LoopNest, mapping: Mapping, cost: Cost, order_note: str = "") -> str:
    """A layer's header, tiling table, orders, cycles, energy, EDP and energy breakdown."""

    lines = [layer_head(nest)]
    lines += ["  " + row for row in format_tiling(nest, mapping).splitlines()]
    note = f"  ({order_note})" if order_note else ""
    lines.append(f"  DRAM order (outer to inner): {' '.join(mapping.dram_order or ())}{note}")
    lines.append(f"  SPM order  (outer to inner): {' '.join(mapping.spm_order or ())}")
    lines.append(f"  cycles        {int(cost.cycles)}")
    exact = f"{int(cost.energy_pj)}  " if cost.energy_pj < EXACT_DIGITS_BELOW else ""  # beyond, digits mean nothing
    lines.append(f"  energy (pJ)   {exact}({sci(cost.energy_pj)})")
    lines.append(f"  EDP           {sci(cost.edp)}")
    total = sum(cost.breakdown_pj) or 1.0
    parts = [
        f"{name} {value:.4E} pJ ({100 * value / total:.1f}%)"
        for name, value in zip(BREAKDOWN, cost.breakdown_pj, strict=True)
    ]
    lines.append("  breakdown     " + "  ".join(parts))
    return "\n".join(lines)


def proof_text(proof: Proof, value: float) -> str:
    """One line on how a result was proven: the root bound, the work and the seconds of each phase."""
    gap = proof.root_gap(value)
    root = "no CP-SAT bound" if proof.root_bound is None else f"CP-SAT bound {sci(proof.root_bound)}"
    if gap is not None:
        root += f" (gap {percent(gap)})"
    phases = ", ".join(f"{phase} {seconds:.2f} s" for phase, seconds in proof.seconds.items())
    return (
        f"{root}; rescored {proof.candidates_rescored} candidate(s), evaluated {proof.tilings_evaluated:,} tilings, "
        f"pruned {proof.pruned:,} blocks, nodes and SPM tiles in {proof.rounds} round(s); {phases}"
    )


def format_layer_result(result: LayerResult) -> str:
    """One layer's result as `solve` prints it: the mapping block and what is proven, or why there is none."""
    nest = result.nest
    if result.mapping is None or result.cost is None:
        why = result.reason or f"no valid mapping (search {result.search})"
        return f"{layer_head(nest)}\n  status {result.status}: {why}\n"
    block = format_mapping_block(nest, result.mapping, result.cost)
    tail = [
        f"  status        {result.status} (objective {result.objective}, search {result.search})"
        + (", from the layer cache" if result.cached else ""),
        f"  lower bound   {sci(result.lower_bound)}  gap {percent(result.gap)}",
        f"  tilings evaluated {result.tilings_evaluated}, {result.seconds:.2f} s",
    ]
    if result.proof is not None:
        tail.append(f"  proof         {proof_text(result.proof, result.value)}")
    if result.unrestricted is not None:
        tail.append(f"  unrestricted  {unrestricted_text(result)}")
    return block + "\n" + "\n".join(tail) + "\n"


def unrestricted_text(result: LayerResult) -> str:
    """The whole space's optimum beside a restricted result, and how far above its bound the result lies."""
    free = result.unrestricted
    assert free is not None
    gap = relative_gap(result.value, free.lower_bound)
    return (
        f"{sci(free.value)} ({free.status} without knobs or constraint files), bound {sci(free.lower_bound)}, "
        f"gap of this result to that bound {percent(gap)}"
    )


def format_summary(result: ModelResult) -> str:
    """The model summary: one row per layer, then totals that count each layer `instances` times."""
    rows = []
    for r in result.layers:
        cost = r.cost
        rows.append(
            [
                r.nest.name,
                r.nest.op,
                str(r.nest.instances),
                r.status,
                str(int(cost.cycles)) if cost else "-",
                sci(cost.energy_pj) if cost else "-",
                sci(cost.edp) if cost else "-",
                percent(r.gap),
                f"{r.seconds:.2f}",
            ]
        )
    totals = result.totals()
    rows.append(
        [
            f"total ({totals['layers']} layers)",
            "",
            str(totals["layers"]),
            Status.OPTIMAL if totals["all_optimal"] else "-",
            str(totals["cycles"]),
            sci(totals["energy_pj"]),
            sci(totals["edp"]),
            "",
            f"{result.seconds:.2f}",
        ]
    )
    header = ["layer", "op", "instances", "status", "cycles", "energy (pJ)", "EDP", "gap", "seconds"]
    title = f"Summary of {result.model} on {result.arch} (objective {result.objective}; totals count instances"
    unmapped = sum(1 for r in result.layers if r.cost is None)
    title += f"; the {unmapped} layer(s) without a mapping are not in them)" if unmapped else ")"
    return title + "\n" + format_table(header, rows, align="llrlrrrrr")


def progress_text(name: str, progress: ProofProgress) -> str:
    """A running proof in one line, as `solve` shows it on a terminal: elapsed time, best value, bound and gap."""
    best, bound = progress.incumbent, max(progress.bound, 0.0)
    gap = percent(relative_gap(best, bound))
    return f"{escaped(name)} {progress.seconds:.1f} s: best {sci(best)}, bound {sci(bound)}, gap {gap}"


def sci(value: float | None) -> str:
    """A figure as `1.2345E+06`, or '-' when unknown or infinite."""
    return "-" if value is None or not math.isfinite(value) else f"{value:.4E}"


def percent(value: float) -> str:
    """A fraction as `12.34%`, or '-' when infinite (no bound)."""
    return "-" if not math.isfinite(value) else f"{100 * value:.2f}%"
