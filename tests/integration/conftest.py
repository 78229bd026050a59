"""Integration tests: real database (SQLite file or PostgreSQL, by
``FENGLING_TEST_DATABASE_URL``) and Redis (stand-in or real). The schema is
migrated once per session and every test starts from empty tables."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import database


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> None:
    asyncio.run(database.migrate_once())


@pytest.fixture(autouse=True)
async def clean_database() -> None:
    """Every test starts from empty tables (schema kept)."""
    await database.truncate_all()
