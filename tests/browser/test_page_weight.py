"""The home page's first load stays light (issue #13: at most 100 KB
transferred, compressed, fonts and photos excluded; system fonts only).
Measured as Chromium counts it: every response's headers and body as they
came over the wire (``request.sizes()``), so compression counts; the page
and its scripts must arrive compressed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from api.community.auth import SESSION_COOKIE
from tests.browser.conftest import VIEWPORT
from tests.browser.test_pages_in_browser import log_in

BUDGET_BYTES = 100 * 1024


@pytest.fixture
def page(browser: Any, demo: str) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, base_url=demo, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_the_home_pages_first_load_is_within_100_kb_and_loads_no_font(page: Any, browser: Any, demo: str) -> None:
    log_in(page)
    session = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    cold = browser.new_context(viewport=VIEWPORT, base_url=demo)  # an empty cache
    try:
        cold.add_cookies([session])
        fresh = cold.new_page()
        loaded: list[Loaded] = []
        fresh.on("requestfinished", lambda request: loaded.append(_loaded(request)))
        fresh.goto("/", wait_until="networkidle")
        total = sum(item.transferred for item in loaded)
        htmx = next(item for item in loaded if item.url.endswith("/static/vendor/htmx.min.js"))
        page = next(item for item in loaded if item.kind == "document")
        for item in (htmx, page):
            assert item.encoding in ("br", "gzip"), item
            assert item.transferred < item.body_bytes, item
        assert [item.url for item in loaded if item.kind == "font"] == []
        assert total <= BUDGET_BYTES, loaded
    finally:
        cold.close()


@dataclass(frozen=True)
class Loaded:
    url: str
    kind: str
    encoding: str | None
    transferred: int  # headers and body as sent, compressed
    body_bytes: int  # the body once decoded


def _loaded(request: Any) -> Loaded:
    response = request.response()
    sizes = request.sizes()
    body = response.body() if response is not None else b""
    encoding = response.headers.get("content-encoding") if response is not None else None
    return Loaded(
        url=request.url,
        kind=request.resource_type,
        encoding=encoding,
        transferred=int(sizes["responseBodySize"]) + int(sizes["responseHeadersSize"]),
        body_bytes=len(body),
    )


def test_later_loads_take_the_shell_from_the_service_workers_cache(page: Any) -> None:
    """After the first visit, the shell's static files (styles, scripts,
    htmx) come from the service worker's cache, not over the network: on a
    bad signal only the page itself is fetched."""
    log_in(page)
    page.goto("/", wait_until="networkidle")
    wait_for_the_service_worker_to_take_control(page)
    shell: list[Any] = []
    page.on("response", lambda response: shell.append(response) if "/static/" in response.url else None)
    page.context.set_offline(True)  # nothing can come over the network: only the cache can answer
    try:
        page.reload(wait_until="load")
    finally:
        page.context.set_offline(False)
    assert shell, "the page loaded no static file"
    assert [(r.url, r.status, r.from_service_worker) for r in shell if not (r.ok and r.from_service_worker)] == []


def wait_for_the_service_worker_to_take_control(page: Any, *, within_seconds: float = 15.0) -> None:
    """Polled from Python: ``page.wait_for_function`` polls inside the page
    by evaluating its text, which the page's CSP (no ``unsafe-eval``)
    refuses once the first check fails (seen on a slow machine, where the
    worker took control late). ``page.evaluate`` is not subject to the
    page's CSP."""
    deadline = time.monotonic() + within_seconds
    while not page.evaluate("navigator.serviceWorker !== undefined && navigator.serviceWorker.controller !== null"):
        if time.monotonic() > deadline:
            raise AssertionError(f"the service worker did not take control of the page within {within_seconds} s")
        page.wait_for_timeout(100)
