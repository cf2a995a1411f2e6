"""Points of a sweep without the full grid: a Latin hypercube sample of the swept values, reproducible by seed.

Each swept parameter's values are its axis. In an N-point Latin hypercube each axis is cut into N equal strata
and every stratum is used once, so every value of every parameter appears in the sample about equally often
(N / number of values, give or take one), whatever the other parameters. Points that fall on the same grid
point are drawn again uniformly among the grid points not yet taken, so the sample has N distinct points.
The draw uses Python's `random.Random(seed)`: the same sweeps, N and seed give the same points everywhere.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence

Combo = tuple[int, ...]
"""A grid point as the index of its value on each axis."""


def latin_hypercube(sizes: Sequence[int], n: int, seed: int) -> list[Combo]:
    """`n` distinct grid points (value indices), in grid order; the whole grid when it has at most `n` points."""
    total = math.prod(sizes)
    if n >= total:
        return list(itertools.product(*(range(size) for size in sizes)))
    rng = random.Random(seed)
    axes = []
    for size in sizes:
        strata = list(range(n))
        rng.shuffle(strata)
        axes.append([min(size - 1, int((s + rng.random()) / n * size)) for s in strata])
    chosen = list(dict.fromkeys(zip(*axes, strict=True)))  # the first of equal points is kept
    taken = set(chosen)
    if 2 * n > total:  # a dense sample: draw the rest from the grid points left, listed
        left = [c for c in itertools.product(*(range(size) for size in sizes)) if c not in taken]
        chosen += rng.sample(left, n - len(chosen))
    while len(chosen) < n:  # a sparse sample: a random grid point is rarely taken already
        combo = tuple(rng.randrange(size) for size in sizes)
        if combo not in taken:
            taken.add(combo)
            chosen.append(combo)
    return sorted(chosen)
