"""The network floors of docs/lower-bounds.md §1c, priced by hand, and what they do to CP-SAT's bound on a layer
whose optimum they decide. (tests/test_bound_soundness.py checks them against exact values on random tilings of every
shipped arch and of random networks.)"""

from __future__ import annotations

from dmz_solver.arch import load_arch
from dmz_solver.problem import Problem
from dmz_solver.search.cpsat_model import cpsat_supply
from dmz_solver.search.exhaustive import TaskSearch, exhaustive_search
from dmz_solver.search.floors import delivery_energy, distribution_floor, space_floors
from dmz_solver.vocabulary import Objective
from dmz_solver.workload.templates import gemm_nest

FC = gemm_nest("fc", x=1, y=64, k=96)
"""A fully connected layer at batch 1: output C 1 x 64, input A 1 x 96, weights B 96 x 64, each weight used once."""


def test_the_distribution_floor_is_the_busiest_operand_over_its_ports_and_bandwidth() -> None:
    # seed bus: one port, one element a cycle; the 6,144 weights decide
    assert distribution_floor(Problem(FC, load_arch("dmazerunner"))) == 96 * 64
    # edge_8x8's global bus carries an element every other cycle
    assert distribution_floor(Problem(FC, load_arch("edge_8x8"))) == 96 * 64 / 0.5
    # tpu_like: 16 x 16 systolic chains, weights down the 16 columns, inputs along the 16 rows
    assert distribution_floor(Problem(FC, load_arch("tpu_like"))) == 96 * 64 / 16


def test_the_delivery_energy_charges_every_touched_element_once_at_its_networks_energy() -> None:
    touched = 1 * 64 + 1 * 96 + 96 * 64
    assert delivery_energy(Problem(FC, load_arch("dmazerunner"))) == 2.0 * touched  # communication_energy 2 pJ
    assert delivery_energy(Problem(FC, load_arch("tpu_like"))) == 0.06 * touched  # every network's own 0.06 pJ


def test_cpsat_bounds_a_layer_its_weights_decide_within_its_log_rounding() -> None:
    """Every weight crosses the seed's bus once, one a cycle: the exhaustive cycle optimum is 6,145 cycles, and
    CP-SAT's bound, which was MACs / PEs (24 cycles) or the DMA floor before §1c, is within its log rounding (at most
    0.2%) of it."""
    for arch, weights_time in (("dmazerunner", 6144), ("edge_8x8", 12288)):
        problem = Problem(FC, load_arch(arch))
        optimum = exhaustive_search(problem).best[Objective.CYCLES].value
        floors = space_floors(problem, TaskSearch(problem).tables.tiles)
        bound = cpsat_supply(problem, Objective.CYCLES, floors=floors).lower_bound
        assert optimum == weights_time + 1
        assert 0.998 * weights_time <= bound <= optimum
