"""Architecture specs: the seed's `arch_details` / `arch_basic` fields, validated, plus a graph view."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from .noc.spec import REDUCTION, ROLES, NocSpec, noc_from_json, seed_noc
from .specio import Fields, read_json, resolve_named_file

ARCHSPEC_DIR = Path(__file__).resolve().parent.parent / "archspecs"


@dataclass(frozen=True)
class Arch:
    """One accelerator: capacities for the mapping space, timing and energy for the cost model."""

    name: str
    # arch_basic: the mapping space (docs/cost-model.md §2.2)
    pe_count: int = 256
    rf_bytes: int = 512
    bytes_per_elem: int = 2
    spm_banks: int = 32
    spm_bank_bytes: int = 2048
    # arch_details: the cost model (docs/cost-model.md §2.1)
    dma_elem_bytes: int = 2
    dma_init_cycles: float = 291
    dma_cycles_per_byte: float = 0.24
    dma_mhz: float = 3200
    accel_mhz: float = 500
    rf_energy_pj: float = 0.96
    noc_energy_pj: float = 2
    spm_energy_pj: float = 13.5
    dram_energy_pj: float = 200
    mac_energy_pj: float = 0.075
    # Constraint files (paths or names in constraints/) every mapping on this arch obeys
    constraints: tuple[str, ...] = ()
    # PE array shape, PE groups and networks (docs/archspec.md); None: the seed's implicit NoC
    noc_spec: NocSpec | None = None
    source: str | None = field(default=None, compare=False, repr=False)
    """The spec file it was read from (for messages; not part of what the arch is)."""

    @property
    def noc(self) -> NocSpec:
        """The on-chip network: the spec's sections, or the seed's one-row array with multicast buses."""
        return self.noc_spec if self.noc_spec is not None else seed_noc(self.pe_count)

    @property
    def rf_elems(self) -> float:
        """RF capacity in elements, a real number as in the seed (§2.2)."""
        return self.rf_bytes / self.bytes_per_elem

    @property
    def spm_bytes(self) -> int:
        """Capacity of one SPM buffer (the SPM is double-buffered on top of this)."""
        return self.spm_banks * self.spm_bank_bytes

    def to_seed_json(self) -> dict:
        """The seed's arch_spec.json layout of this architecture."""
        return {
            "arch_details": {
                "pe_pipelined": True,
                "pe_pipeline_stages": 1,
                "data_type_size_in_bytes": self.dma_elem_bytes,
                "dma_init_cycles": self.dma_init_cycles,
                "dma_cycles_per_byte": self.dma_cycles_per_byte,
                "dma_frequency": self.dma_mhz,
                "dataflow_accel_frequency": self.accel_mhz,
                "rf_energy": self.rf_energy_pj,
                "communication_energy": self.noc_energy_pj,
                "spm_energy": self.spm_energy_pj,
                "dram_energy": self.dram_energy_pj,
                "mac_energy": self.mac_energy_pj,
            },
            "arch_basic": {
                "CGRA_SIZE": self.pe_count,
                "RF_SIZE": self.rf_bytes,
                "BYTES_PER_DATA": self.bytes_per_elem,
                "TOTAL_BANKS_IN_SPM": self.spm_banks,
                "TOTAL_BYTES_IN_BANK": self.spm_bank_bytes,
            },
        }

    def to_json(self) -> dict:
        """This arch as an arch spec `arch_from_json` reads back: its name, the seed layout, and the pe_array,
        pe_groups and networks sections when it has them (constraints are not written)."""
        spec = {"name": self.name, **self.to_seed_json()}
        if self.noc_spec is not None:
            spec.update(self.noc_spec.to_json())
        return spec


_DETAILS = {
    "pe_pipelined",
    "pe_pipeline_stages",
    "data_type_size_in_bytes",
    "dma_init_cycles",
    "dma_cycles_per_byte",
    "dma_frequency",
    "dataflow_accel_frequency",
    "rf_energy",
    "communication_energy",
    "spm_energy",
    "dram_energy",
    "mac_energy",
}
_BASIC = {"CGRA_SIZE", "RF_SIZE", "BYTES_PER_DATA", "TOTAL_BANKS_IN_SPM", "TOTAL_BYTES_IN_BANK"}
_TOP = {
    "name",
    "description",
    "sources",
    "arch_details",
    "arch_basic",
    "constraints",
    "pe_array",
    "pe_groups",
    "networks",
}


def arch_from_json(obj: object, *, source: str, name: str) -> Arch:
    """Validate a seed-layout arch spec object; defaults are the seed's shipped values."""
    top = Fields(obj, source, "")
    top.reject_unknown(_TOP)
    details = top.child("arch_details", {})
    basic = top.child("arch_basic", {})
    details.reject_unknown(_DETAILS)
    basic.reject_unknown(_BASIC)
    if not details.boolean("pe_pipelined", True):
        raise details.error("pe_pipelined", "only pipelined PEs are modelled (the seed returns -1 cycles otherwise)")
    details.integer("pe_pipeline_stages", 1)
    constraints = top.obj.get("constraints", [])
    if not isinstance(constraints, list) or not all(isinstance(c, str) and c for c in constraints):
        raise top.error("constraints", "expected a list of constraint file names or paths")
    here = Path(source).parent  # file paths in the spec are relative to it; bare names are presets
    constraints = [c if Path(c).suffix not in (".yaml", ".yml", ".json") else str(here / c) for c in constraints]
    noc = noc_from_json(top, basic)
    _check_energy_floor(details)
    return Arch(
        noc_spec=noc if noc.explicit else None,
        constraints=tuple(constraints),
        source=source,
        name=top.string("name", name),
        pe_count=noc.pe_count,
        rf_bytes=basic.integer("RF_SIZE", 512),
        bytes_per_elem=basic.integer("BYTES_PER_DATA", 2),
        spm_banks=basic.integer("TOTAL_BANKS_IN_SPM", 32),
        spm_bank_bytes=basic.integer("TOTAL_BYTES_IN_BANK", 2048),
        dma_elem_bytes=details.integer("data_type_size_in_bytes", 2),
        dma_init_cycles=details.number("dma_init_cycles", 291, positive=False),
        dma_cycles_per_byte=details.number("dma_cycles_per_byte", 0.24, positive=False),
        dma_mhz=details.number("dma_frequency", 3200),
        accel_mhz=details.number("dataflow_accel_frequency", 500),
        rf_energy_pj=details.number("rf_energy", 0.96, positive=False),
        noc_energy_pj=details.number("communication_energy", 2, positive=False),
        spm_energy_pj=details.number("spm_energy", 13.5, positive=False),
        dram_energy_pj=details.number("dram_energy", 200, positive=False),
        mac_energy_pj=details.number("mac_energy", 0.075, positive=False),
    )


FLOOR_ENERGIES = ("mac_energy", "rf_energy", "dram_energy")
"""The energies every mapping pays in proportion to the layer (docs/cost-model.md §6): at least one must be
positive, so that every mapping's energy is positive and the solver's bounds and gaps, which work on its
logarithm and divide by it, are defined."""


def _check_energy_floor(details: Fields) -> None:
    defaults = {"mac_energy": 0.075, "rf_energy": 0.96, "dram_energy": 200}
    if all(details.number(key, defaults[key], positive=False) == 0 for key in FLOOR_ENERGIES):
        raise details.error(
            "mac_energy", "mac_energy, rf_energy and dram_energy are all 0: at least one must be positive"
        )


def describe_arch(arch: Arch) -> str:
    """A readable summary of an arch: array and groups, networks, capacities, timing and energies."""
    noc = arch.noc
    grouped = (noc.group_rows, noc.group_cols) != (noc.rows, noc.cols)
    groups = f"PE groups of {noc.group_rows} x {noc.group_cols}" if grouped else "one PE group"
    levels = hierarchy_graph(arch)
    path = " -> ".join(
        f"{n} x{levels.nodes[n]['copies']}" if "copies" in levels.nodes[n] else n for n in nx.topological_sort(levels)
    )
    lines = [f"arch {arch.name}: {noc.rows} x {noc.cols} PEs, {groups}; {path}"]
    for role in (*ROLES, REDUCTION):
        net = noc.network(role)
        energy = net.energy_pj(arch.noc_energy_pj)
        if net.kind == "bus":
            text = (
                f"bus, {'multicast' if net.multicast else 'unicast'}, {net.bandwidth:g} elem/cycle, "
                f"{energy:g} per delivery"
            )
            if net.segments != "none":
                text += (
                    f"; a segment bus per {net.segments.rstrip('s')} ({net.segment_bandwidth:g} elem/cycle, "
                    f"{net.segment_energy:g} per crossing)"
                )
        else:
            text = f"systolic along {net.direction}, {net.bandwidth:g} elem/cycle per link, {energy:g} per hop"
        if net.latency:
            text += f", {net.latency} cycle(s) per hop"
        lines.append(f"  {role + ' network':<18} {text}")
    lines.append(f"  {'RF':<18} {arch.rf_bytes} B per PE ({arch.rf_elems:g} elements of {arch.bytes_per_elem} B)")
    spm = f"{arch.spm_banks} banks x {arch.spm_bank_bytes} B = {arch.spm_bytes} B (double-buffered)"
    lines.append(f"  {'SPM':<18} {spm}")
    lines.append(
        f"  {'clocks':<18} array {arch.accel_mhz:g} MHz, DMA {arch.dma_mhz:g} MHz, "
        f"{arch.dma_init_cycles:g} + {arch.dma_cycles_per_byte:g}/byte DMA cycles"
    )
    lines.append(
        f"  {'energies':<18} MAC {arch.mac_energy_pj:g}, RF {arch.rf_energy_pj:g}, "
        f"NoC {arch.noc_energy_pj:g}, SPM {arch.spm_energy_pj:g}, "
        f"DRAM {arch.dram_energy_pj:g} per access"
    )
    if arch.constraints:
        lines.append(f"  {'constraints':<18} {', '.join(arch.constraints)}")
    return "\n".join(lines)


def resolve_arch_path(spec: str) -> Path:
    """An arch argument is a path or the name of a file in archspecs/."""
    return resolve_named_file(spec, ARCHSPEC_DIR, "arch spec", (".json",))


def load_arch(spec: str) -> Arch:
    """Read an arch spec by path or archspecs/ name."""
    path = resolve_arch_path(spec)
    return arch_from_json(read_json(path), source=str(path), name=path.stem)


def hierarchy_graph(arch: Arch) -> nx.DiGraph:
    """The memory hierarchy as a graph: DRAM -> SPM -> NoC -> RF -> MAC, with capacities and energies.

    The NoC node stands for the per-role networks that noc/graph.py models in detail.
    """
    noc = arch.noc
    graph = nx.DiGraph(name=arch.name)
    graph.add_node("DRAM", kind="memory", energy_pj=arch.dram_energy_pj)
    graph.add_node(
        "SPM",
        kind="memory",
        bytes=arch.spm_bytes,
        banks=arch.spm_banks,
        double_buffered=True,
        energy_pj=arch.spm_energy_pj,
    )
    graph.add_node(
        "NoC",
        kind="network",
        energy_pj=arch.noc_energy_pj,
        rows=noc.rows,
        cols=noc.cols,
        kinds={role: noc.network(role).kind for role in (*ROLES, REDUCTION)},
    )
    graph.add_node("RF", kind="memory", bytes=arch.rf_bytes, copies=arch.pe_count, energy_pj=arch.rf_energy_pj)
    graph.add_node("MAC", kind="compute", copies=arch.pe_count, energy_pj=arch.mac_energy_pj)
    graph.add_edge(
        "DRAM", "SPM", transfer="DMA", cycles_per_byte=arch.dma_cycles_per_byte, init_cycles=arch.dma_init_cycles
    )
    graph.add_edge("SPM", "NoC", transfer="read")
    graph.add_edge("NoC", "RF", transfer="deliver")
    graph.add_edge("RF", "MAC", transfer="operand")
    return graph
