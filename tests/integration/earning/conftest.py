"""Earning tests: ``world``, a community tree with its organiser, grid
worker, building head and volunteers (every test starts from empty
tables, on its loop's pool: the integration conftest)."""

from __future__ import annotations

import pytest

from tests.support.earning_helpers import World, build_world


@pytest.fixture
async def world() -> World:
    return await build_world()
