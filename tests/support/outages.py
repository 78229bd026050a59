"""Dependencies taken down for a test: a free port nobody listens on, and
a database that cannot be reached."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.postgres import PostgresEngine

import core.database
import core.fixed_sql
from core.engines import FenglingSQLiteEngine
from tests.support.database import all_tables

DATABASE_OUTAGES = ("postgres-closed-port", "sqlite-missing-folder")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def take_database_down(kind: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point every table, the fixed-SQL runner (``core/fixed_sql.py``, which
    sends its statements on the configured engine, not a table's) and
    ``core.database.engine`` (transactions, pools) at a database that cannot
    be reached: PostgreSQL on a closed port, or SQLite in a missing folder."""
    if kind == "postgres-closed-port":
        engine: Any = PostgresEngine(
            config={"host": "127.0.0.1", "port": free_port(), "database": "fengling", "user": "postgres"}
        )
    else:
        engine = FenglingSQLiteEngine(path=str(tmp_path / "missing-folder" / "fengling.sqlite3"))
    for table in all_tables():
        monkeypatch.setattr(table._meta, "_db", engine)
    monkeypatch.setattr(core.fixed_sql, "engine", lambda: engine)
    monkeypatch.setattr(core.database, "engine", lambda: engine)
