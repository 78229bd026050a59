"""Per-address rate limits, one counter per purpose.

Litestar's rate-limit middleware keys its counter on the middleware class
and the client address only, so every route using it would share one
counter: a busy shop counter could then lock the logins of everyone behind
the same address. Each purpose here gets its own counter by prefixing the
identifier.

The client address is the socket peer. Behind a reverse proxy, uvicorn
rewrites it from ``X-Forwarded-For`` only when the peer is listed in
``FENGLING_TRUSTED_PROXIES`` (see ``admin/cli.py serve``), so a client
cannot pick its own address by sending that header.

These limits slow scripted abuse and are approximate across workers
(ARCHITECTURE.md §9); business rules (locks per phone, per shop) live in
Redis counters of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import DurationUnit, RateLimitConfig, get_remote_address


def _identifier(purpose: str) -> Callable[[Request[Any, Any, Any]], str]:
    def identify(request: Request[Any, Any, Any]) -> str:
        return f"{purpose}:{get_remote_address(request)}"

    return identify


def per_address_limit(purpose: str, *, per: DurationUnit, requests: int) -> RateLimitConfig:
    """A rate limit of ``requests`` per ``per`` and client address, counted
    apart from every other purpose."""
    return RateLimitConfig(
        rate_limit=(per, requests),
        store="rate_limit",
        identifier_for_request=_identifier(purpose),
    )


# Phone + password attempts from one address.
LOGIN_LIMIT = per_address_limit("login", per="minute", requests=30)
# Invitation codes tried from one address.
INVITATION_LIMIT = per_address_limit("invitation", per="minute", requests=30)
# Pickup codes typed at one counter address (the per-shop counter in
# ``api/marketplace/pickup_throttle.py`` is what stops brute force).
PICKUP_LIMIT = per_address_limit("pickup", per="minute", requests=60)
