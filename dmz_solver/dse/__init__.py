"""Design-space exploration: sweep architecture parameters, solve every layer at every point, compare."""
