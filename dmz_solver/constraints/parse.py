"""Read constraint files (YAML or JSON) into named, checked constraints with file:line origins.

Expressions are parsed with sympy from a restricted token set, never evaluated as Python:
factor names `LEVEL.LOOP` become symbols, a bare loop name is that loop's extent, and only
`footprint(LEVEL, OPERAND)` and `utilization(PE|RF|SPM)` are functions. Names that depend on
the layer (loops, operands) are checked again when a constraint is bound to a layer.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import sympy
import yaml
from sympy.parsing.sympy_parser import parse_expr, standard_transformations

from ..errors import InputError
from ..loopnest import OP_CLASSES
from ..specio import MAX_NESTING, decode_text, did_you_mean, read_bytes, resolve_named_file
from ..vocabulary import LEVELS, ORDER_LEVELS
from .size import TooLarge, relation_size

CONSTRAINT_DIR = Path(__file__).resolve().parent.parent.parent / "constraints"
FOOTPRINT_LEVELS = ("RF", "PE", "SPM")
ARRAY_LEVELS = ("ROWS", "COLS")
"""The spatial factor's part over the PE rows and over the columns (docs/archspec.md)."""
FACTOR_LEVELS = (*LEVELS, *ARRAY_LEVELS)
UTILIZATION_KINDS = ("PE", "RF", "SPM")
KNOWN_LOOPS = ("N", "M", "C", "Ox", "Oy", "Fx", "Fy", "G", "B", "X", "Y", "K")
KNOWN_OPERANDS = ("O", "I", "W", "C", "A", "B")
_TOKEN = re.compile(r"\s*(?:(\d+\.\d*|\.\d+|\d+)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|==|!=|\*\*|[-+*/(),.<>]))")
_COMPARE = re.compile(r"(<=|>=|==|!=|<|>)")
_INNERMOST = re.compile(r"^\s*innermost\(\s*(\w+)\s*\)\s+in\s+\[([^\]]*)\]\s*$")
_FACTOR = re.compile(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b")
FACTOR_PREFIX = "f__"


@dataclass(frozen=True)
class Constraint:
    """One named constraint: a relation (lhs op rhs), an innermost-loop rule or a spatial loop set."""

    name: str  # "file_stem.name"
    source: str  # "path:line"
    kind: str  # "relation" | "innermost" | "spatial_loops"
    text: str
    lhs: sympy.Expr | None = None
    op: str = ""
    rhs: sympy.Expr | None = None
    level: str = ""  # innermost: DRAM or SPM
    loops: tuple[str, ...] = ()  # innermost / spatial_loops: the allowed loops
    applies_to: tuple[str, ...] = ()  # layer kinds; empty: all

    def applies(self, op_class: str) -> bool:
        return not self.applies_to or op_class in self.applies_to

    def error(self, reason: str) -> InputError:
        return InputError(f"constraint {self.name!r}: {reason}", source=self.source)


@dataclass(frozen=True)
class ConstraintFile:
    """One constraint file: its name, description, constraints and raw bytes (for the fingerprint)."""

    path: str
    name: str
    description: str
    constraints: tuple[Constraint, ...]
    digest: str


@dataclass(frozen=True)
class ConstraintSet:
    """Several constraint files taken together; `fingerprint` hashes their contents (cache key)."""

    files: tuple[ConstraintFile, ...] = ()

    @property
    def constraints(self) -> tuple[Constraint, ...]:
        return tuple(c for f in self.files for c in f.constraints)

    @property
    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for f in sorted(self.files, key=lambda f: f.digest):
            h.update(f.digest.encode())
        return h.hexdigest()[:16]

    def __bool__(self) -> bool:
        return bool(self.constraints)

    def __add__(self, other: ConstraintSet) -> ConstraintSet:
        seen = {f.digest for f in self.files}
        return ConstraintSet(self.files + tuple(f for f in other.files if f.digest not in seen))


def resolve_constraint_path(spec: str) -> Path:
    """A constraint argument is a path or the name of a file in constraints/ (NAME.yaml)."""
    return resolve_named_file(spec, CONSTRAINT_DIR, "constraint", (".yaml", ".yml", ".json"))


def load_constraints(specs: list[str] | tuple[str, ...]) -> ConstraintSet:
    """Load and check constraint files by path or preset name."""
    return ConstraintSet(tuple(load_constraint_file(resolve_constraint_path(s)) for s in specs))


def load_constraint_file(path: Path) -> ConstraintFile:
    """Parse one file; every error names the file and line."""
    raw = read_bytes(path)  # a regular file of at most MAX_SPEC_BYTES
    text = decode_text(raw, _display(path))
    try:
        _check_nesting(text, path)
        node = yaml.compose(text, Loader=yaml.SafeLoader)  # JSON is YAML too
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{_display(path)}:{mark.line + 1}" if mark else _display(path)
        raise InputError(f"not valid YAML/JSON: {getattr(exc, 'problem', None) or exc}", source=where) from None
    if not isinstance(node, yaml.MappingNode):
        raise InputError("expected a mapping with 'name' and 'constraints'", source=f"{_display(path)}:1")
    top = _mapping(node, path)
    allowed = {"name", "description", "constraints", "applies_to"}
    for key, (_, knode) in top.items():
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            raise InputError(
                f"unknown key {key!r}{hint} (expected: {', '.join(sorted(allowed))})", source=_at(path, knode)
            )
    name = _scalar(top, "name", path, default=path.stem)
    description = _scalar(top, "description", path, default="")
    applies_to = _name_list(top["applies_to"][1], path, "applies_to") if "applies_to" in top else ()
    for kind in applies_to:
        if kind not in OP_CLASSES:
            raise InputError(
                f"applies_to: unknown layer kind {kind!r} ({', '.join(OP_CLASSES)})",
                source=_at(path, top["applies_to"][1]),
            )
    if "constraints" not in top or not isinstance(top["constraints"][1], yaml.SequenceNode):
        raise InputError("'constraints' must be a list", source=f"{_display(path)}:1")
    items = []
    names: set[str] = set()
    for item in top["constraints"][1].value:
        constraint = _constraint(item, path, name, applies_to)
        if constraint.name in names:
            raise InputError(f"duplicate constraint name {constraint.name!r}", source=constraint.source)
        names.add(constraint.name)
        items.append(constraint)
    return ConstraintFile(str(path), name, description, tuple(items), hashlib.sha256(raw).hexdigest())


def _at(path: Path, node: yaml.Node | yaml.Event) -> str:
    return f"{_display(path)}:{node.start_mark.line + 1}"


def _display(path: Path) -> str:
    """The path as the user would write it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _check_nesting(text: str, path: Path) -> None:
    """Refuse nesting deeper than MAX_NESTING from the parser's event stream, before the (recursive) composer."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise InputError(f"nested more than {MAX_NESTING} levels deep", source=_at(path, event))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _mapping(node: yaml.MappingNode, path: Path) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """The keys of a mapping node; a key given twice is refused, naming both lines."""
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for knode, vnode in node.value:
        key = str(knode.value)
        if key in out:
            first = out[key][0].start_mark.line + 1
            raise InputError(f"key {key!r} given twice (also on line {first})", source=_at(path, knode))
        out[key] = (knode, vnode)
    return out


def _scalar(fields: dict, key: str, path: Path, default: str) -> str:
    if key not in fields:
        return default
    node = fields[key][1]
    if not isinstance(node, yaml.ScalarNode):
        raise InputError(f"{key!r} must be a string", source=_at(path, node))
    return str(node.value)


def _name_list(node: yaml.Node, path: Path, key: str) -> tuple[str, ...]:
    if not isinstance(node, yaml.SequenceNode) or not all(isinstance(v, yaml.ScalarNode) for v in node.value):
        raise InputError(f"{key!r} must be a list of names", source=_at(path, node))
    return tuple(str(v.value) for v in node.value)


def _constraint(node: yaml.Node, path: Path, file_name: str, applies_to: tuple[str, ...]) -> Constraint:
    if not isinstance(node, yaml.MappingNode):
        raise InputError("each constraint is a mapping {name, expr} or {name, spatial_loops}", source=_at(path, node))
    fields = _mapping(node, path)
    if "name" not in fields:
        raise InputError("constraint without a 'name'", source=_at(path, node))
    short = _scalar(fields, "name", path, "")
    name = f"{file_name}.{short}"
    source = _at(path, node)
    keys = {"name", "expr", "spatial_loops", "description", "applies_to"}
    extra = sorted(set(fields) - keys)
    if extra:
        raise InputError(f"constraint {name!r}: unknown key {extra[0]!r}{did_you_mean(extra[0], keys)}", source=source)
    local = _name_list(fields["applies_to"][1], path, "applies_to") if "applies_to" in fields else applies_to
    if ("expr" in fields) == ("spatial_loops" in fields):
        raise InputError(f"constraint {name!r}: give exactly one of 'expr' and 'spatial_loops'", source=source)
    if "spatial_loops" in fields:
        loops = _name_list(fields["spatial_loops"][1], path, "spatial_loops")
        constraint = Constraint(
            name, source, "spatial_loops", f"spatial_loops: {list(loops)}", loops=loops, applies_to=local
        )
        for loop in loops:
            _check_loop(constraint, loop)
        return constraint
    text = _scalar(fields, "expr", path, "")
    if not text.strip():
        raise InputError(f"constraint {name!r}: 'expr' is empty", source=source)
    return parse_constraint(name, source, text, local)


def _check_loop(constraint: Constraint, loop: str) -> None:
    if loop not in KNOWN_LOOPS:
        raise constraint.error(f"unknown loop {loop!r} (loops: {', '.join(KNOWN_LOOPS)})")


def parse_constraint(name: str, source: str, text: str, applies_to: tuple[str, ...] = ()) -> Constraint:
    """Parse one expression: `innermost(LEVEL) in [..]` or `lhs OP rhs` with one comparison."""
    base = Constraint(name, source, "relation", text, applies_to=applies_to)
    rule = _INNERMOST.match(text)
    if rule:
        level = rule.group(1)
        if level not in ORDER_LEVELS:
            raise base.error(f"unknown level {level!r} for innermost (orders exist at {', '.join(ORDER_LEVELS)})")
        loops = tuple(x.strip() for x in rule.group(2).split(",") if x.strip())
        constraint = Constraint(name, source, "innermost", text, level=level, loops=loops, applies_to=applies_to)
        for loop in loops:
            _check_loop(constraint, loop)
        return constraint
    _check_tokens(base, text)
    parts = _COMPARE.split(text)
    if len(parts) != 3:
        raise base.error("expected exactly one comparison (<=, <, >=, >, ==, !=)")
    lhs, op, rhs = parts
    sides = [_parse_side(base, side, evaluate=False) for side in (lhs, rhs)]
    try:
        relation_size(*sides)  # before sympy evaluates powers or anything is multiplied out
    except TooLarge as exc:
        raise base.error(f"too large: the expression {exc}") from None
    return Constraint(
        name, source, "relation", text, _parse_side(base, lhs), op, _parse_side(base, rhs), applies_to=applies_to
    )


def _check_tokens(constraint: Constraint, text: str) -> None:
    pos = 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise constraint.error(f"unexpected character {text[pos:].strip()[:1]!r} in {text!r}")
        if match.group(2) and match.group(2).startswith("_"):
            raise constraint.error(f"unknown name {match.group(2)!r}")
        pos = match.end()


def _parse_side(constraint: Constraint, text: str, *, evaluate: bool = True) -> sympy.Expr:
    """One side of a relation as a checked sympy expression; unevaluated for the size estimate (nothing is
    computed), evaluated once the estimate has passed."""

    def factor(match: re.Match) -> str:
        level, loop = match.group(1), match.group(2)
        if level not in FACTOR_LEVELS:
            raise constraint.error(f"unknown level {level!r} (levels: {', '.join(FACTOR_LEVELS)})")
        _check_loop(constraint, loop)
        return f"{FACTOR_PREFIX}{level}__{loop}"

    code = _FACTOR.sub(factor, text)
    if "." in re.sub(r"\d\.\d*|\.\d", "", code):
        raise constraint.error(f"unexpected '.' in {text!r}")
    funcs = {"footprint": sympy.Function("footprint"), "utilization": sympy.Function("utilization")}
    names = set(re.findall(r"[A-Za-z_]\w*", code))
    called = set(re.findall(r"([A-Za-z_]\w*)\s*\(", code))
    local = {n: sympy.Function(n) if n in called else sympy.Symbol(n) for n in names if n not in funcs}
    local.update({n: f for n, f in funcs.items() if n in names})
    glob = {"Integer": sympy.Integer, "Float": sympy.Float, "Rational": sympy.Rational, "__builtins__": {}}
    glob.update(Add=sympy.Add, Mul=sympy.Mul, Pow=sympy.Pow)  # the calls parse_expr writes for evaluate=False
    try:
        expr = parse_expr(
            code, local_dict=local, global_dict=glob, transformations=standard_transformations, evaluate=evaluate
        )
    except Exception as exc:  # noqa: BLE001 - any parse failure is the user's syntax
        raise constraint.error(f"cannot parse {text.strip()!r} ({type(exc).__name__})") from None
    if not isinstance(expr, sympy.Expr):
        raise constraint.error(f"{text.strip()!r} is not an arithmetic expression")
    if expr.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        raise constraint.error(f"{text.strip()!r} divides by zero")
    _check_tree(constraint, expr)
    return sympy.nsimplify(expr, rational=True) if evaluate else expr


def _check_tree(constraint: Constraint, expr: sympy.Basic) -> None:
    """Only numbers, factor and loop symbols, + - * /, integer powers and the two functions."""
    if isinstance(expr, sympy.Number):
        return
    if isinstance(expr, sympy.Symbol):
        if not expr.name.startswith(FACTOR_PREFIX) and expr.name not in KNOWN_LOOPS:
            raise constraint.error(f"unknown loop {expr.name!r} (loops: {', '.join(KNOWN_LOOPS)})")
        return
    if isinstance(expr, sympy.Pow):
        if not (isinstance(expr.exp, sympy.Integer)):
            raise constraint.error("a power's exponent must be an integer number, as in x**2 (not x**y or x**2**3)")
        _check_tree(constraint, expr.base)
        return
    if isinstance(expr, (sympy.Add, sympy.Mul)):
        for arg in expr.args:
            _check_tree(constraint, arg)
        return
    if isinstance(expr, sympy.core.function.AppliedUndef):
        _check_call(constraint, type(expr).__name__, [str(a) for a in expr.args])
        return
    raise constraint.error(f"unsupported expression {str(expr)!r}")


def _check_call(constraint: Constraint, fname: str, args: list[str]) -> None:
    """footprint(LEVEL, OPERAND) and utilization(KIND), nothing else."""
    if fname == "footprint":
        if len(args) != 2 or args[0] not in FOOTPRINT_LEVELS:
            raise constraint.error(f"footprint takes (LEVEL, OPERAND) with LEVEL in {', '.join(FOOTPRINT_LEVELS)}")
        if args[1] not in KNOWN_OPERANDS:
            raise constraint.error(
                f"unknown operand {args[1]!r} (operands: O, I, W for convolutions; C, A, B for GEMM)"
            )
        return
    if fname == "utilization":
        if len(args) != 1 or args[0] not in UTILIZATION_KINDS:
            raise constraint.error(f"utilization takes one of {', '.join(UTILIZATION_KINDS)}")
        return
    raise constraint.error(f"unknown function {fname!r} (functions: footprint, utilization)")
