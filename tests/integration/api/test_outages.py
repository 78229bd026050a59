"""A dependency that is down is a 503 problem with Retry-After, never a 500.

Redis is a real ``redis-server`` started and stopped inside the test (the
in-process stand-in cannot go down). The database outage is real too: every
table is pointed at a PostgreSQL port nobody listens on, or at an SQLite
file in a folder that does not exist, whichever engine the suite runs on.
``/health`` then names the dependency, never an exception class.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis import Redis as SyncRedis

from api.app import create_app
from fengling_settings import get_settings
from tests.integration.api.conftest import credentials, login_headers
from tests.support.marketplace_helpers import assert_same, snapshot_everything
from tests.support.outages import DATABASE_OUTAGES, free_port, take_database_down


class RedisServer:
    """A throwaway ``redis-server`` on a free port, without persistence."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(  # noqa: S603 (our own fixed arguments)
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                SyncRedis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server binary (Debian/Ubuntu package: redis-server)")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def outage_client(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app on the throwaway Redis (and the suite's database)."""
    monkeypatch.setenv("FENGLING_REDIS_URL", redis_server.url)
    get_settings.cache_clear()
    app = create_app(run_background_jobs=False)
    try:
        async with AsyncTestClient(app=app) as client:
            yield client
    finally:
        get_settings.cache_clear()


def _assert_unavailable(response: Any, dependency: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["code"] == f"{dependency}_unavailable"
    assert "Error" not in body["detail"]  # no exception class names


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_redis_down_is_a_503_at_login_accept_and_pickup(
    outage_client: AsyncTestClient[Litestar],
    redis_server: RedisServer,
    demo: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Login, invitation acceptance and pickups all count in Redis: with it
    stopped each answers 503 + Retry-After, writes nothing and logs no
    traceback; /health says which dependency is down."""
    client = outage_client
    staff = await login_headers(client, "shop_staff")
    phone, password = credentials("volunteer")
    redis_server.stop()
    before = await snapshot_everything()
    with caplog.at_level(logging.WARNING):
        _assert_unavailable(
            await client.post("/api/v1/auth/login", json={"phone": phone, "password": password}), "redis"
        )
        _assert_unavailable(
            await client.post(
                "/api/v1/auth/invitations/accept",
                json={"phone": phone, "code": "ABCD-EFGH", "password": "long-enough-1"},
            ),
            "redis",
        )
        _assert_unavailable(
            await client.post("/api/v1/shops/1/pickups", json={"code": "ABCD-EFGH"}, headers=staff), "redis"
        )
        health = await client.get("/health")
    assert health.status_code == 503
    assert health.json() == {"status": "degraded", "database": "ok", "redis": "unavailable"}
    assert int(health.headers["retry-after"]) > 0
    _no_tracebacks(caplog)
    assert_same(before, await snapshot_everything())


async def test_a_restarted_redis_is_used_again_without_an_error(
    outage_client: AsyncTestClient[Litestar], redis_server: RedisServer, demo: None
) -> None:
    """Restarting Redis leaves the pooled connections stale; the first
    request after the restart is retried once on a fresh connection and
    succeeds, and so do the ones after it."""
    client = outage_client
    phone, password = credentials("volunteer")
    login = {"phone": phone, "password": password}
    assert (await client.post("/api/v1/auth/login", json=login)).status_code == 200
    redis_server.stop()
    redis_server.start()
    for _ in range(3):
        response = await client.post("/api/v1/auth/login", json=login)
        assert response.status_code == 200, response.text
    assert (await client.get("/health")).json()["redis"] == "ok"


@pytest.mark.parametrize("kind", DATABASE_OUTAGES)
async def test_database_down_is_a_503_everywhere(
    client: AsyncTestClient[Litestar],
    demo: None,
    kind: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Anonymous login, an authenticated read (the token is checked against
    the database first) and a write all answer 503 + Retry-After without a
    traceback; /health names the database."""
    headers = await login_headers(client, "volunteer")
    phone, password = credentials("volunteer")
    take_database_down(kind, monkeypatch, tmp_path)
    with caplog.at_level(logging.WARNING):
        _assert_unavailable(
            await client.post("/api/v1/auth/login", json={"phone": phone, "password": password}), "database"
        )
        _assert_unavailable(await client.get("/api/v1/me/wallet", headers=headers), "database")
        _assert_unavailable(await client.get("/api/v1/me", headers=headers), "database")
        _assert_unavailable(
            await client.post(
                "/api/v1/activities/service",
                json={
                    "title": "扫雪",
                    "started_at": "2026-11-20T09:00:00+08:00",
                    "ended_at": "2026-11-20T10:00:00+08:00",
                },
                headers=headers,
            ),
            "database",
        )
        health = await client.get("/health")
    assert health.status_code == 503
    assert health.json() == {"status": "degraded", "database": "unavailable", "redis": "ok"}
    _no_tracebacks(caplog)
