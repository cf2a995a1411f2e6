"""What dmz-solver tells the user besides results: the one exception type for bad input, which names the file, the
field and the reason, and the one warning, a layer that will be solved far more slowly than usual."""

from __future__ import annotations

import sys
import warnings
from typing import TextIO


class InputError(Exception):
    """A problem with what the user gave us; the CLI prints it as one line and exits with 2."""

    def __init__(self, reason: str, *, source: str | None = None, field: str | None = None) -> None:
        self.reason = reason
        self.source = source
        self.field = field
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = ": ".join(part for part in (self.source, self.field) if part)
        return f"{where}: {self.reason}" if where else self.reason


_PYTHON_SHOWWARNING = warnings.showwarning


class SlowSearchWarning(UserWarning):
    """A layer the usual search cannot take: it is still solved exactly, but by a far slower path."""


def show_warning(  # noqa: PLR0913, PLR0917 - warnings.showwarning's signature
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """warnings.showwarning for the command line: dmz-solver's warnings as one `warning:` line on standard error,
    any other as Python shows it."""
    if issubclass(category, SlowSearchWarning):
        print(f"warning: {message}", file=file or sys.stderr, flush=True)
    else:
        _PYTHON_SHOWWARNING(message, category, filename, lineno, file, line)
