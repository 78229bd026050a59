"""The demo data set, loaded for real once per test process and copied back
in afterwards.

Why: ``seeds.demo.load_demo`` records eight weeks of history through the
real services (a few thousand statements, argon2 for five logins). About a
hundred tests start from the demo, on both engines; loading it each time
cost seconds a test on PostgreSQL. The first load in a process runs the
real loader (so every test run still proves the loader works, and
``test_cli`` runs it through the CLI too); later loads copy the rows it
wrote back into the emptied tables, exactly as they were: same ids, same
hashes, same times.

What is guaranteed:
- A test sees the same rows the loader wrote, byte for byte, in empty
  tables; the id sequences continue after them (PostgreSQL) as after a
  real load.
- The copy is taken again when the China date changes (the demo's history
  is dated relative to today) or the database is another one.
- Like ``load_demo``, it does nothing when the database already holds an
  organisation.
- Redis is not part of it: tests that need a clean Redis flush it
  themselves, after the load, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from core import database
from core.clock import utc_now
from core.database import pooled_connections
from seeds.demo import demo_loaded, load_demo
from tests.support.database import tables_parents_first
from web.i18n import CHINA


@dataclass(frozen=True)
class _TableRows:
    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    primary_key: str


@dataclass(frozen=True)
class _Snapshot:
    url: str
    china_day: date
    tables: tuple[_TableRows, ...]


_snapshot: _Snapshot | None = None


def _key() -> tuple[str, date]:
    db = database.engine()
    url = db.path if isinstance(db, SQLiteEngine) else str(db.config) if isinstance(db, PostgresEngine) else ""
    return url, utc_now().astimezone(CHINA).date()


async def load_demo_quickly() -> None:
    """``load_demo`` for tests: the real loader the first time (per process,
    database and China day), a copy of its rows after that."""
    global _snapshot
    if await demo_loaded():
        return
    url, china_day = _key()
    if _snapshot is not None and (_snapshot.url, _snapshot.china_day) == (url, china_day):
        await _restore(_snapshot)
        return
    async with pooled_connections(max_size=4):
        await load_demo()
    _snapshot = _Snapshot(url=url, china_day=china_day, tables=await _read_all())


async def _read_all() -> tuple[_TableRows, ...]:
    db = database.engine()
    tables = tables_parents_first()
    taken: list[_TableRows] = []
    if isinstance(db, SQLiteEngine):
        import aiosqlite

        async with aiosqlite.connect(db.path) as connection:
            for table in tables:
                cursor = await connection.execute(f'SELECT * FROM "{table._meta.tablename}"')
                rows = [tuple(row) for row in await cursor.fetchall()]
                columns = tuple(str(column[0]) for column in cursor.description)
                taken.append(_TableRows(table._meta.tablename, columns, rows, _pk(table)))
        return tuple(taken)
    assert isinstance(db, PostgresEngine)
    connection = await db.get_new_connection()
    try:
        for table in tables:
            records = await connection.fetch(f'SELECT * FROM "{table._meta.tablename}"')
            columns = tuple(records[0].keys()) if records else ()
            taken.append(_TableRows(table._meta.tablename, columns, [tuple(r) for r in records], _pk(table)))
    finally:
        await connection.close()
    return tuple(taken)


async def _restore(snapshot: _Snapshot) -> None:
    """Copy the rows back, parents before children, in one transaction."""
    db = database.engine()
    filled = [table for table in snapshot.tables if table.rows]
    if isinstance(db, SQLiteEngine):
        import aiosqlite

        # A connection of our own, foreign keys off (SQLite's default), as
        # the per-test cleanup does: the rows were consistent when read.
        async with aiosqlite.connect(db.path) as connection:
            await connection.execute("BEGIN IMMEDIATE")
            # A request still in flight from the test before (a closing
            # page's last fetch) may have written between the cleanup and
            # now: empty the tables again, children first, in this transaction.
            for table in reversed(filled):
                await connection.execute(f'DELETE FROM "{table.name}"')
            for table in filled:
                marks = ", ".join("?" for _ in table.columns)
                names = ", ".join(f'"{column}"' for column in table.columns)
                await connection.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', table.rows)
            await connection.commit()
        return
    assert isinstance(db, PostgresEngine)
    connection = await db.get_new_connection()
    try:
        async with connection.transaction():
            for table in reversed(filled):
                await connection.execute(f'DELETE FROM "{table.name}"')
            for table in filled:
                await connection.copy_records_to_table(table.name, records=table.rows, columns=list(table.columns))
            # The ids go on after the copied rows, as after a real load.
            await connection.execute(
                "SELECT "
                + ", ".join(
                    f"setval(pg_get_serial_sequence('{table.name}', '{table.primary_key}')::regclass, "
                    f'(SELECT MAX("{table.primary_key}") FROM "{table.name}"), true)'
                    for table in filled
                )
            )
    finally:
        await connection.close()


def _pk(table: Any) -> str:
    return str(table._meta.primary_key._meta.db_column_name)
