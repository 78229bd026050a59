"""The route decorators every controller uses: Litestar's, with guards run
on the route handler itself.

Litestar hands each guard a shallow ``copy`` of the route handler, so that
a guard cannot change the handler for later requests. That copy was ~11 %
of the CPU of the busiest read (``GET /api/v1/me/wallet``, callgrind and
cProfile in ``bench/RESULTS.md``), and Fengling's guards (``api/guards.py``)
never touch the handler: they read the connection's principal and nothing
else. ``tests/integration/api/test_guards.py`` checks that every route is
built here and that no guard uses its handler argument.

``get``, ``post``, ``put``, ``patch`` and ``delete`` take exactly what
Litestar's decorators of the same names take.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler


class FenglingRouteHandler(HTTPRouteHandler):
    """An HTTP route handler whose guards receive the handler, not a copy."""

    __slots__ = ()

    async def authorize_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        for guard in self.resolve_guards():
            await guard(connection, self)  # type: ignore[misc]


def get(path: str | None = None, **options: Any) -> FenglingRouteHandler:
    return FenglingRouteHandler(path, http_method=HttpMethod.GET, **options)


def post(path: str | None = None, **options: Any) -> FenglingRouteHandler:
    return FenglingRouteHandler(path, http_method=HttpMethod.POST, **options)


def put(path: str | None = None, **options: Any) -> FenglingRouteHandler:
    return FenglingRouteHandler(path, http_method=HttpMethod.PUT, **options)


def patch(path: str | None = None, **options: Any) -> FenglingRouteHandler:
    return FenglingRouteHandler(path, http_method=HttpMethod.PATCH, **options)


def delete(path: str | None = None, **options: Any) -> FenglingRouteHandler:
    return FenglingRouteHandler(path, http_method=HttpMethod.DELETE, **options)
