"""Security headers on every response the app sends, errors and 404s included.

- ``X-Content-Type-Options: nosniff``: a browser never runs an upload or a
  JSON body as script or HTML because its bytes look like one.
- ``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'``: no page of
  ours can be framed (clickjacking).
- ``Referrer-Policy: no-referrer``: ids in our URLs never leak to other sites.
- A CSP ready for the server-rendered pages to come, which load only
  vendored scripts from this origin: no inline script, no plugins, no
  ``<base>``, forms post only here, images from here or ``data:``/``blob:``
  (camera previews). The Swagger UI at ``/schema`` needs inline styles
  (it sets them as it renders) and nothing else beyond that; so does the
  operator console at ``/admin`` (piccolo_admin's front end inserts
  ``<style>`` elements), with ``data:`` fonts, and only there.
- ``Strict-Transport-Security`` when ``FENGLING_HSTS=1`` (only behind HTTPS).
- ``Cache-Control: no-store`` on everything under ``/api/v1`` and on every
  page (``web/``): the answers are a member's own data (wallet, orders,
  reports) and must not stay in a shared or browser cache. Catalog images
  and the pages' static files (``/static/``) are the exceptions: the same
  bytes for everyone, cached as their handler says.

Implemented as a ``before_send`` hook, which Litestar runs for every
``http.response.start`` it sends, whichever route, handler or error made it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from litestar.types import Message, Scope

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Swagger UI styles elements as it renders them.
SCHEMA_UI_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
# The operator console (piccolo_admin at /admin, admins only) inserts
# <style> elements as it renders, so it needs inline styles too; scripts
# stay same-origin files. Its icons and fonts may be data: URLs.
CONSOLE_OPT = "operator_console"
CONSOLE_CSP = SCHEMA_UI_CSP.replace("font-src 'self'", "font-src 'self' data:")
HSTS = "max-age=31536000; includeSubDomains"
PERSONAL_DATA_PREFIX = "/api/v1/"
SHARED_CACHEABLE_PREFIXES = ("/api/v1/catalog/images/",)
# Paths that are not pages: the API (above), the OpenAPI UI, static files.
NOT_PAGES = ("/api/", "/schema", "/static/")


def is_personal(path: str) -> bool:
    """A member's own data: the API's answers and every page."""
    if path.startswith(PERSONAL_DATA_PREFIX):
        return not path.startswith(SHARED_CACHEABLE_PREFIXES)
    return not path.startswith(NOT_PAGES)


RawHeaders = tuple[tuple[bytes, bytes], ...]


@cache
def security_headers(
    *, hsts: bool, schema_ui: bool, personal_data: bool, console: bool = False
) -> tuple[RawHeaders, frozenset[bytes]]:
    """The headers for one kind of response, as ASGI sends them, and their
    names. Built once per kind: the hook runs on every response, so it only
    filters and appends."""
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy", CONSOLE_CSP if console else SCHEMA_UI_CSP if schema_ui else CSP),
    ]
    if hsts:
        headers.append(("Strict-Transport-Security", HSTS))
    if personal_data:
        headers.append(("Cache-Control", "no-store"))
    raw = tuple((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers)
    return raw, frozenset(name for name, _ in raw)


def security_headers_hook(*, hsts: bool) -> Any:
    """The ``before_send`` hook for the app; ``hsts`` from the settings.
    Each header it sets replaces any of the same name the response had.

    Every kind of response is looked up in a table built here, keyed by a
    plain tuple, not through the keyword call into ``security_headers``'s
    cache: ~4,000 of the wallet read's ~660,000 instructions."""
    kinds = {
        (schema_ui, personal_data, console): security_headers(
            hsts=hsts, schema_ui=schema_ui, personal_data=personal_data, console=console
        )
        for schema_ui in (False, True)
        for personal_data in (False, True)
        for console in (False, True)
    }

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        path = scope.get("path", "")
        # A mount (the console) sees only the path below it: its route says what it is.
        handler = scope.get("route_handler")
        console = handler is not None and bool(handler.opt.get(CONSOLE_OPT))
        ours, names = kinds[path.startswith("/schema"), console or is_personal(path), console]
        kept = [header for header in message.get("headers", ()) if header[0].lower() not in names]
        kept += ours
        message["headers"] = kept

    return add_security_headers
