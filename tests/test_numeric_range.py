"""Never a wrong number: problems whose figures could leave the kernels' int64/double range are refused up front,
and a negative, NaN or infinite figure cannot be made into a result (issue 14, "Wrong results with exit 0")."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from dmz_solver.arch import arch_from_json, load_arch
from dmz_solver.cli import main
from dmz_solver.cost.evaluate import Cost, FigureOutOfRange
from dmz_solver.errors import InputError
from dmz_solver.layout import F_PE_UTIL, I_PES, N_FP, N_IP
from dmz_solver.problem import Problem
from dmz_solver.problem.numeric import range_terms
from dmz_solver.problem.space import spatial_tuples
from dmz_solver.result import LayerResult
from dmz_solver.vocabulary import Objective, Status
from dmz_solver.workload.templates import conv_nest, gemm_nest

REPO = Path(__file__).resolve().parent.parent
SEED_ARCH = json.loads((REPO / "archspecs" / "dmazerunner.json").read_text())
SMALL = gemm_nest("small", x=64, y=64, k=64)


def arch_with(name: str, **details: float) -> object:
    spec = json.loads(json.dumps(SEED_ARCH))
    spec["arch_details"].update(details)
    return arch_from_json(spec, source=f"{name}.json", name=name)


def bus_arch(bandwidth: float) -> object:
    spec = json.loads(json.dumps(SEED_ARCH))
    spec["networks"] = {"default": {"kind": "bus", "bandwidth": bandwidth}}
    return arch_from_json(spec, source="bus.json", name="bus")


# Each case gave negative or too small figures with exit 0 on main (issue 14, items 1 and 2).
OVERFLOWS = [
    ("gemm 2^20 cubed", gemm_nest("g20", x=2**20, y=2**20, k=2**20), None, "cycles of the layer"),
    ("gemm 720720 cubed", gemm_nest("g720", x=720720, y=720720, k=720720), None, "cycles of the layer"),
    ("gemm 2^21 cubed", gemm_nest("g21", x=2**21, y=2**21, k=2**21), None, "MAC count"),
    ("gemm of primes near 1e6", gemm_nest("gp", x=1000003, y=1000033, k=999983), None, "cycles of the layer"),
    ("dram_energy 1e300", SMALL, {"dram_energy": 1e300}, "arch_details.dram_energy"),
    ("mac_energy 1e300", SMALL, {"mac_energy": 1e300}, "arch_details.mac_energy"),
    ("dma_cycles_per_byte 1e15", SMALL, {"dma_cycles_per_byte": 1e15}, "arch_details.dma_cycles_per_byte"),
    ("dma_cycles_per_byte 1e17", SMALL, {"dma_cycles_per_byte": 1e17}, "arch_details.dma_cycles_per_byte"),
    ("dma_cycles_per_byte 1e300", SMALL, {"dma_cycles_per_byte": 1e300}, "arch_details.dma_cycles_per_byte"),
    ("dma_init_cycles 1e18", SMALL, {"dma_init_cycles": 1e18}, "(driven by arch_details.dma_init_cycles)"),
    ("dma_init_cycles 1e300", SMALL, {"dma_init_cycles": 1e300}, "(driven by arch_details.dma_init_cycles)"),
]


@pytest.mark.parametrize(("case", "nest", "details", "named"), OVERFLOWS, ids=[c[0] for c in OVERFLOWS])
def test_a_problem_whose_figures_could_overflow_is_refused_naming_quantity_driver_and_limit(
    case: str, nest: object, details: dict | None, named: str
) -> None:
    arch = arch_with("a", **details) if details else load_arch("dmazerunner")
    with pytest.raises(InputError) as caught:
        Problem(nest, arch)
    message = caught.value.message
    assert named in message and nest.name in message and "beyond" in message and "\n" not in message


def test_a_bus_bandwidth_of_1e_minus_18_is_refused_naming_the_bandwidth() -> None:
    with pytest.raises(InputError, match=r"NoC cycles of one RF pass .*networks bandwidth"):
        Problem(SMALL, bus_arch(1e-18))


def test_every_shipped_model_on_every_shipped_arch_is_far_inside_the_range() -> None:
    """The refusal limits leave the shipped workloads a margin of 10^5 or more."""
    from dmz_solver.workload.loader import load_model  # slow-ish: read only by this test

    for arch_name in ("dmazerunner", "eyeriss", "tpu_like", "edge_8x8"):
        arch = load_arch(arch_name)
        for model in ("resnet18", "vgg16", "mobilenetv2", "alexnet", "bert_base_encoder"):
            for nest in load_model(model).layers:
                for term in range_terms(nest, arch):
                    assert term.bound < term.limit * 1e-5, (arch_name, model, nest.name, term)


def test_the_cycle_bound_holds_for_every_tiling_of_a_small_layer() -> None:
    """The bound is an upper bound of the figures: the exhaustive optimum for cycles and energy lies below it."""
    from dmz_solver.search.exhaustive import exhaustive_search  # the oracle

    nest = conv_nest("c", n=2, m=4, c=3, in_rows=6, in_cols=6, f_rows=3, f_cols=3, stride=(1, 1))
    arch = arch_with("slow", dma_cycles_per_byte=1e3)
    terms = {t.quantity: t.bound for t in range_terms(nest, arch)}
    found = exhaustive_search(Problem(nest, arch))
    # the largest cycles of any tiling is not searched for; its smallest must lie below the bound by far
    assert 0 < found.best["cycles"].value < terms["cycles of the layer"]
    assert 0 < found.best["energy"].value < terms["energy (pJ)"]


def test_cli_solve_and_evaluate_refuse_a_2_pow_20_gemm_with_one_line(tmp_path: Path, capsys) -> None:
    model = tmp_path / "g20.json"
    side = [2**20, 2**20]
    model.write_text(json.dumps({"GEMM": [{"name": "g20", "size_tensor_A": side, "size_tensor_B": side}]}))
    mapping = tmp_path / "m.json"
    tiling = {"DRAM": [1024, 1024, 1024], "SPM": [1, 1024, 1], "RF": [1, 1, 1024], "SPATIAL": [1024, 1, 1]}
    mapping.write_text(json.dumps({"loops": ["X", "Y", "K"], "tiling": tiling}))
    for argv in (
        ["solve", "--model", str(model), "--search", "auto", "--no-cache"],
        ["evaluate", "--model", str(model), "--layer", "g20", "--mapping", str(mapping)],
    ):
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 2, (argv, out, err)
        # the reader's cap on MACs per layer (2^48) refuses it before the numeric range check would
        assert err.count("\n") == 1 and str(model) in err and "MACs" in err and "2^48" in err
        assert "energy (pJ)" not in out and "energy_pj" not in out  # no figure printed


def test_dse_refuses_a_point_out_of_range_before_solving_any(tmp_path: Path, capsys) -> None:
    out_dir = tmp_path / "dse"
    code = main(
        ["dse", "--model", "tiny", "--arch", "dmazerunner", "--sweep", "dma_cycles_per_byte=0.24,1e300",
         "--out", str(out_dir), "--no-cache"]
    )  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 2 and "dma_cycles_per_byte" in err and not out_dir.exists()


@pytest.mark.parametrize(
    ("energy", "cycles", "part"),
    [(-1.0, 5.0, 0.0), (math.nan, 5.0, 0.0), (1.0, math.inf, 0.0), (1.0, 5.0, -2.0), (-(2.0**63), 7.0, 1.0)],
)
def test_a_negative_nan_or_infinite_figure_never_becomes_a_cost(energy: float, cycles: float, part: float) -> None:
    with pytest.raises(FigureOutOfRange):
        Cost(energy, cycles, (part, 0.0, 0.0, 0.0, 0.0))


def test_a_nan_or_negative_lower_bound_never_becomes_a_result() -> None:
    for bound in (math.nan, -1.0):
        with pytest.raises(FigureOutOfRange):
            LayerResult(SMALL, Objective.EDP, Status.FEASIBLE, None, None, bound, 0.0, "cpsat")


def test_spatial_tuples_grow_with_what_fits_not_with_every_divisor_combination() -> None:
    """Seven loops of extent 360 have 24^7 (4.6e9) divisor tuples: main allocated a row for each (MemoryError)."""
    ext = np.full(7, 360, np.int64)
    divisors = np.array([d for d in range(1, 361) if 360 % d == 0], np.int64)
    divs = np.tile(divisors, (7, 1))
    ndivs = np.full(7, len(divisors), np.int64)
    ip = np.zeros(N_IP, np.int64)
    ip[I_PES] = 16
    fp = np.zeros(N_FP)
    fp[F_PE_UTIL] = 0.0
    tuples = spatial_tuples(ext, divs, ndivs, ip, fp, np.zeros(7, np.bool_))
    # brute force: tuples of divisors with product <= 16; 360's divisors up to 16 are 1..6, 8, 9, 10, 12, 15
    small = [d for d in divisors if d <= 16]
    count = 0
    stack = [(0, 1)]
    while stack:
        depth, prod = stack.pop()
        if depth == 7:
            count += 1
            continue
        stack.extend((depth + 1, prod * d) for d in small if prod * d <= 16)
    assert len(tuples) == count and (tuples.prod(axis=1) <= 16).all()
