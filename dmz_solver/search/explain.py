"""Say why no mapping satisfies the constraints: a minimal set of named constraints that conflict.

CP-SAT states each named constraint under an enforcement literal taken as an assumption; when
the model is infeasible, `sufficient_assumptions_for_infeasibility` gives a conflicting subset,
which a deletion filter shrinks to a minimal one. Loop-order rules are not part of the CP-SAT
model (it has no orders), so when the tiling constraints alone are satisfiable the order rules
are named as the cause.
"""

from __future__ import annotations

from dataclasses import replace

from ortools.sat.python import cp_model

from ..errors import InputError
from ..problem import Problem
from .cpsat_model import MappingModel, build_model, new_solver

TIME_LIMIT_S = 20.0


def _infeasible(
    problem: Problem, *, assumptions: bool = False, skip: frozenset[str] = frozenset()
) -> tuple[bool, cp_model.CpSolver, MappingModel]:
    """(is infeasible, solver, built model) of the tiling space with the given constraints."""
    built = build_model(problem, "energy", assumptions=assumptions, skip=skip)
    solver = new_solver(max_time_in_seconds=TIME_LIMIT_S)
    status = solver.solve(built.model)
    return status == cp_model.INFEASIBLE, solver, built


def minimal_conflict(problem: Problem) -> list[str] | None:
    """Names of a minimal set of constraints with no common tiling (None if the tilings admit them)."""
    names = [c.name for c in problem.compiled.named if c.kind != "innermost"]
    infeasible, solver, built = _infeasible(problem, assumptions=True)
    if not infeasible:
        return None
    by_index = {lit.index: name for name, lit in built.enforce.items()}
    core = [by_index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in by_index]
    core = [n for n in names if n in core] or names
    for name in list(core):  # deletion filter: drop each member the rest still conflicts without
        trial = [n for n in core if n != name]
        if _infeasible(problem, skip=frozenset(n for n in names if n not in trial))[0]:
            core = trial
    return core


def explain_infeasible(problem: Problem) -> InputError:
    """The error to raise when a constrained layer has no valid mapping."""
    nest, arch = problem.nest, problem.arch
    bare = replace(problem, constraints=None)
    if _infeasible(bare)[0]:
        return InputError(f"no mapping of {nest.name} on arch {arch.name} even without constraints")
    by_name = {c.name: c for c in problem.compiled.named}
    core = minimal_conflict(problem)
    if core is None and not problem.compiled.order_rules:  # e.g. the knobs on top of the constraints
        quoted = _quote([c.name for c in problem.compiled.named], by_name)
        return InputError(f"no mapping of {nest.name} satisfies constraints {quoted} with the search knobs given")
    if core is None:  # the tilings admit the constraints: the loop-order rules exclude every order
        core = [c.name for c in problem.compiled.order_rules]
        quoted = _quote(core, by_name)
        return InputError(
            f"no mapping of {nest.name}: loop-order {quoted} leave no order for any tiling that "
            "satisfies the other constraints"
        )
    if len(core) == 1:
        return InputError(
            f"no mapping of {nest.name}: constraint {_quote(core, by_name)} can never hold on arch {arch.name}"
        )
    return InputError(f"no mapping of {nest.name}: constraints {_quote(core, by_name)} cannot hold together")


def _quote(names: list[str], by_name: dict) -> str:
    parts = [f"'{n}' ({by_name[n].source})" for n in names]
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
