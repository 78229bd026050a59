"""What handlers receive by name, through Litestar's ``Provide``.

A handler declares ``principal: ActingPrincipal`` to get the logged-in member (the
route's guard has already refused anonymous callers), ``settings:
Settings`` for configuration, and ``redis: Redis`` for the shared client.
Nothing reaches into ``request.scope`` or ``app.state`` by hand.

Object resolvers (an organisation, a member, a shop… looked up *through the
policy modules*, so a handler never holds an object its caller may not see)
live beside the controllers of their domain and are registered on those
controllers with ``dependencies={...}``.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation
from redis.asyncio import Redis

from api.guards import principal_of
from community.access import Principal
from fengling_settings import Settings, get_settings

ActingPrincipal: TypeAlias = NamedDependency[SkipValidation[Principal]]
"""How a handler asks for the caller: ``principal: ActingPrincipal``. The
value is ``provide_principal``'s, a ``Principal`` the authentication
middleware built; Litestar's per-request re-validation of it (a msgspec
conversion of the whole record, on every authenticated request) is skipped."""


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The caller, as authenticated by the JWT middleware; a 401 if none."""
    return principal_of(request)


def provide_settings() -> Settings:
    return get_settings()


def provide_redis(request: Request[Any, Any, Any]) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


APP_DEPENDENCIES: dict[str, Provide] = {
    "principal": Provide(provide_principal, sync_to_thread=False),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "redis": Provide(provide_redis, sync_to_thread=False),
}
