"""Property: on random small layers and random archs across the valid ranges (energies 0..1e30, bandwidths
1e-6..1e6, DMA costs up to 1e12 cycles per byte), a solve is either refused up front or gives finite,
non-negative figures that respect the MAC and PE floors and agree with `evaluate` of its own mapping."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmz_solver.arch import arch_from_json
from dmz_solver.cost.evaluate import evaluate_mapping
from dmz_solver.errors import InputError
from dmz_solver.problem import Problem
from dmz_solver.solving import solve_layer
from dmz_solver.vocabulary import Status
from dmz_solver.workload.templates import conv_nest, gemm_nest

SEED_ARCH = json.loads((Path(__file__).resolve().parent.parent / "archspecs" / "dmazerunner.json").read_text())
ENERGY = st.one_of(st.just(0.0), st.floats(1e-3, 1e30))
EXTENT = st.sampled_from([1, 2, 3, 4, 6, 8, 12])


@st.composite
def layers(draw: st.DrawFn) -> object:
    if draw(st.booleans()):
        return gemm_nest("g", x=draw(EXTENT), y=draw(EXTENT), k=draw(EXTENT))
    f = draw(st.sampled_from([1, 3]))
    side = f - 1 + draw(st.sampled_from([1, 2, 4]))
    return conv_nest(
        "c", n=draw(st.sampled_from([1, 2])), m=draw(EXTENT), c=draw(EXTENT), in_rows=side, in_cols=side,
        f_rows=f, f_cols=f, stride=(1, 1),
    )  # fmt: skip


@st.composite
def archs(draw: st.DrawFn) -> object:
    spec = json.loads(json.dumps(SEED_ARCH))
    details = spec["arch_details"]
    for field in ("mac_energy", "rf_energy", "communication_energy", "spm_energy", "dram_energy"):
        details[field] = draw(ENERGY)
    details["dma_cycles_per_byte"] = draw(st.floats(0.0, 1e12))
    details["dma_init_cycles"] = draw(st.floats(0.0, 1e6))
    spec["arch_basic"]["CGRA_SIZE"] = draw(st.sampled_from([4, 16, 64]))
    if draw(st.booleans()):
        spec["networks"] = {"default": {"kind": "bus", "bandwidth": draw(st.floats(1e-6, 1e6))}}
    if details["mac_energy"] == details["rf_energy"] == details["dram_energy"] == 0:
        # the readers refuse this arch; the solver must still handle one built in Python
        details["mac_energy"] = 1.0
        return dataclasses.replace(arch_from_json(spec, source="random.json", name="random"), mac_energy_pj=0.0)
    return arch_from_json(spec, source="random.json", name="random")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nest=layers(), arch=archs(), objective=st.sampled_from(["energy", "cycles", "edp"]))
def test_every_result_is_finite_non_negative_above_its_floors_and_equal_to_its_evaluation(nest, arch, objective):
    try:
        problem = Problem(nest, arch)
    except InputError as refused:
        assert "beyond" in refused.message or "rounds to 0" in refused.message  # only range refusals may stop it
        return
    result = solve_layer(nest, arch, objective, time_limit=20)
    assert result.status in (Status.OPTIMAL, Status.FEASIBLE, Status.INFEASIBLE)
    if result.cost is None:
        return
    cost = result.cost
    for figure in (cost.cycles, cost.energy_pj, cost.edp, result.lower_bound, *cost.breakdown_pj):
        assert math.isfinite(figure) and figure >= 0
    macs = nest.macs
    assert cost.cycles >= macs / arch.pe_count
    assert cost.energy_pj >= math.floor(macs * arch.mac_energy_pj * (1 - 1e-12))  # rounded to a whole pJ
    assert result.lower_bound <= result.value * (1 + 1e-9)
    _, again = evaluate_mapping(problem, result.mapping, objective)
    assert (again.cycles, again.energy_pj) == (cost.cycles, cost.energy_pj)
