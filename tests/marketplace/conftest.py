"""Every marketplace test starts from empty tables (the root conftest) and,
if it asks for ``market``, a community with two partner shops."""

from __future__ import annotations

import pytest

from tests.support.marketplace_helpers import Market, build_market


@pytest.fixture
async def market() -> Market:
    return await build_market()
