"""The stop flags of the running searches, so that one call can end them all.

A kernel that may run long watches a one-element flag (`stop[0] != 0`) and ends within milliseconds once it is
raised, leaving its tasks incomplete, as at a deadline. A search takes its flag from `stop_flag`, which also
registers it here; `halt_searches` raises every registered flag and every flag taken until `resume_searches`.
That is how a Ctrl-C, which only the main thread sees, ends the layers solving in other threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

_lock = threading.Lock()
_flags: dict[int, np.ndarray] = {}
_halted = threading.Event()


@contextmanager
def stop_flag() -> Iterator[np.ndarray]:
    """A registered stop flag for one search (already raised while searches are halted)."""
    flag = np.zeros(1, np.int64)
    with _lock:
        flag[0] = int(_halted.is_set())
        _flags[id(flag)] = flag
    try:
        yield flag
    finally:
        with _lock:
            del _flags[id(flag)]


def halt_searches() -> None:
    """Raise the flag of every running search in this process, and of every search started until resume_searches."""
    with _lock:
        _halted.set()
        for flag in _flags.values():
            flag[0] = 1


def resume_searches() -> None:
    """Let new searches run again (the running ones stay halted)."""
    _halted.clear()


def halted() -> bool:
    """Whether searches are halted."""
    return _halted.is_set()
