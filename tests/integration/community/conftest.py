"""Community service tests: every test starts from empty tables (the root
conftest). On PostgreSQL the async tests run on a small connection pool, as
the API does; without one the test engine opens a connection per query."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.community_helpers import Tree, build_tree
from tests.support.database import connection_pool_for

POOL_MAX_SIZE = 10


@pytest.fixture(autouse=True)
async def connection_pool(request: pytest.FixtureRequest, clean_database: None) -> AsyncIterator[None]:
    async with connection_pool_for(request, max_size=POOL_MAX_SIZE):
        yield


@pytest.fixture
async def tree(connection_pool: None) -> Tree:
    return await build_tree()
