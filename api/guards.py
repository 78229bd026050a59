"""Route guards. Every handler names one explicitly, public ones included,
and ``tests/integration/api/test_guards.py`` fails if a route has none.

Guards are coroutines: Litestar runs a plain-function guard in a worker
thread (``litestar.utils.sync.ensure_async_callable``), a thread hop on
every request for a check that takes a microsecond."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from community.access import Principal
from community.roles import MANAGING_ROLES


async def public(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Open to anyone, deliberately (health, login, schema)."""


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthorizedException("log in first")
    return user


async def requires_member(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal_of(connection)


async def requires_manager(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Organisers and admins; which organisations they manage is checked per
    object by ``community.access``."""
    if not principal_of(connection).has_role(*MANAGING_ROLES):
        raise PermissionDeniedException("this needs the organizer or admin role")
