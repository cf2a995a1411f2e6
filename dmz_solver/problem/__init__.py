"""The problem: one layer on one architecture, with the knobs and constraints that shape its mapping space."""

from .knobs import Knobs
from .problem import Problem, divisors

__all__ = ["Knobs", "Problem", "divisors"]
