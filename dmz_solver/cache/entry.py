"""One cache entry on disk: a layer result as exact JSON, sealed with a checksum of its content and its key.

An entry is `{"key": <digest>, "checksum": <sha256>, "result": {...}}`. The checksum hashes the key with the
result's canonical JSON, so an entry that was edited, truncated or corrupted, or copied or renamed to answer
another key, is caught before anything in it is believed. Floats are written by `repr`, so a result
round-trips exactly. Reading is strict: every field present, of its type, finite and non-negative where a
figure is meant; anything else is a `BadEntry` that names the field.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, NoReturn

from ..cost.evaluate import Cost
from ..loopnest import LoopNest
from ..problem.mapping import Mapping
from ..result import LayerResult, Proof
from ..vocabulary import Objective, Status

MAX_ENTRY_BYTES = 1 << 20
"""Entries are a few kB; anything far larger is not one of ours (and is not parsed)."""


class BadEntry(Exception):
    """Why a cache entry cannot be believed, in a few words."""


def seal(digest: str, result: LayerResult) -> str:
    """The text of the entry that stores `result` under the key `digest` (ValueError if a figure is not finite)."""
    body = result_to_json(result)
    return json.dumps({"key": digest, "checksum": checksum(digest, body), "result": body}, allow_nan=False)


def checksum(digest: str, body: dict[str, Any]) -> str:
    """SHA-256 of the key with the canonical JSON of the stored result."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(f"{digest}\n{canonical}".encode()).hexdigest()


def unseal(raw: bytes, digest: str) -> dict[str, Any]:
    """The stored result of an entry read for the key `digest`, once its key and checksum are confirmed."""
    if len(raw) > MAX_ENTRY_BYTES:
        raise BadEntry(f"it is over {MAX_ENTRY_BYTES} bytes, far more than any entry")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise BadEntry("it is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BadEntry(f"it is not complete JSON ({exc.msg} at character {exc.pos})") from None
    except ValueError as exc:  # an integer literal beyond Python's digit limit
        raise BadEntry(f"it holds a number it cannot read ({exc})") from None
    except RecursionError:
        raise BadEntry("it is nested too deeply") from None
    top = _Object(data, "entry")
    stored = top.text("key")
    if stored != digest:
        raise BadEntry(f"it answers another key ({stored[:12]}..., not {digest[:12]}...)")
    body = top.object("result").value
    if top.text("checksum") != checksum(digest, body):
        raise BadEntry("its checksum does not match its content")
    return body


def result_to_json(result: LayerResult) -> dict[str, Any]:
    """The exact content of a layer result, without its nest (the key holds the nest)."""
    mapping = result.mapping
    cost = result.cost
    return {
        "objective": result.objective,
        "status": result.status,
        "mapping": None
        if mapping is None
        else {
            "loops": list(mapping.loops),
            "factors": [list(row) for row in mapping.factors],
            "dram_order": None if mapping.dram_order is None else list(mapping.dram_order),
            "spm_order": None if mapping.spm_order is None else list(mapping.spm_order),
            "spatial_rows": None if mapping.spatial_rows is None else list(mapping.spatial_rows),
        },
        "cost": None
        if cost is None
        else {"energy_pj": cost.energy_pj, "cycles": cost.cycles, "breakdown_pj": list(cost.breakdown_pj)},
        "lower_bound": result.lower_bound,
        "seconds": result.seconds,
        "search": result.search,
        "tilings_evaluated": result.tilings_evaluated,
        "proof": None if result.proof is None else result.proof.to_json(result.value),
    }


def result_from_json(body: dict[str, Any], nest: LoopNest) -> LayerResult:
    """Inverse of result_to_json for the given nest; a BadEntry for any field missing, mistyped or out of range.

    Only results with a mapping are ever stored (a layer without one keeps its reason out of the cache).
    """
    top = _Object(body, "result")
    return LayerResult(
        nest,
        Objective(top.choice("objective", tuple(Objective))),
        Status(top.choice("status", tuple(Status))),
        _mapping(top.object("mapping"), nest),
        _cost(top.object("cost")),
        top.number("lower_bound"),
        top.number("seconds"),
        top.text("search"),
        top.count("tilings_evaluated"),
        proof=None if top.get("proof") is None else _proof(top.object("proof")),
    )


def unsolved_from_json(body: dict[str, Any], nest: LoopNest) -> LayerResult:
    """A result without a mapping (the DSE store keeps them): INFEASIBLE or UNKNOWN, with its reason; read as
    strictly as result_from_json."""
    top = _Object(body, "result")
    status = Status(top.choice("status", (Status.INFEASIBLE, Status.UNKNOWN)))
    reason = top.text("reason")
    if not reason:
        top.fail("reason", "is empty; a result without a mapping says why")
    return LayerResult(
        nest,
        Objective(top.choice("objective", tuple(Objective))),
        status,
        None,
        None,
        math.inf,
        top.number("seconds"),
        top.text("search"),
        top.count("tilings_evaluated"),
        reason=reason,
    )


def _mapping(m: _Object, nest: LoopNest) -> Mapping:
    loops = list(nest.loops)
    if m.get("loops") != loops:
        m.fail("loops", f"are not the layer's loops {loops}")
    factors = m.get("factors")
    if not isinstance(factors, list) or len(factors) != 4:
        m.fail("factors", "is not a list of 4 levels")
    rows = m.get("spatial_rows")
    extents = nest.extents
    return Mapping(
        tuple(loops),
        tuple(_factors(row, f"{m.path}.factors[{i}]", extents) for i, row in enumerate(factors)),
        _order(m, "dram_order", loops),
        _order(m, "spm_order", loops),
        None if rows is None else _factors(rows, f"{m.path}.spatial_rows", extents),
    )


def _factors(value: Any, path: str, extents: tuple[int, ...]) -> tuple[int, ...]:
    """One factor per loop, each between 1 and the loop's extent (whether they multiply out is checked later)."""
    if not isinstance(value, list) or len(value) != len(extents):
        raise BadEntry(f"{path} is not a list of {len(extents)} factors")
    for f, extent in zip(value, extents, strict=True):
        if not _is_int(f) or not 1 <= f <= extent:
            raise BadEntry(f"{path} holds {_shown(f)}, not a factor between 1 and its loop's extent {extent}")
    return tuple(value)


def _order(m: _Object, name: str, loops: list[str]) -> tuple[str, ...] | None:
    order = m.get(name)
    if order is None:
        return None
    if not isinstance(order, list) or not all(isinstance(n, str) for n in order) or sorted(order) != sorted(loops):
        m.fail(name, f"is not an order of the loops {loops}")
    return tuple(order)


def _cost(c: _Object) -> Cost:
    breakdown = c.get("breakdown_pj")
    if not isinstance(breakdown, list) or len(breakdown) != 5:
        c.fail("breakdown_pj", "is not a list of 5 energies")
    parts = tuple(_number(part, f"{c.path}.breakdown_pj[{i}]") for i, part in enumerate(breakdown))
    return Cost(c.number("energy_pj"), c.number("cycles"), parts)


def _proof(p: _Object) -> Proof:
    seconds = p.object("seconds")
    root = p.get("root_bound")
    return Proof(
        None if root is None else p.number("root_bound"),
        p.count("candidates_rescored"),
        p.count("tilings_evaluated"),
        p.count("pruned"),
        p.count("rounds"),
        {phase: seconds.number(phase) for phase in seconds.value},
    )


class _Object:
    """A JSON object of an entry, read field by field; `path` names it in messages (`result.cost`)."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise BadEntry(f"{path} is {_kind(value)}, not an object")
        self.value: dict[str, Any] = value
        self.path = path

    def fail(self, name: str, why: str) -> NoReturn:
        raise BadEntry(f"{self.path}.{name} {why}")

    def get(self, name: str) -> Any:
        if name not in self.value:
            self.fail(name, "is missing")
        return self.value[name]

    def object(self, name: str) -> _Object:
        return _Object(self.get(name), f"{self.path}.{name}")

    def number(self, name: str) -> float:
        return _number(self.get(name), f"{self.path}.{name}")

    def count(self, name: str) -> int:
        value = self.get(name)
        if not _is_int(value) or value < 0:
            self.fail(name, f"is {_shown(value)}, not a count")
        return value

    def text(self, name: str) -> str:
        value = self.get(name)
        if not isinstance(value, str):
            self.fail(name, f"is {_kind(value)}, not a string")
        return value

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.text(name)
        if value not in choices:
            self.fail(name, f"is {_shown(value)}, not one of {', '.join(choices)}")
        return value


def _number(value: Any, path: str) -> float:
    """A finite, non-negative figure (cycles, energies, bounds, seconds are never anything else)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadEntry(f"{path} is {_kind(value)}, not a number")
    try:
        figure = float(value)
    except OverflowError:  # an integer beyond any float
        figure = math.inf
    if not (math.isfinite(figure) and figure >= 0):
        raise BadEntry(f"{path} is {_shown(value)}, not a finite non-negative number")
    return figure


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    """A stored value for a message, cut short if long."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


def _no_constant(name: str) -> NoReturn:
    raise BadEntry(f"it holds {name}, which no figure may be")
