"""Community service tests: ``tree``, a small organisation tree with its
people (every test starts from empty tables, on its loop's pool: the
integration conftest)."""

from __future__ import annotations

import pytest

from tests.support.community_helpers import Tree, build_tree


@pytest.fixture
async def tree() -> Tree:
    return await build_tree()
