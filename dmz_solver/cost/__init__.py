"""The exact analytical cost model of the seed tool (cost-model.md), compiled with numba."""
