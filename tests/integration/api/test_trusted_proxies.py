"""``fengling serve`` believes ``X-Forwarded-For`` only from
``FENGLING_TRUSTED_PROXIES``, with either server. uvicorn's own default
believes it from 127.0.0.1, so a client on loopback (or behind a proxy that
passes the header through) could name a new address with every request and
get fresh per-address login tries. The app is wrapped exactly as each
server wraps it: uvicorn with the options ``serve`` passes
(``admin.serving.uvicorn_options``), Granian by Granian's proxy-header
wrapper as ``admin.serving.served_app`` applies it."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar
from redis.asyncio import Redis

import community.members
from admin.serving import (
    GRANIAN_TARGET,
    UVICORN_TARGET,
    HttpServer,
    believing_trusted_proxies,
    granian_options,
    server_for,
    uvicorn_options,
)
from api.app import create_app
from fengling_settings import Settings, get_settings

LOGINS_PER_MINUTE = 30  # api/rate_limits.py LOGIN_LIMIT


def _served(app: Litestar, settings: Settings, server: HttpServer) -> Any:
    """The ASGI app as ``server`` runs it under these settings."""
    if server is HttpServer.GRANIAN:
        return believing_trusted_proxies(app, settings)
    options = uvicorn_options(settings, host="127.0.0.1", port=8000, workers=1)
    config = uvicorn.Config(app, **{**options, "factory": False, "log_config": None})
    config.load()
    return config.loaded_app


async def _rotating_logins(asgi_app: Any, peer: str, count: int) -> list[int]:
    """``count`` logins from socket peer ``peer``, each claiming another address."""
    transport = httpx.ASGITransport(app=asgi_app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        statuses = []
        for n in range(count):
            response = await http.post(
                "/api/v1/auth/login",
                json={"phone": "not a phone", "password": "whatever-1"},
                headers={"X-Forwarded-For": f"203.0.113.{n % 250 + 1}"},
            )
            statuses.append(response.status_code)
        return statuses


@pytest.fixture
async def app() -> AsyncIterator[Litestar]:
    """An app driven from this test's event loop only (the shared ``client``
    fixture runs the app on a loop of its own, and Redis connections must
    not cross loops), with the rate-limit counters emptied first."""
    get_settings.cache_clear()
    if not get_settings().uses_embedded_redis:
        flusher = Redis.from_url(get_settings().redis_url)
        await flusher.flushdb()
        await flusher.aclose()
    served = create_app(run_background_jobs=False)
    yield served
    await served.state.redis.aclose()


@pytest.fixture(autouse=True)
def cheap_password_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count requests, not passwords: skip argon2's 0.1 s."""

    async def refuse(stored: str | None, password: str) -> bool:
        return False

    monkeypatch.setattr(community.members, "verify_password", refuse)


def test_by_default_no_proxy_is_trusted_not_even_loopback() -> None:
    options = uvicorn_options(get_settings(), host="127.0.0.1", port=8000, workers=1)
    assert options["proxy_headers"] is False
    assert options["forwarded_allow_ips"] == []  # not None: uvicorn would fall back to 127.0.0.1


def test_auto_serves_postgresql_with_granian_and_sqlite_with_uvicorn() -> None:
    on_postgres = dataclasses.replace(get_settings(), database_url="postgres://postgres@127.0.0.1:5432/fengling")
    on_sqlite = dataclasses.replace(get_settings(), database_url="sqlite:///var/fengling.sqlite3")
    assert server_for(HttpServer.AUTO, on_postgres) is HttpServer.GRANIAN
    assert server_for(HttpServer.AUTO, on_sqlite) is HttpServer.UVICORN
    assert server_for(HttpServer.GRANIAN, on_sqlite) is HttpServer.GRANIAN


async def test_a_served_app_freezes_what_startup_built_and_a_test_app_does_not() -> None:
    """Servers move startup's objects out of the collector's sight (a full
    collection walked ~110,000 of them per few hundred requests); a test
    process, which builds many apps, must not."""
    assert {UVICORN_TARGET, GRANIAN_TARGET} == {"admin.serving:served_api", "admin.serving:served_app"}
    assert gc.get_freeze_count() == 0
    for freeze_after_startup in (False, True):
        app = create_app(run_background_jobs=False, freeze_after_startup=freeze_after_startup)
        try:
            async with app.lifespan():
                frozen = gc.get_freeze_count()
        finally:
            gc.unfreeze()
            await app.state.redis.aclose()
        assert (frozen > 50_000) is freeze_after_startup


def test_granian_is_handed_the_access_log_setting_and_no_websockets() -> None:
    settings = dataclasses.replace(get_settings(), access_log=False)
    options = granian_options(settings, host="127.0.0.1", port=8000, workers=2)
    assert options["log_access"] is False and options["websockets"] is False and options["workers"] == 2
    assert granian_options(dataclasses.replace(settings, access_log=True), host="::", port=1, workers=1)["log_access"]
    assert uvicorn_options(settings, host="127.0.0.1", port=8000, workers=1)["access_log"] is False


@pytest.mark.parametrize("server", [HttpServer.GRANIAN, HttpServer.UVICORN])
async def test_without_trusted_proxies_a_rotating_forwarded_for_gets_no_fresh_tries(
    app: Litestar, server: HttpServer
) -> None:
    settings = dataclasses.replace(get_settings(), trusted_proxies=())
    statuses = await _rotating_logins(_served(app, settings, server), "127.0.0.1", LOGINS_PER_MINUTE + 1)
    assert statuses == [401] * LOGINS_PER_MINUTE + [429]


@pytest.mark.parametrize("server", [HttpServer.GRANIAN, HttpServer.UVICORN])
async def test_a_listed_proxy_is_believed_and_an_unlisted_peer_is_not(app: Litestar, server: HttpServer) -> None:
    settings = dataclasses.replace(get_settings(), trusted_proxies=("127.0.0.1/32", "10.0.0.0/8"))
    served = _served(app, settings, server)
    # Behind the proxy, each forwarded address is a client of its own.
    assert await _rotating_logins(served, "10.1.2.3", LOGINS_PER_MINUTE + 1) == [401] * (LOGINS_PER_MINUTE + 1)
    # A peer that is not a listed proxy is its own address, whatever it claims.
    statuses = await _rotating_logins(served, "192.0.2.7", LOGINS_PER_MINUTE + 1)
    assert statuses == [401] * LOGINS_PER_MINUTE + [429]
