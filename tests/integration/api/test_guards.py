"""Rule 5: every endpoint has an explicit guard, public ones included."""

from __future__ import annotations

import dis
from collections.abc import Callable, Iterator
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from api.routing import FenglingRouteHandler


def our_route_handlers(app: Litestar) -> Iterator[tuple[str, HTTPRouteHandler]]:
    """Every route handler of the app but Litestar's own (the OpenAPI UI,
    the static files router of the pages, automatic CORS preflight answers)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(("/schema", "/static/")):
            continue
        for handler in route.route_handlers:
            if handler.http_methods != {"OPTIONS"}:
                yield route.path, handler


def reads_its_handler_argument(guard: Callable[..., Any]) -> bool:
    code = guard.__code__
    handler_argument = code.co_varnames[1]
    return any(
        instruction.opname in {"LOAD_FAST", "LOAD_CLOSURE", "LOAD_DEREF"} and instruction.argval == handler_argument
        for instruction in dis.get_instructions(code)
    )


def test_every_route_names_a_guard(app: Litestar) -> None:
    unguarded = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/schema"):
            continue  # the OpenAPI UI is Litestar's own, excluded from auth on purpose
        for handler in route.route_handlers:
            if handler.http_methods == {"OPTIONS"}:
                continue  # Litestar's automatic CORS preflight answer, no data behind it
            if not handler.resolve_guards():
                unguarded.append(f"{sorted(handler.http_methods)} {route.path}")
    assert unguarded == []


def test_every_route_runs_its_guards_on_the_handler_itself_and_no_guard_reads_it(app: Litestar) -> None:
    """``api/routing.py`` skips Litestar's per-guard copy of the handler,
    which is only safe while guards leave the handler alone."""
    not_ours = [
        f"{sorted(handler.http_methods)} {path}"
        for path, handler in our_route_handlers(app)
        if not isinstance(handler, FenglingRouteHandler)
    ]
    guards = {guard for _, handler in our_route_handlers(app) for guard in handler.resolve_guards()}
    reading = sorted(guard.__qualname__ for guard in guards if reads_its_handler_argument(guard))

    assert not_ours == []
    assert len(guards) >= 4
    assert reading == []


async def test_health_reports_database_and_redis(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


async def test_openapi_lists_the_ledger_routes_with_string_amounts(client: AsyncTestClient[Litestar]) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/ledger/adjustments" in schema["paths"]
    adjustment = schema["components"]["schemas"]["AdjustmentIn"]["properties"]["amount"]
    assert adjustment["type"] == "string"


def test_the_handler_check_catches_a_guard_that_reads_its_handler() -> None:
    async def reads_opt(connection: Any, handler: HTTPRouteHandler) -> None:
        if handler.opt.get("closed"):
            raise PermissionError

    async def ignores_it(connection: Any, _: HTTPRouteHandler) -> None:
        del connection

    assert reads_its_handler_argument(reads_opt)
    assert not reads_its_handler_argument(ignores_it)
