"""Integration tests: real database (SQLite file or PostgreSQL, by
``FENGLING_TEST_DATABASE_URL``) and Redis (stand-in or real). The schema is
migrated once per session and every test starts from empty tables.

On PostgreSQL an async test's queries share a connection pool on the
test's loop, as a server's do (``core.database.pooled_connections``):
without one, every query opened a connection of its own (~8 ms), and these
tests make hundreds. An app under a test client keeps its own pool on its
own loop (``api/app.py``). Synchronous tests (hypothesis machines, CLI
runners) run loops of their own and pool there where it matters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.support import database

TEST_POOL_MAX_SIZE = 60
"""More than the widest race (50 concurrent callers,
``tests/integration/ledger/test_concurrency.py``), so every concurrent
caller still holds a connection of its own: a pool only opens what is used."""


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> None:
    asyncio.run(database.migrate_once())


@pytest.fixture(autouse=True)
async def clean_database(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test starts from empty tables (schema kept), an async one on
    its loop's pool."""
    async with database.connection_pool_for(request, max_size=TEST_POOL_MAX_SIZE):
        await database.truncate_all()
        yield
