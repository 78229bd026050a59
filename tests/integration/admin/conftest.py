"""The operator console's tests: the API tests' app and client, not
following redirects (the redirect to login is part of what is tested)."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.conftest import app, demo
from tests.integration.api.conftest import client as api_client

__all__ = ["api_client", "app", "demo"]


@pytest.fixture
def client(api_client: AsyncTestClient[Litestar]) -> AsyncTestClient[Litestar]:
    api_client.follow_redirects = False
    return api_client
