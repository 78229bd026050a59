"""Who the operator console believes: Fengling's own session, nothing else.

piccolo_admin ships a second user base (``piccolo_user`` with passwords,
``piccolo_session`` cookies) behind a Starlette ``AuthenticationMiddleware``
on its ``/api``. Fengling replaces that middleware's backend, so one
identity serves every face and nothing can drift:

1. The Litestar app authenticates the request as it does every page: the
   ``fengling_session`` cookie (the API's own token, its session version
   checked on every request), by ``api.community.auth.SessionTokenMiddleware``.
2. The mount's guard (``admin/console.py``) lets in only an admin at a root
   of the tree (``community.policy.may_use_operator_console``) and hands the
   principal to the console in the ASGI scope (``PRINCIPAL_SCOPE_KEY``).
3. ``FenglingConsoleBackend`` turns that principal into the user piccolo
   expects: a ``BaseUser`` built in memory for this request from the member
   (id, name, ``admin``), never stored and with no password, so piccolo's own
   login (which the mount refuses anyway) has nothing to match.

Logging out, a password change, a role removal or a deactivation ends the
console session with every other session of the member; expiry is the
token's. piccolo's change-password, MFA and login endpoints are refused by
the mount (``admin/console.py``).
"""

from __future__ import annotations

from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo_api.shared.auth import User
from redis.asyncio import Redis
from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError
from starlette.requests import HTTPConnection, Request

from community.access import Principal
from community.roles import Role

PRINCIPAL_SCOPE_KEY = "fengling.console_principal"
# The app's Redis client, handed over by the mount with the principal (the
# console is built once per process, before any app's client exists).
REDIS_SCOPE_KEY = "fengling.redis"
# What the in-memory BaseUser holds as its password: piccolo hashes any
# value that does not start with its scheme's name (PBKDF2, ~1 s), and this
# one, though it does, is no hash at all (no iterations, salt or digest), so
# no password can ever match it. The user is never saved in any case.
UNUSABLE_PASSWORD = "pbkdf2_sha256$unusable"  # noqa: S105 (a marker that matches no password)


class ConsoleUser(User):
    """piccolo's view of the operator: a ``BaseUser`` made from the member
    for this request only (never saved, no usable password), with the
    acting principal beside it for the forms."""

    def __init__(self, principal: Principal) -> None:
        super().__init__(
            user=BaseUser(  # type: ignore[no-untyped-call]
                id=principal.member_id,
                username=principal.name,
                password=UNUSABLE_PASSWORD,
                admin=True,
                superuser=False,
                active=True,
            )
        )
        self.principal = principal

    @property
    def display_name(self) -> str:
        return self.principal.name


class FenglingConsoleBackend(AuthenticationBackend):
    """The console's authentication backend: the principal the mount
    admitted, or no one (401; the mount never lets such a request through,
    so this is the second lock, not the first)."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, ConsoleUser]:
        principal = conn.scope.get(PRINCIPAL_SCOPE_KEY)
        if not isinstance(principal, Principal) or not principal.has_role(Role.ADMIN):
            raise AuthenticationError("the operator console needs a Fengling admin session")
        return AuthCredentials(["authenticated", "admin"]), ConsoleUser(principal)


def principal_of_request(request: Request) -> Principal:
    """The operator behind a console request (forms)."""
    user: Any = request.scope.get("user")
    if not isinstance(user, ConsoleUser):
        raise AuthenticationError("no operator on this request")
    return user.principal


def redis_of_request(request: Request) -> Redis:
    """The Fengling app's Redis client (forms that touch Redis)."""
    redis = request.scope.get(REDIS_SCOPE_KEY)
    if not isinstance(redis, Redis):
        raise RuntimeError("the console mount hands over the app's Redis client")
    return redis
