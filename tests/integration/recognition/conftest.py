"""Recognition tests run, on PostgreSQL, on a connection pool as the API
does: the badge race needs real concurrent connections."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.database import connection_pool_for
from tests.support.earning_helpers import World, build_world

POOL_MAX_SIZE = 25  # > 10 concurrent verifications, each followed by its badge transaction


@pytest.fixture(autouse=True)
async def connection_pool(request: pytest.FixtureRequest, clean_database: None) -> AsyncIterator[None]:
    async with connection_pool_for(request, max_size=POOL_MAX_SIZE):
        yield


@pytest.fixture
async def world(connection_pool: None) -> World:
    return await build_world()
