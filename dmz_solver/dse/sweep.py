"""Sweeps of architecture parameters: `KEY=V1,V2,...` parsing, the cartesian product of points, energy scaling.

KEY is a seed arch-spec name (`CGRA_SIZE`, `RF_SIZE`, `rf_energy`, ...), an `Arch` field name
(`pe_count`, `rf_bytes`, ...), or a dotted path into the PE array and network sections
(`pe_array.rows`, `pe_groups.cols`, `networks.input.bandwidth`, ...). Every point is written as an
arch spec (`Arch.to_json`) with the dotted keys set and read back by the arch-spec reader, so a bad
value is reported like a bad field of an arch spec file.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

from ..arch import Arch, arch_from_json
from ..errors import InputError
from ..noc.spec import REDUCTION, ROLES
from ..specio import Fields, did_you_mean, read_json

SEED_NAMES = {
    "CGRA_SIZE": "pe_count",
    "RF_SIZE": "rf_bytes",
    "BYTES_PER_DATA": "bytes_per_elem",
    "TOTAL_BANKS_IN_SPM": "spm_banks",
    "TOTAL_BYTES_IN_BANK": "spm_bank_bytes",
    "data_type_size_in_bytes": "dma_elem_bytes",
    "dma_init_cycles": "dma_init_cycles",
    "dma_cycles_per_byte": "dma_cycles_per_byte",
    "dma_frequency": "dma_mhz",
    "dataflow_accel_frequency": "accel_mhz",
    "rf_energy": "rf_energy_pj",
    "communication_energy": "noc_energy_pj",
    "spm_energy": "spm_energy_pj",
    "dram_energy": "dram_energy_pj",
    "mac_energy": "mac_energy_pj",
}
NUMBER_TYPES = (int, float, "int", "float")  # annotations are strings under `from __future__ import annotations`
ARCH_FIELDS = {f.name: f for f in fields(Arch) if f.type in NUMBER_TYPES}  # the numeric ones: sweepable, drivers
ARRAY_SECTIONS = ("pe_array", "pe_groups")  # fields rows, cols
NETWORK_ROLES = (*ROLES, REDUCTION, "default")
# The numeric network fields and their types; kind, multicast, segments and direction are not swept
NETWORK_FIELDS = {
    "bandwidth": float,
    "energy": float,
    "latency": int,
    "segment_bandwidth": float,
    "segment_energy": float,
}


def arch_field(key: str) -> str:
    """The Arch field a sweep or scaling key names; InputError for an unknown key."""
    if key in SEED_NAMES:
        return SEED_NAMES[key]
    if key in ARCH_FIELDS:
        return key
    names = list(dict.fromkeys([*SEED_NAMES, *ARCH_FIELDS]))
    hint = did_you_mean(key, names)
    raise InputError(f"unknown arch parameter {key!r}{hint} (known: {', '.join(names)})", field=f"--sweep {key}")


def spec_path(key: str) -> tuple[str, type]:
    """The arch-spec path a dotted sweep key names (`pe_array.rows`, `networks.input.bandwidth`) and its type."""
    parts = key.split(".")
    where = f"--sweep {key}"
    if parts[0] in ARRAY_SECTIONS:
        if len(parts) != 2 or parts[1] not in ("rows", "cols"):
            raise InputError(f"expected {parts[0]}.rows or {parts[0]}.cols", field=where)
        return key, int
    if parts[0] != "networks" or len(parts) != 3:
        raise InputError("expected pe_array.rows|cols, pe_groups.rows|cols or networks.ROLE.FIELD", field=where)
    role, name = parts[1], parts[2]
    if role not in NETWORK_ROLES:
        hint = did_you_mean(role, NETWORK_ROLES)
        raise InputError(f"unknown network role {role!r}{hint} (known: {', '.join(NETWORK_ROLES)})", field=where)
    if name not in NETWORK_FIELDS:
        known = ", ".join(NETWORK_FIELDS)
        hint = did_you_mean(name, list(NETWORK_FIELDS))
        raise InputError(f"unknown or non-numeric network field {name!r}{hint} (sweepable: {known})", field=where)
    return key, NETWORK_FIELDS[name]


@dataclass(frozen=True)
class Sweep:
    """One swept parameter: the name the user gave, the Arch field (or dotted arch-spec path), and its values."""

    key: str
    field: str
    values: tuple[float | int, ...]

    @property
    def dotted(self) -> bool:
        """A path into the pe_array, pe_groups or networks sections rather than an Arch field."""
        return "." in self.field


def parse_sweep(text: str) -> Sweep:
    """`KEY=V1,V2,...` -> Sweep; integer fields take integers, the others numbers."""
    key, sep, rest = text.partition("=")
    key = key.strip()
    if not sep or not key or not rest.strip():
        raise InputError(f"expected KEY=V1,V2,..., got {text!r}", field="--sweep")
    if "." in key:
        name, kind = spec_path(key)
    else:
        name = arch_field(key)
        kind = int if ARCH_FIELDS[name].type in (int, "int") else float
    values = []
    for item in rest.split(","):
        try:
            value = kind(item.strip())
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise InputError(f"value {item.strip()!r} is not {what}", field=f"--sweep {key}") from None
        if not math.isfinite(value):
            raise InputError(f"value {item.strip()!r} is not finite", field=f"--sweep {key}")
        values.append(value)
    if len(set(values)) != len(values):
        raise InputError("a value is repeated", field=f"--sweep {key}")
    return Sweep(key, name, tuple(values))


def check_sweeps(sweeps: list[Sweep]) -> None:
    """Two sweeps of the same parameter (under either name), or of the PE count and the array shape, are errors."""
    seen: dict[str, str] = {}
    for sweep in sweeps:
        if sweep.field in seen:
            raise InputError(f"parameter swept twice (also as {seen[sweep.field]})", field=f"--sweep {sweep.key}")
        seen[sweep.field] = sweep.key
    shape = [s.key for s in sweeps if s.field.startswith("pe_array.")]
    if shape and "pe_count" in seen:
        raise InputError(
            f"the PE count follows {' and '.join(shape)}: sweep the array shape or the PE count",
            field=f"--sweep {seen['pe_count']}",
        )


@dataclass(frozen=True)
class ScalingRule:
    """One energy that follows a parameter: by a table of values, or by (value / ref) ** exponent."""

    key: str  # the energy as the file names it (`rf_energy`)
    energy: str  # its Arch field (`rf_energy_pj`)
    by: str  # the driving parameter as the file names it (`RF_SIZE`)
    driver: str  # its Arch field (`rf_bytes`)
    table: dict[float, float] | None = None
    ref: float = 1.0
    exponent: float = 0.0

    def value(self, arch: Arch, base: Arch) -> float:
        """The energy at this arch point; InputError if the table has no entry or the power law overflows."""
        at = float(getattr(arch, self.driver))
        if self.table is not None:
            if at not in self.table:
                raise InputError(f"no {self.key} entry for {self.by}={at:g}", field=f"--scale {self.key}")
            return self.table[at]
        try:
            energy = getattr(base, self.energy) * (at / self.ref) ** self.exponent
        except OverflowError:
            energy = math.inf
        if not math.isfinite(energy):
            reason = f"the power law gives an energy beyond any number at {self.by}={at:g}"
            raise InputError(reason, field=f"--scale {self.key}")
        return energy


@dataclass(frozen=True)
class EnergyScaling:
    """Per-access energies that follow another parameter (cost-model energies scale with memory size)."""

    rules: tuple[ScalingRule, ...] = ()

    def apply(self, arch: Arch, base: Arch) -> Arch:
        """The arch with each scaled energy set from its driving parameter's value at this point."""
        return replace(arch, **{rule.energy: rule.value(arch, base) for rule in self.rules})


SCALED_ENERGIES = {key: name for key, name in SEED_NAMES.items() if name.endswith("_energy_pj")}
"""The energies a scaling file may set, by seed name (`rf_energy`) -> Arch field."""


def load_scaling(path: str) -> EnergyScaling:
    """Read the scaling JSON (docs/reports-and-dse.md): per energy key, `by` plus `table` or `ref`+`exponent`."""
    top = Fields(read_json(path), path, "")
    top.reject_unknown(set(SCALED_ENERGIES) | set(SCALED_ENERGIES.values()))
    rules = []
    for key in top.obj:
        if key.startswith("_"):
            continue
        rule = top.child(key)
        rule.reject_unknown({"by", "table", "ref", "exponent", "comment"})
        by = rule.string("by")
        named = {"key": key, "energy": SCALED_ENERGIES.get(key, key), "by": by, "driver": _scaling_driver(by, rule)}
        if ("table" in rule.obj) == ("ref" in rule.obj or "exponent" in rule.obj):
            raise rule.error("table", "give either 'table' {value: pJ} or 'ref' and 'exponent'")
        if "table" in rule.obj:
            rules.append(ScalingRule(**named, table=_scaling_table(rule.child("table"))))
        else:
            ref, exponent = float(rule.number("ref")), float(rule.number("exponent", signed=True))
            rules.append(ScalingRule(**named, ref=ref, exponent=exponent))
    return EnergyScaling(tuple(rules))


def _scaling_driver(by: str, rule: Fields) -> str:
    try:
        return arch_field(by)
    except InputError:
        known = [*SEED_NAMES, *ARCH_FIELDS]
        raise rule.error("by", f"unknown arch parameter {by!r}{did_you_mean(by, known)}") from None


def _scaling_table(table: Fields) -> dict[float, float]:
    """{parameter value: energy in pJ}: keys are finite numbers, energies finite and not negative."""
    out = {}
    for text in table.obj:
        try:
            value = float(text)
        except ValueError:
            raise table.error(text, "expected a number as the parameter value") from None
        if not math.isfinite(value):
            raise table.error(text, "expected a finite parameter value")
        if value in out:
            raise table.error(text, f"the parameter value {value:g} is given twice (another key spells it too)")
        out[value] = float(table.number(text, positive=False))
    return out


def arch_points(
    base: Arch,
    sweeps: list[Sweep],
    scaling: EnergyScaling | None = None,
    combos: Sequence[tuple[int, ...]] | None = None,
) -> list[tuple[dict, Arch]]:
    """The points of the cartesian product, ({key: value}, validated Arch), in sweep order; with `combos`, only
    those grid points (each the index of its value in each sweep, e.g. a sample)."""
    check_sweeps(sweeps)
    if combos is None:
        grid = itertools.product(*(s.values for s in sweeps))
    else:
        grid = (tuple(s.values[i] for s, i in zip(sweeps, combo, strict=True)) for combo in combos)
    points = []
    for combo in grid:
        params = {s.key: v for s, v in zip(sweeps, combo, strict=True)}
        label = ",".join(f"{k}={v:g}" for k, v in params.items())
        name = f"{base.name}[{label}]"
        flat = {s.field: v for s, v in zip(sweeps, combo, strict=True) if not s.dotted}
        dotted = {s.field: v for s, v in zip(sweeps, combo, strict=True) if s.dotted}
        arch = replace(base, **flat)
        if arch.noc_spec is not None and arch.noc_spec.shaped and arch.pe_count != arch.noc_spec.pe_count:
            keys = " ".join(s.key for s in sweeps if s.field == "pe_count")
            noc = arch.noc_spec
            raise InputError(
                f"the arch gives its PE array as {noc.rows} x {noc.cols}: the PE count follows its "
                "pe_array section and cannot be swept",
                field=f"--sweep {keys}",
            )
        arch = _validated(with_spec_values(arch.to_json(), dotted), name, sweeps)
        if scaling:  # after the read, so that a driver such as the PE count has this point's value
            arch = _validated(scaling.apply(arch, base).to_json(), name, sweeps)
        points.append((params, arch))
    return points


def with_spec_values(spec: dict, values: dict[str, float | int]) -> dict:
    """A copy of an arch spec with dotted paths set, sections and networks filled in as the reader would.

    A missing pe_array is the seed's one row of CGRA_SIZE PEs, a missing pe_groups is the whole array, and a
    role without a network of its own starts from `default` (or the seed's bus, `{}`). A swept `default`
    reaches the roles that do not list their own network; when every role does, it is an error. When the
    array shape is swept, CGRA_SIZE is dropped so that the PE count follows rows x cols.
    """
    spec = copy.deepcopy(spec)
    basic = spec.setdefault("arch_basic", {})
    order = {"pe_array": 0, "pe_groups": 1, "networks.default": 2}  # default before the roles that inherit it
    for path, value in sorted(values.items(), key=lambda item: order.get(item[0].rsplit(".", 1)[0], 3)):
        section, *rest = path.split(".")
        if section == "pe_array":
            spec.setdefault("pe_array", {"rows": 1, "cols": basic.get("CGRA_SIZE", 256)})[rest[0]] = value
            basic.pop("CGRA_SIZE", None)
        elif section == "pe_groups":
            array = spec.get("pe_array", {"rows": 1, "cols": basic.get("CGRA_SIZE", 256)})
            spec.setdefault("pe_groups", {"rows": array["rows"], "cols": array["cols"]})[rest[0]] = value
        else:
            role, name = rest
            networks = spec.setdefault("networks", {})
            if role == "default":
                if all(r in networks for r in (*ROLES, REDUCTION)):
                    raise InputError(
                        "every role lists its own network, so the default network is unused; "
                        "sweep networks.ROLE." + name,
                        field=f"--sweep {path}",
                    )
            elif role not in networks:
                networks[role] = copy.deepcopy(networks.get("default", {}))
            networks.setdefault(role, {})[name] = value
    return spec


def _validated(spec: dict, name: str, sweeps: list[Sweep]) -> Arch:
    """Read a point's arch spec back through the arch-spec reader, so a point obeys the same checks as a file.

    A problem with a dotted key's own field names that key; any other names every swept key.
    """
    try:
        checked = arch_from_json(spec, source="--sweep", name=name)
    except InputError as exc:
        named = [s.key for s in sweeps if s.dotted and s.field == exc.field]
        if named:
            raise InputError(exc.reason, field=f"--sweep {named[0]}") from None
        keys = " ".join(s.key for s in sweeps)
        raise InputError(exc.reason, field=f"--sweep {keys}: {exc.field}") from None
    return replace(checked, name=name)
