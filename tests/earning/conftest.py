"""Earning tests start from empty tables and, on PostgreSQL, run on a
connection pool as the API does (see tests/marketplace/conftest.py)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator

import pytest

from ledger.transactions import engine
from tests.support.database import on_postgres
from tests.support.earning_helpers import World, build_world

POOL_MAX_SIZE = 20  # > the 10 concurrent verifiers of the race test


@pytest.fixture(autouse=True)
async def connection_pool(request: pytest.FixtureRequest, clean_database: None) -> AsyncIterator[None]:
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
async def world(connection_pool: None) -> World:
    return await build_world()
