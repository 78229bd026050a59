"""Counting what a service sends to the database, at the driver.

Issue #10 set budgets in round trips (a transfer, a redemption), and one of
them regressed unnoticed when a later feature added statements to the
path: nothing but a benchmark counted them. Counting statements is not
timing, so the budgets are plain tests (``assertNumQueries`` in spirit):

- **PostgreSQL**: every call of an asyncpg ``Connection`` method that
  talks to the server (``BEGIN`` and ``COMMIT`` are ``execute`` calls of
  their own; a statement asyncpg must prepare first still counts once,
  which is why callers warm the path up before they count);
- **SQLite**: every statement Python hands to a connection Fengling opens
  (``Connection.execute`` and ``Cursor.execute``), the writer's and the
  readers'. There is no network there, but each statement is a trip
  through ``sqlite3`` and the count moves when the path grows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from core import database, sqlite_connections
from core.engines import FenglingSQLiteEngine

_ASYNCPG_METHODS = ("execute", "executemany", "fetch", "fetchrow", "fetchval", "fetchmany")


@dataclass
class DriverLog:
    """The statements sent while ``counting`` (whitespace squeezed)."""

    active: bool = False
    sent: list[str] = field(default_factory=list)

    def record(self, statement: str) -> None:
        """Keep ``statement`` if counting. A ``PRAGMA`` is the connection's
        own housekeeping (set-up, or the SQLite writer switching between
        its inline and threaded modes, which depends on how fast the disk
        was a moment ago), not the service's work, and is left out."""
        if self.active and not statement.lstrip().upper().startswith("PRAGMA"):
            self.sent.append(" ".join(statement.split()))

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        """Count only inside the block; yields the list the block fills."""
        self.sent, self.active = [], True
        try:
            yield self.sent
        finally:
            self.active = False


def _counting_connection_class(log: DriverLog) -> type[sqlite3.Connection]:
    class CountingCursor(sqlite3.Cursor):
        def execute(self, sql: str, parameters: Any = (), /) -> Any:
            log.record(sql)
            return super().execute(sql, parameters)

    class CountingConnection(sqlite3.Connection):
        def cursor(self, factory: Any = CountingCursor) -> Any:
            return super().cursor(factory)

        def execute(self, sql: str, parameters: Any = (), /) -> Any:
            log.record(sql)
            return super().execute(sql, parameters)

    return CountingConnection


@contextmanager
def driver_log() -> Iterator[DriverLog]:
    """A ``DriverLog`` wired into the engine the suite runs on, unwired at
    the end. On SQLite the process's connections are closed first and
    again at the end, so every connection the block opens counts and none
    outlives it."""
    log = DriverLog()
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from _wired(log, monkeypatch)


def _wired(log: DriverLog, monkeypatch: pytest.MonkeyPatch) -> Iterator[DriverLog]:
    db = database.engine()
    if isinstance(db, FenglingSQLiteEngine):
        original_open = sqlite_connections.open_connection
        counting_class = _counting_connection_class(log)

        def counting_open(connection_kwargs: Any, synchronous: str) -> sqlite3.Connection:
            return original_open({**connection_kwargs, "factory": counting_class}, synchronous)

        db.connections.close()
        monkeypatch.setattr(sqlite_connections, "open_connection", counting_open)
        try:
            yield log
        finally:
            db.connections.close()
        return
    from asyncpg.connection import Connection

    for name in _ASYNCPG_METHODS:
        original: Callable[..., Any] = getattr(Connection, name)

        def counted(connection: Any, query: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            log.record(query)
            return _original(connection, query, *args, **kwargs)

        monkeypatch.setattr(Connection, name, counted)
    yield log
