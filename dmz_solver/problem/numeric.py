"""Numeric range of the cost model: refuse, before any search, a layer or arch whose figures the kernels cannot hold.

The kernels count cycles, footprints, DMA and NoC terms and trip products in int64, and energies and the
whole-layer cycles in doubles (docs/cost-model.md §0). A value past int64 wraps silently in numba, a float cast
to int64 past its range gives -2^63, and a double past its range becomes inf: either would reach the output as a
wrong number. So when a Problem is built, the largest value each quantity can take over the WHOLE mapping space
is bounded from the layer and arch numbers, in Python arithmetic, and the problem is refused with an InputError
naming the quantity, the input that drives it and the limit when a bound does not fit. Every bound below is an
upper bound of what the kernels form for any valid tiling and ordering pair (docs/cost-model.md "Numeric range"
states the derivation); a refused problem may in fact have fit, a passed one always does.

Notation: M the MAC count, D(op) the operand's whole footprint, W(op) >= Q * D(op, e) for every pass count Q
with its tile e (Q = TC_DRAM with e^SPM, TC_DRAM * TC_SPM with e^PE or e^RF): D(op, e) <= C(op) * prod e^k over
the loops in op's dims (k = how many dims a loop appears in, C = product of the coefficients >= 1), so Q * D(op, e)
<= C(op) * prod over all loops of b^max(1, k).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from ..errors import InputError
from ..loopnest import LoopNest, Operand, touched_total
from ..noc.spec import BUS, REDUCTION, ROLES

INT64_LIMIT = 2**63 - 1
"""Largest value an int64 term of the kernels holds."""
FLOAT_LIMIT = sys.float_info.max / 1024
"""Largest energy * cycles product allowed: the proof multiplies bounds by its cutoff growth (20) and a slack."""
MARGIN = 1.0 + 1e-6
"""Bounds are computed in doubles: this covers their rounding."""


@dataclass(frozen=True)
class NocExtremes:
    """What any unrolling's communication profile can reach on an arch (noc/profile.py): PEs, nodes of the
    widest network, the smallest bandwidth, the longest latency from the port to a node, the energy of one
    element over every edge of a network."""

    pes: int
    nodes: int
    bandwidth: float
    path_latency: int
    energy_per_element: float


def noc_extremes(arch) -> NocExtremes:  # noqa: ANN001 - an arch.Arch (this stage sits below arch's users)
    """Upper bounds of what any unrolling's communication profile can reach on an arch (the smallest bandwidth is
    a lower bound), from its network sections: a network tree has at most a root, one node per segment and one
    per PE, so at most 2 PEs + 1 nodes; a path crosses at most rows + cols + 2 links; one element crosses each link
    of a tree at most once, paying the network's energy per PE link and its segment energy per segment link."""
    noc = arch.noc
    pes = noc.rows * noc.cols
    networks = [noc.network(role) for role in (*ROLES, REDUCTION)]
    bandwidths = [net.bandwidth for net in networks]
    bandwidths += [net.segment_bandwidth for net in networks if net.kind == BUS and net.segments != "none"]
    latency = max(net.latency for net in networks) * (noc.rows + noc.cols + 2)
    per_element = max((net.energy_pj(arch.noc_energy_pj) + net.segment_energy) * (2 * pes + 1) for net in networks)
    return NocExtremes(pes, 2 * pes + 1, float(min(bandwidths)), int(latency), float(per_element))


def _amplified_volume(operand: Operand, extents: tuple[int, ...]) -> int:
    """W(op): a bound on pass count times tile footprint over every tiling (module docstring)."""
    coef = 1.0
    count = [0] * len(extents)
    for dim in operand.dims:
        for loop, c in dim.terms:
            coef *= max(1, abs(c))
            count[loop] += 1
    volume = coef
    for loop, b in enumerate(extents):
        volume *= float(b) ** max(1, count[loop])  # a double: inf past its range, which refuses
    return volume


@dataclass(frozen=True)
class _Term:
    """One bounded quantity: what it is, its bound, the input that drives it and the kind of number."""

    quantity: str
    bound: float
    driver: str
    limit: float = INT64_LIMIT
    kind: str = "int64"


def _ratio(a: float, b: float) -> float:
    """a / b, infinite for b = 0 (the readers refuse that; this keeps the bound a bound)."""
    return a / b if b > 0 else math.inf


def _largest(parts: dict[str, float]) -> str:
    """The name of the largest part: the input a refusal names."""
    return max(parts, key=lambda name: parts[name])


def range_terms(nest: LoopNest, arch) -> list[_Term]:  # noqa: ANN001 - an arch.Arch
    """Every bounded quantity of the nest on the arch (module docstring)."""
    ext = tuple(nest.extents)
    exact_macs = math.prod(ext)
    macs = math.prod(float(b) for b in ext)  # a double, as every bound below
    layer = f"the extents of layer {nest.name}"
    noc = noc_extremes(arch)
    full = [float(op.footprint(ext)) for op in nest.operands]
    vol = [_amplified_volume(op, ext) for op in nest.operands]
    bw = "networks bandwidth" if noc.bandwidth < 1 else layer
    terms = [
        _Term("MAC count", float(min(exact_macs, 2**64)), layer),
        _Term("SPM bytes of a tile", float(sum(full) * max(arch.bytes_per_elem, 1)), layer),
    ]
    ratio = _ratio(arch.accel_mhz, arch.dma_mhz)
    burst = max(full) * arch.dma_elem_bytes
    dma_parts = {
        "arch_details.dma_init_cycles": arch.dma_init_cycles * ratio,
        "arch_details.dma_cycles_per_byte": arch.dma_cycles_per_byte * burst * ratio,
        "arch_details.dataflow_accel_frequency / dma_frequency": ratio,
    }
    terms.append(_Term("DMA cycles of one transfer", (arch.dma_init_cycles + arch.dma_cycles_per_byte * burst) * ratio,
                       _largest(dma_parts)))  # fmt: skip
    # cnt * foot / bandwidth + latency, cnt <= the PEs of the unrolling (noc/profile.py); a reduction chain
    # crosses at most 2 * path_latency per add
    latency = 2 * noc.pes * noc.path_latency + 1
    noc_pass = _ratio(noc.pes * max(full), noc.bandwidth) + noc.pes * noc.nodes * max(full) + latency
    terms.append(_Term("NoC cycles of one RF pass", noc_pass, bw))
    # Whole-layer integers (§5.5, §5.8): F * spm1 and F * miss, with spm1 <= max(Cum[1], T); T <= TC_SPM *
    # (2 comp + red + max noc) and Cum <= 2 * the DMA of all operands; cnt * D_RF * TC_DRAM * TC_SPM <= W
    k_dma = ratio * (arch.dma_init_cycles + arch.dma_cycles_per_byte * arch.dma_elem_bytes) + 1
    parts = {
        layer: 3 * macs + (len(vol) + 1) * macs * latency,
        "arch_details.dma_cycles_per_byte": 2 * sum(vol) * k_dma,
        bw: _ratio(sum(vol) + vol[0], noc.bandwidth),
    }
    layer_cycles = 4 * sum(parts.values())
    terms.append(_Term("cycles of the layer", layer_cycles, _largest(_cycle_drivers(parts, sum(vol), ratio, arch))))
    energy = _energy_bound(arch, noc, macs, vol)
    terms.append(_Term("energy (pJ)", sum(energy.values()), _largest(energy), sys.float_info.max, "double"))
    cycles_double = layer_cycles * (1 + 2 * len(vol))
    edp_parts = {**energy, "cycles": cycles_double}
    terms.append(_Term("energy-delay product", sum(energy.values()) * cycles_double, _largest(edp_parts), FLOAT_LIMIT,
                       "double"))  # fmt: skip
    return terms


def _cycle_drivers(parts: dict[str, float], volume: float, ratio: float, arch) -> dict[str, float]:  # noqa: ANN001
    """The layer-cycle parts with the DMA part (2 W k_dma) split by the input that drives each of its terms, so a
    refusal names dma_init_cycles, dma_cycles_per_byte or the clock ratio rather than always the second."""
    dma = 2 * volume
    return {
        **{name: part for name, part in parts.items() if name != "arch_details.dma_cycles_per_byte"},
        "arch_details.dma_init_cycles": dma * ratio * arch.dma_init_cycles,
        "arch_details.dma_cycles_per_byte": dma * ratio * arch.dma_cycles_per_byte * arch.dma_elem_bytes,
        "arch_details.dataflow_accel_frequency / dma_frequency": dma * ratio,
    }


def _energy_bound(arch, noc: NocExtremes, macs: int, vol: list[float]) -> dict[str, float]:  # noqa: ANN001
    """Bounds of the energy's parts (§6), by the arch field each is proportional to."""
    out = vol[0]  # the reduction's adds over the layer are at most W(out), each moving at most 2 paths
    hop = 2 * noc.energy_per_element
    return {
        "arch_details.mac_energy": arch.mac_energy_pj * (macs + 2 * out),
        "arch_details.rf_energy": arch.rf_energy_pj * (4 * macs + 6 * out),
        "arch_details.communication_energy": 2 * noc.energy_per_element * sum(vol) + 4 * hop * out,
        "arch_details.spm_energy": 2 * arch.spm_energy_pj * sum(vol),
        "arch_details.dram_energy": 4 * arch.dram_energy_pj * sum(vol),
    }


def check_numeric_range(nest: LoopNest, arch) -> dict[str, float]:  # noqa: ANN001 - an arch.Arch
    """Raise an InputError if some quantity of the nest on the arch may leave the range the kernels hold it in, or
    if its energy could round to 0 pJ (then every EDP would be 0 and the objective could not tell mappings apart);
    return the bound of each quantity."""
    terms = range_terms(nest, arch)
    for term in terms:
        if not (term.bound * MARGIN <= term.limit):  # also refuses NaN
            raise InputError(
                f"layer {nest.name} on arch {_arch_named(arch)}: the {term.quantity} could reach {term.bound:.3g} "
                f"(driven by {term.driver}), beyond {term.limit:.3g}, the largest {term.kind} the cost model "
                "computes it in"
            )
    least = least_energy(nest, arch)
    if not least > ROUNDS_TO_ZERO:
        raise InputError(
            f"layer {nest.name} on arch {_arch_named(arch)}: its energy can be as low as {least:.3g} pJ, which "
            "rounds to 0 (energies are whole pJ, docs/cost-model.md §6.4); give mac_energy, rf_energy and "
            "dram_energy in pJ"
        )
    return {term.quantity: term.bound for term in terms}


def check_model_range(nests: list[LoopNest], arch) -> None:  # noqa: ANN001 - an arch.Arch
    """check_numeric_range of every layer, then of the model's totals: their energy, cycles (instances counted)
    and the product of the two must hold in a double. Before any layer is solved."""
    energy = cycles = 0.0
    for nest in nests:
        bounds = check_numeric_range(nest, arch)
        energy += nest.instances * bounds["energy (pJ)"]
        cycles += nest.instances * bounds["cycles of the layer"]
    if not energy * cycles * MARGIN <= sys.float_info.max:
        raise InputError(
            f"the model on arch {_arch_named(arch)}: its total energy-delay product could reach "
            f"{energy * cycles:.3g}, beyond {sys.float_info.max:.3g}, the largest double"
        )


ROUNDS_TO_ZERO = 0.5
"""numpy's rint takes 0.5 to 0 (half to even)."""


def least_energy(nest: LoopNest, arch) -> float:  # noqa: ANN001 - an arch.Arch
    """Energy every mapping of the nest pays: its MACs and RF accesses and each touched element once from DRAM
    (docs/lower-bounds.md §1)."""
    fixed = nest.macs * arch.mac_energy_pj + 4 * nest.macs * arch.rf_energy_pj
    return fixed + arch.dram_energy_pj * touched_total(nest)


def _arch_named(arch) -> str:  # noqa: ANN001 - an arch.Arch
    """The arch as the user gave it: its file when it has one, else its name."""
    source = getattr(arch, "source", None)
    return f"{arch.name} ({source})" if source and source != arch.name else arch.name
