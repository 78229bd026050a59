"""The authenticated caller of the request in progress, for a handler that
takes no parameters.

Handlers receive the caller as ``principal: ActingPrincipal``
(``api/dependencies.py``). For one handler, the busiest read
(``GET /api/v1/me/wallet``), that one injected value was the most expensive
part of the framework's work: a handler with any parameter goes through
Litestar's parameter machinery (the kwargs extractors, the dependency
batches and their cleanup group, and a msgspec conversion of the
signature), ~56,000 of the request's ~717,000 instructions, 8 %
(``bench/RESULTS.md``, session 11). That handler takes no parameter and
asks ``caller()`` instead.

The value is the one the JWT middleware records in ``scope["user"]``, set by
that middleware (``api/community/auth.py``, ``SessionTokenMiddleware``) for
exactly as long as the request is inside it, and unset when the request
leaves it, however it leaves (so nothing outlives its request, whatever
task or context the server runs the next request in). Outside an
authenticated request ``caller()`` refuses with a 401, as the guard
``requires_member`` does; the guard still runs first on every route.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

from litestar.exceptions import NotAuthorizedException

from community.access import Principal

_CALLER: ContextVar[Principal | None] = ContextVar("fengling_caller", default=None)


def caller() -> Principal:
    """The authenticated caller of the request in progress; a 401 if none."""
    principal = _CALLER.get()
    if principal is None:
        raise NotAuthorizedException("log in first")
    return principal


def enter_request_as(principal: object) -> Token[Principal | None]:
    """Record ``principal`` (the middleware's ``scope["user"]``) for the
    request about to run; anything but a ``Principal`` records nobody.
    ``leave_request`` with the returned token when the request is done."""
    return _CALLER.set(principal if isinstance(principal, Principal) else None)


def leave_request(token: Token[Principal | None]) -> None:
    _CALLER.reset(token)
