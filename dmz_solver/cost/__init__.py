"""The exact analytical cost model of the seed tool (docs/cost-model.md), compiled with numba.

Modules, each with one job:

- `terms`: per-tiling terms that no loop order changes (trip counts, NoC, reduction, SPM tile, DMA);
- `reuse`: reuse vectors of a level's factors under the candidate orders, and their per-layer table;
- `reference`: the per-pair evaluator with the energy breakdown (reporting, and the yardstick);
- `pairs`: the regrouped pair loop folding a tiling's ordering pairs into the minima of §7.2;
- `batch`: the batch evaluator over many tilings (and `tiling_minima` for one);
- `evaluate`: `evaluate_mapping`, the Python entry point for one mapping.

A tiling is an int64 array t[level, loop]; the slots of the parameter arrays and the input records
(`NestArrays`, `Profile`, `Profiles`) are in `dmz_solver.layout`.
"""
