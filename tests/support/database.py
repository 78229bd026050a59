"""Schema set-up and per-test cleanup for both engines."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator

import pytest
from piccolo.conf.apps import Finder
from piccolo.table import Table

from admin.migrations import migrate
from core import database


def engine_type() -> str:
    return str(database.engine().engine_type)


def on_postgres() -> bool:
    return engine_type() == "postgres"


def all_tables() -> list[type[Table]]:
    """Every table of every app registered in piccolo_conf."""
    return list(Finder().get_table_classes())


async def migrate_once() -> None:
    await migrate()


async def truncate_all() -> None:
    db = database.engine()
    names = [table._meta.tablename for table in all_tables()]
    if db.engine_type == "postgres":
        await db.run_ddl(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
        return
    # SQLite checks ON DELETE RESTRICT row by row, so self-referencing
    # tables (entry.reverses, organisation.parent) cannot be emptied in one
    # statement with foreign keys on. Clean up on a connection of our own
    # with them off (SQLite's default); the schema itself stays strict.
    # Piccolo's SQLite keys are plain INTEGER PRIMARY KEY: emptied tables
    # restart their ids at 1 with no sequence to reset.
    import aiosqlite

    async with aiosqlite.connect(db.path) as connection:
        for name in names:
            await connection.execute(f"DELETE FROM {name}")
        await connection.commit()


@contextlib.asynccontextmanager
async def connection_pool_for(request: pytest.FixtureRequest, *, max_size: int) -> AsyncIterator[None]:
    """On PostgreSQL, run an async test on a connection pool, as the API does
    (without one the test engine opens a connection per query). Synchronous
    tests (hypothesis, CLI runners) run their own event loops and get none."""
    if not on_postgres() or not inspect.iscoroutinefunction(request.function):
        yield
        return
    db = database.engine()
    await db.start_connection_pool(min_size=1, max_size=max_size)
    try:
        yield
    finally:
        await db.close_connection_pool()
