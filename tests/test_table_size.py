"""The layer tables are sized by the reuse representatives they hold, not by every candidate order."""

from __future__ import annotations

from dmz_solver.arch import load_arch
from dmz_solver.problem import Problem
from dmz_solver.search.exhaustive import TaskSearch
from dmz_solver.search.tables import MAX_TABLE_BYTES, build_tables, table_bytes
from dmz_solver.workload.templates import conv_nest


def test_a_layer_with_many_candidate_orders_but_few_representatives_gets_its_tables() -> None:
    """EfficientNetV2-M's `features.2.1.fused` at 480x480 (48 to 192 channels, 120 x 120, 3 x 3): 25 candidate orders
    but at most 9 reuse representatives a tuple. Sized as if every tuple held every candidate, its tables came to
    1,096 MiB, over the 1 GiB cap, and the layer fell back to the per-tiling search: 963 s for EDP on `dmazerunner`,
    against 0.8 s with the tables."""
    nest = conv_nest("fused", n=1, m=192, c=48, in_rows=122, in_cols=122, f_rows=3, f_cols=3, stride=(1, 1))
    problem = Problem(nest, load_arch("dmazerunner"))
    search = TaskSearch(problem)
    ncand, nops = problem.arrays.cands.shape[0], problem.arrays.isidx.shape[0]
    assert table_bytes(search.ndivs, ncand, ncand, nops, apart=False) > MAX_TABLE_BYTES
    assert search.tables is not None
    width = search.tables.levels.reps.shape[1]
    assert width == 9
    tables = search.tables
    held = sum(a.nbytes for part in (tables.levels, tables.tiles) for a in part)
    held += tables.rf.nbytes + tables.pe_energy.nbytes
    assert held <= table_bytes(search.ndivs, width, width, nops, apart=False) <= MAX_TABLE_BYTES


def test_the_tables_of_a_layer_over_the_cap_are_not_built() -> None:
    """The same count decides the other way when the cap is below what the tables need: no tables (the per-tiling
    search takes over), and nothing of their size allocated."""
    nest = conv_nest("fused", n=1, m=64, c=16, in_rows=30, in_cols=30, f_rows=3, f_cols=3, stride=(1, 1))
    search = TaskSearch(Problem(nest, load_arch("dmazerunner")))
    assert search.tables is not None
    allowed = search.problem.compiled.allowed_inner
    arrays = search.problem.arrays
    held = sum(a.nbytes for part in (search.tables.levels, search.tables.tiles) for a in part)
    assert build_tables(search.space, arrays, allowed[1], allowed[0], 1.0, held // 2) is None
    assert build_tables(search.space, arrays, allowed[1], allowed[0], 1.0, 2 * held) is not None
