"""Every response carries the security headers; personal data is no-store.

Before, no response had any of them (the review's "no nosniff", "no security
headers, and /me is not no-store").
"""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from fengling_settings import get_settings
from tests.integration.api.conftest import login_headers


def _assert_security_headers(response: object, path: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["x-content-type-options"] == "nosniff", path
    assert headers["x-frame-options"] == "DENY", path
    assert headers["referrer-policy"] in ("no-referrer", "strict-origin-when-cross-origin"), path
    directives = [part.strip().partition(" ") for part in headers["content-security-policy"].split(";")]
    policy = {name: value for name, _, value in directives}
    assert policy["default-src"] == "'self'", path
    assert policy["frame-ancestors"] == "'none'", path
    assert policy["object-src"] == "'none'", path
    assert policy["base-uri"] == "'none'", path
    assert policy["form-action"] == "'self'", path
    assert policy["img-src"] == "'self' data: blob:", path
    # Scripts only from this origin, never inline or eval'd, on every page.
    assert policy["script-src"] == "'self'", path


async def test_every_kind_of_response_has_the_security_headers(client: AsyncTestClient[Litestar], demo: None) -> None:
    """JSON, errors (401, 404, 422), the probe, the OpenAPI document and UI,
    its assets, and an image: each carries nosniff, no framing, no referrer
    and the CSP."""
    volunteer = await login_headers(client, "volunteer")
    cases = [
        ("/health", {}),
        ("/api/v1/me", volunteer),
        ("/api/v1/me", {}),
        ("/api/v1/no-such-route", {}),
        ("/api/v1/members/0", volunteer),
        ("/schema", {}),
        ("/schema/openapi.json", {}),
        ("/schema/assets/swagger-ui-bundle.js", {}),
    ]
    for path, headers in cases:
        response = await client.get(path, headers=headers)
        _assert_security_headers(response, path)
    login = await client.post("/api/v1/auth/login", json={"phone": "1", "password": "x"})
    _assert_security_headers(login, "/api/v1/auth/login")


async def test_the_schema_ui_loads_only_local_assets_and_no_inline_script(client: AsyncTestClient[Litestar]) -> None:
    """The OpenAPI UI works under its CSP: every script and stylesheet it
    names is served here (no CDN), and it has no inline script."""
    page = (await client.get("/schema")).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources, page
    for source in sources:
        assert source.startswith("/"), f"{source} is not local"
        response = await client.get(source)
        assert response.status_code == 200, source
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None, "inline script"
    start = (await client.get("/schema/ui-start.js")).text
    assert "/schema/openapi.json" in start


async def test_personal_data_is_never_stored_by_caches(client: AsyncTestClient[Litestar], demo: None) -> None:
    """/me, the wallet, the statement, activities, orders and a refusal are
    all ``Cache-Control: no-store``."""
    volunteer = await login_headers(client, "volunteer")
    for path in (
        "/api/v1/me",
        "/api/v1/me/wallet",
        "/api/v1/me/wallet/statement",
        "/api/v1/activities",
        "/api/v1/orders",
    ):
        response = await client.get(path, headers=volunteer)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["cache-control"] == "no-store", path
    refused = await client.get("/api/v1/me")
    assert refused.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("hsts", [True, False])
async def test_hsts_only_when_configured(monkeypatch: pytest.MonkeyPatch, hsts: bool) -> None:
    monkeypatch.setenv("FENGLING_HSTS", "1" if hsts else "0")
    get_settings.cache_clear()
    try:
        app = create_app(run_background_jobs=False)
        async with AsyncTestClient(app=app) as client:
            response = await client.get("/health")
    finally:
        get_settings.cache_clear()
    if hsts:
        assert response.headers["strict-transport-security"].startswith("max-age=")
    else:
        assert "strict-transport-security" not in response.headers
