"""Pack a loop nest, an architecture and the search knobs into the arrays the kernels take."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy

from .. import layout as k
from ..arch import Arch
from ..constraints.compile import CompiledConstraints, compile_constraints
from ..constraints.parse import ConstraintSet
from ..loopnest import LoopNest
from ..noc.tasks import make_tasks, profile_of
from .knobs import Knobs
from .numeric import check_numeric_range
from .ordering import candidate_orders


def divisors(n: int) -> list[int]:
    """Divisors of n, ascending."""
    return sorted(int(d) for d in sympy.divisors(n))


@dataclass(frozen=True)
class Problem:
    """One layer on one architecture, as arrays for the kernels."""

    nest: LoopNest
    arch: Arch
    knobs: Knobs = field(default_factory=Knobs)
    constraints: ConstraintSet | None = None
    """Custom constraint files (dmz_solver/constraints); every search and check obeys them."""

    def __post_init__(self) -> None:
        check_numeric_range(self.nest, self.arch)  # no kernel may see a value it cannot hold (problem/numeric.py)

    @cached_property
    def compiled(self) -> CompiledConstraints:
        """The constraints bound to this layer (empty without constraints)."""
        return compile_constraints(self.constraints, self.nest, self.arch)

    @cached_property
    def orders(self) -> list[tuple[int, ...]]:
        """Candidate orders, innermost first (§3.4)."""
        return candidate_orders(self.nest)

    @cached_property
    def arrays(self) -> k.NestArrays:
        """The nest and arch in kernel form."""
        nest = self.nest
        n_loops = len(nest.loops)
        max_dims = max(len(op.dims) for op in nest.operands)
        nops = len(nest.operands)
        dcoef = np.zeros((nops, max_dims, n_loops), np.int64)
        dsize = np.ones((nops, max_dims), np.int64)
        ndims = np.array([len(op.dims) for op in nest.operands], np.int64)
        isidx = np.zeros((nops, n_loops), np.bool_)
        for o, operand in enumerate(nest.operands):
            for d, dim in enumerate(operand.dims):
                dsize[o, d] = dim.size
                for loop, coef in dim.terms:
                    dcoef[o, d, loop] = coef
            isidx[o, list(operand.index_loops)] = True
        cands = np.array(self.orders, np.int64).reshape(len(self.orders), n_loops)
        return k.NestArrays(dcoef, dsize, ndims, isidx, cands, self.float_params, self.int_params)

    def unrollings(self, sp: np.ndarray, rows: tuple[int, ...] | None = None) -> list[k.Profile]:
        """Profiles of a spatial tuple on this arch's array (noc/profile.py).

        With `rows` given, that row/column split alone (empty if it does not fit or cannot reduce);
        otherwise every split that costs differently, in enumeration order.
        """
        isidx = self.arrays.isidx
        sp = np.asarray(sp, np.int64)
        if rows is not None:
            found = profile_of(sp, np.array(rows, np.int64), isidx, self.arch)
            return [] if found is None else [k.Profile(found[0], found[1], np.array(rows, np.int64))]
        tasks = make_tasks(sp.reshape(1, -1), isidx, self.arch)
        return [k.Profile(tasks.pi[i], tasks.pf[i], tasks.rowf[i]) for i in range(len(tasks))]

    def batch_profiles(self, tilings: np.ndarray) -> k.Profiles:
        """The Profiles for evaluate_batch: each tiling gets the first split of its spatial tuple
        (the benches' batches; on a multi-row array they measure that split only).

        A tiling whose tuple has no valid split gets an all-zero profile: callers filter those out.
        """
        sps, which = np.unique(tilings[:, 3, :], axis=0, return_inverse=True)
        tasks = make_tasks(sps, self.arrays.isidx, self.arch)
        nops = len(self.nest.operands)
        pis = np.zeros((len(sps), nops + 1) + tasks.pi.shape[2:], np.int64)
        pfs = np.ones((len(sps), nops + 1) + tasks.pf.shape[2:])
        rowfs = np.ones(sps.shape, np.int64)
        row_of = {sp.tobytes(): u for u, sp in enumerate(sps)}
        done = set()
        for i, sp in enumerate(tasks.sps):  # the first split of each tuple
            u = row_of[sp.tobytes()]
            if u not in done:
                done.add(u)
                pis[u], pfs[u], rowfs[u] = tasks.pi[i], tasks.pf[i], tasks.rowf[i]
        return k.Profiles(pis, pfs, rowfs, which.reshape(-1).astype(np.int64))

    @cached_property
    def float_params(self) -> np.ndarray:
        a, kn = self.arch, self.knobs
        fp = np.zeros(k.N_FP)
        fp[[k.F_MAC, k.F_RF, k.F_NOC, k.F_SPM, k.F_DRAM]] = (
            a.mac_energy_pj, a.rf_energy_pj, a.noc_energy_pj, a.spm_energy_pj, a.dram_energy_pj,
        )  # fmt: skip
        fp[[k.F_DMA_INIT, k.F_DMA_CPB, k.F_ACCEL_MHZ, k.F_DMA_MHZ]] = (
            a.dma_init_cycles, a.dma_cycles_per_byte, a.accel_mhz, a.dma_mhz,
        )  # fmt: skip
        fp[[k.F_RF_ELEMS, k.F_PE_UTIL, k.F_RF_UTIL, k.F_SPM_UTIL]] = (a.rf_elems, kn.pe_util, kn.rf_util, kn.spm_util)
        return fp

    @cached_property
    def int_params(self) -> np.ndarray:
        a = self.arch
        ip = np.zeros(k.N_IP, np.int64)
        ip[[k.I_PES, k.I_BYTES_PER_ELEM, k.I_BANKS, k.I_BANK_BYTES, k.I_DMA_ELEM_BYTES]] = (
            a.pe_count, a.bytes_per_elem, a.spm_banks, a.spm_bank_bytes, a.dma_elem_bytes,
        )  # fmt: skip
        return ip

    @cached_property
    def divisor_table(self) -> tuple[np.ndarray, np.ndarray]:
        """(divs, ndivs): ascending divisors of each loop's extent, padded with zeros."""
        lists = [divisors(e) for e in self.nest.extents]
        divs = np.zeros((len(lists), max(len(d) for d in lists)), np.int64)
        for i, d in enumerate(lists):
            divs[i, : len(d)] = d
        return divs, np.array([len(d) for d in lists], np.int64)

    @cached_property
    def loop_masks(self) -> tuple[np.ndarray, np.ndarray]:
        """(spatial_one, dram_one): loops the knobs pin to 1 spatially / at DRAM level (§3.2)."""
        n_loops = len(self.nest.loops)
        spatial_one = np.zeros(n_loops, np.bool_)
        dram_one = np.zeros(n_loops, np.bool_)
        if self.knobs.no_spatial_reduction:
            spatial_one[list(self.nest.reduction_loops())] = True
        if self.knobs.no_feature_dram:
            dram_one[list(self.nest.window_loops)] = True
        return spatial_one, dram_one
