"""Piccolo's entry point: the engine comes from ``FENGLING_DATABASE_URL``.

SQLite (the embedded default) gets a generous busy timeout because every
writing transaction in Fengling is ``BEGIN IMMEDIATE`` and waits its turn.
Both engines are Piccolo's, tuned in ``core/engines.py``.
"""

from __future__ import annotations

from urllib.parse import urlparse

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

from core.engines import FenglingPostgresEngine, FenglingSQLiteEngine
from fengling_settings import get_settings


def build_engine(database_url: str) -> Engine:  # type: ignore[type-arg]
    parsed = urlparse(database_url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/or/absolute/path
        path = database_url.removeprefix("sqlite:///")
        return FenglingSQLiteEngine(path=path, synchronous=get_settings().sqlite_synchronous, timeout=30)
    if parsed.scheme in {"postgres", "postgresql"}:
        return FenglingPostgresEngine(config={"dsn": database_url})
    raise SystemExit(
        f"FENGLING_DATABASE_URL: unsupported scheme {parsed.scheme!r} (use sqlite:///path or postgres://...)"
    )


DB = build_engine(get_settings().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "ledger.piccolo_app",
        "community.piccolo_app",
        "campaigns.piccolo_app",
        "fraud.piccolo_app",
        "activities.piccolo_app",
        "marketplace.piccolo_app",
        "leaderboards.piccolo_app",
        "recognition.piccolo_app",
        "reporting.piccolo_app",
    ]
)
