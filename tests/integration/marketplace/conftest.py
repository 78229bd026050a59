"""Marketplace tests: ``market``, a community with two partner shops
(every test starts from empty tables, on its loop's pool: the integration
conftest, big enough that each concurrent caller of a race has a
connection of its own)."""

from __future__ import annotations

import pytest

from tests.support.marketplace_helpers import Market, build_market


@pytest.fixture
async def market() -> Market:
    return await build_market()
