"""`arch --draw`: one readable panel per role's network, of bounded size, whose labels are the arch's numbers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from matplotlib.collections import PatchCollection
from matplotlib.text import Annotation
from PIL import Image

from dmz_solver.arch import load_arch
from dmz_solver.report.noc_plot import arch_figure, draw_arch

SHIPPED = ["dmazerunner", "eyeriss", "tpu_like", "edge_8x8"]
ROLES = ["input", "weight", "output", "reduction"]


@pytest.fixture(scope="module")
def panels() -> Iterator[dict[str, dict[str, plt.Axes]]]:
    """Each shipped arch's figure, its panels by role (figures closed at the end)."""
    figures = {name: arch_figure(load_arch(name)) for name in SHIPPED}
    yield {name: dict(zip(ROLES, fig.axes, strict=True)) for name, fig in figures.items()}
    for fig in figures.values():
        plt.close(fig)


def texts(ax: plt.Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


def pes_drawn(ax: plt.Axes) -> int:
    return sum(len(c.get_paths()) for c in ax.collections if isinstance(c, PatchCollection))


def arrows(ax: plt.Axes) -> int:
    return sum(isinstance(child, Annotation) for child in ax.get_children())


@pytest.mark.parametrize("name", SHIPPED)
def test_the_drawing_has_one_panel_per_role_and_a_bounded_size(tmp_path: Path, name: str) -> None:
    path = draw_arch(load_arch(name), tmp_path / f"{name}.png")
    width, height = Image.open(path).size
    assert 800 <= width <= 2000 and 600 <= height <= 2000, (width, height)
    fig = arch_figure(load_arch(name))
    assert [ax.get_title().split(" ")[0].rstrip(":") for ax in fig.axes] == ROLES
    assert name in fig.get_suptitle()
    plt.close(fig)


def test_a_long_array_is_elided_not_drawn_pe_by_pe(panels: dict) -> None:
    """dmazerunner's 1 x 256 array: 7 PEs drawn (0-5 and 255) with an ellipsis, one bus box, no fan of edges."""
    for ax in panels["dmazerunner"].values():
        assert pes_drawn(ax) == 7
        assert "…" in texts(ax) and {"0", "5", "255"} <= set(texts(ax))
        assert len(ax.lines) == 0
    assert "one bus reaches all 256 PEs" in panels["dmazerunner"]["input"].get_xlabel()
    assert "1 element/cycle, 2 pJ per element delivered" in panels["dmazerunner"]["input"].get_xlabel()


def test_eyeriss_draws_one_bus_per_row_once_per_role(panels: dict) -> None:
    """Row-segmented buses: a global line and 12 row lines in each distribution panel, labelled x12."""
    for role in ("input", "weight", "output"):
        ax = panels["eyeriss"][role]
        assert pes_drawn(ax) == 12 * 14
        assert len(ax.lines) == 1 + 12
        assert "×12" in texts(ax) and "SPM" in texts(ax)
        assert "12 row buses of 14 PEs each: 4 elements/cycle" in ax.get_xlabel()
        assert "4 elements/cycle, 2 pJ per element delivered" in ax.get_xlabel()
    reduction = panels["eyeriss"]["reduction"]
    assert "14 chains along the columns, 12 PEs each" in reduction.get_xlabel()
    assert arrows(reduction) == 14 * 11  # neighbour links only: partial sums do not go to the SPM
    assert "SPM" not in texts(reduction)


def test_tpu_like_draws_each_roles_chains_in_its_own_panel(panels: dict) -> None:
    """Inputs along the rows, weights and outputs along the columns: 16 chains of 16 links each (with the entry)."""
    tpu = panels["tpu_like"]
    assert "16 chains along the rows" in tpu["input"].get_xlabel()
    assert "16 chains along the columns" in tpu["weight"].get_xlabel()
    for role in ("input", "weight", "output"):
        assert arrows(tpu[role]) == 16 * 16
        assert "0.06 pJ per hop, 1 cycle per hop" in tpu[role].get_xlabel()
        assert "×16" in texts(tpu[role])
    assert arrows(tpu["reduction"]) == 16 * 15


def test_edge_8x8_draws_a_bus_per_pe_group(panels: dict) -> None:
    for ax in panels["edge_8x8"].values():
        assert (
            "4 PE group buses of 16 PEs each: 1 element/cycle, 1 pJ per element to or from the bus" in ax.get_xlabel()
        )
        assert "0.5 elements/cycle" in ax.get_xlabel()
        assert "×4" in texts(ax)
        assert pes_drawn(ax) == 64


@pytest.mark.parametrize("suffix", ["svg", "pdf"])
def test_the_drawing_is_written_as_svg_and_pdf(tmp_path: Path, suffix: str) -> None:
    arch = load_arch("eyeriss")
    first = draw_arch(arch, tmp_path / f"a.{suffix}").read_bytes()
    again = draw_arch(arch, tmp_path / f"b.{suffix}").read_bytes()
    assert first.startswith(b"<?xml" if suffix == "svg" else b"%PDF") and first == again
