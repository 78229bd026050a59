"""Schema set-up and per-test cleanup for both engines."""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import AsyncIterator

import pytest
from piccolo.conf.apps import Finder
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table, sort_table_classes

from admin.migrations import migrate
from community.session_cache import SESSIONS
from core import database
from core.database import pooled_connections
from marketplace.signing_keys import forget_cached_key


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
    """Empty every table (the schema stays), ids restarting at 1.

    Runs before every integration test and every hypothesis example, so it
    is built for speed: one round trip on PostgreSQL, and on SQLite no
    write at all when the last test wrote nothing (a test that only reads,
    or a pure one). See ``_empty_postgres`` and ``_empty_sqlite``.

    This process's cached members go too: ids start at 1 again, so member
    1 of the next test is someone else (``community/session_cache.py``), and
    so does the unsealed signing key (``marketplace/signing_keys.py``), whose
    row is gone."""
    SESSIONS.clear()
    forget_cached_key()
    db = database.engine()
    tables = _tables_children_first()
    if isinstance(db, SQLiteEngine):
        await _empty_sqlite(db.path, [table._meta.tablename for table in tables])
    else:
        await db.run_ddl(_empty_postgres(tables))


@functools.cache
def _tables_children_first() -> tuple[type[Table], ...]:
    """Every table, referencing tables before the tables they reference, so
    deleting in this order never trips a foreign key (self-references are
    one statement each and are checked at its end)."""
    return tuple(reversed(sort_table_classes(all_tables())))


def tables_parents_first() -> tuple[type[Table], ...]:
    """Every table, referenced tables before the tables referencing them
    (the order to insert in)."""
    return tuple(reversed(_tables_children_first()))


def _empty_postgres(tables: tuple[type[Table], ...]) -> str:
    """One anonymous block: DELETE each table, children first, and restart
    its id sequence at 1 (as ``TRUNCATE … RESTART IDENTITY`` did).

    Measured on this machine's PostgreSQL 15 after loading the demo (26
    tables): ``TRUNCATE … RESTART IDENTITY CASCADE`` took 0.7-1 s, a cost
    paid per table whether it holds rows or not (new files, locks), while
    this block takes milliseconds. Autovacuum clears the dead rows. The
    foreign keys stay on: the order makes every DELETE legal."""
    statements = "".join(
        f"DELETE FROM {table._meta.tablename};\n"
        f"PERFORM setval(pg_get_serial_sequence('{table._meta.tablename}', "
        f"'{table._meta.primary_key._meta.db_column_name}')::regclass, 1, false);\n"
        for table in tables
    )
    return f"DO $$\nBEGIN\n{statements}END\n$$"


async def _empty_sqlite(path: str, names: list[str]) -> None:
    """Find the tables holding rows in one query, then delete only those in
    one transaction: a test that wrote nothing costs one read, no commit.

    SQLite checks ON DELETE RESTRICT row by row, so self-referencing tables
    (entry.reverses, organisation.parent) cannot be emptied in one statement
    with foreign keys on. Clean up on a connection of our own with them off
    (SQLite's default); the schema itself stays strict. Piccolo's SQLite
    keys are plain INTEGER PRIMARY KEY: emptied tables restart their ids at
    1 with no sequence to reset."""
    import aiosqlite

    holding_rows = " UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in names)
    async with aiosqlite.connect(path) as connection:
        written = [str(row[0]) for row in await connection.execute_fetchall(holding_rows)]
        if written:
            await connection.executescript("BEGIN;" + "".join(f"DELETE FROM {name};" for name in written) + "COMMIT;")


@contextlib.asynccontextmanager
async def connection_pool_for(request: pytest.FixtureRequest, *, max_size: int) -> AsyncIterator[None]:
    """On PostgreSQL, run an async test on a connection pool, as the API does
    (without one the test engine opens a connection per query). Synchronous
    tests (hypothesis, CLI runners) run their own event loops and get none."""
    if not inspect.iscoroutinefunction(request.function):
        yield
        return
    async with pooled_connections(max_size=max_size):
        yield
