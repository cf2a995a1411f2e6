"""Communication terms of one spatial unrolling, derived from the structure of the networks (docs/archspec.md).

A spatial unrolling gives each loop a factor on the PE rows and one on the columns. PE (r, c)
decodes r and c in mixed radix over the loops' row and column factors (first loop most
significant), which fixes the tile it holds. Per operand, PEs at the same coordinates on the
loops indexing it form a class (they hold the same tile). The terms below depend on the unrolling
only; the kernel multiplies them by tile footprints that depend on the RF factors:

* Distribution (read-only operands; the output's write-back): every edge of the tree carries the
  data of the PEs below it. A multicast bus edge whose subtree is the whole array, a row or a
  column carries the union of their tiles: the footprint of that box (kinds ARRAY, ROW, COL);
  any other edge carries one tile per distinct class below it (kind UNIT, the RF footprint), or
  one per PE without multicast. Cycles are the busiest edge's load over its bandwidth plus the
  longest path's latency; energy is the sum over edges of load times the edge's energy.
* Reduction: each output class accumulates its partial sums PE by PE, in order of PE group (on a
  bus), then distance from the port (farthest first), then PE index; the last PE holds the result and
  writes it back. Each step is a transfer routed through the reduction tree. Cycles are the
  busiest edge or bus node over its bandwidth, plus the longest chain of latencies of a class.

The terms come from the structure of the unrolling rather than from a walk over the PEs: a PE's class
is a pair (its row's key, its column's key), where a row's key is its digits on the loops indexing the
operand, so every set of PEs the trees group (a row, a column, a PE group, the part of a chain below a
node, the whole array) is a product of a set of rows and a set of columns, and its classes are the
products of their keys. The work is linear in the rows and columns used. Two sums keep the node order
of the trees, since floating-point addition is not associative: the energy of a bus whose segment and PE
edges charge different energies, and the hop energy of a reduction whose adds move their operands
different distances; they add one term per PE, in the trees' order.
tests/noc_reference.py keeps the node-by-node derivation over the flattened trees; tests/test_noc.py
checks that both give the same arrays, bit for bit.

Profile layout (per unrolling): pi[op] = cycle counts of the 4 kinds, energy counts of the 4
kinds, latency; pf[op] = cycle bandwidths, energies per element. Row 3 is the reduction:
pi = (count, latency), pf = (bandwidth, unit energy per add, hop energy per add, extra energy).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ..jit import njit

UNIT, ROW, COL, ARRAY = 0, 1, 2, 3
N_KINDS = 4
PI_EN = 4  # pi[op, 4:8] energy counts
PI_LAT = 8
N_PI = 9
N_PF = 8
RED = 3  # profile row of the reduction
R_CNT, R_LAT = 0, 1  # pi[RED]
R_BW, R_UNIT, R_HOP, R_EXTRA = 0, 1, 2, 3  # pf[RED]
NET_REDUCTION = 3

# A network's parameter row (noc/tables.py): integers, then floats.
NET_KIND, NET_MULTICAST, NET_SEG, NET_DIR, NET_LAT, NET_SCOPE_BUS, NET_SCOPE_SEG, NET_SCOPE_PE = range(8)
N_NET_I = 8
NET_BW, NET_SEG_BW, NET_E, NET_SEG_E = range(4)
N_NET_F = 4
KIND_BUS, KIND_SYSTOLIC = 0, 1
SEG_NONE, SEG_ROWS, SEG_COLS, SEG_GROUPS = 0, 1, 2, 3
DIR_ROWS, DIR_COLS = 0, 1

PeArray = namedtuple("PeArray", "net_i net_f rows cols group_rows group_cols e_rf e_mac")
"""The PE array as the profile sees it: its networks' parameter rows (`NocTables`), rows and columns, the PE
groups' rows and columns, and the RF and MAC energies per access (pJ) of the reduction's per-add unit."""

ProfileWork = namedtuple("ProfileWork", "pi pf rkey ckey rpos cpos mark")
"""The profile of one unrolling (pi, pf: the module docstring) and the work arrays that derive it: rkey (operands,
rows) and ckey (operands, columns), each used row's and column's key per operand; rpos, cpos: a set of rows and of
columns; mark: scratch over keys (rows + columns + 1)."""


@njit(cache=True)
def profile_work(nops, rows, cols):
    """A ProfileWork for nops operands on a rows x cols array."""
    return ProfileWork(
        np.empty((nops + 1, N_PI), np.int64),
        np.empty((nops + 1, N_PF)),
        np.empty((nops, rows), np.int64),
        np.empty((nops, cols), np.int64),
        np.empty((2, rows), np.int64),
        np.empty((2, cols), np.int64),
        np.zeros(rows + cols + 1, np.int64),
    )


@njit(cache=True)
def repeat_add(s, x, n):
    """s + x + x + ... (n additions, each rounded, in order) without n additions.

    Within one binade of s the grid is fixed, so every addition adds the same rounded step (unless x is an odd
    multiple of half the grid's spacing, when ties to even alternate): the steps that stay in the binade are taken
    at once, the crossings one by one. Negative terms take the additions one by one."""
    if x < 0 or s < 0:
        for _ in range(n):
            s += x
        return s
    while n > 0:
        t = s + x
        n -= 1
        if t == s:
            return s  # x is below half the spacing: no addition changes s
        s = t
        if n == 0 or s + x >= 1e300:
            continue
        _, e = math.frexp(s)
        top = math.ldexp(1.0, e)  # s lies in [top / 2, top)
        spacing = math.ldexp(1.0, e - 53)
        q = x / spacing
        if s + x >= top or q - math.floor(q) == 0.5:
            continue
        step = (s + x) - s
        k = min(int((top - s - x) / step * (1 - 1e-12)) - 2, n)
        if k > 0:
            s += k * step  # exact: a multiple of the spacing inside the binade
            n -= k
    return s


@njit(cache=True)
def axis_keys(f, idx, used, out):
    """out[i], i < used: position i's digits (mixed radix over f, first loop most significant) on the loops in idx,
    as one number below the product of f over idx, which it returns. Counts up digit by digit (no divisions)."""
    n_loops = f.shape[0]
    place = np.zeros(n_loops, np.int64)
    digits = np.zeros(n_loops, np.int64)
    count = 1
    for loop in range(n_loops - 1, -1, -1):
        if idx[loop]:
            place[loop] = count
            count *= f[loop]
    key = 0
    for i in range(used):
        out[i] = key
        loop = n_loops - 1
        while loop >= 0:
            digits[loop] += 1
            key += place[loop]
            if digits[loop] < f[loop]:
                break
            key -= place[loop] * f[loop]
            digits[loop] = 0
            loop -= 1
    return count


@njit(cache=True)
def count_distinct(keys, lo, hi, mark):
    """How many distinct keys keys[lo:hi] holds (mark: zeros, left as found)."""
    n = 0
    for i in range(lo, hi):
        if mark[keys[i]] == 0:
            mark[keys[i]] = 1
            n += 1
    for i in range(lo, hi):
        mark[keys[i]] = 0
    return n


@njit(cache=True)
def chain_steps(pos, keys, n, mark):
    """Sum over the distinct keys among keys[:n] of 1 + the largest position pos[i] holding it (pos ascending):
    the classes a chain carries past each of its nodes, summed over the nodes."""
    total = 0
    for i in range(n - 1, -1, -1):
        if mark[keys[i]] == 0:
            mark[keys[i]] = 1
            total += pos[i] + 1
    for i in range(n):
        mark[keys[i]] = 0
    return total


@njit(cache=True)
def _node_kind(multicast, scope, op):
    """The footprint kind of a bus node's load: the union of its box (multicast over the array, a row or a column;
    for the write-back only the array's), else UNIT."""
    if multicast and scope != UNIT and (op > 0 or scope == ARRAY):
        return scope
    return UNIT


@njit(cache=True)
def _load(op, kind, cnt, bw, pi, pf, ratio):  # noqa: PLR0917 - numba kernel: flat args
    """A node carrying cnt of kind over bw: the busiest of its kind so far if strictly busier."""
    if cnt / bw > ratio[kind]:
        ratio[kind] = cnt / bw
        pi[op, kind] = cnt
        pf[op, kind] = bw


@njit(cache=True)
def _charge(op, kind, cnt, e, times, state, weigh):  # noqa: PLR0917 - numba kernel: flat args
    """`times` edges in a row, each carrying cnt of kind at energy e per element (state: pi, pf, uniform, en_w).

    With weigh, the weighted sum en_w gets one term per edge, in order (only it depends on the order)."""
    pi, pf, uniform, en_w = state
    if e > 0 and times > 0:
        if pi[op, PI_EN + kind] > 0 and e != pf[op, PI_EN + kind]:
            uniform[kind] = False
        pi[op, PI_EN + kind] += cnt * times
        pf[op, PI_EN + kind] = e
        if weigh:
            en_w[kind] = repeat_add(en_w[kind], cnt * e, times)


@njit(cache=True)
def _blocks(pos, n, size, nblocks, start):
    """start[b]: the first index i of pos[:n] (ascending) at or beyond block b of `size` positions (b <= nblocks)."""
    i = 0
    for b in range(nblocks + 1):
        while i < n and pos[i] < b * size:
            i += 1
        start[b] = i


@njit(cache=True)
def _bus_nodes(op, ni, nf, parts, array, work, state, weigh, ratio):  # noqa: PLR0917 - numba kernel: flat args
    """Loads and energies of a bus's nodes, in the tree's preorder: the bus, then each segment and its PEs."""
    rs, rk, nr, cs, ck, nc = parts
    mark = work.mark
    multicast = ni[NET_MULTICAST] != 0
    dr = count_distinct(rk, 0, nr, mark)
    dc = count_distinct(ck, 0, nc, mark)
    e_pe = nf[NET_E] if op > 0 else 0.0
    e_bus = 0.0 if op > 0 else nf[NET_E]
    kind = _node_kind(multicast, ni[NET_SCOPE_BUS], op)
    cnt = 1 if kind != UNIT else (dr * dc if multicast else nr * nc)
    _load(op, kind, cnt, nf[NET_BW], state[0], state[1], ratio)
    _charge(op, kind, cnt, e_bus, 1, state, weigh)
    pe_kind = _node_kind(multicast, ni[NET_SCOPE_PE], op)  # one PE: one class, one tile
    seg = ni[NET_SEG]
    if seg == SEG_NONE:
        _charge(op, pe_kind, 1, e_pe, nr * nc, state, weigh)
        return
    seg_kind = _node_kind(multicast, ni[NET_SCOPE_SEG], op)
    seg_bw, seg_e = nf[NET_SEG_BW], nf[NET_SEG_E]
    if seg in (SEG_ROWS, SEG_COLS):
        count, per_pes, per_cls = (nr, nc, dc) if seg == SEG_ROWS else (nc, nr, dr)
        cnt = 1 if seg_kind != UNIT else (per_cls if multicast else per_pes)
        _load(op, seg_kind, cnt, seg_bw, state[0], state[1], ratio)
        if weigh:
            for _ in range(count):
                _charge(op, seg_kind, cnt, seg_e, 1, state, weigh)
                _charge(op, pe_kind, 1, e_pe, per_pes, state, weigh)
        else:  # the same charges, grouped: only the weighted sum depends on their order
            _charge(op, seg_kind, cnt, seg_e, count, state, weigh)
            _charge(op, pe_kind, 1, e_pe, nr * nc, state, weigh)
        return
    gr, gc = array.group_rows, array.group_cols
    nbr = (array.rows + gr - 1) // gr
    nbc = (array.cols + gc - 1) // gc
    rstart = np.empty(nbr + 1, np.int64)
    cstart = np.empty(nbc + 1, np.int64)
    _blocks(rs, nr, gr, nbr, rstart)
    _blocks(cs, nc, gc, nbc, cstart)
    for bi in range(nbr):
        h = rstart[bi + 1] - rstart[bi]
        if h == 0:
            continue
        d_r = count_distinct(rk, rstart[bi], rstart[bi + 1], mark)
        for bj in range(nbc):
            w = cstart[bj + 1] - cstart[bj]
            if w == 0:
                continue
            cnt = (
                1
                if seg_kind != UNIT
                else (d_r * count_distinct(ck, cstart[bj], cstart[bj + 1], mark) if multicast else h * w)
            )
            _load(op, seg_kind, cnt, seg_bw, state[0], state[1], ratio)
            _charge(op, seg_kind, cnt, seg_e, 1, state, weigh)
            _charge(op, pe_kind, 1, e_pe, h * w, state, weigh)


@njit(cache=True)
def reset_operand(op, pi, pf):
    """An operand's profile row before its network is derived: no load and no energy of any kind."""
    for kind in range(N_KINDS):
        pi[op, kind] = 0
        pi[op, PI_EN + kind] = 0
        pf[op, kind] = 1.0
        pf[op, PI_EN + kind] = 0.0


@njit(cache=True)
def chain_terms(op, chains, chain, ni, nf, state):
    """An operand's distribution (or write-back) along `chains` alike systolic chains. chain = (head, steps, reach):
    the classes the node at a chain's head carries, the classes carried past each node summed over a chain's nodes
    (the node at step k carries the classes of the PEs at step k or beyond), and the steps to the farthest PE."""
    pi, pf = state[0], state[1]
    head, steps, reach = chain
    _load(op, UNIT, head, nf[NET_BW], pi, pf, np.zeros(N_KINDS))
    _charge(op, UNIT, chains * steps, nf[NET_E], 1, state, False)
    pi[op, PI_LAT] = reach * ni[NET_LAT]


@njit(cache=True)
def _distribution(op, parts, array, work):
    """Cycle and energy terms of one operand's distribution (op > 0) or write-back (op == 0), into work.pi, work.pf.

    parts = (rs, rk, nr, cs, ck, nc): the PEs it serves are rows rs[:nr] x columns cs[:nc] (ascending), their
    classes the pairs of row keys rk and column keys ck. The operand's network is network op (tables.py)."""
    pi, pf = work.pi, work.pf
    rs, rk, nr, cs, ck, nc = parts
    ni, nf = array.net_i[op], array.net_f[op]
    reset_operand(op, pi, pf)
    ratio = np.zeros(N_KINDS)
    uniform = np.ones(N_KINDS, np.bool_)
    en_w = np.zeros(N_KINDS)
    state = (pi, pf, uniform, en_w)
    lat = ni[NET_LAT]
    if ni[NET_KIND] == KIND_SYSTOLIC:
        if ni[NET_DIR] == DIR_ROWS:  # one chain per row served, its classes those of the columns
            chain = (count_distinct(ck, 0, nc, work.mark), chain_steps(cs, ck, nc, work.mark), cs[nc - 1] + 1)
            chain_terms(op, nr, chain, ni, nf, state)
        else:
            chain = (count_distinct(rk, 0, nr, work.mark), chain_steps(rs, rk, nr, work.mark), rs[nr - 1] + 1)
            chain_terms(op, nc, chain, ni, nf, state)
        return
    _bus_nodes(op, ni, nf, parts, array, work, state, False, ratio)
    if not uniform.all():  # mixed energies: one weighted term, summed again in the tree's order
        for kind in range(N_KINDS):
            pi[op, PI_EN + kind] = 0
            pf[op, PI_EN + kind] = 0.0
        _bus_nodes(op, ni, nf, parts, array, work, state, True, np.zeros(N_KINDS))
        for kind in range(N_KINDS):
            if not uniform[kind]:
                pi[op, PI_EN + kind] = 1
                pf[op, PI_EN + kind] = en_w[kind]
    pi[op, PI_LAT] = lat if ni[NET_SEG] == SEG_NONE else 2 * lat  # into a PE: one or two deliveries out of a bus


@njit(cache=True)
def _hop_unit(pf, array, hop, uniform, total):
    """The reduction's per-add energies (§6.1)."""
    if uniform:  # every add moves its operand the same way: the seed's per-add unit (§6.1)
        pf[RED, R_UNIT] = (3 * array.e_rf + hop) + array.e_mac
        pf[RED, R_HOP] = hop
        pf[RED, R_EXTRA] = 0.0
    else:
        pf[RED, R_UNIT] = (3 * array.e_rf + 0.0) + array.e_mac
        pf[RED, R_HOP] = 0.0
        pf[RED, R_EXTRA] = total  # hop energy of all adds, per element of the RF output tile


@njit(cache=True)
def hop_energies(e, n):
    """hd[d]: the hop energy of a transfer over d links, climbed one by one, for d <= n."""
    hd = np.empty(n + 1)
    hd[0] = 0.0
    for d in range(1, n + 1):
        hd[d] = hd[d - 1] + e
    return hd


@njit(cache=True)
def chain_walk(keys, n, hd, climbs):
    """The reduction along one systolic chain, each class inside it: positions 0..n-1 along the chain with their
    class keys. Partial sums climb from the deepest member of a class to the next, farthest from the port first.

    Writes the links each add climbs to climbs[:adds], in the order of the adds, and returns (busiest, longest,
    hop, uniform, adds): the most transfers crossing one link, the most links one class's transfers climb, the hop
    energy of the first add and whether every add's is the same (hd: hop_energies)."""
    deeper = np.full(n, -1, np.int64)  # the next member of a position's class farther from the port
    seen = np.full(n + 1, -1, np.int64)
    for i in range(n - 1, -1, -1):
        deeper[i] = seen[keys[i]]
        seen[keys[i]] = i
    cover = np.zeros(n + 1, np.int64)  # transfers crossing the link into each position
    longest = 0
    span = np.zeros(n, np.int64)  # per class key: links its transfers climb
    adds = 0
    hop = 0.0
    uniform = True
    for i in range(n - 1, -1, -1):  # farthest from the port first
        if deeper[i] < 0:
            continue
        d = deeper[i] - i
        cover[i + 1] += 1
        cover[deeper[i] + 1] -= 1
        span[keys[i]] += d
        longest = max(longest, span[keys[i]])
        if adds == 0:
            hop = hd[d]
        elif hd[d] != hop:
            uniform = False
        climbs[adds] = d
        adds += 1
    busiest = 0
    running = 0
    for i in range(n + 1):
        running += cover[i]
        busiest = max(busiest, running)
    return busiest, longest, hop, uniform, adds


@njit(cache=True)
def climb_energy(climbs, across, hd):
    """The hop energy of all adds of `across` alike chains, in the order of the adds (by position, then across the
    chains), one chain's adds climbing climbs[a] links each."""
    total = 0.0
    for a in range(climbs.shape[0]):
        total = repeat_add(total, hd[climbs[a]], across)
    return total


@njit(cache=True)
def chain_reduction_terms(walk, total, ni, nf, array, pi, pf):  # noqa: PLR0917 - numba kernel: flat args
    """The reduction's terms (pi[RED], pf[RED]) from one chain's chain_walk; total: climb_energy when the adds' hop
    energies differ."""
    busiest, longest, hop, uniform, _ = walk
    if busiest > 0:
        pi[RED, R_CNT] = busiest
        pf[RED, R_BW] = nf[NET_BW]
    pi[RED, R_LAT] = longest * ni[NET_LAT]
    _hop_unit(pf, array, hop, uniform, total)


@njit(cache=True)
def _chain_reduction(keys, n, across, ni, nf, array, work):  # noqa: PLR0917 - numba kernel: flat args
    """The reduction along `across` alike systolic chains (chain_walk, chain_reduction_terms)."""
    hd = hop_energies(nf[NET_E], n)
    climbs = np.empty(n, np.int64)
    walk = chain_walk(keys, n, hd, climbs)
    total = 0.0 if walk[3] else climb_energy(climbs[: walk[4]], across, hd)
    chain_reduction_terms(walk, total, ni, nf, array, work.pi, work.pf)


@njit(cache=True)
def _segment_of(seg, r, c, array):
    if seg == SEG_ROWS:
        return r
    if seg == SEG_COLS:
        return c
    return (r // array.group_rows) * (array.cols // array.group_cols) + c // array.group_cols


@njit(cache=True)
def _bus_reduction(used, kr, kc, ni, nf, array, work):  # noqa: C901, PLR0917 - numba kernel: flat loops and args
    """The reduction over a bus: partial sums of a class move from PE to PE in order of PE group, then PE index."""
    pi, pf = work.pi, work.pf
    ru, cu = used
    rk, ck = work.rkey[0], work.ckey[0]
    e, lat, seg = nf[NET_E], ni[NET_LAT], ni[NET_SEG]
    h_same = (0.0 + 0.0) + e  # up into the bus (free), down into the PE
    if seg == SEG_NONE:  # every transfer: one hop over the bus
        classes = kr * kc
        adds = ru * cu - classes
        if adds > 0:
            pi[RED, R_CNT] = adds
            pf[RED, R_BW] = nf[NET_BW]
            pi[RED, R_LAT] = (ru * cu // classes - 1) * lat
        _hop_unit(pf, array, h_same if adds > 0 else 0.0, True, 0.0)
        return
    h_cross = (h_same + nf[NET_SEG_E]) + nf[NET_SEG_E]  # and across the bus, out of one segment into another
    gr, gc, cols = array.group_rows, array.group_cols, array.cols
    nseg = array.rows if seg == SEG_ROWS else (cols if seg == SEG_COLS else (array.rows // gr) * (cols // gc))
    through = np.zeros(nseg, np.int64)
    bus = 0
    last = np.full(kr * kc, -1, np.int64)
    chain = np.zeros(kr * kc, np.int64)
    adds = 0
    hop = 0.0
    uniform = True
    total = 0.0
    for r0 in range(0, ru, gr):  # PE groups in order, then PE index
        for c0 in range(0, cu, gc):
            for r in range(r0, min(r0 + gr, ru)):
                for c in range(c0, min(c0 + gc, cu)):
                    k = rk[r] * kc + ck[c]
                    src = last[k]
                    last[k] = r * cols + c
                    if src < 0:
                        continue
                    a = _segment_of(seg, src // cols, src % cols, array)
                    b = _segment_of(seg, r, c, array)
                    through[a] += 1
                    if a == b:
                        h = h_same
                        chain[k] += lat
                    else:
                        through[b] += 1
                        bus += 1
                        h = h_cross
                        chain[k] += 3 * lat
                    total += h
                    if adds == 0:
                        hop = h
                    elif h != hop:
                        uniform = False
                    adds += 1
    best = 0.0
    if bus > 0 and bus / nf[NET_BW] > best:
        best = bus / nf[NET_BW]
        pi[RED, R_CNT] = bus
        pf[RED, R_BW] = nf[NET_BW]
    for s in range(nseg):
        if through[s] > 0 and through[s] / nf[NET_SEG_BW] > best:
            best = through[s] / nf[NET_SEG_BW]
            pi[RED, R_CNT] = through[s]
            pf[RED, R_BW] = nf[NET_SEG_BW]
    pi[RED, R_LAT] = chain.max() if adds else 0
    _hop_unit(pf, array, hop, uniform, total)


@njit(cache=True)
def occurrences(keys, n, first, out, mark):
    """Positions 0..n-1 holding the first (or last) occurrence of their key, ascending, into out; returns how many.
    mark: zeros over the keys, left as found."""
    m = 0
    if first:
        for i in range(n):
            if mark[keys[i]] == 0:
                mark[keys[i]] = 1
                out[m] = i
                m += 1
    else:
        for i in range(n - 1, -1, -1):
            if mark[keys[i]] == 0:
                mark[keys[i]] = 1
                out[m] = i
                m += 1
        out[:m] = out[:m][::-1].copy()
    for i in range(n):
        mark[keys[i]] = 0
    return m


@njit(cache=True)
def task_profile(sp, rowf, isidx, array, work):  # noqa: C901 - numba kernel: flat loop, see bench/README.md
    """Fill work.pi, work.pf (module docstring) for one unrolling on a PeArray; work is a ProfileWork.

    Returns False when the unrolling uses no PE or a reduction transfer would have to move away from the port.
    """
    pi, pf = work.pi, work.pf
    nops = isidx.shape[0]
    pi[:, :] = 0
    pf[:, :] = 0.0
    colf = sp // rowf
    ru = 1
    cu = 1
    for loop in range(sp.shape[0]):
        ru *= rowf[loop]
        cu *= colf[loop]
    if ru * cu == 0:
        return False
    kr = np.empty(nops, np.int64)
    kc = np.empty(nops, np.int64)
    for op in range(nops):
        kr[op] = axis_keys(rowf, isidx[op], ru, work.rkey[op])
        kc[op] = axis_keys(colf, isidx[op], cu, work.ckey[op])
    ni, nf = array.net_i[NET_REDUCTION], array.net_f[NET_REDUCTION]
    pf[RED, R_BW] = 1.0
    rs, cs = work.rpos[0], work.cpos[0]
    if ni[NET_KIND] == KIND_SYSTOLIC:
        if ni[NET_DIR] == DIR_COLS:
            if kc[0] < cu:
                return False  # partial sums of one output in two column chains
            _chain_reduction(work.rkey[0], ru, cu, ni, nf, array, work)
            nr = occurrences(work.rkey[0], ru, True, rs, work.mark)  # the result: nearest the port, last column
            nc = occurrences(work.ckey[0], cu, False, cs, work.mark)
        else:
            if kr[0] < ru:
                return False
            _chain_reduction(work.ckey[0], cu, ru, ni, nf, array, work)
            nr = occurrences(work.rkey[0], ru, False, rs, work.mark)
            nc = occurrences(work.ckey[0], cu, True, cs, work.mark)
    else:
        _bus_reduction((ru, cu), kr[0], kc[0], ni, nf, array, work)
        nr = occurrences(work.rkey[0], ru, False, rs, work.mark)  # the result: last group, last PE
        nc = occurrences(work.ckey[0], cu, False, cs, work.mark)
    # Write-back of the results from the last PE of each class (rows rs x columns cs), then the read-only operands.
    rk, ck = work.rpos[1], work.cpos[1]
    for i in range(nr):
        rk[i] = work.rkey[0, rs[i]]
    for i in range(nc):
        ck[i] = work.ckey[0, cs[i]]
    _distribution(0, (rs, rk, nr, cs, ck, nc), array, work)
    for i in range(ru):
        rs[i] = i
    for i in range(cu):
        cs[i] = i
    for op in range(1, nops):
        _distribution(op, (rs, work.rkey[op], ru, cs, work.ckey[op], cu), array, work)
    return True
