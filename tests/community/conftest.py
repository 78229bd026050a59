"""Community service tests: every test starts from empty tables (the root
conftest). On PostgreSQL the async tests run on a small connection pool, as
the API does; without one the test engine opens a connection per query."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator

import pytest

from ledger.transactions import engine
from tests.support.community_helpers import Tree, build_tree
from tests.support.database import on_postgres

POOL_MAX_SIZE = 10


@pytest.fixture(autouse=True)
async def connection_pool(request: pytest.FixtureRequest, clean_database: None) -> AsyncIterator[None]:
    # Synchronous tests (the CLI runner) run their own event loops.
    if not on_postgres() or not inspect.iscoroutinefunction(request.function):
        yield
        return
    db = engine()
    await db.start_connection_pool(min_size=1, max_size=POOL_MAX_SIZE)
    try:
        yield
    finally:
        await db.close_connection_pool()


@pytest.fixture
async def tree(connection_pool: None) -> Tree:
    return await build_tree()
