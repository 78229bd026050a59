from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from api.app import create_app
from fengling_settings import get_settings
from seeds.demo import DEMO_LOGINS, load_demo


@pytest.fixture
def app() -> Litestar:
    get_settings.cache_clear()
    return create_app(run_background_jobs=False, connection_pool=False)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    # Rate-limit and login-failure counters live in Redis: start clean. The
    # app's own client lives on the test client's loop, so use another one.
    if not get_settings().uses_embedded_redis:
        flusher = Redis.from_url(get_settings().redis_url)
        await flusher.flushdb()
        await flusher.aclose()
    async with AsyncTestClient(app=app) as test_client:
        if get_settings().uses_embedded_redis:
            await app.state.redis.flushdb()
        yield test_client


@pytest.fixture
async def demo() -> None:
    await load_demo()


def credentials(role: str) -> tuple[str, str]:
    login = next(login for login in DEMO_LOGINS if login.role == role)
    return login.phone, login.password


async def login_headers(client: AsyncTestClient[Litestar], role: str) -> dict[str, str]:
    phone, password = credentials(role)
    response = await client.post("/api/v1/auth/login", json={"phone": phone, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
