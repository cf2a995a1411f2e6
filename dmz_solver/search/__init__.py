"""Searches over the mapping space: exhaustive enumeration, the seed's heuristic, and CP-SAT."""
