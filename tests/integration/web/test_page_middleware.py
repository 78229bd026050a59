"""The pages' middleware (``web/mount.py``): compression and CSRF run around
every page-side route, and around no route of the JSON API, which takes
bearer tokens only and pays for neither on its busiest reads (issue #10)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.routes import ASGIRoute, HTTPRoute
from litestar.testing import AsyncTestClient

from tests.integration.api.conftest import login_headers
from tests.integration.web.test_pages import log_in_page

Client = AsyncTestClient[Litestar]
PAGE_MIDDLEWARE: set[type] = {CSRFMiddleware, CompressionMiddleware}
# Outside the API yet not a page: the health probe (no cookie, no body worth compressing).
NEITHER_API_NOR_PAGE = ("/health",)


def _handlers(app: Litestar) -> Iterator[tuple[str, BaseRouteHandler]]:
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                yield route.path, handler
        elif isinstance(route, ASGIRoute):
            yield route.path, route.route_handler


def _page_middleware_of(handler: BaseRouteHandler) -> set[type]:
    """The pages' middleware classes in the handler's stack (a ``DefineMiddleware`` names its class)."""
    classes = {m.middleware if isinstance(m, DefineMiddleware) else m for m in handler.resolve_middleware()}
    return {c for c in PAGE_MIDDLEWARE if c in classes}


def test_every_page_side_route_has_csrf_and_compression_and_no_api_route_has_either(app: Litestar) -> None:
    api_with, pages_without, pages = [], [], 0
    for path, handler in _handlers(app):
        found = _page_middleware_of(handler)
        if path.startswith("/api/") or path in NEITHER_API_NOR_PAGE:
            if found:
                api_with.append(f"{path} {sorted(m.__name__ for m in found)}")
        elif found != PAGE_MIDDLEWARE:
            pages_without.append(path)
        else:
            pages += 1
    assert api_with == []
    assert pages_without == []
    assert pages > 50  # the pages, static files, the OpenAPI schema and UI, the console


@pytest.mark.usefixtures("demo")
async def test_api_answers_are_not_compressed_and_pages_still_are(client: Client) -> None:
    headers = {**await login_headers(client, "volunteer"), "Accept-Encoding": "br, gzip"}
    wallet = await client.get("/api/v1/me/wallet", headers=headers)
    assert wallet.status_code == 200
    assert "content-encoding" not in wallet.headers
    assert wallet.headers["cache-control"] == "no-store"  # the API keeps its own security headers
    assert wallet.json()["has_wallet"] is True
    style = await client.get("/static/pages.css", headers={"Accept-Encoding": "br, gzip"})
    assert style.headers.get("content-encoding") == "br"


@pytest.mark.usefixtures("demo")
async def test_an_api_post_needs_no_csrf_token_and_a_page_post_still_does(client: Client) -> None:
    await log_in_page(client)
    refused = await client.post("/me/preferences", data={"preferred_language": "en"})
    assert refused.status_code == 403
    headers = await login_headers(client, "volunteer")
    logout = await client.post("/api/v1/auth/logout", headers=headers)
    assert logout.status_code == 204, logout.text
