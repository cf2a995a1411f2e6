"""Bind constraints to one layer and architecture: integer polynomials over one tiling's atoms.

Every relation becomes `P(atoms) >= 0`, `> 0`, `== 0` or `!= 0` with integer coefficients, the
atoms of a (4 x loops) tiling being its factors, the tile footprints at RF / PE / SPM level, the
PEs used, the RF elements used and the SPM bytes used, then the row and column parts of the
spatial factors (ROWS, COLS). A relation over row or column parts may read only spatial atoms: it
is checked per task (spatial tuple and split), never at a leaf. Utilisations are ratios with a fixed
positive denominator, so they are multiplied out exactly (no floating point anywhere). The same
polynomials are checked in Python (`check`), at the exhaustive search's leaves (`leaf_ok`, numba)
and stated in CP-SAT (search/cpsat_model.py), so every path agrees. Loop-order rules become, per
level, the set of loops allowed innermost (innermost among the loops with trip count > 1).
"""

from __future__ import annotations

import functools
import math
from collections import namedtuple
from dataclasses import dataclass

import numpy as np
import sympy

from ..arch import Arch
from ..jit import njit
from ..layout import RF, SP, SPM, footprint
from ..loopnest import LoopNest
from ..vocabulary import LEVELS
from .parse import ARRAY_LEVELS, FACTOR_PREFIX, Constraint, ConstraintSet

GE, GT, EQ, NE = 0, 1, 2, 3
FOOTPRINT_ROWS = ("RF", "PE", "SPM")
INT_LIMIT = 1 << 62

ConstraintArrays = namedtuple("ConstraintArrays", "kinds tstart coefs exps")
"""Relations in numba form: relation r has kind kinds[r] and the terms tstart[r]..tstart[r+1]-1, each a
coefficient coefs[term] times the atoms raised to exps[term, atom]."""


@dataclass(frozen=True)
class Relation:
    """P(atoms) KIND 0 with P = sum of coef * prod atom**exp; from one named constraint."""

    constraint: Constraint
    kind: int
    terms: tuple[tuple[int, tuple[int, ...]], ...]


@dataclass(frozen=True)
class CompiledConstraints:
    """The constraints that apply to one layer, in the forms the searches use."""

    nest: LoopNest
    relations: tuple[Relation, ...]
    order_rules: tuple[Constraint, ...]
    allowed_inner: tuple[np.ndarray, np.ndarray]  # (DRAM, SPM): loops allowed innermost
    natoms: int
    bytes_per_elem: int
    array_rows: int  # PE rows of the arch: with one, every spatial factor is on the columns

    @property
    def named(self) -> tuple[Constraint, ...]:
        """The distinct constraints that restrict this layer, in file order."""
        seen: dict[str, Constraint] = {}
        for c in [r.constraint for r in self.relations] + list(self.order_rules):
            seen.setdefault(c.name, c)
        return tuple(seen.values())

    @property
    def arrays(self) -> ConstraintArrays:
        """The relations for `leaf_ok`: relation r has terms tstart[r]..tstart[r+1]-1."""
        return self.arrays_of(self.relations)

    def arrays_of(self, relations: tuple[Relation, ...]) -> ConstraintArrays:
        """`arrays` for a subset of the relations."""
        kinds = np.array([r.kind for r in relations], np.int64)
        tstart = np.zeros(len(relations) + 1, np.int64)
        coefs, exps = [], []
        for i, r in enumerate(relations):
            tstart[i + 1] = tstart[i] + len(r.terms)
            for coef, exp in r.terms:
                coefs.append(coef)
                exps.append(exp)
        exps_arr = np.array(exps, np.int64).reshape(len(exps), self.natoms)
        return ConstraintArrays(kinds, tstart, np.array(coefs, np.int64), exps_arr)

    def check(
        self,
        tiling: np.ndarray,
        orders: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
        rows: tuple[int, ...] | None = None,
    ) -> list[str]:
        """Names of the constraints a (4 x loops) tiling (and its (DRAM, SPM) orders, outermost first, and the
        row parts of its spatial factors) breaks. Without `rows` on a multi-row array, relations over row and
        column parts are not checked."""
        if not self.relations and (orders is None or not self.order_rules):
            return []  # nothing to check (no constraint files): no atoms to compute
        atoms = atom_values(self.nest, tiling, self.bytes_per_elem, rows)
        unknown = rows is None and self.array_rows > 1
        broken = [r.constraint for r in self.relations if not (unknown and self.on_array(r)) and not _holds(r, atoms)]
        if orders is not None:
            for rule in self.order_rules:
                level = 0 if rule.level == "DRAM" else 1
                inner = innermost_loop(self.nest, tiling, rule.level, orders[level])
                if inner is not None and inner not in rule.loops:
                    broken.append(rule)
        names: list[str] = []
        for c in broken:
            if c.name not in names:
                names.append(c.name)
        return names

    def pins_to_one(self, r: Relation) -> int | None:
        """The atom a relation forces to 1 (`LEVEL.L == 1` or `LEVEL.L <= 1`), if it is one of those."""
        atoms = [(q, exp.index(1)) for q, exp in r.terms if sum(exp) == 1 and max(exp) == 1]
        consts = [q for q, exp in r.terms if not any(exp)]
        if len(r.terms) != 2 or len(atoms) != 1 or consts != [-atoms[0][0]]:
            return None
        q, a = atoms[0]
        return a if r.kind == EQ or (r.kind == GE and q < 0) else None  # q (a - 1) == 0, or 1 - a >= 0

    def pinned(self, row: int) -> np.ndarray:
        """Loops whose factor at tiling row `row` a relation forces to 1."""
        n_loops = len(self.nest.loops)
        out = np.zeros(n_loops, np.bool_)
        for r in self.relations:
            a = self.pins_to_one(r)
            if a is not None and a // n_loops == row:
                out[a % n_loops] = True
        return out

    def is_spatial(self, r: Relation) -> bool:
        """Whether a relation reads only spatial factors, their row and column parts, and the PEs used."""
        n_loops = len(self.nest.loops)
        pes = 4 * n_loops + 3 * len(self.nest.operands)
        spatial = set(range(3 * n_loops, 4 * n_loops)) | {pes} | set(range(pes + 3, self.natoms))
        return all(a in spatial for _, exp in r.terms for a, e in enumerate(exp) if e)

    def on_array(self, r: Relation) -> bool:
        """Whether a relation reads row or column parts of spatial factors (the last 2 x loops atoms)."""
        first = self.natoms - 2 * len(self.nest.loops)
        return any(e for _, exp in r.terms for e in exp[first:])

    @property
    def has_array_relations(self) -> bool:
        return any(self.on_array(r) for r in self.relations)

    def spatial_ok(self, sps: np.ndarray, rowf: np.ndarray | None = None) -> np.ndarray:
        """Which spatial tuples pass the relations over spatial atoms alone. Without `rowf` (the row parts of
        each tuple's split), relations over row and column parts are left out."""
        local = [r for r in self.relations if self.is_spatial(r) and (rowf is not None or not self.on_array(r))]
        keep = np.ones(len(sps), np.bool_)
        tiling = np.ones((4, len(self.nest.loops)), np.int64)
        for i, sp in enumerate(sps):
            tiling[SP] = sp
            atoms = atom_values(self.nest, tiling, self.bytes_per_elem, None if rowf is None else rowf[i])
            keep[i] = all(_holds(r, atoms) for r in local)
        return keep

    @property
    def has_order_rules(self) -> bool:
        return bool(self.order_rules)


def innermost_loop(nest: LoopNest, tiling: np.ndarray, level: str, order: tuple[str, ...]) -> str | None:
    """The innermost loop of an outermost-first order whose trip count at that level exceeds 1."""
    row = LEVELS.index(level)
    for name in reversed(order):
        if tiling[row, nest.loops.index(name)] > 1:
            return name
    return None


def atom_values(
    nest: LoopNest, tiling: np.ndarray, bytes_per_elem: int, rows: np.ndarray | tuple[int, ...] | None = None
) -> list[int]:
    """The atoms of a tiling as Python integers, in atom order (the reference for `leaf_ok`).

    rows: the row part of each spatial factor (default: none, every factor over the columns).
    """
    t = [[int(x) for x in row] for row in tiling]
    rf = t[RF]
    pe = [a * b for a, b in zip(t[RF], t[SP], strict=True)]
    spm = [a * b for a, b in zip(pe, t[SPM], strict=True)]
    atoms = [x for row in t for x in row]
    feet = [[op.footprint(ext) for op in nest.operands] for ext in (rf, pe, spm)]
    atoms += [x for row in feet for x in row]
    atoms += [math.prod(t[SP]), sum(feet[0]), sum(feet[2]) * bytes_per_elem]
    row_parts = [1] * len(t[SP]) if rows is None else [int(r) for r in rows]
    atoms += row_parts + [f // r for f, r in zip(t[SP], row_parts, strict=True)]
    return atoms


def _holds(r: Relation, atoms: list[int]) -> bool:
    value = sum(coef * math.prod(a**e for a, e in zip(atoms, exp, strict=True) if e) for coef, exp in r.terms)
    return _compare(r.kind, value)


def _compare(kind: int, value: int) -> bool:
    return {GE: value >= 0, GT: value > 0, EQ: value == 0, NE: value != 0}[kind]


@njit(cache=True)
def leaf_ok(t, dcoef, ndims, bytes_per_elem, cons, atoms, ext):  # noqa: C901, PLR0917 - numba kernel: flat loop, see bench/README.md
    """Whether a complete tiling t satisfies every relation of the ConstraintArrays cons (atoms, ext: work arrays)."""
    kinds, tstart, coefs, exps = cons.kinds, cons.tstart, cons.coefs, cons.exps
    if kinds.shape[0] == 0:
        return True
    n_loops = t.shape[1]
    nops = ndims.shape[0]
    for row in range(4):
        for loop in range(n_loops):
            atoms[row * n_loops + loop] = t[row, loop]
    base = 4 * n_loops
    pes = 1
    for loop in range(n_loops):
        ext[loop] = t[RF, loop]
        pes *= t[SP, loop]
    for lvl in range(3):
        if lvl == 1:
            for loop in range(n_loops):
                ext[loop] *= t[SP, loop]
        elif lvl == 2:
            for loop in range(n_loops):
                ext[loop] *= t[SPM, loop]
        for op in range(nops):
            atoms[base + lvl * nops + op] = footprint(dcoef, ndims, op, ext)
    rf = 0
    spm = 0
    for op in range(nops):
        rf += atoms[base + op]
        spm += atoms[base + 2 * nops + op]
    atoms[base + 3 * nops] = pes
    atoms[base + 3 * nops + 1] = rf
    atoms[base + 3 * nops + 2] = spm * bytes_per_elem
    for r in range(kinds.shape[0]):
        value = 0
        for term in range(tstart[r], tstart[r + 1]):
            x = coefs[term]
            for a in range(atoms.shape[0]):
                for _ in range(exps[term, a]):
                    x *= atoms[a]
            value += x
        kind = kinds[r]
        if kind == GE and value < 0:
            return False
        if kind == GT and value <= 0:
            return False
        if kind == EQ and value != 0:
            return False
        if kind == NE and value == 0:
            return False
    return True


def atom_symbols(nest: LoopNest) -> list[sympy.Symbol]:
    """One positive integer symbol per atom, in atom order."""
    return list(_symbols(6 * len(nest.loops) + 3 * len(nest.operands) + 3))


@functools.lru_cache(maxsize=8)
def _symbols(n: int) -> tuple[sympy.Symbol, ...]:
    """a0 ... a(n-1) (sympy symbols are equal by name and assumptions, so one tuple serves every layer)."""
    return tuple(sympy.Symbol(f"a{i}", positive=True, integer=True) for i in range(n))


def atom_upper_bounds(nest: LoopNest, arch: Arch) -> list[int]:
    """Largest value of each atom over valid tilings (for overflow checks and CP-SAT domains)."""
    ub = [e for _ in LEVELS for e in nest.extents]
    ub += [op.footprint(nest.extents) for _ in FOOTPRINT_ROWS for op in nest.operands]
    ub += [arch.pe_count, math.floor(arch.rf_elems), arch.spm_bytes]
    ub += [min(e, arch.noc.rows) for e in nest.extents] + [min(e, arch.noc.cols) for e in nest.extents]
    return ub


def compile_constraints(cs: ConstraintSet | None, nest: LoopNest, arch: Arch) -> CompiledConstraints:
    """The constraints of a set that apply to this layer, bound to its loops and operands."""
    n_loops = len(nest.loops)
    syms = atom_symbols(nest)
    relations: list[Relation] = []
    order_rules: list[Constraint] = []
    allowed = [np.ones(n_loops, np.bool_), np.ones(n_loops, np.bool_)]
    for c in cs.constraints if cs else ():
        if not c.applies(nest.op):
            continue
        if c.kind == "innermost":
            row = allowed[0 if c.level == "DRAM" else 1]
            keep = np.zeros(n_loops, np.bool_)
            for loop in c.loops:
                keep[_loop_index(c, nest, loop)] = True
            row &= keep
            order_rules.append(c)
        elif c.kind == "spatial_loops":
            for loop in c.loops:
                _loop_index(c, nest, loop)
            for i, loop in enumerate(nest.loops):
                if loop not in c.loops:
                    atom = syms[3 * n_loops + i]
                    relations.append(_relation(c, atom - 1, "==", nest, arch, syms))
        else:
            lhs = _bind(c, c.lhs, nest, arch, syms)
            rhs = _bind(c, c.rhs, nest, arch, syms)
            relations.append(_relation(c, lhs - rhs, c.op, nest, arch, syms))
    relations = [r for r in relations if r.terms]  # tautologies (constant true) drop out
    compiled = CompiledConstraints(
        nest,
        tuple(relations),
        tuple(order_rules),
        (allowed[0], allowed[1]),
        len(syms),
        arch.bytes_per_elem,
        arch.noc.rows,
    )
    for r in relations:
        if compiled.on_array(r) and not compiled.is_spatial(r):
            raise r.constraint.error(
                "ROWS.LOOP and COLS.LOOP combine only with spatial terms (SPATIAL.LOOP, "
                "ROWS.LOOP, COLS.LOOP, extents, utilization(PE))"
            )
    return compiled


def _loop_index(c: Constraint, nest: LoopNest, loop: str) -> int:
    if loop not in nest.loops:
        raise c.error(f"unknown loop {loop!r} (loops of {nest.op}: {', '.join(nest.loops)})")
    return nest.loops.index(loop)


def _bind(c: Constraint, expr: sympy.Expr, nest: LoopNest, arch: Arch, syms: list[sympy.Symbol]) -> sympy.Expr:
    """Replace names by atoms and extents, functions by atoms (utilisation: atom / capacity)."""
    n_loops, nops = len(nest.loops), len(nest.operands)
    base = 4 * n_loops
    subs: dict = {}
    calls = expr.atoms(sympy.core.function.AppliedUndef)
    arguments = {a for app in calls for a in app.args}
    for sym in expr.free_symbols - arguments:
        name = sym.name
        if name.startswith(FACTOR_PREFIX):
            level, loop = name[len(FACTOR_PREFIX) :].split("__")
            if level in ARRAY_LEVELS:  # after the factors, footprints, PEs, RF and SPM use
                first = base + 3 * nops + len(UTIL_ATOMS) + ARRAY_LEVELS.index(level) * n_loops
                subs[sym] = syms[first + _loop_index(c, nest, loop)]
            else:
                subs[sym] = syms[LEVELS.index(level) * n_loops + _loop_index(c, nest, loop)]
        else:
            subs[sym] = sympy.Integer(nest.extents[_loop_index(c, nest, name)])
    operands = [op.name for op in nest.operands]
    for app in calls:
        fname, args = type(app).__name__, [str(a) for a in app.args]
        if fname == "footprint":
            if args[1] not in operands:
                raise c.error(f"unknown operand {args[1]!r} (operands of {nest.op}: {', '.join(operands)})")
            subs[app] = syms[base + FOOTPRINT_ROWS.index(args[0]) * nops + operands.index(args[1])]
        else:
            cap = {
                "PE": sympy.Integer(arch.pe_count),
                "RF": sympy.Rational(arch.rf_bytes, arch.bytes_per_elem),
                "SPM": sympy.Integer(arch.spm_bytes),
            }[args[0]]
            subs[app] = syms[base + 3 * nops + UTIL_ATOMS.index(args[0])] / cap
    return expr.xreplace(subs)


UTIL_ATOMS = ("PE", "RF", "SPM")


def _relation(c: Constraint, diff: sympy.Expr, op: str, nest: LoopNest, arch: Arch, syms: list) -> Relation:
    """diff OP 0 as an integer polynomial relation (multiplied by a positive denominator)."""
    num, den = sympy.fraction(sympy.together(sympy.expand(diff)))
    if den.is_positive is not True:
        raise c.error("divides by an expression that may be zero or negative")
    sign = -1 if op in ("<=", "<") else 1
    kind = {">=": GE, "<=": GE, ">": GT, "<": GT, "==": EQ, "!=": NE}[op]
    poly = sympy.Poly(sympy.expand(sign * num), *syms)
    coefs = poly.coeffs()
    scale = math.lcm(*[int(sympy.Rational(q).q) for q in coefs]) if coefs else 1
    terms = tuple((int(q * scale), tuple(int(e) for e in m)) for m, q in zip(poly.monoms(), coefs, strict=True))
    constant = [t for t in terms if not any(t[1])]
    if len(constant) == len(terms):
        if not _compare(kind, constant[0][0] if constant else 0):
            raise c.error(f"{c.text.strip()!r} can never hold on {nest.name}")
        return Relation(c, kind, ())
    ub = atom_upper_bounds(nest, arch)
    worst = sum(abs(q) * math.prod(u**e for u, e in zip(ub, exp, strict=True)) for q, exp in terms)
    if worst >= INT_LIMIT:
        raise c.error("its terms can exceed 64-bit integers; simplify it")
    return Relation(c, kind, terms)
