"""Believe a cached result only if the cost model agrees: its mapping is re-evaluated exactly on every hit.

A checksum catches accidents, not a hand that recomputes it; so a hit is also held against the model. The
stored mapping must be valid for the layer and arch of the key, its cycles, energy and breakdown must be the
ones the exact cost model gives it (bit for bit: both come from `evaluate_valid_mapping`), and its status must agree
with its bound. Re-evaluating one mapping takes well under a millisecond.
"""

from __future__ import annotations

from ..constraints.parse import ConstraintSet
from ..cost.evaluate import evaluate_valid_mapping
from ..errors import InputError
from ..problem import Knobs, Problem
from ..problem.space import tiling_violations
from ..result import LayerResult
from ..vocabulary import Status
from .entry import BadEntry
from .key import SolveKey


def check_result(result: LayerResult, key: SolveKey, constraints: ConstraintSet | None) -> None:
    """A BadEntry naming the first way `result` disagrees with its key or with the cost model."""
    check_answers(result, key)
    problem = Problem(key.nest, key.arch, _knobs_obeyed(key), constraints)
    mapping = result.mapping
    assert mapping is not None and result.cost is not None  # entry.result_from_json reads nothing else
    tiling = mapping.array()
    broken = tiling_violations(problem, tiling)
    if constraints:
        given = mapping.dram_order is not None and mapping.spm_order is not None
        orders = (mapping.dram_order, mapping.spm_order) if given else None
        names = problem.compiled.check(tiling, orders, mapping.spatial_rows)
        broken += [f"breaks constraint {name!r}" for name in names]
    if broken:
        raise BadEntry(f"its mapping is not valid here: {'; '.join(dict.fromkeys(broken))}")
    try:
        used, cost = evaluate_valid_mapping(problem, mapping, key.objective)  # checked above
    except InputError as exc:
        raise BadEntry(f"its mapping cannot be evaluated: {exc.reason}") from None
    if used != mapping:
        raise BadEntry("its mapping leaves its loop orders or its row split open")
    stored = result.cost
    for name in ("cycles", "energy_pj", "breakdown_pj"):
        if getattr(stored, name) != getattr(cost, name):
            raise BadEntry(f"its {name} {getattr(stored, name)} is not the cost model's {getattr(cost, name)}")
    _check_status(result)


def check_answers(result: LayerResult, key: SolveKey) -> None:
    """A BadEntry unless `result` is for the objective and search of `key` (with or without a mapping)."""
    if result.objective != key.objective or result.search != key.search:
        raise BadEntry(f"it is a {result.search} result for {result.objective}, not {key.search} for {key.objective}")


def _knobs_obeyed(key: SolveKey) -> Knobs:
    """The knobs the stored mapping must obey: the key's, except for the seed's heuristic, whose schedule
    relaxes them step by step (the entry does not say how far; its mapping need only be valid)."""
    return Knobs() if key.search == "auto" or key.knobs is None else key.knobs


def _check_status(result: LayerResult) -> None:
    """A cached result has a mapping, so it is OPTIMAL (its bound is its value) or FEASIBLE (its bound lies below);
    its proof's root bound, a lower bound too, lies at or below the value."""
    value, bound = result.value, result.lower_bound
    if result.status == Status.INFEASIBLE:
        raise BadEntry("it is INFEASIBLE but has a mapping")
    if result.status == Status.OPTIMAL and bound != value:
        raise BadEntry(f"it is OPTIMAL but its lower bound {bound} is not its value {value}")
    if bound > value:
        raise BadEntry(f"its lower bound {bound} exceeds its value {value}")
    proof = result.proof
    if proof is not None and proof.tilings_evaluated != result.tilings_evaluated:
        raise BadEntry("its proof counts other tilings than its result")
    if proof is not None and proof.root_bound is not None and proof.root_bound > value:
        # certified bounds are rounded down, so a sound one never exceeds the exact value, not even by an ulp
        raise BadEntry(f"its proof's root bound {proof.root_bound!r} exceeds its value {value!r}")
