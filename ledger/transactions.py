"""Writing transactions with the locking discipline of ARCHITECTURE.md §3.

PostgreSQL (READ COMMITTED): callers lock the balance rows they touch with
``SELECT … FOR UPDATE`` in ascending id order, so two transfers over the
same accounts queue instead of deadlocking. SQLite: every writing
transaction is ``BEGIN IMMEDIATE``, which takes the database's write lock up
front (the busy timeout in ``piccolo_conf`` makes others wait for it).

Deadlocks, serialization failures and SQLite "database is locked" are
retried a bounded number of times and never reach the caller as such.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Awaitable, Callable
from typing import TypeVar

from piccolo.engine.base import Engine
from piccolo.engine.sqlite import TransactionType

from ledger.errors import LedgerBusy
from ledger.tables import LedgerAccount

T = TypeVar("T")

# Enough to ride out a burst of contention; small enough that a caller gets
# an answer within about a second even when the database is saturated.
MAX_ATTEMPTS = 12

_RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
_UNIQUE_VIOLATION = "23505"


def engine() -> Engine:  # type: ignore[type-arg]
    return LedgerAccount._meta.db


def is_sqlite() -> bool:
    return bool(engine().engine_type == "sqlite")


def is_unique_violation(error: BaseException) -> bool:
    if getattr(error, "sqlstate", None) == _UNIQUE_VIOLATION:
        return True
    return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)


def is_check_violation(error: BaseException) -> bool:
    if getattr(error, "sqlstate", None) == "23514":
        return True
    return "CHECK constraint failed" in str(error)


def _is_retryable(error: BaseException, *, retry_unique: bool) -> bool:
    if getattr(error, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
        return True
    return retry_unique and is_unique_violation(error)


async def in_write_transaction(work: Callable[[], Awaitable[T]], *, retry_unique: bool = False) -> T:
    """Run ``work`` in one writing transaction, retrying transient failures.

    If a transaction is already open (a caller composing several ledger
    operations with its own writes), ``work`` joins it and the caller owns
    commit and retries. ``retry_unique`` re-runs ``work`` after a unique
    violation, for operations whose preconditions re-check what the
    violation was about (idempotency keys, one reversal per entry).
    """
    db = engine()
    if db.transaction_exists():
        return await work()
    last_error: BaseException | None = None
    for attempt in range(MAX_ATTEMPTS):
        try:
            if db.engine_type == "sqlite":
                async with db.transaction(transaction_type=TransactionType.immediate):
                    return await work()
            else:
                async with db.transaction():
                    return await work()
        except Exception as error:
            if not _is_retryable(error, retry_unique=retry_unique):
                raise
            last_error = error
            # Jittered exponential backoff, capped at 100 ms per wait.
            await asyncio.sleep(min(0.1, 0.002 * 2**attempt) * random.random())
    raise LedgerBusy(f"the ledger is busy; gave up after {MAX_ATTEMPTS} attempts ({last_error})")
