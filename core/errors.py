"""Errors raised by the shared plumbing. Like every domain error they carry
a stable ``code`` and the offending ``field``; the API maps them to
problem+json in its one table (``api/errors.py``)."""

from __future__ import annotations


class CoreError(Exception):
    """Base class: a request refused by the plumbing, with nothing written."""

    code = "core_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class DatabaseBusy(CoreError):
    """Retries on deadlock, serialization failure or SQLite's lock ran out.

    The code stays ``ledger_busy``: clients saw it before the plumbing moved
    out of the ledger, and a 503 with that code means "retry shortly"."""

    code = "ledger_busy"


class InvalidCursor(CoreError):
    """A list cursor this deployment did not hand out (forged, truncated or
    from another list)."""

    code = "invalid_cursor"

    def __init__(self, message: str = "cursor is not one this list returned") -> None:
        super().__init__(message, field="cursor")
