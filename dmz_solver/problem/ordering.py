"""Candidate loop orders of a layer (docs/cost-model.md §3.4).

For each operand, every non-empty subsequence s of the loops that do not index it gives
one order, innermost first: s, then the operand's index loops, then the other
non-index loops. The candidates are stably sorted by their three innermost loops.
"""

from __future__ import annotations

from ..loopnest import LoopNest


def subsequences_postorder(items: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Non-empty subsequences, each after all of its own extensions: (a,b,c) -> abc ab ac a bc b c."""
    found: list[tuple[int, ...]] = []

    def walk(prefix: tuple[int, ...], start: int) -> None:
        for i in range(start, len(items)):
            walk((*prefix, items[i]), i + 1)
        if prefix:
            found.append(prefix)

    walk((), 0)
    return found


def candidate_orders(nest: LoopNest) -> list[tuple[int, ...]]:
    """The candidate orders as loop positions, innermost first, in the seed's order."""
    candidates: list[tuple[int, ...]] = []
    for operand in nest.operands:
        inv = nest.not_indexing(operand)
        for chosen in subsequences_postorder(inv):
            rest = tuple(loop for loop in inv if loop not in chosen)
            candidates.append((*chosen, *operand.index_loops, *rest))
    return sorted(candidates, key=lambda order: tuple(nest.loops[loop] for loop in order[:3]))


def order_names(nest: LoopNest, order: tuple[int, ...]) -> list[str]:
    """An innermost-first order as loop names, outermost first (the user-facing form)."""
    return [nest.loops[loop] for loop in reversed(order)]
