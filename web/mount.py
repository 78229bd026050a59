"""What ``api/app.py`` mounts for the pages: the Jinja engine, the static
files router, the CSRF configuration and the page controllers.

- Templates: ``web/templates/``, Jinja through Litestar's plugin, autoescape
  on for every template (``.html`` or not).
- Static files: ``web/static/`` at ``/static/`` (vendored htmx, the style
  sheet, the pages' own scripts), no login needed, cached for a day.
- Compression: Litestar's ``CompressionConfig``, brotli (gzip where the
  browser takes no brotli) for every answer of 500 bytes or more.
- CSRF: Litestar's ``CSRFConfig`` (double-submit cookie) on every unsafe
  request outside the JSON API: each page form carries the token as a hidden
  field and htmx sends it as the ``X-CSRFToken`` header. ``/api/`` takes
  bearer tokens only (never the session cookie), so it is exempt.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from api.guards import public
from fengling_settings import Settings

WEB = Path(__file__).resolve().parent
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"
STATIC_PATH = "/static"
CSRF_COOKIE = "fengling_csrf"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "_csrf_token"
# Paths the CSRF middleware leaves alone: the bearer-token API, health, the
# OpenAPI UI and static files (none of them reads the session cookie), and
# the operator console, which keeps piccolo_admin's own CSRF check
# (``admin/console.py``).
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
    """Brotli for browsers that accept it, gzip for the rest, on pages,
    static files and API answers alike (a phone on a slow line gains most
    from the pages and htmx, about a third of their size once compressed).
    Images are already compressed and are left as they are."""
    return CompressionConfig(
        backend="brotli",
        brotli_gzip_fallback=True,
        minimum_size=COMPRESS_MIN_BYTES,
        exclude=["^/api/v1/catalog/images/", "^/api/v1/activities/photos/"],
    )
