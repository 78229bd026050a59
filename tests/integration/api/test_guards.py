"""Rule 5: every endpoint has an explicit guard, public ones included."""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient


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


async def test_health_reports_database_and_redis(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


async def test_openapi_lists_the_ledger_routes_with_string_amounts(client: AsyncTestClient[Litestar]) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/ledger/adjustments" in schema["paths"]
    adjustment = schema["components"]["schemas"]["AdjustmentIn"]["properties"]["amount"]
    assert adjustment["type"] == "string"
