"""dmz-solver: proven-optimal mappings of deep-learning loop nests onto dataflow accelerators."""

__version__ = "0.1.0"
