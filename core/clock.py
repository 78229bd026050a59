"""The one clock every app reads (tests freeze time by passing ``now``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

# Set only by ``as_of`` (loading history: the demo seed); None everywhere else.
_AS_OF: ContextVar[datetime | None] = ContextVar("fengling_as_of", default=None)


def utc_now() -> datetime:
    """The current instant, timezone-aware in UTC (stored as such; shown in
    China time by whoever renders it)."""
    fixed = _AS_OF.get()
    return fixed if fixed is not None else datetime.now(UTC)


@contextmanager
def as_of(moment: datetime) -> Iterator[None]:
    """Within the block (this task and the tasks it starts), ``utc_now`` is
    ``moment``: the demo seed records weeks of history through the real
    services (submissions, verification, the ledger's entry times) as if
    each step happened then. For loading history only: a server never
    runs under it."""
    if moment.tzinfo is None:
        raise ValueError("as_of needs an aware instant")
    token = _AS_OF.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _AS_OF.reset(token)
