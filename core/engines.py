"""Piccolo's two engines, tuned for how Fengling uses them.

``piccolo_conf`` builds one of these; everything else reaches it through
``core.database.engine()``.

- ``FenglingSQLiteEngine`` runs every transaction on the event loop's one
  long-lived writer connection and every statement outside a transaction
  on a long-lived reader, one thread hop per statement (see
  ``core.sqlite_connections`` for why and what it costs).
- ``FenglingPostgresEngine`` opens pools whose connections are not reset on
  release. asyncpg's default reset sends ``SELECT pg_advisory_unlock_all();
  CLOSE ALL; UNLISTEN *; RESET ALL`` after every checkout (a round trip per
  transaction and per pooled read). Fengling keeps no session state: no
  session advisory locks (the sealer's lock is transaction-scoped), no
  LISTEN, no cursors held open, no ``SET`` outside ``SET LOCAL``. So a
  released connection only needs a rollback if it is somehow still inside
  a transaction.

  Its pool belongs to the event loop that started it: ``engine.pool`` is
  the running loop's pool, or ``None`` on any other loop, which then opens
  a connection per query as Piccolo does without a pool. asyncpg
  connections must never be used from a loop other than their own; a
  server has one loop, but a test process has several at once (the test's
  own and the one Litestar's test client runs the app on), and each can
  now keep a pool of its own instead of connecting for every query.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType

from core.sqlite_connections import SqliteConnections, SqliteWriter, rows_as_dicts


async def rollback_if_in_transaction(connection: asyncpg.Connection) -> None:
    """The pool's reset: what asyncpg's default does first, and nothing else."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


class FenglingPostgresEngine(PostgresEngine):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pools: dict[asyncio.AbstractEventLoop, asyncpg.Pool] = {}
        super().__init__(*args, **kwargs)

    @property
    def pool(self) -> asyncpg.Pool | None:
        """The running loop's pool (None outside a loop or on a loop without one)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return self._pools.get(loop)

    @pool.setter
    def pool(self, pool: asyncpg.Pool | None) -> None:
        """Piccolo sets the pool when it starts and clears it when it closes,
        always on the loop the pool is for (and once, to ``None``, when the
        engine is built, outside any loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if pool is not None:
                raise RuntimeError("a connection pool can only be set on a running event loop") from None
            return
        if pool is None:
            self._pools.pop(loop, None)
        else:
            self._pools[loop] = pool

    async def start_connection_pool(self, **kwargs: Any) -> None:
        kwargs.setdefault("reset", rollback_if_in_transaction)
        await super().start_connection_pool(**kwargs)


class WriterConnection:
    """What a Piccolo SQLite transaction holds as its ``connection``: the
    writer, spoken to through the one method Piccolo's transaction uses
    (``await connection.execute(sql)`` for BEGIN/COMMIT/ROLLBACK/SAVEPOINT)."""

    def __init__(self, writer: SqliteWriter) -> None:
        self.writer = writer

    async def fetch_dicts(self, query: str, args: list[Any] | tuple[Any, ...]) -> list[dict[str, Any]]:
        def work(connection: sqlite3.Connection) -> list[dict[str, Any]]:
            return rows_as_dicts(connection.execute(query, args))

        return await self.writer.call(work)

    async def execute(self, query: str, args: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return await self.fetch_dicts(query, args)

    async def close(self) -> None:
        """The writer outlives its transactions."""


class WriterTransaction(SQLiteTransaction):
    """A Piccolo transaction on the loop's writer, holding the writer's lock
    from BEGIN to COMMIT/ROLLBACK. Nested transactions join the outer one,
    as Piccolo's do."""

    __slots__ = ("_writer",)

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        engine = self.engine
        assert isinstance(engine, FenglingSQLiteEngine)
        self._writer = engine.connections.writer()
        await self._writer.lock.acquire()
        try:
            self.connection = WriterConnection(self._writer)
            await self.begin()  # type: ignore[no-untyped-call]
        except BaseException:
            self._writer.lock.release()
            raise
        self.context = engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
        finally:
            self._writer.lock.release()
            self.engine.current_transaction.reset(self.context)
        return exception is None


class FenglingSQLiteEngine(SQLiteEngine):
    __slots__ = ("connections",)

    def __init__(self, path: str, *, synchronous: str = "FULL", **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self.connections = SqliteConnections(self.connection_kwargs, synchronous)

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> SQLiteTransaction:
        return WriterTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        if isinstance(connection, WriterConnection):
            return await connection.fetch_dicts(query, args or [])
        return await super()._run_in_existing_connection(connection, query, args, query_type, table)

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        bound = args or []

        def work(connection: sqlite3.Connection) -> list[dict[str, Any]]:
            return rows_as_dicts(connection.execute(query, bound))

        return await self.connections.readers().call(self.connection_kwargs, work)

    def close_connections(self) -> None:
        self.connections.close()
