"""Long-lived SQLite connections: one writer per event loop, one reader per
reader thread.

Piccolo's SQLite engine opens a new aiosqlite connection (a new thread, and
a re-parse of the whole schema: ~1.3 ms here) for every transaction and
every statement outside one, and each statement is a thread hop of its own.
Measured on this machine that capped posting at ~130 transfers/s against
~1,800/s for the same statements on one plain ``sqlite3`` connection
(``bench/RESULTS.md``). Here instead:

- **The writer.** One connection per event loop (in a server process there
  is one loop, so one writer per process), owned by one thread. Writing
  transactions take the writer's ``asyncio.Lock`` for their whole length,
  so they queue in the process instead of in SQLite's busy handler, and a
  whole transaction can run as one synchronous function
  (``SqliteWriter.transaction``). Several processes (workers) still
  serialise on SQLite's own write lock, with the busy timeout of
  ``piccolo_conf``.
- **Inline when quick.** A hop to the writer's thread and back costs
  ~150 µs of CPU here, as much as the transfer's own statements, and capped
  posting at ~0.55x of one plain connection (``bench/RESULTS.md``). So a
  whole transaction runs in the event loop's own thread while it is quick:
  ``BEGIN IMMEDIATE`` is tried with no busy wait (another process holding
  the write lock sends the transaction to the thread, which waits there),
  and while the recent transactions took under ``INLINE_BUDGET_SECONDS``
  (a slow disk's fsync at ``FULL``, say) they keep going to the thread,
  which releases the loop while SQLite works. The loop is therefore never
  blocked for longer than about one budget by a write.
- **Readers.** Statements outside a transaction run on a small pool of
  threads, each keeping its own connection per database file. In WAL mode
  readers never wait for the writer and always see the last commit.

Durability: ``PRAGMA synchronous`` is a setting (``FENGLING_SQLITE_SYNCHRONOUS``).
The default, ``FULL``, syncs the write-ahead log on every commit: a
committed posting survives a power cut. ``NORMAL`` syncs only at
checkpoints: still never corrupt, but the last commits before a power cut
(not a process crash) can be lost, which for a points ledger means a
redemption handed over and then forgotten.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

SYNCHRONOUS_LEVELS = ("FULL", "NORMAL", "EXTRA", "OFF")

# Enough for the reads of a few concurrent requests; each thread holds one
# connection per database file.
READER_THREADS = 4

# A writing transaction runs in the event loop's thread while the recent
# ones took less than this (see the module docstring); a posting takes
# ~0.3 ms here at FULL.
INLINE_BUDGET_SECONDS = 0.001

# Weight of the newest transaction in the running estimate of how long one
# takes: a few slow commits in a row send the next ones to the thread.
_RECENT_WEIGHT = 0.2

# What busy_timeout the connection arguments ask for when they name none
# (sqlite3.connect's own default: 5 s).
_DEFAULT_BUSY_SECONDS = 5.0


def open_connection(connection_kwargs: Mapping[str, Any], synchronous: str) -> sqlite3.Connection:
    """A connection set up as every Fengling connection must be: foreign keys
    enforced, autocommit unless a transaction is begun explicitly, and the
    chosen durability level."""
    if synchronous not in SYNCHRONOUS_LEVELS:
        raise ValueError(f"PRAGMA synchronous must be one of {SYNCHRONOUS_LEVELS}, got {synchronous!r}")
    connection: sqlite3.Connection = sqlite3.connect(
        **{**connection_kwargs, "check_same_thread": False, "isolation_level": None}
    )
    connection.execute("PRAGMA foreign_keys = 1")
    connection.execute(f"PRAGMA synchronous = {synchronous}")
    return connection


def rows_as_dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """What Piccolo's SQLite engine returns for a query: one dict per row."""
    rows = cursor.fetchall()
    if cursor.description is None:
        return []
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in rows]


class SqliteWriter:
    """The one writing connection of an event loop, owned by one thread.

    Whoever holds ``lock`` owns the connection until they release it: the
    lock is held for a whole transaction, never for less. Work reaches the
    thread through a ``queue.SimpleQueue`` (not an executor) so that
    ``close`` is safe from a weakref callback during garbage collection:
    ``SimpleQueue.put`` is reentrant, an executor's ``submit`` takes a
    global lock and can deadlock there.
    """

    def __init__(self, connection_kwargs: Mapping[str, Any], synchronous: str) -> None:
        self._connection_kwargs = dict(connection_kwargs)
        self._synchronous = synchronous
        self._busy_milliseconds = int(1000 * float(connection_kwargs.get("timeout", _DEFAULT_BUSY_SECONDS)))
        self._connection: sqlite3.Connection | None = None
        # Whether the connection's busy handler waits (the thread's mode)
        # or fails at once (inline mode): switched only when the mode
        # changes, so a run of inline transactions sends no PRAGMA.
        self._busy_waits = True
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closed = False
        self.lock = asyncio.Lock()
        self.recent_seconds = 0.0
        """Running estimate of how long a writing transaction takes."""
        threading.Thread(target=self._serve, name="sqlite-writer", daemon=True).start()

    @property
    def closed(self) -> bool:
        return self._closed

    def _opened(self) -> sqlite3.Connection:
        # Only the lock holder gets here (or the thread, on its behalf).
        if self._connection is None:
            self._connection = open_connection(self._connection_kwargs, self._synchronous)
        return self._connection

    def _waiting_when_busy(self) -> sqlite3.Connection:
        """The connection, set to wait out another process's write lock
        (the thread's mode; it may block, the loop does not)."""
        connection = self._opened()
        if not self._busy_waits:
            connection.execute(f"PRAGMA busy_timeout = {self._busy_milliseconds}")
            self._busy_waits = True
        return connection

    def _failing_when_busy(self) -> sqlite3.Connection:
        """The connection, set to fail at once on another process's write
        lock (the inline mode: the loop must never wait on it)."""
        connection = self._opened()
        if self._busy_waits:
            connection.execute("PRAGMA busy_timeout = 0")
            self._busy_waits = False
        return connection

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            work, future, loop = job
            try:
                outcome: tuple[bool, Any] = (True, work(self._waiting_when_busy()))
            except BaseException as error:  # handed to the awaiting task, whatever it is
                outcome = (False, error)
            with contextlib.suppress(RuntimeError):  # the loop closed while the work ran
                loop.call_soon_threadsafe(_settle, future, outcome)
        if self._connection is not None:
            self._connection.close()

    async def call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` on the writer's connection, in its thread: one hop,
        however many statements ``work`` sends. The caller holds ``lock``."""
        if self._closed:
            raise RuntimeError("the SQLite writer is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        # In the caller's context variables (``core.clock.as_of``), as if run in its task.
        context = contextvars.copy_context()

        def in_context(connection: sqlite3.Connection) -> T:
            return context.run(work, connection)

        self._jobs.put((in_context, future, loop))
        return await future

    async def transaction(self, work: Callable[[sqlite3.Connection], T], begin: str = "BEGIN IMMEDIATE") -> T:
        """Run ``work`` as one transaction (``begin`` … COMMIT, or ROLLBACK
        if it raises): in the loop's own thread when that is quick, else in
        the writer's thread, one hop. The caller holds ``lock``."""
        if self._closed:
            raise RuntimeError("the SQLite writer is closed")
        if self.recent_seconds < INLINE_BUDGET_SECONDS:
            connection = self._failing_when_busy()
            started = time.perf_counter()
            if _began_unless_busy(connection, begin):
                try:
                    return _finish_transaction(connection, work)
                finally:
                    self._note_duration(time.perf_counter() - started)

        def in_thread(connection: sqlite3.Connection) -> T:
            started = time.perf_counter()
            try:
                connection.execute(begin)
                return _finish_transaction(connection, work)
            finally:
                self._note_duration(time.perf_counter() - started)

        return await self.call(in_thread)

    def _note_duration(self, seconds: float) -> None:
        self.recent_seconds += _RECENT_WEIGHT * (seconds - self.recent_seconds)

    def close(self) -> None:
        """Stop the thread once the work already queued is done; it closes
        the connection. Safe twice, and from a weakref callback."""
        if not self._closed:
            self._closed = True
            self._jobs.put(None)


def _began_unless_busy(connection: sqlite3.Connection, begin: str) -> bool:
    """``begin`` on a connection whose busy handler fails at once: False if
    another connection holds the write lock."""
    try:
        connection.execute(begin)
    except sqlite3.OperationalError as error:
        if "locked" not in str(error) and "busy" not in str(error):
            raise
        return False
    return True


def _finish_transaction(connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """``work`` inside the transaction just begun, then COMMIT; ROLLBACK if
    anything fails, the commit included."""
    try:
        result = work(connection)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return result


_Job = tuple[Callable[[sqlite3.Connection], Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop]


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if future.cancelled():
        return
    succeeded, value = outcome
    if succeeded:
        future.set_result(value)
    else:
        future.set_exception(value)


class SqliteReaders:
    """A few threads that each keep one connection per database file."""

    def __init__(self, synchronous: str) -> None:
        self._synchronous = synchronous
        self._executor = ThreadPoolExecutor(max_workers=READER_THREADS, thread_name_prefix="sqlite-reader")
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()

    def _connection(self, connection_kwargs: Mapping[str, Any]) -> sqlite3.Connection:
        by_path: dict[str, sqlite3.Connection] | None = getattr(self._local, "by_path", None)
        if by_path is None:
            by_path = self._local.by_path = {}
        path = str(connection_kwargs["database"])
        connection = by_path.get(path)
        if connection is None:
            connection = by_path[path] = open_connection(connection_kwargs, self._synchronous)
            with self._opened_lock:
                self._opened.append(connection)
        return connection

    async def call(self, connection_kwargs: Mapping[str, Any], work: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            return work(self._connection(connection_kwargs))

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._opened_lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()


class SqliteConnections:
    """The writer of each running event loop and the shared readers, for one
    database file. A writer is closed when its loop is collected or by
    ``close``."""

    def __init__(self, connection_kwargs: Mapping[str, Any], synchronous: str) -> None:
        self.connection_kwargs = dict(connection_kwargs)
        self.synchronous = synchronous
        self._writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SqliteWriter] = weakref.WeakKeyDictionary()
        self._readers: SqliteReaders | None = None
        self._guard = threading.Lock()
        self._last: tuple[weakref.ReferenceType[asyncio.AbstractEventLoop], SqliteWriter] | None = None

    def writer(self) -> SqliteWriter:
        loop = asyncio.get_running_loop()
        # Every write asks: the last loop's writer is answered without the
        # lock or the weak mapping (a server process has one loop).
        last = self._last
        if last is not None and last[0]() is loop and not last[1].closed:
            return last[1]
        with self._guard:
            writer = self._writers.get(loop)
            if writer is None:
                writer = self._writers[loop] = SqliteWriter(self.connection_kwargs, self.synchronous)
                weakref.finalize(loop, writer.close)
            self._last = (weakref.ref(loop), writer)
            return writer

    def readers(self) -> SqliteReaders:
        with self._guard:
            if self._readers is None:
                self._readers = SqliteReaders(self.synchronous)
            return self._readers

    def close(self) -> None:
        """Close every connection (process shutdown, or a test that replaces
        the database file). The next use opens new ones."""
        with self._guard:
            writers = list(self._writers.values())
            self._writers = weakref.WeakKeyDictionary()
            self._last = None
            readers, self._readers = self._readers, None
        for writer in writers:
            writer.close()
        if readers is not None:
            readers.close()
