"""Pure tests: no database, no Redis. The root conftest's autouse fixtures
migrate and empty the database for every test; these override them with
no-ops, so this folder runs in well under a second."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> None:
    """No schema needed here."""


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """No tables to empty here."""
