"""Recognition tests: ``world``, as the earning tests have it (every test
starts from empty tables, on its loop's pool: the integration conftest)."""

from __future__ import annotations

import pytest

from tests.support.earning_helpers import World, build_world


@pytest.fixture
async def world() -> World:
    return await build_world()
