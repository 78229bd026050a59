"""Fixed SQL for measured hot paths, run straight on the driver.

Piccolo builds and compiles each query from Python objects: ~100-200 µs of
client CPU per statement here, against ~15 µs for a fixed string, and its
per-query wrappers add more (``bench/RESULTS.md``). On the few paths where
that was measured to matter (posting, holds, the wallet read, redemptions),
statements are written once as text and sent through this module:

- on PostgreSQL on the transaction's asyncpg connection (prepared once per
  connection by asyncpg's statement cache);
- on SQLite on the writer or a reader of ``core.sqlite_connections``, a
  whole script as one synchronous call (a writing script that is its own
  transaction runs in the loop's thread while that is quick, else in one
  hop to the writer's thread).

A statement is written with PostgreSQL's ``$1, $2`` parameters; SQLite
reads the same text with ``?1, ?2`` unless it is given its own text. A list
argument reaches PostgreSQL as an array (``= ANY($1)``) and SQLite as JSON
text (``IN (SELECT value FROM json_each(?1))``), so both texts stay fixed
whatever the list's length.

Several statements that depend on each other's results are a **script**: a
generator that yields ``Step``s and receives each step's rows. The script
holds the logic (pure decisions between statements); the driver here only
sends statements. The same script runs on both engines, and on SQLite as
one call, ``BEGIN IMMEDIATE … COMMIT`` included when it is its own
transaction.

Everything else stays on Piccolo's query builder (ARCHITECTURE.md §9).
"""

from __future__ import annotations

import json
import json.encoder
import re
import sqlite3
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple, Protocol, TypeVar

import asyncpg
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import convert_datetime_in

from core.database import MAX_ATTEMPTS, engine, pause_before_retry, retryable
from core.engines import FenglingSQLiteEngine, WriterConnection
from core.errors import DatabaseBusy
from core.sqlite_connections import SqliteWriter

T = TypeVar("T")

_POSTGRES_PARAMETER = re.compile(r"\$(\d+)")
_SQLITE_LIST_PARAMETER = re.compile(r"json_each\(\?(\d*)\)")


class Row(Protocol):
    """A result row: asyncpg's ``Record`` or ``sqlite3.Row`` (or a dict),
    read by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


class Dialect(StrEnum):
    POSTGRES = "postgres"
    SQLITE = "sqlite"


@dataclass(frozen=True, slots=True)
class FixedSql:
    """One statement, as PostgreSQL and SQLite each read it.

    ``sqlite_list_positions``: the (0-based) arguments SQLite reads as JSON
    lists, each a ``json_each(?n)`` of the SQLite text, found once here so
    that sending the statement converts only those (and a statement with
    none sends its arguments as they are)."""

    postgres: str
    sqlite: str
    sqlite_list_positions: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sqlite_list_positions", _list_positions(self.sqlite))

    def __call__(self, *args: Any) -> Step:
        return _new_step(Step, (self, args))


def _list_positions(sqlite: str) -> tuple[int, ...]:
    numbers = _SQLITE_LIST_PARAMETER.findall(sqlite)
    if "" in numbers:
        raise ValueError(f"number the parameter of json_each (?1, ?2, ...): {sqlite[:80]}")
    return tuple(sorted({int(number) - 1 for number in numbers}))


def fixed_sql(postgres: str, *, sqlite: str | None = None) -> FixedSql:
    """A statement written with ``$n`` parameters; SQLite gets the same text
    with ``?n`` unless ``sqlite`` is given."""
    return FixedSql(postgres=postgres, sqlite=_POSTGRES_PARAMETER.sub(r"?\1", postgres) if sqlite is None else sqlite)


def postgres_only(postgres: str) -> FixedSql:
    """A statement SQLite cannot read (a data-modifying CTE, say): scripts
    send it only when ``Dialect.POSTGRES``."""
    return FixedSql(postgres=postgres, sqlite="")


class Step(NamedTuple):
    """One statement to send and its arguments. A named tuple, not a
    dataclass: every statement of every script builds one (a frozen
    dataclass's ``__init__`` costs ~3× a tuple's)."""

    statement: FixedSql
    args: tuple[Any, ...]


_new_step = tuple.__new__
"""Builds a ``Step`` without the named tuple's Python-level ``__new__``
(every statement of every script builds one)."""


Script = Generator[Step, list[Row], T]
"""Yields the statements to send; receives each one's rows; returns the result."""

ScriptFactory = Callable[[Dialect], Script[T]]
"""Builds a fresh script for an engine (a retry starts a new one)."""


def sqlite_time(value: datetime) -> str:
    """The text SQLite stores for ``value``: what the ``datetime`` adapter
    Piccolo registers with ``sqlite3`` writes (UTC, ``str``). A script that
    sends one time in several statements converts it once. An instant
    already in UTC (``core.clock.utc_now``'s) is written as it is."""
    if value.tzinfo is UTC:
        return str(value)
    return convert_datetime_in(value)


_json_string = json.encoder.encode_basestring
"""A ``str`` as a JSON string literal (the C function ``json.dumps`` uses)."""


def sqlite_json_list(values: Sequence[Any]) -> str:
    """A list argument as the JSON text SQLite's ``json_each`` reads. Lists
    of strings or of integers (every list a statement takes) are written
    directly, the same JSON as ``json.dumps`` up to spacing; anything else
    goes through ``json.dumps``."""
    if all(type(value) is str for value in values):
        return "[" + ",".join(map(_json_string, values)) + "]"
    if all(type(value) is int for value in values):
        return "[" + ",".join(map(str, values)) + "]"
    return json.dumps(list(values))


def dialect() -> Dialect:
    return Dialect.SQLITE if engine().engine_type == "sqlite" else Dialect.POSTGRES


def _sqlite_arguments(statement: FixedSql, args: tuple[Any, ...]) -> Sequence[Any]:
    """``args`` with each list argument (``sqlite_list_positions``) as JSON text."""
    converted = list(args)
    for position in statement.sqlite_list_positions:
        converted[position] = sqlite_json_list(converted[position])
    return converted


def drive_sqlite(connection: sqlite3.Connection, script: Script[T]) -> T:
    """Run ``script`` to the end on ``connection`` (synchronously, in the
    connection's thread).

    Measured on the posting path (every transfer runs 6 statements here):
    one cursor for the whole script, arguments sent as they are unless the
    statement reads a list (``FixedSql.sqlite_list_positions``), and
    ``fetchall`` only for a statement that has result columns
    (``cursor.description``)."""
    try:
        statement, args = next(script)
        cursor = connection.cursor()
        cursor.row_factory = sqlite3.Row
        while True:
            text = statement.sqlite
            if not text:
                raise TypeError(f"a PostgreSQL-only statement reached SQLite: {statement.postgres[:80]}")
            cursor.execute(text, _sqlite_arguments(statement, args) if statement.sqlite_list_positions else args)
            statement, args = script.send(cursor.fetchall() if cursor.description is not None else [])
    except StopIteration as finished:
        return finished.value  # type: ignore[no-any-return]
    finally:
        script.close()


async def drive_postgres(connection: asyncpg.Connection, script: Script[T]) -> T:
    """Run ``script`` to the end on ``connection``, one round trip per step."""
    try:
        step = next(script)
        while True:
            rows = await connection.fetch(step.statement.postgres, *step.args)
            step = script.send(rows)
    except StopIteration as finished:
        return finished.value  # type: ignore[no-any-return]
    finally:
        script.close()


def _current_transaction_connection() -> Any:
    current = engine().current_transaction.get()
    return None if current is None else current.connection


def _sqlite_engine() -> FenglingSQLiteEngine:
    db = engine()
    if not isinstance(db, FenglingSQLiteEngine):
        raise TypeError("fixed SQL on SQLite needs core.engines.FenglingSQLiteEngine (see piccolo_conf)")
    return db


async def _run_postgres_outside_transaction(db: PostgresEngine, script: Script[T], *, transaction: bool) -> T:
    if db.pool is not None:
        async with db.pool.acquire() as connection:
            if transaction:
                async with connection.transaction():
                    return await drive_postgres(connection, script)
            return await drive_postgres(connection, script)
    connection = await db.get_new_connection()
    try:
        if transaction:
            async with connection.transaction():
                return await drive_postgres(connection, script)
        return await drive_postgres(connection, script)
    finally:
        await connection.close()


async def read(factory: ScriptFactory[T]) -> T:
    """Run a reading script: inside the open transaction if there is one,
    else on a pooled connection (PostgreSQL) or a reader (SQLite), with no
    transaction around it."""
    kind = dialect()
    script = factory(kind)
    connection = _current_transaction_connection()
    if kind is Dialect.SQLITE:
        if isinstance(connection, WriterConnection):
            return await connection.writer.call(lambda db_connection: drive_sqlite(db_connection, script))
        sqlite_db = _sqlite_engine()
        return await sqlite_db.connections.readers().call(
            sqlite_db.connection_kwargs, lambda db_connection: drive_sqlite(db_connection, script)
        )
    if connection is not None:
        return await drive_postgres(connection, script)
    db = engine()
    assert isinstance(db, PostgresEngine)
    return await _run_postgres_outside_transaction(db, script, transaction=False)


async def fetch(statement: Step) -> list[Row]:
    """The rows of one statement (see ``read``)."""

    def one_step(_: Dialect) -> Script[list[Row]]:
        rows = yield statement
        return rows

    return await read(one_step)


async def _write_in_own_transaction(kind: Dialect, factory: ScriptFactory[T]) -> T:
    if kind is Dialect.SQLITE:
        writer: SqliteWriter = _sqlite_engine().connections.writer()
        script = factory(kind)
        async with writer.lock:
            return await writer.transaction(lambda connection: drive_sqlite(connection, script))
    db = engine()
    assert isinstance(db, PostgresEngine)
    return await _run_postgres_outside_transaction(db, factory(kind), transaction=True)


async def write(factory: ScriptFactory[T], *, retry_unique: bool = False) -> T:
    """Run a writing script as one transaction, retrying transient failures
    like ``core.database.in_write_transaction`` (whose rules it follows).

    Inside an open transaction the script joins it, and the caller owns
    commit and retries. Otherwise it is its own transaction: on SQLite
    ``BEGIN IMMEDIATE``, the script and ``COMMIT`` as one synchronous call
    on the writer (``SqliteWriter.transaction``); on PostgreSQL a pooled
    connection's transaction.
    """
    kind = dialect()
    connection = _current_transaction_connection()
    if connection is not None:
        if isinstance(connection, WriterConnection):
            script = factory(kind)
            return await connection.writer.call(lambda db_connection: drive_sqlite(db_connection, script))
        return await drive_postgres(connection, factory(kind))
    last_error: BaseException | None = None
    for attempt in range(MAX_ATTEMPTS):
        try:
            return await _write_in_own_transaction(kind, factory)
        except Exception as error:
            if not retryable(error, retry_unique=retry_unique):
                raise
            last_error = error
            await pause_before_retry(attempt)
    raise DatabaseBusy(f"the database is busy; gave up after {MAX_ATTEMPTS} attempts ({last_error})")
