"""Browser tests: Playwright for Python driving the system's Chromium
(Debian package ``chromium``) headless, never Playwright's own download.

The app is served by uvicorn in a background thread on a free port, against
the run's test database (SQLite by default, PostgreSQL when
``FENGLING_TEST_DATABASE_URL`` is set). Each test starts from the demo
organisation on emptied tables. Without Chromium the tests skip, naming the
package; with ``CI`` set they fail instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import fakeredis
import pytest
import uvicorn
from playwright.sync_api import ViewportSize
from redis.asyncio import Redis

from api.app import create_app
from fengling_settings import get_settings
from seeds.demo import DEMO_LOGINS
from tests.support import database
from tests.support.demo_snapshot import load_demo_quickly

CHROMIUM_PACKAGE = "chromium"
VIEWPORT: ViewportSize = {"width": 360, "height": 640}
# Where the phone says it is in the earning tests (a grid of the demo town).
HERE = {"latitude": 35.05, "longitude": 118.34, "accuracy": 12}
SERVER_START_SECONDS = 20
# The apps being served: with the embedded Redis stand-in each holds its own
# in-process server, which ``fresh_demo`` empties between tests.
_served_apps: list[Any] = []


def run_async(work: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run database set-up on a thread of its own: Playwright's sync API
    keeps an event loop running on the test's thread."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(work())
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def chromium_path() -> str | None:
    return shutil.which("chromium") or (os.path.exists("/usr/bin/chromium") and "/usr/bin/chromium") or None


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        message = f"Chromium not found: install the Debian package `{CHROMIUM_PACKAGE}` (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[object]:
    """Per module: Playwright's sync API keeps an event loop running on the
    test thread while it is open, which the async tests of other folders
    must not find there."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(*, background_jobs: bool = False) -> Iterator[str]:
    """The app on a free port, served by uvicorn in a daemon thread; its base
    URL. With ``background_jobs`` the app runs its jobs (the leaderboards'
    feed among them), as a deployment does."""
    run_async(database.migrate_once)
    port = _free_port()
    app = create_app(run_background_jobs=background_jobs)
    _served_apps.append(app)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, name="browser-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not uvicorn_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)
        _served_apps.remove(app)


@pytest.fixture(scope="session")
def server(chromium: str) -> Iterator[str]:
    with serving() as base_url:
        yield base_url


def empty_embedded_redis() -> None:
    """Empty the in-process Redis of every served app (each has a server of
    its own, ``api/redis_client.py``). Without it, counters outlive the test
    that made them: thirty logins a minute from 127.0.0.1 across the browser
    tests trip the login rate limit of the next one."""
    for app in _served_apps:
        server = app.state.redis.connection_pool.connection_kwargs["server"]
        fakeredis.FakeRedis(server=server).flushall()


async def fresh_demo() -> None:
    """Emptied tables, the demo organisation and an empty Redis: every
    counter, session and board starts from nothing, on both engines."""
    await database.truncate_all()
    await load_demo_quickly()
    settings = get_settings()
    if settings.uses_embedded_redis:
        empty_embedded_redis()
    else:
        flusher = Redis.from_url(settings.redis_url)
        await flusher.flushdb()
        await flusher.aclose()


@pytest.fixture
def demo(server: str) -> str:
    """Emptied tables and the demo organisation; the server's base URL."""
    run_async(fresh_demo)
    return server


def credentials(role: str) -> tuple[str, str]:
    login = next(login for login in DEMO_LOGINS if login.role == role)
    return login.phone, login.password


@pytest.fixture
def located_page(browser: Any, demo: str) -> Iterator[Any]:
    """A Chinese phone at 360×640 that shares its position (``HERE``): what
    the earning pages, the tasks and the volunteer journey need."""
    context = browser.new_context(
        viewport=VIEWPORT, base_url=demo, locale="zh-CN", geolocation=HERE, permissions=["geolocation"]
    )
    yield context.new_page()
    context.close()
