"""Earning tests start from empty tables and, on PostgreSQL, run on a
connection pool as the API does (see tests/integration/marketplace/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.database import connection_pool_for
from tests.support.earning_helpers import World, build_world

POOL_MAX_SIZE = 20  # > the 10 concurrent verifiers of the race test


@pytest.fixture(autouse=True)
async def connection_pool(request: pytest.FixtureRequest, clean_database: None) -> AsyncIterator[None]:
    async with connection_pool_for(request, max_size=POOL_MAX_SIZE):
        yield


@pytest.fixture
async def world(connection_pool: None) -> World:
    return await build_world()
