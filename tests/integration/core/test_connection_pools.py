"""Connection pools on PostgreSQL belong to the event loop that opened them
(``core.engines``): code on another loop never sees them, an app started
on a loop that already has one leaves it alone, and a command runs its
queries on a pool of its own that it closes at the end."""

from __future__ import annotations

import asyncio

import pytest

from admin.terminal import run_command
from api.app import create_app
from core import database
from core.engines import FenglingPostgresEngine
from ledger.tables import LedgerAccount
from tests.support.database import on_postgres

postgres_only = pytest.mark.skipif(not on_postgres(), reason="SQLite keeps no connection pool")


def _postgres() -> FenglingPostgresEngine:
    db = database.engine()
    assert isinstance(db, FenglingPostgresEngine)
    return db


async def _running_pool() -> object | None:
    """The running loop's pool (SQLite's engine has none at all)."""
    pool: object | None = getattr(database.engine(), "pool", None)
    return pool


async def _count_accounts() -> int:
    counted: int = await LedgerAccount.count()
    return counted


@postgres_only
def test_a_pool_serves_only_the_loop_that_opened_it() -> None:
    db = _postgres()
    owner = asyncio.new_event_loop()
    try:
        owner.run_until_complete(db.start_connection_pool(min_size=1, max_size=2))
        opened = owner.run_until_complete(_running_pool())
        assert opened is not None

        async def on_another_loop() -> tuple[object | None, int]:
            return await _running_pool(), await _count_accounts()

        seen, counted = asyncio.run(on_another_loop())
        assert seen is None  # it queried on a connection of its own
        assert counted == 0
        assert db.pool is None  # outside any loop
        assert owner.run_until_complete(_running_pool()) is opened
        assert owner.run_until_complete(_count_accounts()) == 0
    finally:
        owner.run_until_complete(db.close_connection_pool())
        owner.close()
    assert asyncio.run(_running_pool()) is None


@postgres_only
def test_a_pool_cannot_be_set_outside_a_running_loop() -> None:
    db = _postgres()
    with pytest.raises(RuntimeError, match="running event loop"):
        db.pool = object()  # anything: outside a loop a pool is refused


@postgres_only
async def test_an_app_started_on_a_loop_with_a_pool_leaves_that_pool_open() -> None:
    before = _postgres().pool
    assert before is not None  # the test's own (tests/integration/conftest.py)
    app = create_app(run_background_jobs=False)
    async with app.lifespan():
        assert _postgres().pool is before
    assert _postgres().pool is before
    assert await _count_accounts() == 0


def test_a_command_queries_on_a_pool_it_closes_at_the_end() -> None:
    async def work() -> tuple[object | None, int]:
        return await _running_pool(), await _count_accounts()

    pool, counted = run_command(work())
    assert counted == 0
    if on_postgres():
        assert pool is not None
    else:
        assert pool is None
    assert asyncio.run(_running_pool()) is None
