"""How the SQLite writer runs a transaction (core/sqlite_connections.py):
in the event loop's thread while that is quick, in its own thread when
another process holds the write lock or recent transactions were slow, and
all or nothing either way.

Each test works on its own SQLite file in a temporary folder, never the
application's database."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core import sqlite_connections
from core.sqlite_connections import INLINE_BUDGET_SECONDS, SqliteWriter, open_connection


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "writer.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    return path


@pytest.fixture
def writer(database: Path) -> Iterator[SqliteWriter]:
    writer = SqliteWriter({"database": str(database), "timeout": 5.0}, "FULL")
    yield writer
    writer.close()


def names(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT name FROM item ORDER BY id")]


def insert(name: str) -> tuple[list[str], Callable[[sqlite3.Connection], int]]:
    """Work that records which thread ran it."""
    ran_in: list[str] = []

    def work(connection: sqlite3.Connection) -> int:
        ran_in.append(threading.current_thread().name)
        return int(connection.execute("INSERT INTO item (name) VALUES (?) RETURNING id", (name,)).fetchone()[0])

    return ran_in, work


async def test_a_quick_transaction_runs_in_the_loops_own_thread_and_commits(
    writer: SqliteWriter, database: Path
) -> None:
    ran_in, work = insert("first")
    async with writer.lock:
        item_id = await writer.transaction(work)

    assert item_id == 1
    assert ran_in == [threading.current_thread().name]
    assert names(database) == ["first"]


async def test_a_failing_transaction_rolls_back_and_leaves_the_writer_usable(
    writer: SqliteWriter, database: Path
) -> None:
    def half_then_fail(connection: sqlite3.Connection) -> None:
        connection.execute("INSERT INTO item (name) VALUES ('lost')")
        raise ValueError("a rule refused")

    async with writer.lock:
        with pytest.raises(ValueError, match="a rule refused"):
            await writer.transaction(half_then_fail)
        _, work = insert("kept")
        await writer.transaction(work)

    assert names(database) == ["kept"]


async def test_another_process_holding_the_write_lock_sends_the_transaction_to_the_thread_without_blocking_the_loop(
    writer: SqliteWriter, database: Path
) -> None:
    other = open_connection({"database": str(database)}, "FULL")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO item (name) VALUES ('other process')")
    ran_in, work = insert("ours")

    async def ours() -> int:
        async with writer.lock:
            return await writer.transaction(work)

    task = asyncio.create_task(ours())
    # The loop keeps serving while our transaction waits for the lock.
    ticks = 0
    while ticks < 20:
        await asyncio.sleep(0.005)
        ticks += 1
    assert not task.done()
    other.execute("COMMIT")
    other.close()

    assert await task == 2
    assert ran_in == ["sqlite-writer"]
    assert names(database) == ["other process", "ours"]


class TickingClock:
    """``time.perf_counter`` for the writer: each reading 0.1 ms after the
    last, so every transaction measures quick whatever the machine's load."""

    def __init__(self) -> None:
        self.now = 0.0
        self.guard = threading.Lock()

    def perf_counter(self) -> float:
        with self.guard:
            self.now += 0.0001
            return self.now


async def test_after_slow_transactions_the_next_ones_go_to_the_thread_until_they_are_quick_again(
    writer: SqliteWriter, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_connections, "time", TickingClock())
    writer.recent_seconds = 10 * INLINE_BUDGET_SECONDS  # as after a run of slow fsyncs
    threads: list[str] = []
    async with writer.lock:
        for index in range(40):
            ran_in, work = insert(f"item {index}")
            await writer.transaction(work)
            threads.extend(ran_in)

    assert threads[0] == "sqlite-writer"
    assert threads[-1] == threading.current_thread().name  # quick again: back inline
    assert writer.recent_seconds < INLINE_BUDGET_SECONDS
    assert len(names(database)) == 40


async def test_statements_sent_through_the_thread_wait_out_a_short_lock_after_inline_transactions(
    writer: SqliteWriter, database: Path
) -> None:
    """Inline mode turns the busy wait off; work sent to the thread (a
    Piccolo transaction's statements) must get it back."""
    _, work = insert("inline")
    async with writer.lock:
        await writer.transaction(work)

    other = open_connection({"database": str(database)}, "FULL")
    other.execute("BEGIN IMMEDIATE")

    def release() -> None:
        other.execute("COMMIT")
        other.close()

    releaser = threading.Timer(0.1, release)
    releaser.start()

    def in_piccolo_transaction(connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO item (name) VALUES ('through the thread')")
        connection.execute("COMMIT")

    async with writer.lock:
        await writer.call(in_piccolo_transaction)
    releaser.join()

    assert names(database) == ["inline", "through the thread"]


async def test_each_event_loop_has_one_writer_and_a_closed_one_is_replaced(database: Path) -> None:
    connections = sqlite_connections.SqliteConnections({"database": str(database), "timeout": 5.0}, "FULL")
    try:
        first = connections.writer()
        assert connections.writer() is first

        def writer_of_another_loop() -> SqliteWriter:
            async def ask() -> SqliteWriter:
                return connections.writer()

            return asyncio.run(ask())

        other = await asyncio.to_thread(writer_of_another_loop)
        assert other is not first
        assert connections.writer() is first

        connections.close()
        assert first.closed
        replacement = connections.writer()
        assert replacement is not first and not replacement.closed
        ran_in, work = insert("after the replacement")
        async with replacement.lock:
            await replacement.transaction(work)
        assert names(database) == ["after the replacement"]
    finally:
        connections.close()
