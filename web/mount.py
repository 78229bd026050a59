"""What ``api/app.py`` mounts for the pages: the Jinja engine, the static
files router, and the router that carries the pages' middleware
(compression and CSRF) around every page-side route.

- Templates: ``web/templates/``, Jinja through Litestar's plugin, autoescape
  on for every template (``.html`` or not).
- Static files: ``web/static/`` at ``/static/`` (vendored htmx, the style
  sheet, the pages' own scripts), no login needed, cached for a day.
- Compression: Litestar's ``CompressionMiddleware``, brotli (gzip where the
  browser takes no brotli) for every answer of 500 bytes or more.
- CSRF: Litestar's ``CSRFMiddleware`` (double-submit cookie) on every unsafe
  request to a page: each page form carries the token as a hidden field and
  htmx sends it as the ``X-CSRFToken`` header.

Both run on the page side only (``pages_router``): the pages, their static
files and service worker, the OpenAPI UI and the operator console. The JSON
API (``/api/``) and ``/health`` are outside that router and pass through
neither: the API takes bearer tokens only (never the session cookie), so
CSRF has nothing to check there, and compressing its small JSON answers
cost more CPU than it saves on the wire. As app-wide configs they ran on
every API request too: ~13 µs of CPU per wallet read to pass them, and
~100 µs more to brotli the wallet's JSON for a client that accepts it
(``bench/RESULTS.md``, issue #10). ``tests/integration/web/test_page_middleware.py``
checks that every route outside the API has both and no API route has either.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from api.guards import public
from fengling_settings import Settings

WEB = Path(__file__).resolve().parent
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"
STATIC_PATH = "/static"
CSRF_COOKIE = "fengling_csrf"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "_csrf_token"
# Paths under ``pages_router`` the CSRF middleware leaves alone: the OpenAPI
# UI and static files (neither reads the session cookie), and the operator
# console, which keeps piccolo_admin's own CSRF check (``admin/console.py``).
# The bearer-token API and health are not under that router at all; they
# are named here too so that one put there by mistake stays exempt.
CSRF_EXEMPT = ["^/api/", "^/health$", "^/schema", f"^{STATIC_PATH}/", "^/admin(/|$)"]
STATIC_MAX_AGE_SECONDS = 24 * 60 * 60
# Smaller bodies gain less from compression than its headers cost.
COMPRESS_MIN_BYTES = 500


def template_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(template_environment()))


def static_files_router() -> Router:
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC],
        guards=[public],
        opt={"exclude_from_auth": True},
        cache_control=CacheControlHeader(max_age=STATIC_MAX_AGE_SECONDS),
        include_in_schema=False,
    )


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        cookie_secure=settings.cookie_secure,
        cookie_httponly=True,
        cookie_samesite="lax",
        header_name=CSRF_HEADER,
        exclude=CSRF_EXEMPT,
    )


def compression_config() -> CompressionConfig:
    """Brotli for browsers that accept it, gzip for the rest, on pages and
    static files (a phone on a slow line gains most from the pages and
    htmx, about a third of their size once compressed)."""
    return CompressionConfig(backend="brotli", brotli_gzip_fallback=True, minimum_size=COMPRESS_MIN_BYTES)


def page_middleware(settings: Settings) -> list[DefineMiddleware]:
    """Compression around CSRF, in the order the app-wide configs ran them."""
    compression = compression_config()
    return [
        DefineMiddleware(compression.middleware_class, config=compression),
        DefineMiddleware(CSRFMiddleware, config=csrf_config(settings)),
    ]


def pages_router(settings: Settings, route_handlers: Sequence[ControllerRouterHandler]) -> Router:
    """Every page-side route (pages, static files, the OpenAPI UI, the
    console) under one router at ``/`` carrying ``page_middleware``; their
    paths are unchanged."""
    return Router(path="/", route_handlers=list(route_handlers), middleware=page_middleware(settings))
