"""Custom mapping constraints: files (parse), their bound form per layer (compile), and why none fit (explain)."""

from .parse import Constraint, ConstraintFile, ConstraintSet, load_constraint_file, load_constraints

__all__ = ["Constraint", "ConstraintFile", "ConstraintSet", "load_constraint_file", "load_constraints"]
