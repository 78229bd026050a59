"""Database plumbing shared by every app: the engine, writing transactions
with the locking discipline of ARCHITECTURE.md §3, row locks, and the
constraint-violation tests.

PostgreSQL (READ COMMITTED): callers lock the rows they change with
``SELECT … FOR UPDATE`` (``lock_row`` / ``lock_rows``), balance rows in
ascending id order, so two writers over the same rows queue instead of
deadlocking. SQLite: every writing transaction is ``BEGIN IMMEDIATE``, which
takes the database's write lock up front (the busy timeout in
``piccolo_conf`` makes others wait for it), so a row lock would add nothing
and SQLite has no syntax for it.

Deadlocks, serialization failures and SQLite "database is locked" are
retried a bounded number of times and never reach the caller as such.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from piccolo.columns import Column
from piccolo.columns.combination import Where
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import TransactionType
from piccolo.query import Select
from piccolo.table import Table

from core.errors import DatabaseBusy

T = TypeVar("T")
TableT = TypeVar("TableT", bound=Table)

logger = logging.getLogger("fengling.database")

# Enough to ride out a burst of contention; small enough that a caller gets
# an answer within about a second even when the database is saturated.
MAX_ATTEMPTS = 12

_RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
_UNIQUE_VIOLATION = "23505"
_CHECK_VIOLATION = "23514"


@functools.cache
def engine() -> Engine:  # type: ignore[type-arg]
    """The engine ``piccolo_conf`` configures (every table shares it;
    resolved once, as piccolo_conf is read once per process)."""
    found = engine_finder()
    if found is None:
        raise RuntimeError("piccolo_conf defines no DB engine")
    return found


@contextlib.asynccontextmanager
async def pooled_connections(*, max_size: int) -> AsyncIterator[None]:
    """On PostgreSQL, the body's queries share a connection pool on the
    running loop, closed at the end. Without one, Piccolo opens a
    connection per query outside a transaction: a new server process each,
    ~8 ms on the machine of 2026-12-01, so a command or test making a few
    hundred queries spent seconds connecting. (A pool belongs to its loop,
    ``core.engines``.) SQLite, or a pool already open on this loop:
    nothing to do. The block that opened the pool closes it, so on one
    loop the outermost block is entered first and left last (a lifespan,
    a test, a command), never two side by side."""
    db = engine()
    if not isinstance(db, PostgresEngine) or db.pool is not None:
        yield
        return
    await db.start_connection_pool(min_size=1, max_size=max_size)
    try:
        yield
    finally:
        await db.close_connection_pool()


def is_sqlite() -> bool:
    return bool(engine().engine_type == "sqlite")


def is_unique_violation(error: BaseException) -> bool:
    if getattr(error, "sqlstate", None) == _UNIQUE_VIOLATION:
        return True
    return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)


def is_check_violation(error: BaseException) -> bool:
    if getattr(error, "sqlstate", None) == _CHECK_VIOLATION:
        return True
    return "CHECK constraint failed" in str(error)


def for_update(query: Select[TableT]) -> Select[TableT]:
    """``query`` taking row locks where the engine has them (see module doc)."""
    return query if is_sqlite() else query.lock_rows()


async def lock_rows(query: Select[TableT]) -> list[dict[str, Any]]:
    """Run a select, locking the rows it returns until the transaction ends.
    Call inside ``in_write_transaction``."""
    return list(await for_update(query).run())


async def lock_row(table: type[Table], row_id: int, *columns: Any) -> dict[str, Any] | None:
    """The row of ``table`` with id ``row_id`` (all columns, or ``columns``),
    locked until the transaction ends; ``None`` if there is no such row.
    Call inside ``in_write_transaction``."""
    query = table.select(*columns).where(table._meta.primary_key == row_id)
    rows = await lock_rows(query)
    return rows[0] if rows else None


# Searches match on a prefix of what was typed: enough to find a name or a
# product, too short to make LIKE expensive.
MAX_SEARCH_CHARS = 50


def contains_pattern(text: str) -> str:
    """A LIKE pattern for "contains ``text``": at most ``MAX_SEARCH_CHARS``
    characters, with the caller's own wildcards (``%``, ``_``) dropped."""
    return f"%{text.strip()[:MAX_SEARCH_CHARS].replace('%', '').replace('_', '')}%"


def contains_ignoring_case(column: Column, text: str) -> Where:
    """``column`` contains ``text``, ignoring ASCII case on both engines
    (SQLite's LIKE already does and has no ILIKE; PostgreSQL needs ILIKE)."""
    pattern = contains_pattern(text)
    return column.like(pattern) if is_sqlite() else column.ilike(pattern)


def retryable(error: BaseException, *, retry_unique: bool) -> bool:
    """A failure that a fresh attempt of the same transaction may not meet."""
    if getattr(error, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
        return True
    return retry_unique and is_unique_violation(error)


async def pause_before_retry(attempt: int) -> None:
    """Jittered exponential backoff, capped at 100 ms per wait."""
    await asyncio.sleep(min(0.1, 0.002 * 2**attempt) * random.random())


AfterCommit = Callable[[], Awaitable[None]]

# The callbacks waiting for the commit of the transaction that
# ``in_write_transaction`` opened in this task (None: it opened none).
_after_commit: ContextVar[list[AfterCommit] | None] = ContextVar("fengling_after_commit", default=None)


async def after_commit(callback: AfterCommit) -> None:
    """Run ``callback`` once the writing transaction in progress has
    committed, and never if it rolls back (a retried attempt's callbacks are
    dropped with it). Outside a transaction opened by ``in_write_transaction``
    (a statement that committed on its own) it runs at once.

    For telling the world outside the database what just became true (a
    session ended, a role changed), which must never be told earlier: a
    reader who heard it before the commit could read the old rows again. A
    callback that fails is logged; the transaction has committed regardless.
    """
    pending = _after_commit.get()
    if pending is None:
        await _run_after_commit([callback])
    else:
        pending.append(callback)


async def _run_after_commit(callbacks: list[AfterCommit]) -> None:
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            logger.exception("after-commit callback %r failed", callback)


async def _one_attempt(db: Engine, work: Callable[[], Awaitable[T]]) -> T:  # type: ignore[type-arg]
    if db.engine_type == "sqlite":
        async with db.transaction(transaction_type=TransactionType.immediate):
            return await work()
    async with db.transaction():
        return await work()


async def in_write_transaction(work: Callable[[], Awaitable[T]], *, retry_unique: bool = False) -> T:
    """Run ``work`` in one writing transaction, retrying transient failures.

    If a transaction is already open (a caller composing several operations
    with its own writes), ``work`` joins it and the caller owns commit and
    retries. ``retry_unique`` re-runs ``work`` after a unique violation, for
    operations whose preconditions re-check what the violation was about
    (idempotency keys, one reversal per entry). What ``work`` hands to
    ``after_commit`` runs after the commit, before this returns.
    """
    db = engine()
    if db.transaction_exists():
        return await work()
    last_error: BaseException | None = None
    for attempt in range(MAX_ATTEMPTS):
        pending: list[AfterCommit] = []
        token = _after_commit.set(pending)
        try:
            result = await _one_attempt(db, work)
        except Exception as error:
            if not retryable(error, retry_unique=retry_unique):
                raise
            last_error = error
            await pause_before_retry(attempt)
            continue
        finally:
            _after_commit.reset(token)
        await _run_after_commit(pending)
        return result
    raise DatabaseBusy(f"the database is busy; gave up after {MAX_ATTEMPTS} attempts ({last_error})")
