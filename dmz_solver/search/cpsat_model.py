"""The CP-SAT model of a layer's mapping space: a supplier of candidate mappings and a lower bound.

`build_model` states the space declaratively: a factor per loop and level with divisor domains,
their product equal to the extent, the row/column split on 2-D arrays, the spatial, RF and SPM
limits over exact tile footprints, the knobs and the custom constraints. Its objective is the
logarithm of a lower bound of the exact objective (scaled, rounded down), so the solver's bound is
a bound on the real thing (docs/lower-bounds.md). `cpsat_supply` solves it briefly and hands the
branch and bound (search/bnb.py) its solution and bound; search/explain.py reuses the model to
name conflicting constraints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import sympy
from ortools.sat.python import cp_model

from ..constraints.compile import EQ, GE, GT, atom_upper_bounds
from ..noc.spec import REDUCTION, SYSTOLIC
from ..problem import Problem, divisors
from ..vocabulary import LEVELS, Objective
from .bounds import certified, energy_floor
from .supply import Supply

LOG_SCALE = 1000
"""CP-SAT objective units per natural-log unit; per-prime logs are rounded down to stay a bound."""


@dataclass
class MappingModel:
    """The CP-SAT model and its named variables: factor[loop, level], footprints, log objective."""

    model: cp_model.CpModel
    factor: dict[tuple[str, str], cp_model.IntVar]
    log_bound_offset: float
    enforce: dict[str, cp_model.IntVar] = field(default_factory=dict)
    """Per named custom constraint, its enforcement literal (only with `assumptions=True`)."""


def _product(model: cp_model.CpModel, terms: list, upper: int, name: str):
    """An integer variable equal to the product of terms (chained two at a time)."""
    if len(terms) == 1:
        return terms[0]
    acc = terms[0]
    for i, term in enumerate(terms[1:]):
        out = model.new_int_var(1, upper, f"{name}_{i}")
        model.add_multiplication_equality(out, [acc, term])
        acc = out
    return acc


def build_model(problem: Problem, objective: Objective, *, assumptions: bool = False,
                skip: frozenset[str] = frozenset()) -> MappingModel:  # fmt: skip
    """The mapping space of one layer as a CP-SAT model with a log-space lower-bound objective.

    Custom constraints (problem.constraints) are stated over the same factor and footprint
    variables; with `assumptions` each named one is enforced by a literal taken as an assumption
    (for explaining infeasibility). Constraints named in `skip` are left out.
    """
    nest, arch, knobs = problem.nest, problem.arch, problem.knobs
    model = cp_model.CpModel()
    factor: dict[tuple[str, str], cp_model.IntVar] = {}
    spatial_one, dram_one = problem.loop_masks

    # Tiling factors: one per loop and level, divisors of the extent, multiplying to it.
    for i, (loop, extent) in enumerate(zip(nest.loops, nest.extents, strict=True)):
        domain = cp_model.Domain.from_values(divisors(extent))
        for level in LEVELS:
            factor[loop, level] = model.new_int_var_from_domain(domain, f"f[{loop},{level}]")
        model.add_multiplication_equality(extent, [factor[loop, level] for level in LEVELS])
        if spatial_one[i]:
            model.add(factor[loop, "SPATIAL"] == 1)  # knob: no spatial reduction
        if dram_one[i]:
            model.add(factor[loop, "DRAM"] == 1)  # knob: no feature-map tiling at DRAM

    # Cumulative tile extents per PE (RF), over the PE array (PE) and in the SPM.
    tile: dict[tuple[str, str], object] = {}
    for loop, extent in zip(nest.loops, nest.extents, strict=True):
        tile[loop, "RF"] = factor[loop, "RF"]
        tile[loop, "PE"] = _product(model, [factor[loop, "RF"], factor[loop, "SPATIAL"]], extent, f"e_pe[{loop}]")
        tile[loop, "SPM"] = _product(model, [tile[loop, "PE"], factor[loop, "SPM"]], extent, f"e_spm[{loop}]")

    footprints: dict[tuple[str, str], object] = {}

    def footprint(operand, level: str):
        if (operand.name, level) not in footprints:
            footprints[operand.name, level] = _footprint(operand, level)
        return footprints[operand.name, level]

    def _footprint(operand, level: str):
        dims = []
        for d, dim in enumerate(operand.dims):
            if not dim.terms:
                continue
            extent_expr = 1 + sum(coef * (tile[nest.loops[loop], level] - 1) for loop, coef in dim.terms)
            var = model.new_int_var(
                1, dim.size + sum(c for _, c in dim.terms) * max(nest.extents), f"x[{operand.name},{d},{level}]"
            )
            model.add(var == extent_expr)
            dims.append(var)
        upper = math.prod(1 + sum(c * (nest.extents[lp] - 1) for lp, c in dim.terms) for dim in operand.dims)
        return _product(model, dims, upper, f"D[{operand.name},{level}]") if dims else 1

    # Spatial constraint: the PEs used fit the array (and the PE utilisation knob).
    pes = _product(model, [factor[loop, "SPATIAL"] for loop in nest.loops], math.prod(nest.extents), "pes")
    model.add(pes <= arch.pe_count).with_name("spatial_capacity")
    noc = arch.noc
    if noc.rows > 1:  # each spatial factor splits into a row part and a column part that fit the array
        row_parts, col_parts = [], []
        for loop, extent in zip(nest.loops, nest.extents, strict=True):
            domain = cp_model.Domain.from_values(divisors(extent))
            factor[loop, "ROWS"] = model.new_int_var_from_domain(domain, f"f[{loop},ROWS]")
            factor[loop, "COLS"] = model.new_int_var_from_domain(domain, f"f[{loop},COLS]")
            model.add_multiplication_equality(factor[loop, "SPATIAL"], [factor[loop, "ROWS"], factor[loop, "COLS"]])
            row_parts.append(factor[loop, "ROWS"])
            col_parts.append(factor[loop, "COLS"])
        rows_used = _product(model, row_parts, math.prod(nest.extents), "rows_used")
        cols_used = _product(model, col_parts, math.prod(nest.extents), "cols_used")
        model.add(rows_used <= noc.rows).with_name("array_rows")
        model.add(cols_used <= noc.cols).with_name("array_cols")
    reduction = noc.network(REDUCTION)
    if reduction.kind == SYSTOLIC:  # partial sums of one output must share a chain (noc/profile.py)
        across = "COLS" if reduction.direction == "columns" else "ROWS"
        for loop in nest.reduction_loops():
            name = nest.loops[loop]
            part = factor.get((name, across), factor[name, "SPATIAL"] if across == "COLS" else None)
            if part is not None:
                model.add(part == 1).with_name("reduction_within_chains")
    if knobs.pe_util > 0:
        model.add(pes >= _least_int(lambda v: v / arch.pe_count >= knobs.pe_util)).with_name("pe_utilization")

    # RF capacity constraint: the tiles of all operands fit one PE's RF.
    rf_used = sum(footprint(op, "RF") for op in nest.operands)
    model.add(rf_used <= math.floor(arch.rf_elems)).with_name("rf_capacity")
    if knobs.rf_util > 0:
        model.add(rf_used >= _least_int(lambda v: v / arch.rf_elems >= knobs.rf_util)).with_name("rf_utilization")

    # SPM capacity constraints: bytes, and whole banks per operand.
    spm_bytes = []
    banks = []
    for op in nest.operands:
        nbytes = footprint(op, "SPM") * arch.bytes_per_elem
        bank = model.new_int_var(0, arch.spm_banks, f"banks[{op.name}]")
        model.add(bank * arch.spm_bank_bytes >= nbytes)
        model.add(bank * arch.spm_bank_bytes < nbytes + arch.spm_bank_bytes)
        spm_bytes.append(nbytes)
        banks.append(bank)
    model.add(sum(banks) <= arch.spm_banks).with_name("spm_banks")
    model.add(sum(spm_bytes) <= arch.spm_bytes).with_name("spm_bytes")
    if knobs.spm_util > 0:
        least = _least_int(lambda v: v / arch.spm_bytes >= knobs.spm_util)
        model.add(sum(spm_bytes) >= least).with_name("spm_utilization")

    # Custom constraints: integer polynomials over the same atoms (constraints/compile.py).
    atoms = [factor[loop, level] for level in LEVELS for loop in nest.loops]
    atoms += [footprint(op, level) for level in ("RF", "PE", "SPM") for op in nest.operands]
    atoms += [pes, rf_used, sum(spm_bytes)]
    for part in ("ROWS", "COLS"):  # row and column parts of the spatial factors (one row: all on the columns)
        atoms += [factor.get((loop, part), 1 if part == "ROWS" else factor[loop, "SPATIAL"]) for loop in nest.loops]
    enforce = _add_custom(model, problem, atoms, assumptions, skip)

    # Objective: log of the spatial bound (docs/lower-bounds.md §3, §4): the energy floor (for energy
    # and EDP) times MACs / PEs used (for cycles and EDP). log(PEs used) is the sum over the primes of
    # each spatial factor, each prime's log rounded up, so the objective never exceeds the log bound.
    offset = math.log(energy_floor(problem)) if objective != Objective.CYCLES else 0.0
    if objective != Objective.ENERGY:
        log_pes = 0
        for loop, extent in zip(nest.loops, nest.extents, strict=True):
            for p, e in sympy.factorint(extent).items():
                a = model.new_int_var(0, e, f"a[{loop},{p},SPATIAL]")
                pairs = [(v, sympy.multiplicity(p, v)) for v in divisors(extent)]
                model.add_allowed_assignments([factor[loop, "SPATIAL"], a], pairs)  # a = multiplicity of p
                log_pes += a * math.ceil(LOG_SCALE * math.log(p))
        offset += math.log(nest.macs)
        model.minimize(-log_pes)
    return MappingModel(model, factor, offset, enforce)


def _add_custom(model: cp_model.CpModel, problem: Problem, atoms: list, assumptions: bool,
                skip: frozenset[str]) -> dict[str, cp_model.IntVar]:  # fmt: skip
    """State each custom relation; return the enforcement literal of each named constraint."""
    compiled = problem.compiled
    ub = atom_upper_bounds(problem.nest, problem.arch)
    enforce: dict[str, cp_model.IntVar] = {}
    as_var: dict[int, cp_model.IntVar] = {}

    def var(a: int):
        if a not in as_var:
            if isinstance(atoms[a], cp_model.IntVar):
                as_var[a] = atoms[a]
            else:  # a linear expression (RF elements, SPM bytes) or a constant footprint
                as_var[a] = model.new_int_var(0, ub[a], f"atom[{a}]")
                model.add(as_var[a] == atoms[a])
        return as_var[a]

    for n, rel in enumerate(compiled.relations):
        name = rel.constraint.name
        if name in skip:
            continue
        if assumptions and name not in enforce:
            enforce[name] = model.new_bool_var(f"use[{name}]")
        expr = 0
        for i, (coef, exp) in enumerate(rel.terms):
            factors = [var(a) for a, e in enumerate(exp) for _ in range(e)]
            upper = math.prod(ub[a] ** e for a, e in enumerate(exp))
            expr += coef * (_product(model, factors, upper, f"term[{n},{i}]") if factors else 1)
        if rel.kind == GE:
            ct = model.add(expr >= 0)
        elif rel.kind == GT:
            ct = model.add(expr >= 1)  # integers
        elif rel.kind == EQ:
            ct = model.add(expr == 0)
        else:
            ct = model.add(expr != 0)
        ct.with_name(name)
        if assumptions:
            ct.only_enforce_if(enforce[name])
    if assumptions:
        model.add_assumptions(list(enforce.values()))
    return enforce


def _least_int(ok) -> int:
    v = 0
    while not ok(v):
        v += 1
    return v


def cpsat_supply(problem: Problem, objective: Objective, budget: float = 2.0) -> Supply:
    """A feasible mapping from CP-SAT and the lower bound it proves, within `budget` deterministic seconds."""
    built = build_model(problem, objective)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_deterministic_time = budget
    status = solver.solve(built.model)
    if status == cp_model.INFEASIBLE:
        return Supply([], math.inf)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Supply([], None)
    nest = problem.nest
    tiling = np.array([[solver.value(built.factor[loop, level]) for loop in nest.loops] for level in LEVELS], np.int64)
    rows = None
    if (nest.loops[0], "ROWS") in built.factor:
        rows = tuple(solver.value(built.factor[loop, "ROWS"]) for loop in nest.loops)
    log_bound = built.log_bound_offset
    if objective != Objective.ENERGY:  # the energy floor is a constant: no objective to bound
        log_bound += solver.best_objective_bound / LOG_SCALE
    return Supply([(tiling, rows)], certified(math.exp(log_bound)))
