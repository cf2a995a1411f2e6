"""The drawing of an arch: its PE array as a grid, one panel per role's network, numbers from the spec.

Each panel shows one network as an architect sketches it: the SPM port as a bar, a bus as one line
(or one box around the PEs it reaches), a segment bus per row, column or PE group, systolic chains as
arrows between neighbours; arrows point the way the data flows. Repeated structure is drawn once per
row, column or group, and an axis longer than noc_layout.MAX_DRAWN PEs is elided. The caption of each
panel gives its bandwidths, energies and latencies; the title gives the PE array, the memories and
the energies per access.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.patches import FancyBboxPatch, Rectangle  # noqa: E402

from ..arch import Arch  # noqa: E402
from ..noc.graph import group_of  # noqa: E402
from ..noc.spec import BUS, REDUCTION, NocSpec  # noqa: E402
from .noc_layout import Axis, Facts, array_axis, caption, network_facts  # noqa: E402
from .output import write_figure  # noqa: E402

ROLE_COLOURS = {"input": "#4c72b0", "weight": "#55a868", "output": "#c44e52", REDUCTION: "#8172b2"}
PE_COLOUR = "#f4f4f4"
PE_HALF = 0.3  # half the side of a PE's square, in PE pitches
ROLE_TITLES = {
    "input": "input (GEMM: A): SPM to PEs",
    "weight": "weight (GEMM: B): SPM to PEs",
    "output": "output (GEMM: C): results to the SPM, partial sums back",
    REDUCTION: "reduction: partial sums from PE to PE",
}
PANEL_ORDER = ("input", "weight", "output", REDUCTION)
INCH_PER_PITCH = 0.3  # one PE pitch on paper
MIN_PANEL_INCHES = 6.6  # room for the caption
DPI = 110

# Positions in PE pitches, relative to PE (0, 0) at the origin, rows downwards.
SPM_Y = 1.9  # bottom of the SPM bar above the array
GLOBAL_Y = 1.15  # a global bus line above the array
GLOBAL_X = -1.35  # a global bus line left of the array
LEFT = -3.0  # left edge of every panel
RIGHT_MARGIN = 1.5  # room for the "×12" labels

Point = tuple[float, float]


@dataclass(frozen=True)
class Grid:
    """The drawn PEs: column and row axes, and the groups they fall in."""

    spec: NocSpec
    cols: Axis
    rows: Axis

    @property
    def right(self) -> float:
        return self.cols.extent + 0.5

    @property
    def bottom(self) -> float:
        return -self.rows.extent - 0.5

    def pes(self) -> list[tuple[int, int, float, float]]:
        """(row, column, x, y) of every drawn PE."""
        return [(r, c, x, -y) for r, y in self.rows.drawn() for c, x in self.cols.drawn()]

    def group_boxes(self) -> list[tuple[float, float, float, float]]:
        """(left, bottom, right, top) around the drawn PEs of each PE group."""
        boxes: dict[int, list[tuple[float, float]]] = {}
        for r, c, x, y in self.pes():
            boxes.setdefault(group_of(self.spec, r, c), []).append((x, y))
        return [
            (
                min(x for x, _ in p) - 0.45,
                min(y for _, y in p) - 0.45,
                max(x for x, _ in p) + 0.45,
                max(y for _, y in p) + 0.45,
            )
            for _, p in sorted(boxes.items())
        ]


def arch_figure(arch: Arch) -> plt.Figure:
    """The figure: a title with the arch's array, memories and energies; one panel per role."""
    spec = arch.noc
    grid = Grid(spec, array_axis(spec.cols, spec.group_cols), array_axis(spec.rows, spec.group_rows))
    xlim = (LEFT, grid.right + RIGHT_MARGIN)
    ylim = (grid.bottom - (0.6 if grid.cols.elided else 0.2), SPM_Y + 0.9)  # room for the indices under an elided row
    panel_width = max(MIN_PANEL_INCHES, (xlim[1] - xlim[0]) * INCH_PER_PITCH)
    panel_height = (ylim[1] - ylim[0]) * panel_width / (xlim[1] - xlim[0]) + 1.2  # and the title and caption
    fig, axes = plt.subplots(2, 2, figsize=(2 * panel_width + 0.4, 2 * panel_height + 0.8), layout="constrained")
    for ax, role in zip(axes.flat, PANEL_ORDER, strict=True):
        _panel(ax, grid, network_facts(arch, role))
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
    fig.suptitle(_title(arch), fontsize=10)
    return fig


def draw_arch(arch: Arch, path: str | Path) -> Path:
    """Draw the arch to `path`, a .png, .svg or .pdf file."""
    fig = arch_figure(arch)
    try:
        return write_figure(fig, path, dpi=DPI)
    finally:
        plt.close(fig)


def _title(arch: Arch) -> str:
    spec = arch.noc
    groups = spec.rows * spec.cols // (spec.group_rows * spec.group_cols)
    grouped = f" in {groups} groups of {spec.group_rows} x {spec.group_cols}" if groups > 1 else ""
    return (
        f"{arch.name}: {spec.rows} x {spec.cols} PEs{grouped}; RF {arch.rf_bytes} B per PE; "
        f"SPM {arch.spm_banks} banks x {arch.spm_bank_bytes} B (double-buffered)\n"
        f"energy per access: MAC {arch.mac_energy_pj:g} pJ, RF {arch.rf_energy_pj:g} pJ, "
        f"SPM {arch.spm_energy_pj:g} pJ, DRAM {arch.dram_energy_pj:g} pJ; networks below"
    )


def _panel(ax: plt.Axes, grid: Grid, facts: Facts) -> None:
    colour = ROLE_COLOURS[facts.role]
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(ROLE_TITLES[facts.role], fontsize=9, color=colour, fontweight="bold")
    ax.set_xlabel(caption(facts), fontsize=8, linespacing=1.5)
    if len(grid.group_boxes()) > 1 and facts.net.segments != "groups":
        for left, bottom, right, top in grid.group_boxes():
            ax.add_patch(Rectangle((left, bottom), right - left, top - bottom, fill=False, ls=":", ec="#999999"))
    with_spm = facts.role != REDUCTION
    if facts.net.kind == BUS:
        _bus(ax, grid, facts, colour, with_spm)
    else:
        _systolic(ax, grid, facts, colour, with_spm)
    _pes(ax, grid)


def _spm_bar(ax: plt.Axes, grid: Grid, *, left_side: bool) -> None:
    """The SPM port: a bar above the array, or left of it for chains along the rows."""
    if left_side:
        box = (LEFT + 0.15, grid.bottom + 0.1, 0.55, 0.4 - grid.bottom - 0.1)
        text_at, rotation = (LEFT + 0.425, grid.bottom / 2), 90
    else:
        box = (GLOBAL_X - 0.3, SPM_Y, grid.right - GLOBAL_X + 0.3, 0.55)
        text_at, rotation = ((GLOBAL_X + grid.right) / 2, SPM_Y + 0.275), 0
    ax.add_patch(Rectangle(box[:2], box[2], box[3], fc="#333333", ec="none", zorder=2))
    ax.text(*text_at, "SPM", color="white", ha="center", va="center", fontsize=7, rotation=rotation, zorder=3)


def _arrow(
    ax: plt.Axes, start: Point, end: Point, colour: str, style: str = "-|>", on_pe: tuple[bool, bool] = (False, False)
) -> None:
    """An arrow from `start` to `end`; an end on a PE (`on_pe`) stops at the edge of its square."""
    if on_pe[0]:
        start = _to_edge(start, end)
    if on_pe[1]:
        end = _to_edge(end, start)
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={"arrowstyle": style, "color": colour, "lw": 1.3, "shrinkA": 0, "shrinkB": 0, "mutation_scale": 9},
        zorder=2,
    )


def _to_edge(centre: Point, towards: Point) -> Point:
    """The point on the edge of the PE square at `centre` (a little outside) on the way to `towards`."""
    (x, y), (tx, ty) = centre, towards
    step = PE_HALF + 0.04
    return (x + step * ((tx > x) - (tx < x)), y + step * ((ty > y) - (ty < y)))


def _feed(ax: plt.Axes, at: Point, colour: str, role: str) -> None:
    """The link between the SPM bar and a bus: downwards for inputs, both ways for the output."""
    top = (at[0], SPM_Y)
    if role == "output":
        _arrow(ax, at, top, colour, "<|-|>")
    else:
        _arrow(ax, top, at, colour)


def _bus(ax: plt.Axes, grid: Grid, facts: Facts, colour: str, with_spm: bool) -> None:
    """A bus: one box around the array, or a global line with one line (or box) per segment."""
    segments = facts.net.segments if facts.segments else "none"
    line = {"color": colour, "lw": 2.6, "solid_capstyle": "butt", "zorder": 1}
    if with_spm:
        _spm_bar(ax, grid, left_side=False)
    if segments == "none":
        _shaded_box(ax, (-0.3, grid.bottom + 0.2), grid.right - 0.2, -grid.bottom + 0.1, colour, pad=0.2, alpha=0.18)
        ax.text(-0.45, 0.55, "bus", color=colour, fontsize=7, ha="left", va="bottom")
        if with_spm:
            _feed(ax, ((grid.right - 0.5) / 2, 0.55), colour, facts.role)
        return
    if segments == "rows":
        ys = [-y for _, y in grid.rows.drawn()]
        ax.plot([GLOBAL_X, GLOBAL_X], [GLOBAL_Y, ys[-1]], **line)
        for y in ys:
            ax.plot([GLOBAL_X, grid.right - 0.1], [y, y], **{**line, "lw": 2.0})
        _repeats(ax, f"×{facts.segments}", (grid.right + 0.15, (ys[0] + ys[-1]) / 2), colour)
    elif segments == "columns":
        xs = [x for _, x in grid.cols.drawn()]
        ax.plot([GLOBAL_X, xs[-1]], [GLOBAL_Y, GLOBAL_Y], **line)
        for x in xs:
            ax.plot([x, x], [GLOBAL_Y, grid.bottom + 0.1], **{**line, "lw": 2.0})
        _repeats(ax, f"×{facts.segments}", (grid.right + 0.15, grid.bottom / 2), colour)
    else:
        _group_buses(ax, grid, colour, line)
        _repeats(ax, f"×{facts.segments}", (grid.right + 0.15, grid.bottom / 2), colour)
    if with_spm:
        _feed(ax, (GLOBAL_X, GLOBAL_Y), colour, facts.role)
    ax.text(GLOBAL_X - 0.15, GLOBAL_Y + 0.1, "bus", color=colour, fontsize=7, ha="right", va="bottom")


def _group_buses(ax: plt.Axes, grid: Grid, colour: str, line: dict) -> None:
    """One box per PE group (its segment bus), fed from a global line above and beside the groups."""
    boxes = grid.group_boxes()
    lefts = sorted({round(b[0], 6) for b in boxes})
    ax.plot([GLOBAL_X, lefts[-1] - 0.35], [GLOBAL_Y, GLOBAL_Y], **line)
    for left in lefts:
        column = [b for b in boxes if round(b[0], 6) == left]
        x = left - 0.35
        lowest = min((b[1] + b[3]) / 2 for b in column)
        ax.plot([x, x], [GLOBAL_Y, lowest], **line)
        for b_left, bottom, right, top in column:
            ax.plot([x, b_left], [(bottom + top) / 2] * 2, **line)
            _shaded_box(ax, (b_left, bottom), right - b_left, top - bottom, colour, pad=0.05, alpha=0.2)


def _shaded_box(
    ax: plt.Axes, corner: tuple[float, float], width: float, height: float, colour: str, *, pad: float, alpha: float
) -> None:
    """A rounded, shaded box behind the PEs a bus reaches."""
    ax.add_patch(
        FancyBboxPatch(
            corner, width, height, boxstyle=f"round,pad={pad}", fc=colour, ec=colour, alpha=alpha, lw=2, zorder=1
        )
    )


def _repeats(ax: plt.Axes, text: str, at: Point, colour: str) -> None:
    """The label of a structure drawn once per row, column, group or chain: '×12'."""
    ax.text(*at, text, color=colour, fontsize=8, fontweight="bold", ha="left", va="center")


def _systolic(ax: plt.Axes, grid: Grid, facts: Facts, colour: str, with_spm: bool) -> None:
    """Chains of links between neighbours; arrows away from the port for inputs, towards it otherwise."""
    along_rows = facts.net.direction == "rows"
    outwards = facts.role in ("input", "weight")
    if with_spm:
        _spm_bar(ax, grid, left_side=along_rows)
    chains = grid.rows.drawn() if along_rows else grid.cols.drawn()
    steps = grid.cols if along_rows else grid.rows
    for _, across in chains:
        points = [(along, -across) if along_rows else (across, -along) for _, along in steps.drawn()]
        on_pe = [True] * len(points)
        if with_spm:
            points.insert(0, (LEFT + 0.7, -across) if along_rows else (across, SPM_Y))
            on_pe.insert(0, False)
        gap = steps.gap_position()
        for k, (start, end) in enumerate(zip(points, points[1:], strict=False)):
            if gap is not None and _between(gap, start, end, along_rows):
                ax.plot(*zip(start, end, strict=True), color=colour, ls=":", lw=1.3, zorder=1)
            elif outwards:
                _arrow(ax, start, end, colour, on_pe=(on_pe[k], True))
            else:
                _arrow(ax, end, start, colour, on_pe=(True, on_pe[k]))
    _repeats(ax, f"×{facts.chains}", (grid.right + 0.15, grid.bottom / 2), colour)


def _between(gap: float, start: Point, end: Point, along_rows: bool) -> bool:
    """Whether the link from `start` to `end` crosses the elided run at `gap`."""
    a, b = (start[0], end[0]) if along_rows else (-start[1], -end[1])
    return min(a, b) < gap < max(a, b)


def _pes(ax: plt.Axes, grid: Grid) -> None:
    """The PEs, ellipses where an axis is elided, and indices along an elided axis."""
    pes = grid.pes()
    squares = [Rectangle((x - PE_HALF, y - PE_HALF), 2 * PE_HALF, 2 * PE_HALF) for _, _, x, y in pes]
    ax.add_collection(PatchCollection(squares, facecolors=PE_COLOUR, edgecolors="#444444", linewidths=0.8, zorder=3))
    col_gap, row_gap = grid.cols.gap_position(), grid.rows.gap_position()
    if col_gap is not None:
        for _, y in grid.rows.drawn():
            ax.text(col_gap, -y, "…", ha="center", va="center", fontsize=9, zorder=3)
        for c, x in grid.cols.drawn():
            ax.text(x, grid.bottom - 0.15, str(c), ha="center", va="top", fontsize=6, color="#555555")
    if row_gap is not None:
        for _, x in grid.cols.drawn():
            ax.text(x, -row_gap, "⋮", ha="center", va="center", fontsize=9, zorder=3)
