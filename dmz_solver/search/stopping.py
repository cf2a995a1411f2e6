"""Stop flags of running searches, gathered in groups that one call can halt together.

A kernel that may run long watches a one-element flag (`stop[0] != 0`) and ends within milliseconds once it is
raised, leaving its tasks incomplete, as at a deadline. A search takes its flag from `stop_flag`. A thread that
has joined a `HaltGroup` (`group.join()`, e.g. as a thread pool's initializer) registers its flags there, and
`group.halt()` raises them all, along with every flag its threads take afterwards. That is how a Ctrl-C, which
only the main thread sees, ends the layers one solve runs in its threads, and no other caller's searches.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

_thread = threading.local()


class HaltGroup:
    """The stop flags of the searches that run in the threads that joined this group."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flags: dict[int, np.ndarray] = {}
        self._halted = False

    def join(self) -> None:
        """Make the searches of the calling thread members of this group."""
        _thread.group = self

    def halt(self) -> None:
        """Raise the flag of every running member search, and of every one started from now on."""
        with self._lock:
            self._halted = True
            for flag in self._flags.values():
                flag[0] = 1

    @property
    def halted(self) -> bool:
        return self._halted

    def _add(self, flag: np.ndarray) -> None:
        with self._lock:
            flag[0] = int(self._halted)
            self._flags[id(flag)] = flag

    def _remove(self, flag: np.ndarray) -> None:
        with self._lock:
            del self._flags[id(flag)]


@contextmanager
def stop_flag() -> Iterator[np.ndarray]:
    """A stop flag for one search, registered with the calling thread's group if it joined one (already raised
    if that group is halted)."""
    flag = np.zeros(1, np.int64)
    group: HaltGroup | None = getattr(_thread, "group", None)
    if group is None:
        yield flag
        return
    group._add(flag)  # noqa: SLF001 - the group and its flags are one unit of this module
    try:
        yield flag
    finally:
        group._remove(flag)  # noqa: SLF001


def halted() -> bool:
    """Whether the calling thread's group is halted (a search about to start need not)."""
    group: HaltGroup | None = getattr(_thread, "group", None)
    return group is not None and group.halted
