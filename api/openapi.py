"""The OpenAPI document tells the truth, and its UI is served from here.

Litestar documents every error as its own ``application/json`` validation
body; ours are ``application/problem+json`` (``api/errors.py``). Once, when
the document is first served, ``describe_errors`` replaces them, per
operation:

- ``400`` malformed body (operations with a body), ``422`` invalid input,
  ``401``/``403`` on operations that need a login (``security: []`` on the
  public ones), ``404`` where the path names an object, ``429`` where a
  rate limit applies, ``503`` (with ``Retry-After``) everywhere, and ``4XX``
  for the domain's other refusals (409 conflicts, 413 too large…), all with
  the ``Problem`` schema;
- binary answers (photos, QR codes, CSV) with their real media types;
- ``maxLength`` that Litestar puts on an array body becomes ``maxItems``.

The UI at ``/schema`` is Swagger UI from the ``swagger-ui-bundle-v2``
package, served locally under ``/schema/assets`` with an external start-up
script, so the page needs no CDN and no inline script (see
``api/security_headers.py`` for its CSP).
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, MediaType, Request, Response
from litestar.handlers import HTTPRouteHandler
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitMiddleware
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from api.errors import PROBLEM_JSON
from api.guards import public
from api.routing import get

SCHEMA_PATH = "/schema"
ASSETS_PATH = f"{SCHEMA_PATH}/assets"
UI_START_PATH = f"{SCHEMA_PATH}/ui-start.js"

_STRING = {"type": "string"}

PROBLEM: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details, as every 4xx and 5xx of this API is sent.",
    "required": ["type", "title", "status", "detail", "code", "instance"],
    "properties": {
        "type": {"type": "string", "description": "urn:fengling:problem:<code>"},
        "title": {"type": "string", "description": "Chinese, or English with Accept-Language: en"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable, for programs"},
        "instance": {"type": "string", "description": "the request path"},
        "field": {"type": "string", "description": "the field at fault"},
        "tries_left": {
            "type": "integer",
            "minimum": 0,
            "description": "wrong pickup codes this counter may still type before it is slowed down",
        },
        "locked_for": {
            "type": "integer",
            "minimum": 0,
            "description": "seconds the counter stays slowed (one code looked up at a time); right codes still work",
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": _STRING, "message": _STRING},
            },
        },
    },
}

_RETRY_AFTER = {"description": "seconds to wait before retrying", "schema": {"type": "integer", "minimum": 1}}

# Answers that are not JSON, by operation: what the handler really sends.
_BINARY_SUCCESS: dict[str, list[str]] = {
    "getCatalogImage": ["image/png", "image/jpeg", "image/webp"],
    "getReportPhoto": ["image/png", "image/jpeg", "image/webp"],
    "getPickupQr": ["image/svg+xml", "image/png"],
    "getShopStatement": ["application/json", "text/csv"],
}
# The probe answers 503 with its own body, not a problem.
_OWN_503 = {"health"}
_METHODS = ("get", "put", "post", "patch", "delete")


def _problem_response(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if retry_after:
        response["headers"] = {"Retry-After": _RETRY_AFTER}
    return response


def _handlers_by_operation(app: Litestar) -> dict[str, HTTPRouteHandler]:
    found: dict[str, HTTPRouteHandler] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if isinstance(handler.operation_id, str):
                    found[handler.operation_id] = handler
    return found


def _rate_limited(handler: HTTPRouteHandler) -> bool:
    return any(
        isinstance(layer, DefineMiddleware) and layer.middleware is RateLimitMiddleware
        for layer in handler.resolve_middleware()
    )


def _array_lengths_to_items(schema: Any) -> None:
    """Litestar writes ``Body(max_length=…)`` on a list as ``maxLength``,
    which JSON Schema defines for strings only."""
    if isinstance(schema, dict):
        if schema.get("type") == "array":
            for length, items in (("maxLength", "maxItems"), ("minLength", "minItems")):
                if length in schema:
                    schema[items] = schema.pop(length)
        for child in schema.values():
            _array_lengths_to_items(child)
    elif isinstance(schema, list):
        for child in schema:
            _array_lengths_to_items(child)


def _describe_operation(operation: dict[str, Any], handler: HTTPRouteHandler | None, path: str) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    operation_id = operation.get("operationId", "")
    has_body = "requestBody" in operation
    is_public = handler is not None and public in (handler.guards or [])
    media_types = _BINARY_SUCCESS.get(operation_id, [])
    for code, response in responses.items():
        if media_types and code.startswith("2"):
            response["content"] = {
                media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in media_types
            }
    _array_lengths_to_items(operation.get("requestBody"))
    responses.pop("400", None)  # Litestar's own application/json validation body
    if has_body:
        responses["400"] = _problem_response("The body is not JSON, or nested too deeply (malformed_json)")
    if is_public:
        operation["security"] = []
    else:
        responses["401"] = _problem_response("Not logged in, or the login is no longer valid")
        responses["403"] = _problem_response("Logged in, but not allowed to do this")
    if "{" in path:
        responses["404"] = _problem_response("No such object, or none that you may see")
    if has_body or operation.get("parameters"):
        responses["422"] = _problem_response("Invalid input; `field` and `errors` name what is wrong")
    if handler is not None and _rate_limited(handler):
        responses["429"] = _problem_response("Too many attempts; retry after Retry-After", retry_after=True)
    if operation_id in _OWN_503:
        healthy = responses.get("200", {})
        responses["503"] = {
            "description": "A dependency is unavailable: its field says which",
            "content": healthy.get("content", {}),
            "headers": {"Retry-After": _RETRY_AFTER},
        }
    else:
        responses["503"] = _problem_response(
            "The database, Redis or storage is unavailable; nothing was changed", retry_after=True
        )
    responses["4XX"] = _problem_response("Any other refusal: conflict (409), too large (413), wrong type (415)…")


def describe_errors(document: dict[str, Any], app: Litestar) -> None:
    """Rewrite the served ``document`` in place as described in the module
    docstring (idempotent: a second call changes nothing)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    if "Problem" in schemas:
        return
    schemas["Problem"] = PROBLEM
    handlers = _handlers_by_operation(app)
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                _describe_operation(operation, handlers.get(operation.get("operationId", "")), path)


class DescribedJsonRenderPlugin(JsonRenderPlugin):
    """``/schema/openapi.json``: Litestar's document with ``describe_errors``
    applied, once, when it is first served (building costs ~0.3 s, so not
    at every app start; Litestar keeps the dict, so the rewrite stays)."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        describe_errors(openapi_schema, request.app)
        return self.render_json(request, openapi_schema)


class LocalSwaggerUI(OpenAPIRenderPlugin):
    """Swagger UI at ``/schema`` from local assets, started by an external
    script (no inline script, so the page works under a strict CSP)."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"], media_type=MediaType.HTML)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = openapi_schema.get("info", {}).get("title", "API")
        return f"""<!DOCTYPE html>
<html lang="zh">
  <head>
    <meta charset="utf-8">
    <title>{title}</title>
    <link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
    <link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
    <script src="{ASSETS_PATH}/swagger-ui-standalone-preset.js"></script>
    <script src="{UI_START_PATH}"></script>
  </body>
</html>""".encode()


_UI_START = f"""window.addEventListener("load", function () {{
  window.ui = SwaggerUIBundle({{
    url: "{SCHEMA_PATH}/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout",
  }});
}});
"""


@get(UI_START_PATH, guards=[public], include_in_schema=False, exclude_from_auth=True, media_type="text/javascript")
async def ui_start() -> Response[str]:
    return Response(_UI_START, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})


def render_plugins() -> list[OpenAPIRenderPlugin]:
    return [LocalSwaggerUI(), DescribedJsonRenderPlugin()]


def ui_route_handlers() -> list[Any]:
    return [
        ui_start,
        create_static_files_router(
            path=ASSETS_PATH,
            directories=[str(swagger_ui_path)],
            guards=[public],
            include_in_schema=False,
        ),
    ]
