"""The one exception type for bad input: it names the file, the field and the reason."""

from __future__ import annotations


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
