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
from ..loopnest import Operand
from ..noc.spec import REDUCTION, SYSTOLIC
from ..problem import Problem, divisors
from ..problem.validity import RULES, least_usage
from ..vocabulary import LEVELS, Objective
from .bounds import ROUNDING_PJ, certified
from .floors import SpaceFloors, space_floors
from .stopping import halted
from .supply import Candidate, Supply

LOG_SCALE = 1000
"""CP-SAT objective units per natural-log unit; per-prime logs are rounded down to stay a bound."""
CYCLES_LOG_CAP = 100 * LOG_SCALE
"""Upper end of the scaled log of cycles: e^100, far above any cycle count the model can hold."""
LEAST_PJ = 1e-300
"""The energy bound when the floor, less its rounding, is not positive: any positive number below every energy."""
TOP_K = 8
"""Distinct CP-SAT solutions handed to the proof for exact rescoring."""
LEAN_SOLVER = {"cp_model_presolve": False, "linearization_level": 0}
"""CP-SAT without its presolve and its LP relaxation: the model is small and its bound is proven by search. With
both on (the defaults), every bound on the shipped models and five ImageNet networks, on every shipped arch and
objective, was the same (with the shipped constraint files, three differed in the 15th digit), and CP-SAT took
about 4 times the CPU time (docs/lower-bounds.md §4)."""


@dataclass
class MappingModel:
    """The CP-SAT model and its named variables: factor[loop, level], footprints, log objective."""

    model: cp_model.CpModel
    factor: dict[tuple[str, str], cp_model.IntVar]
    log_bound_offset: float
    bound_weight: int = 1
    """Objective units per LOG_SCALE unit of the bound (the objective breaks ties between equal bounds)."""
    enforce: dict[str, cp_model.IntVar] = field(default_factory=dict)
    """Per named custom constraint, its enforcement literal (only with `assumptions=True`)."""


def _product(model: cp_model.CpModel, terms: list, upper: int, name: str) -> cp_model.LinearExprT:
    """An integer variable equal to the product of terms (chained two at a time)."""
    if len(terms) == 1:
        return terms[0]
    acc = terms[0]
    for i, term in enumerate(terms[1:]):
        out = model.new_int_var(1, upper, f"{name}_{i}")
        model.add_multiplication_equality(out, [acc, term])
        acc = out
    return acc


def build_model(
    problem: Problem,
    objective: Objective,
    *,
    floors: SpaceFloors | None = None,
    assumptions: bool = False,
    skip: frozenset[str] = frozenset(),
) -> MappingModel:
    """The mapping space of one layer as a CP-SAT model with a log-space lower-bound objective over the floors
    every mapping pays (search/floors.py: space_floors, without the SPM tile table when not given).

    Custom constraints (problem.constraints) are stated over the same factor and footprint
    variables; with `assumptions` each named one is enforced by a literal taken as an assumption
    (for explaining infeasibility). Constraints named in `skip` are left out.
    """
    space = _SpaceModel(problem)
    space.state_factors()
    space.state_tiles()
    usage = space.state_capacities()
    enforce = _add_custom(space.model, problem, space.atoms(usage), assumptions, skip)
    offset, weight = space.state_objective(Objective(objective), floors or space_floors(problem))
    return MappingModel(space.model, space.factor, offset, weight, enforce)


class _SpaceModel:
    """One layer's mapping space stated in a CP-SAT model, part by part, in the order build_model calls them."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.nest, self.arch = problem.nest, problem.arch
        self.model = cp_model.CpModel()
        self.factor: dict[tuple[str, str], cp_model.IntVar] = {}
        self.tile: dict[tuple[str, str], object] = {}
        self.footprints: dict[tuple[str, str], object] = {}

    def state_factors(self) -> None:
        """A factor per loop and level, each a divisor of the extent, multiplying to it; the knobs' pins."""
        spatial_one, dram_one = self.problem.loop_masks
        for i, (loop, extent) in enumerate(zip(self.nest.loops, self.nest.extents, strict=True)):
            domain = cp_model.Domain.from_values(divisors(extent))
            for level in LEVELS:
                self.factor[loop, level] = self.model.new_int_var_from_domain(domain, f"f[{loop},{level}]")
            self.model.add_multiplication_equality(extent, [self.factor[loop, level] for level in LEVELS])
            if spatial_one[i]:
                self.model.add(self.factor[loop, "SPATIAL"] == 1)  # knob: no spatial reduction
            if dram_one[i]:
                self.model.add(self.factor[loop, "DRAM"] == 1)  # knob: no feature-map tiling at DRAM

    def state_tiles(self) -> None:
        """Cumulative tile extents per PE (RF), over the PE array (PE) and in the SPM."""
        factor, tile = self.factor, self.tile
        for loop, extent in zip(self.nest.loops, self.nest.extents, strict=True):
            tile[loop, "RF"] = factor[loop, "RF"]
            tile[loop, "PE"] = _product(
                self.model, [factor[loop, "RF"], factor[loop, "SPATIAL"]], extent, f"e_pe[{loop}]"
            )
            tile[loop, "SPM"] = _product(self.model, [tile[loop, "PE"], factor[loop, "SPM"]], extent, f"e_spm[{loop}]")

    def footprint(self, operand: Operand, level: str) -> cp_model.LinearExprT:
        """D(operand) of the tile at `level` (RF, PE or SPM): a product of per-dimension extents."""
        key = (operand.name, level)
        if key not in self.footprints:
            nest, dims = self.nest, []
            for d, dim in enumerate(operand.dims):
                if not dim.terms:
                    continue
                var = self.model.new_int_var(
                    1, dim.size + sum(c for _, c in dim.terms) * max(nest.extents), f"x[{operand.name},{d},{level}]"
                )
                self.model.add(var == 1 + sum(c * (self.tile[nest.loops[lp], level] - 1) for lp, c in dim.terms))
                dims.append(var)
            upper = math.prod(1 + sum(c * (nest.extents[lp] - 1) for lp, c in dim.terms) for dim in operand.dims)
            self.footprints[key] = _product(self.model, dims, upper, f"D[{operand.name},{level}]") if dims else 1
        return self.footprints[key]

    def state_capacities(self) -> dict[str, object]:
        """The usages of problem/validity.py's rules, bounded as the rules say; returns the usages."""
        nest, arch, model = self.nest, self.arch, self.model
        pes = _product(model, [self.factor[loop, "SPATIAL"] for loop in nest.loops], math.prod(nest.extents), "pes")
        self._state_array_split()
        self._state_reduction_chains()
        rf_used = sum(self.footprint(op, "RF") for op in nest.operands)
        spm_bytes, banks = [], []
        for op in nest.operands:  # whole banks per operand
            nbytes = self.footprint(op, "SPM") * arch.bytes_per_elem
            bank = model.new_int_var(0, arch.spm_banks, f"banks[{op.name}]")
            model.add(bank * arch.spm_bank_bytes >= nbytes)
            model.add(bank * arch.spm_bank_bytes < nbytes + arch.spm_bank_bytes)
            spm_bytes.append(nbytes)
            banks.append(bank)
        usage = {"pes": pes, "rf_elems": rf_used, "spm_banks": sum(banks), "spm_bytes": sum(spm_bytes)}
        for rule in RULES:
            capacity, floor = rule.limits(arch, self.problem.knobs)
            model.add(usage[rule.usage] <= math.floor(capacity)).with_name(rule.name)
            if floor > 0:
                model.add(usage[rule.usage] >= least_usage(capacity, floor)).with_name(rule.floor_name)
        return usage

    def _state_array_split(self) -> None:
        """On a 2-D array, each spatial factor splits into a row part and a column part that fit the array."""
        noc, nest, model, factor = self.arch.noc, self.nest, self.model, self.factor
        if noc.rows <= 1:
            return
        for loop, extent in zip(nest.loops, nest.extents, strict=True):
            domain = cp_model.Domain.from_values(divisors(extent))
            factor[loop, "ROWS"] = model.new_int_var_from_domain(domain, f"f[{loop},ROWS]")
            factor[loop, "COLS"] = model.new_int_var_from_domain(domain, f"f[{loop},COLS]")
            model.add_multiplication_equality(factor[loop, "SPATIAL"], [factor[loop, "ROWS"], factor[loop, "COLS"]])
        for part, limit in (("ROWS", noc.rows), ("COLS", noc.cols)):
            used = _product(
                model, [factor[loop, part] for loop in nest.loops], math.prod(nest.extents), f"{part.lower()}_used"
            )
            model.add(used <= limit).with_name(f"array_{part.lower()}")

    def _state_reduction_chains(self) -> None:
        """On a systolic reduction network, the partial sums of one output share a chain (noc/profile.py)."""
        reduction = self.arch.noc.network(REDUCTION)
        if reduction.kind != SYSTOLIC:
            return
        across = "COLS" if reduction.direction == "columns" else "ROWS"
        for loop in self.nest.reduction_loops():
            name = self.nest.loops[loop]
            part = self.factor.get((name, across), self.factor[name, "SPATIAL"] if across == "COLS" else None)
            if part is not None:
                self.model.add(part == 1).with_name("reduction_within_chains")

    def atoms(self, usage: dict[str, object]) -> list:
        """The atoms of the custom constraints, in constraints/compile.py's order."""
        nest, factor = self.nest, self.factor
        atoms = [factor[loop, level] for level in LEVELS for loop in nest.loops]
        atoms += [self.footprint(op, level) for level in ("RF", "PE", "SPM") for op in nest.operands]
        atoms += [usage["pes"], usage["rf_elems"], usage["spm_bytes"]]
        for part in ("ROWS", "COLS"):  # row and column parts of the spatial factors (one row: all on the columns)
            atoms += [factor.get((loop, part), 1 if part == "ROWS" else factor[loop, "SPATIAL"]) for loop in nest.loops]
        return atoms

    def state_objective(self, objective: Objective, floors: SpaceFloors) -> tuple[float, int]:
        """Minimise the log of the spatial bound (docs/lower-bounds.md §3, §4); returns the constant log offset and
        the objective's weight per unit of the bound's log.

        The bound is the energy floor (energy, EDP) times the cycle bound (cycles, EDP): the larger of MACs / PEs
        used and the cycle floor (`floors`, docs/lower-bounds.md §1b, §1c). log(PEs used) is the sum over the primes of
        each spatial factor, each prime's log rounded up, and the other logs are rounded down, so the objective
        never exceeds the log of the bound. Among equal bounds (the cycle floor decides), the objective prefers
        more PEs: it is the bound's log times a weight larger than the log of PEs used, minus that log.
        """
        nest, model = self.nest, self.model
        # energies are rounded to whole pJ: a mapping's may lie ROUNDING_PJ below the floor (as in bound_value)
        offset = math.log(max(floors.energy - ROUNDING_PJ, LEAST_PJ)) if objective != Objective.CYCLES else 0.0
        if objective == Objective.ENERGY:
            return offset, 1
        log_pes, most = 0, 0
        for loop, extent in zip(nest.loops, nest.extents, strict=True):
            for p, e in sympy.factorint(extent).items():
                a = model.new_int_var(0, e, f"a[{loop},{p},SPATIAL]")
                pairs = [(v, sympy.multiplicity(p, v)) for v in divisors(extent)]
                model.add_allowed_assignments([self.factor[loop, "SPATIAL"], a], pairs)  # a = multiplicity of p
                log_pes += a * math.ceil(LOG_SCALE * math.log(p))
                most += e * math.ceil(LOG_SCALE * math.log(p))
        log_macs = math.floor(LOG_SCALE * math.log(nest.macs))
        log_floor = math.floor(LOG_SCALE * math.log(floors.cycles)) if floors.cycles > 1 else 0
        log_cycles = model.new_int_var(0, CYCLES_LOG_CAP, "log_cycles")
        model.add(log_cycles >= log_macs - log_pes)
        model.add(log_cycles >= log_floor)
        weight = most + 1
        model.minimize(weight * log_cycles - log_pes)
        return offset, weight


def _add_custom(
    model: cp_model.CpModel, problem: Problem, atoms: list, assumptions: bool, skip: frozenset[str]
) -> dict[str, cp_model.IntVar]:
    """State each custom relation; return the enforcement literal of each named constraint."""
    compiled = problem.compiled
    ub = atom_upper_bounds(problem.nest, problem.arch)
    enforce: dict[str, cp_model.IntVar] = {}
    as_var: dict[int, cp_model.IntVar] = {}

    def var(a: int) -> cp_model.IntVar:
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
        ct = _relation(model, rel.kind, expr).with_name(name)
        if assumptions:
            ct.only_enforce_if(enforce[name])
    if assumptions:
        model.add_assumptions(list(enforce.values()))
    return enforce


def _relation(model: cp_model.CpModel, kind: int, expr) -> cp_model.Constraint:
    """expr KIND 0, over integers."""
    if kind == GE:
        return model.add(expr >= 0)
    if kind == GT:
        return model.add(expr >= 1)
    if kind == EQ:
        return model.add(expr == 0)
    return model.add(expr != 0)


def new_solver(**parameters: float | bool) -> cp_model.CpSolver:
    """A CP-SAT solver on one worker with the given parameters, leaving Ctrl-C to Python.

    By default CP-SAT takes over SIGINT during a solve and leaves the process without Python's handler afterwards:
    a later Ctrl-C then killed the process outright, with no "interrupted" message (or a Python session with it).
    """
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.catch_sigint_signal = False
    for name, value in parameters.items():
        setattr(solver.parameters, name, value)
    return solver


def cpsat_supply(
    problem: Problem,
    objective: Objective,
    seconds: float = math.inf,
    floors: SpaceFloors | None = None,
    budget: float = 2.0,
) -> Supply:
    """The best TOP_K distinct mappings CP-SAT finds and the lower bound it proves over the floors (search/floors.py,
    space_floors; without the SPM tile table when not given), within `budget`
    deterministic seconds (one worker, a fixed seed: the same answer every run) and at most `seconds` of wall
    time (a time limit; cut short, the answer may differ, as any result under a time limit may).

    With an objective (cycles, EDP) the candidates are the last improving solutions, best first. For
    energy the model has no objective (its bound is a constant) and gives one solution: enumerating more
    cost 0.02-0.09 s a layer and saved the proof nothing on ResNet-18 (bench/bench_supply.py).
    """
    if not seconds > 0 or halted():
        return Supply([], None)
    built = build_model(problem, objective, floors=floors)
    solver = new_solver(random_seed=0, max_deterministic_time=budget, **LEAN_SOLVER)
    if math.isfinite(seconds):
        solver.parameters.max_time_in_seconds = seconds
    collect = _Solutions(problem, built)
    status = solver.solve(built.model, collect)
    if status == cp_model.INFEASIBLE:
        return Supply([], math.inf)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Supply([], None)
    log_bound = built.log_bound_offset
    if objective != Objective.ENERGY:  # the energy floor is a constant: no objective to bound
        log_bound += solver.best_objective_bound / built.bound_weight / LOG_SCALE
    return Supply(collect.best_first(), certified(math.exp(log_bound)))


class _Solutions(cp_model.CpSolverSolutionCallback):
    """Keeps the last TOP_K distinct (tiling, row parts) CP-SAT reports."""

    def __init__(self, problem: Problem, built: MappingModel) -> None:
        super().__init__()
        self.loops = problem.nest.loops
        self.built = built
        self.found: list[Candidate] = []
        self.seen: set[tuple[bytes, tuple[int, ...] | None]] = set()

    def on_solution_callback(self) -> None:
        factor = self.built.factor
        tiling = np.array([[self.value(factor[loop, level]) for loop in self.loops] for level in LEVELS], np.int64)
        rows = None
        if (self.loops[0], "ROWS") in factor:
            rows = tuple(self.value(factor[loop, "ROWS"]) for loop in self.loops)
        key = (tiling.tobytes(), rows)
        if key not in self.seen:
            self.seen.add(key)
            self.found = [*self.found, (tiling, rows)][-TOP_K:]

    def best_first(self) -> list[Candidate]:
        return self.found[::-1]
