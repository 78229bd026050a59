"""Every marketplace test starts from empty tables (the root conftest) and,
if it asks for ``market``, a community with two partner shops.

On PostgreSQL the async tests run on a connection pool, as the API does
(``api/app.py``): without one the test engine opens a connection per query,
and these tests run hundreds of queries each. The pool is big enough that
the concurrency tests still get one connection per concurrent call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.database import connection_pool_for
from tests.support.marketplace_helpers import Market, build_market

POOL_MAX_SIZE = 60  # > the 50 concurrent callers of the largest race


@pytest.fixture(autouse=True)
async def connection_pool(request: pytest.FixtureRequest, clean_database: None) -> AsyncIterator[None]:
    async with connection_pool_for(request, max_size=POOL_MAX_SIZE):
        yield


@pytest.fixture
async def market(connection_pool: None) -> Market:
    return await build_market()
