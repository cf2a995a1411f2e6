"""Sweeps of architecture parameters: `KEY=V1,V2,...` parsing, the cartesian product of points, energy scaling.

KEY is a seed arch-spec name (`CGRA_SIZE`, `RF_SIZE`, `rf_energy`, ...) or an `Arch` field name
(`pe_count`, `rf_bytes`, ...). Every point is validated by the arch-spec reader, so a bad value
is reported like a bad field of an arch spec file.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, fields, replace
from typing import Any

from ..arch import Arch, arch_from_json
from ..errors import InputError
from ..specio import read_json

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
ARCH_FIELDS = {f.name: f for f in fields(Arch) if f.name not in ("name", "constraints", "noc_spec")}  # numeric


def arch_field(key: str) -> str:
    """The Arch field a sweep or scaling key names; InputError for an unknown key."""
    if key in SEED_NAMES:
        return SEED_NAMES[key]
    if key in ARCH_FIELDS:
        return key
    known = ", ".join(dict.fromkeys([*SEED_NAMES, *ARCH_FIELDS]))
    raise InputError(f"unknown arch parameter {key!r} (known: {known})", field=f"--sweep {key}")


@dataclass(frozen=True)
class Sweep:
    """One swept parameter: the name the user gave, the Arch field, and its values."""

    key: str
    field: str
    values: tuple[float | int, ...]


def parse_sweep(text: str) -> Sweep:
    """`KEY=V1,V2,...` -> Sweep; integer fields take integers, the others numbers."""
    key, sep, rest = text.partition("=")
    key = key.strip()
    if not sep or not key or not rest.strip():
        raise InputError(f"expected KEY=V1,V2,..., got {text!r}", field="--sweep")
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
    """Two sweeps of the same parameter (under either name) are an error."""
    seen: dict[str, str] = {}
    for sweep in sweeps:
        if sweep.field in seen:
            raise InputError(f"parameter swept twice (also as {seen[sweep.field]})", field=f"--sweep {sweep.key}")
        seen[sweep.field] = sweep.key


@dataclass(frozen=True)
class EnergyScaling:
    """Per-access energies that follow another parameter (cost-model energies scale with memory size).

    `rules` maps an energy field to (driving field, driving key, table or None, reference, exponent).
    """

    rules: tuple[tuple[str, str, str, dict[float, float] | None, float, float], ...] = ()

    def apply(self, arch: Arch, base: Arch) -> Arch:
        """The arch with each scaled energy set from its driving parameter's value at this point."""
        changes: dict[str, float] = {}
        for energy, driver, key, table, ref, exponent in self.rules:
            value = float(getattr(arch, driver))
            if table is not None:
                if value not in table:
                    raise InputError(f"no {energy} entry for {key}={value:g}", field=f"--scale {energy}")
                changes[energy] = table[value]
            else:
                changes[energy] = getattr(base, energy) * (value / ref) ** exponent
        return replace(arch, **changes)


def load_scaling(path: str) -> EnergyScaling:
    """Read the scaling JSON (docs/reports-and-dse.md): per energy key, `by` plus `table` or `ref`+`exponent`."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError("expected an object of energy keys", source=path)
    rules = []
    for key, rule in data.items():
        energy = _scaling_field(key, path)
        if not isinstance(rule, dict) or "by" not in rule:
            raise InputError("expected an object with 'by' and 'table' or 'ref'+'exponent'", source=path, field=key)
        driver = _scaling_field(str(rule["by"]), path, f"{key}.by")
        table = None
        ref, exponent = 1.0, 0.0
        try:
            if "table" in rule:
                table = {float(k): float(v) for k, v in rule["table"].items()}
            else:
                ref, exponent = float(rule["ref"]), float(rule["exponent"])
                if ref <= 0:
                    raise ValueError
        except (KeyError, ValueError, TypeError, AttributeError):
            raise InputError("needs 'table' {value: pJ} or 'ref' > 0 and 'exponent'", source=path, field=key) from None
        rules.append((energy, driver, str(rule["by"]), table, ref, exponent))
    return EnergyScaling(tuple(rules))


def _scaling_field(key: str, path: str, where: str | None = None) -> str:
    try:
        return arch_field(key)
    except InputError:
        raise InputError(f"unknown arch parameter {key!r}", source=path, field=where or key) from None


def arch_points(base: Arch, sweeps: list[Sweep], scaling: EnergyScaling | None = None) -> list[tuple[dict, Arch]]:
    """Every point of the cartesian product: ({key: value}, validated Arch), in sweep order."""
    check_sweeps(sweeps)
    points = []
    for combo in itertools.product(*(s.values for s in sweeps)):
        params = {s.key: v for s, v in zip(sweeps, combo, strict=True)}
        arch = replace(base, **{s.field: v for s, v in zip(sweeps, combo, strict=True)})
        if scaling:
            arch = scaling.apply(arch, base)
        label = ",".join(f"{k}={v:g}" for k, v in params.items())
        points.append((params, _validated(arch, f"{base.name}[{label}]", sweeps)))
    return points


def _validated(arch: Arch, name: str, sweeps: list[Sweep]) -> Arch:
    """Round-trip through the arch-spec reader so a point obeys the same checks as an arch file."""
    seed: dict[str, Any] = arch.to_seed_json()
    if arch.noc_spec is not None and arch.pe_count != arch.noc_spec.pe_count:
        keys = " ".join(s.key for s in sweeps)
        raise InputError(f"the arch gives its PE array as {arch.noc_spec.rows} x {arch.noc_spec.cols}: the PE count "
                         "follows its pe_array section and cannot be swept", field=f"--sweep {keys}")  # fmt: skip
    try:
        checked = arch_from_json(seed, source="--sweep", name=name)
    except InputError as exc:
        keys = " ".join(s.key for s in sweeps)
        raise InputError(exc.reason, field=f"--sweep {keys}: {exc.field}") from None
    return replace(checked, name=name, noc_spec=arch.noc_spec)
