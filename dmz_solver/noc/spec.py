"""The on-chip network sections of an arch spec: PE array shape, PE groups, one network per role.

Every section is optional. Without them the array is one row of CGRA_SIZE PEs in one group, and
every role uses the seed's network: a multicast bus carrying one element per cycle, charging
`communication_energy` per element delivered (docs/cost-model.md §2.2, §5.2, §5.3). docs/archspec.md
describes the fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..specio import Fields

MAX_PES = 65536
"""The largest PE array (256 x 256, TPU v1's matrix unit), given as pe_array or as CGRA_SIZE."""
ROLES: tuple[str, ...] = ("output", "input", "weight")
"""Distribution networks by operand position: the output, then the two read-only operands
(input and weight; for GEMM, A and B)."""
REDUCTION = "reduction"
BUS, SYSTOLIC = "bus", "systolic"
SEGMENTS = ("none", "rows", "columns", "groups")
DIRECTIONS = ("rows", "columns")


@dataclass(frozen=True)
class Network:
    """One network. A bus multicasts (or unicasts) from its port to every PE, optionally through
    one segment bus per row, column or PE group; a systolic network links neighbouring PEs in
    chains along rows or columns, entered at column 0 or row 0.

    bandwidth: elements per cycle of the bus (of each chain for systolic); energy: per element
    delivered into a PE or into the SPM (per hop for systolic); latency: cycles per hop.
    """

    kind: str = BUS
    bandwidth: float = 1.0
    energy: float | None = None  # None: the arch's communication_energy
    latency: int = 0
    multicast: bool = True
    segments: str = "none"
    segment_bandwidth: float = 1.0
    segment_energy: float = 0.0
    direction: str = "rows"

    def energy_pj(self, default: float) -> float:
        return default if self.energy is None else self.energy


SEED_NETWORK = Network()


@dataclass(frozen=True)
class NocSpec:
    """PE array shape, PE groups (blocks of the array) and the networks: those the spec gives per role,
    and its `default` network for the other roles (the seed's bus without one)."""

    rows: int = 1
    cols: int = 256
    group_rows: int = 1
    group_cols: int = 256
    networks: dict[str, Network] = field(default_factory=dict)
    default: Network | None = None
    explicit: bool = False  # the spec gave any of these sections
    shaped: bool = False  # it gave pe_array (otherwise the array is one row of CGRA_SIZE PEs)

    def network(self, role: str) -> Network:
        return self.networks.get(role, self.default or SEED_NETWORK)

    def __hash__(self) -> int:
        return hash(
            (
                self.rows,
                self.cols,
                self.group_rows,
                self.group_cols,
                tuple(sorted(self.networks.items())),
                self.default,
                self.explicit,
                self.shaped,
            )
        )

    @property
    def pe_count(self) -> int:
        return self.rows * self.cols

    def to_json(self) -> dict:
        """The sections as `noc_from_json` reads them back: pe_array if the spec gave it, pe_groups when
        smaller than the array, the `default` network and the roles' own networks."""

        def network_json(net: Network) -> dict:
            out: dict = {"kind": net.kind, "bandwidth": net.bandwidth, "latency": net.latency}
            if net.energy is not None:
                out["energy"] = net.energy
            if net.kind == SYSTOLIC:
                out["direction"] = net.direction
            else:
                out.update(
                    multicast=net.multicast,
                    segments=net.segments,
                    segment_bandwidth=net.segment_bandwidth,
                    segment_energy=net.segment_energy,
                )
            return out

        spec: dict = {"pe_array": {"rows": self.rows, "cols": self.cols}} if self.shaped else {}
        if (self.group_rows, self.group_cols) != (self.rows, self.cols):
            spec["pe_groups"] = {"rows": self.group_rows, "cols": self.group_cols}
        networks = {"default": network_json(self.default)} if self.default is not None else {}
        networks.update({role: network_json(net) for role, net in self.networks.items()})
        if networks:
            spec["networks"] = networks
        return spec


def seed_noc(pe_count: int) -> NocSpec:
    """The seed's implicit network: one row of PEs, one group, a multicast bus per role."""
    return NocSpec(rows=1, cols=pe_count, group_rows=1, group_cols=pe_count)


_NET_FIELDS = {
    "kind",
    "bandwidth",
    "energy",
    "latency",
    "multicast",
    "segments",
    "segment_bandwidth",
    "segment_energy",
    "direction",
    "comment",
}


def network_from_json(fields: Fields) -> Network:
    """Validate one network object."""
    fields.reject_unknown(_NET_FIELDS)
    kind = fields.string("kind", BUS)
    if kind not in (BUS, SYSTOLIC):
        raise fields.error("kind", f"unknown network kind {kind!r} (expected bus or systolic)")
    segments = fields.string("segments", "none")
    if segments not in SEGMENTS:
        raise fields.error("segments", f"expected one of {', '.join(SEGMENTS)}, got {segments!r}")
    direction = fields.string("direction", "rows")
    if direction not in DIRECTIONS:
        raise fields.error("direction", f"expected rows or columns, got {direction!r}")
    if kind == SYSTOLIC:
        for key in ("multicast", "segments", "segment_bandwidth", "segment_energy"):
            if key in fields.obj:
                raise fields.error(key, "applies to bus networks only")
    elif "direction" in fields.obj:
        raise fields.error("direction", "applies to systolic networks only")
    numbers = {
        key: float(fields.number(key, default, positive=key.endswith("bandwidth")))
        for key, default in (("bandwidth", 1.0), ("segment_bandwidth", 1.0), ("energy", 0.0), ("segment_energy", 0.0))
    }
    return Network(
        kind=kind,
        bandwidth=numbers["bandwidth"],
        energy=numbers["energy"] if "energy" in fields.obj else None,
        latency=fields.integer("latency", 1 if kind == SYSTOLIC else 0, minimum=0),
        multicast=fields.boolean("multicast", True),
        segments=segments,
        segment_bandwidth=numbers["segment_bandwidth"],
        segment_energy=numbers["segment_energy"],
        direction=direction,
    )


def noc_from_json(top: Fields, basic: Fields) -> NocSpec:
    """The pe_array, pe_groups and networks sections of an arch spec (all optional)."""
    has_cgra = "CGRA_SIZE" in basic.obj
    cgra = basic.integer("CGRA_SIZE", 256)
    if "pe_array" in top.obj:
        array = top.child("pe_array")
        array.reject_unknown({"rows", "cols", "comment"})
        rows, cols = array.integer("rows"), array.integer("cols")
        if rows * cols > MAX_PES:
            raise array.error(
                "rows",
                f"{rows} x {cols} PEs: at most {MAX_PES} are supported (as many as 256 x 256)",
            )
        if has_cgra and cgra != rows * cols:
            raise basic.error("CGRA_SIZE", f"is {cgra} but pe_array is {rows} x {cols} = {rows * cols} PEs")
    else:
        if cgra > MAX_PES:
            raise basic.error("CGRA_SIZE", f"{cgra} PEs: at most {MAX_PES} are supported (as for pe_array)")
        rows, cols = 1, cgra
    group_rows, group_cols = rows, cols
    if "pe_groups" in top.obj:
        groups = top.child("pe_groups")
        groups.reject_unknown({"rows", "cols", "comment"})
        group_rows, group_cols = groups.integer("rows"), groups.integer("cols")
        if rows % group_rows or cols % group_cols:
            reason = f"a {group_rows} x {group_cols} group does not tile the {rows} x {cols} array"
            raise groups.error("rows" if rows % group_rows else "cols", reason)
    networks: dict[str, Network] = {}
    default = None
    if "networks" in top.obj:
        nets = top.child("networks")
        nets.reject_unknown({*ROLES, REDUCTION, "default", "comment"})
        default = network_from_json(nets.child("default")) if "default" in nets.obj else None
        for role in (*ROLES, REDUCTION):
            if role in nets.obj:
                networks[role] = network_from_json(nets.child(role))
        for role, net in {"default": default, **networks}.items():
            if net is not None and net.segments == "groups" and (group_rows, group_cols) == (rows, cols):
                raise nets.error(role, "segments 'groups' needs a pe_groups section smaller than the array")
    explicit = any(key in top.obj for key in ("pe_array", "pe_groups", "networks"))
    return NocSpec(rows, cols, group_rows, group_cols, networks, default, explicit, "pe_array" in top.obj)
