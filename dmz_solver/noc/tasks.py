"""Spatial unrollings onto the PE array: the tasks of the searches, each with its communication profile.

A task is a spatial factor tuple (docs/cost-model.md §3.6, in the seed's order) and a split of each
factor into a row part and a column part whose products fit the array's rows and columns. Splits
of one tuple that cost the same for every tiling are merged into the first (on the seed's one-row
array every tuple has exactly one split).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numba
import numpy as np

from ..jit import njit
from .profile import (
    COL,
    DIR_COLS,
    KIND_SYSTOLIC,
    N_PF,
    N_PI,
    NET_DIR,
    NET_KIND,
    NET_REDUCTION,
    PI_EN,
    RED,
    ROW,
    PeArray,
    profile_work,
    task_profile,
)
from .spec import NocSpec
from .systolic import all_systolic, axis_summaries, reduction_hops, systolic_profiles
from .tables import NocTables, noc_tables


@dataclass(frozen=True)
class Tasks:
    """sps[s], rowf[s]: spatial factors and their row parts; pi[s], pf[s]: the profile (noc/profile.py)."""

    sps: np.ndarray
    rowf: np.ndarray
    pi: np.ndarray
    pf: np.ndarray

    def __len__(self) -> int:
        return len(self.sps)

    def subset(self, ids: np.ndarray) -> Tasks:
        return Tasks(self.sps[ids], self.rowf[ids], self.pi[ids], self.pf[ids])


@njit(cache=True)
def _divisors(n, out):
    """The divisors of n, ascending, into out; returns how many."""
    m = 0
    d = 1
    while d * d <= n:
        if n % d == 0:
            out[m] = d
            m += 1
        d += 1
    k = m
    for i in range(k - 1, -1, -1):
        if out[i] * out[i] != n:
            out[m] = n // out[i]
            m += 1
    return m


@njit(cache=True)
def _pins(isidx, array):
    """pin[loop]: the row part a loop must take for the reduction to route (0: free). Partial sums of one output
    cannot cross between systolic chains, so a loop that does not index the output stays along the chains: all
    on the rows for chains down the columns, all on the columns for chains along the rows."""
    n_loops = isidx.shape[1]
    pin = np.zeros(n_loops, np.int64)
    ni = array.net_i[NET_REDUCTION]
    if ni[NET_KIND] == KIND_SYSTOLIC:
        for loop in range(n_loops):
            if not isidx[0, loop]:
                pin[loop] = -1 if ni[NET_DIR] == DIR_COLS else 1  # -1: the whole factor
    return pin


@njit(cache=True)
def _splits(sp, rows, cols, pin, divs, out):
    """Every split of sp that fits rows x cols and keeps the pinned loops' parts, in the order of an odometer over
    ascending row parts (last loop fastest), into out; returns how many. A depth-first walk that stops a branch
    once its row or column product overflows."""
    n_loops = sp.shape[0]
    ndiv = np.zeros(n_loops, np.int64)
    for loop in range(n_loops):
        ndiv[loop] = _divisors(sp[loop], divs[loop])
    pick = np.full(n_loops, -1, np.int64)
    rprod = np.ones(n_loops + 1, np.int64)
    cprod = np.ones(n_loops + 1, np.int64)
    n = 0
    loop = 0
    while loop >= 0:
        pick[loop] += 1
        if pick[loop] >= ndiv[loop]:
            pick[loop] = -1
            loop -= 1
            continue
        d = divs[loop, pick[loop]]
        if (pin[loop] == -1 and d != sp[loop]) or (pin[loop] == 1 and d != 1):
            continue
        r = rprod[loop] * d
        if r > rows:  # larger row parts only overflow more
            pick[loop] = -1
            loop -= 1
            continue
        c = cprod[loop] * (sp[loop] // d)
        if c > cols:
            continue
        rprod[loop + 1] = r
        cprod[loop + 1] = c
        if loop == n_loops - 1:
            if n == out.shape[0]:
                out = _grow(out, 2 * n)
            for i in range(n_loops):
                out[n, i] = divs[i, pick[i]]
            n += 1
        else:
            loop += 1
    return n, out


@njit(cache=True)
def _fits(sp, rowf, rows, cols):
    r = 1
    c = 1
    for loop in range(sp.shape[0]):
        r *= rowf[loop]
        c *= sp[loop] // rowf[loop]
    return r <= rows and c <= cols


@njit(cache=True)
def enumerate_splits(sps, isidx, array):
    """Every split of every tuple that fits the PeArray and keeps the reduction's pinned loops: the tuples and the
    row parts, tuple by tuple in order."""
    rows, cols = array.rows, array.cols
    n_loops = sps.shape[1]
    cap = max(16, 2 * sps.shape[0])
    t_sp = np.empty((cap, n_loops), np.int64)
    t_row = np.empty((cap, n_loops), np.int64)
    pin = _pins(isidx, array)
    divs = np.empty((n_loops, 1), np.int64)
    splits = np.empty((64, n_loops), np.int64)
    n = 0
    for s in range(sps.shape[0]):
        sp = sps[s]
        if divs.shape[1] < sp.max():
            divs = np.empty((n_loops, sp.max()), np.int64)
        if rows == 1:  # one row: the only split is all columns
            count = 1
            splits[0] = 1
            if not _fits(sp, splits[0], rows, cols):
                count = 0
        else:
            count, splits = _splits(sp, rows, cols, pin, divs, splits)
        for i in range(count):
            if n == cap:
                cap *= 2
                t_sp = _grow(t_sp, cap)
                t_row = _grow(t_row, cap)
            t_sp[n] = sp
            t_row[n] = splits[i]
            n += 1
    return t_sp[:n].copy(), t_row[:n].copy()


@njit(cache=True)
def profile_splits(t_sp, t_row, isidx, array):
    """Each split's profile (task_profile) and whether it can reduce."""
    n = t_sp.shape[0]
    nops = isidx.shape[0]
    pi = np.zeros((n, nops + 1, N_PI), np.int64)
    pf = np.zeros((n, nops + 1, N_PF))
    ok = np.zeros(n, np.bool_)
    work = profile_work(nops, array.rows, array.cols)
    for s in range(n):
        if task_profile(t_sp[s], t_row[s], isidx, array, work):
            ok[s] = True
            pi[s] = work.pi
            pf[s] = work.pf
    return pi, pf, ok


def build_tasks(sps: np.ndarray, isidx: np.ndarray, array: PeArray) -> Tasks:
    """Every split of every tuple that fits the PeArray and can reduce, with its profile."""
    t_sp, t_row = enumerate_splits(np.ascontiguousarray(sps, np.int64), isidx, array)
    if all_systolic(array.net_i, isidx.shape[0]):
        pi, pf, ok = _systolic_profiles(t_sp, t_row, isidx, array)
    else:
        pi, pf, ok = _profiles_in_parallel(t_sp, t_row, isidx, array)
    if ok.all():
        return Tasks(t_sp, t_row, pi, pf)
    keep = np.flatnonzero(ok)
    return Tasks(t_sp[keep], t_row[keep], pi[keep], pf[keep])


def _systolic_profiles(
    t_sp: np.ndarray, t_row: np.ndarray, isidx: np.ndarray, array: PeArray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """profile_splits on an all-systolic array, from one summary per distinct row part and column part."""
    rows, row_of = _distinct_rows(t_row)
    cols, col_of = _distinct_rows(t_sp // t_row)
    hops = reduction_hops(array)
    return systolic_profiles(
        axis_summaries(rows, isidx, hops), axis_summaries(cols, isidx, hops), row_of, col_of, array, isidx.shape[0]
    )


def _distinct_rows(parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a positive integer matrix and each row's index among them (np.unique over rows, keyed by
    one integer per row when the rows fit one: ten times faster)."""
    radix = [int(x) + 1 for x in parts.max(axis=0)] if len(parts) else []
    if math.prod(radix) >= 1 << 62:
        found, of = np.unique(parts, axis=0, return_inverse=True)
        return found, of.reshape(-1)
    key = np.zeros(len(parts), np.int64)
    for loop, base in enumerate(radix):
        key = key * base + parts[:, loop]
    _, first, of = np.unique(key, return_index=True, return_inverse=True)
    return parts[first], of.reshape(-1)


def _distinct(tasks: Tasks) -> np.ndarray:
    """Indices of the first task of each tuple among those that cost the same for every tiling.

    Equal profiles cost the same unless a term is a row or column union (profile kinds 1 and 2), whose
    footprint depends on the split itself. Tasks are compared byte for byte: tuple, profile and, for those
    with such a term, the row parts.
    """
    if len(tasks) == 0:
        return np.zeros(0, np.int64)
    kinds = [ROW, COL, PI_EN + ROW, PI_EN + COL]
    boxes = (tasks.pi[:, :RED][:, :, kinds] > 0).any(axis=(1, 2))  # operands' rows only (RED: the reduction)
    n = len(tasks)
    pf_bits = np.ascontiguousarray(tasks.pf).reshape(n, -1).view(np.int64)  # bytes, not float equality
    return _first_of_equals(tasks.sps, np.ascontiguousarray(tasks.pi).reshape(n, -1), pf_bits, tasks.rowf, boxes)


@njit(cache=True)
def _same(a, b):
    """a == b element by element, stopping at the first difference (np.array_equal builds a whole mask)."""
    for i in range(a.shape[0]):  # noqa: SIM110 - numba kernel: a loop, not a generator
        if a[i] != b[i]:
            return False
    return True


@njit(cache=True)
def _first_of_equals(sps, pi, pf_bits, rowf, boxes):  # noqa: C901 - numba kernel: one flat scan
    """The rows of the first task of each class of equal tasks (_distinct): a task is compared with the kept tasks
    of its own tuple, which are consecutive rows (one tuple's splits are built together)."""
    n = sps.shape[0]
    keep = np.empty(n, np.int64)
    m = 0
    run = 0  # where the kept tasks of the current tuple start in keep
    for i in range(n):
        if i > 0 and not _same(sps[i], sps[i - 1]):
            run = m
        duplicate = False
        for j in range(run, m):
            k = keep[j]
            same = _same(pi[i], pi[k]) and _same(pf_bits[i], pf_bits[k])
            if same and (not boxes[i] or _same(rowf[i], rowf[k])):
                duplicate = True
                break
        if not duplicate:
            keep[m] = i
            m += 1
    return keep[:m].copy()


BUILD_CHUNKS = 8
"""Slices of the splits whose profiles are derived in parallel (profile_splits releases the GIL)."""


def _profiles_in_parallel(
    t_sp: np.ndarray, t_row: np.ndarray, isidx: np.ndarray, array: PeArray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """profile_splits over slices of the splits on numba.get_num_threads() threads, joined in order."""
    workers = min(numba.get_num_threads(), BUILD_CHUNKS)
    if workers <= 1 or len(t_sp) < 2 * BUILD_CHUNKS:
        return profile_splits(t_sp, t_row, isidx, array)
    bounds = np.linspace(0, len(t_sp), BUILD_CHUNKS + 1).astype(np.int64)

    def chunk(i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return profile_splits(t_sp[bounds[i] : bounds[i + 1]], t_row[bounds[i] : bounds[i + 1]], isidx, array)

    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(chunk, range(BUILD_CHUNKS)))
    return tuple(np.concatenate([part[k] for part in parts]) for k in range(3))


@njit(cache=True)
def _grow(a, cap):
    out = np.empty((cap,) + a.shape[1:], a.dtype)
    out[: a.shape[0]] = a
    return out


class ArrayArch(Protocol):
    """What the tasks read of an arch (arch.Arch, which this stage sits below)."""

    noc: NocSpec
    noc_energy_pj: float
    rf_energy_pj: float
    mac_energy_pj: float


def tables_of(arch: ArrayArch) -> NocTables:
    return noc_tables(arch.noc, float(arch.noc_energy_pj))


def pe_array(arch: ArrayArch) -> PeArray:
    """The arch's PE array in kernel form."""
    nt = tables_of(arch)
    return PeArray(
        nt.net_i,
        nt.net_f,
        nt.rows,
        nt.cols,
        nt.group_rows,
        nt.group_cols,
        float(arch.rf_energy_pj),
        float(arch.mac_energy_pj),
    )


def make_tasks(
    sps: np.ndarray,
    isidx: np.ndarray,
    arch: ArrayArch,
    allowed: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> Tasks:
    """The tasks of these spatial tuples on the arch's array.

    allowed(sps, rowf), if given, masks the splits to keep (custom constraints over row and column
    parts); it applies before equally costly splits are merged.
    """
    n_loops = isidx.shape[1]
    if len(sps) == 0:
        rows = isidx.shape[0] + 1
        return Tasks(
            np.zeros((0, n_loops), np.int64),
            np.zeros((0, n_loops), np.int64),
            np.zeros((0, rows, N_PI), np.int64),
            np.zeros((0, rows, N_PF)),
        )
    tasks = build_tasks(sps, isidx, pe_array(arch))
    if allowed is not None:
        tasks = tasks.subset(np.flatnonzero(allowed(tasks.sps, tasks.rowf)))
    return tasks.subset(_distinct(tasks))


def profile_of(
    sp: np.ndarray, rowf: np.ndarray, isidx: np.ndarray, arch: ArrayArch
) -> tuple[np.ndarray, np.ndarray] | None:
    """The profile of one unrolling (None if it does not fit the array or cannot reduce)."""
    nt = tables_of(arch)
    sp = np.asarray(sp, np.int64)
    rowf = np.asarray(rowf, np.int64)
    if np.any(sp % rowf) or not _fits(sp, rowf, nt.rows, nt.cols):
        return None
    work = profile_work(isidx.shape[0], nt.rows, nt.cols)
    ok = task_profile(sp, rowf, isidx, pe_array(arch), work)
    return (work.pi, work.pf) if ok else None
