from __future__ import annotations

import functools
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from api.app import create_app
from fengling_settings import Settings, get_settings
from seeds.demo import DEMO_LOGINS
from tests.support.demo_snapshot import load_demo_quickly


@pytest.fixture
def app() -> Litestar:
    """The app for the current environment's settings. Tests that change an
    environment variable (``monkeypatch.setenv``) before asking for it get
    an app built for those settings."""
    get_settings.cache_clear()
    return _app_for(get_settings())


@functools.cache
def _app_for(settings: Settings) -> Litestar:
    """One app per distinct settings, built once per run.

    Building the app costs ~0.2 s (Litestar reads every handler's
    signature), paid by ~200 tests. Reusing it is safe: everything a test
    can change lives outside the app object. Tables are emptied before each
    test; Redis (rate limits, login counters, the pickup throttle) is
    flushed by ``client``; each ``AsyncTestClient`` runs the lifespan anew,
    which closes the Redis client at its end (redis-py reconnects on the
    next command, on the next test's loop). Tests that need an app of
    their own (other settings objects, connection pools) still call
    ``create_app`` themselves."""
    return create_app(run_background_jobs=False)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    # Rate-limit and login-failure counters live in Redis: start clean. The
    # app's own client lives on the test client's loop, so use another one.
    if not get_settings().uses_embedded_redis:
        flusher = Redis.from_url(get_settings().redis_url)
        await flusher.flushdb()
        await flusher.aclose()
    # The app pools its connections on the client's own loop; the test's
    # queries use the pool of the test's loop (tests/integration/conftest.py).
    async with AsyncTestClient(app=app) as test_client:
        if get_settings().uses_embedded_redis:
            await app.state.redis.flushdb()
        yield test_client


@pytest.fixture
async def demo() -> None:
    """The demo organisation (``tests/support/demo_snapshot.py``: loaded for
    real once, copied back after that), on connections closed again before
    the test's requests (which run on the app's own loop)."""
    await load_demo_quickly()


def credentials(role: str) -> tuple[str, str]:
    login = next(login for login in DEMO_LOGINS if login.role == role)
    return login.phone, login.password


async def login_headers(client: AsyncTestClient[Litestar], role: str) -> dict[str, str]:
    phone, password = credentials(role)
    response = await client.post("/api/v1/auth/login", json={"phone": phone, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
