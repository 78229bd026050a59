"""Every marketplace test starts from empty tables (the root conftest) and,
if it asks for ``market``, a community with two partner shops.

On PostgreSQL the async tests run on a connection pool, as the API does
(``api/app.py``): without one the test engine opens a connection per query,
and these tests run hundreds of queries each. The pool is big enough that
the concurrency tests still get one connection per concurrent call.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator

import pytest

from ledger.transactions import engine
from tests.support.database import on_postgres
from tests.support.marketplace_helpers import Market, build_market

POOL_MAX_SIZE = 60  # > the 50 concurrent callers of the largest race


@pytest.fixture(autouse=True)
async def connection_pool(request: pytest.FixtureRequest, clean_database: None) -> AsyncIterator[None]:
    # Synchronous tests (hypothesis) run their own event loops and pools.
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
async def market(connection_pool: None) -> Market:
    return await build_market()
