"""Which dependency an exception says is down: the database, Redis or storage.

An outage is not a bug in the request: the caller gets a 503 problem with
``Retry-After`` (``api/errors.py``) and ``/health`` names the dependency,
never an exception class. Anything not recognised here stays a 500, so a
real bug is never hidden as "unavailable".
"""

from __future__ import annotations

import sqlite3
from typing import Literal

import asyncpg.exceptions
import redis.exceptions

Dependency = Literal["database", "redis", "storage"]

# Seconds a client should wait before retrying after a 503: long enough for
# a restarted Redis or a PostgreSQL failover, short enough for a person.
RETRY_AFTER_SECONDS = 10

_DATABASE_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.exceptions.PostgresConnectionError,  # class 08: connection failures
    asyncpg.exceptions.CannotConnectNowError,  # 57P03: starting up or in recovery
    asyncpg.exceptions.AdminShutdownError,  # 57P01
    asyncpg.exceptions.CrashShutdownError,  # 57P02
    asyncpg.exceptions.TooManyConnectionsError,  # 53300
)
# SQLite says a file cannot be used only through the message text.
_SQLITE_OUTAGES = ("unable to open database file", "disk i/o error")
# Network errors from the driver's own connect (asyncpg raises the socket's).
_NETWORK_ERRORS = (ConnectionError, TimeoutError)


def unavailable_dependency(error: BaseException) -> Dependency | None:
    """The dependency that ``error`` shows to be unavailable, or None when
    it is not an outage."""
    if isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return "redis"
    if isinstance(error, _DATABASE_ERRORS):
        return "database"
    if isinstance(error, asyncpg.exceptions.InterfaceError):
        # "connection is closed", "pool is closed": an outage; other interface
        # errors are misuse and stay bugs.
        text = str(error).lower()
        return "database" if "closed" in text or "connect" in text else None
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        return "database" if any(message in text for message in _SQLITE_OUTAGES) else None
    if isinstance(error, _NETWORK_ERRORS) or (isinstance(error, OSError) and _raised_by_database_driver(error)):
        return "database"
    if isinstance(error, OSError):
        return "storage"  # disk full, read-only or missing upload folder
    return None


def _raised_by_database_driver(error: BaseException) -> bool:
    """asyncpg reports a failed connect to several addresses as one plain
    OSError; tell it from a disk error by where it was raised."""
    frame = error.__traceback__
    while frame is not None:
        module = frame.tb_frame.f_globals.get("__name__", "")
        if module.startswith(("asyncpg", "piccolo.engine", "aiosqlite")):
            return True
        frame = frame.tb_next
    return False
