"""The one clock every app reads (tests freeze time by passing ``now``)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current instant, timezone-aware in UTC (stored as such; shown in
    China time by whoever renders it)."""
    return datetime.now(UTC)
