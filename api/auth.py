"""Login with phone + password, JWT bearer tokens, and login throttling.

Two layers against guessing: Litestar's rate-limit middleware caps login
attempts per client address (approximate across workers, ARCHITECTURE.md
§9), and a per-phone failure counter in Redis locks that login for
``FENGLING_LOGIN_LOCK_MINUTES`` after ``FENGLING_LOGIN_MAX_FAILURES`` wrong
passwords, whichever address they come from.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Controller, Request, post
from litestar.connection import ASGIConnection
from litestar.params import JSONBody
from litestar.security.jwt import JWTAuth, Token
from pydantic import BaseModel, Field
from redis.asyncio import Redis

from api.errors import ProblemException
from api.guards import public
from api.rate_limits import LOGIN_LIMIT
from api.schemas import MeOut, me_out
from community.access import Principal
from community.errors import MemberNotFound
from community.members import authenticate, get_member
from community.roles import Role
from fengling_settings import Settings, get_settings


async def principal_for_token(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """Re-read the member on every request: a deactivated member or a revoked
    role takes effect at once, not when the token expires."""
    try:
        member = await get_member(int(token.sub))
    except (MemberNotFound, ValueError):
        return None
    if not member.active:
        return None
    return Principal(
        member_id=member.id,
        name=member.name,
        home_organisation_id=member.home_organisation_id,
        grants=tuple((grant.organisation_id, Role(grant.role)) for grant in member.grants),
    )


def build_jwt_auth(settings: Settings) -> JWTAuth[Principal, Token]:
    return JWTAuth[Principal, Token](
        retrieve_user_handler=principal_for_token,
        token_secret=settings.secret_key,
        default_token_expiration=timedelta(minutes=settings.token_ttl_minutes),
        exclude=["^/health$", "^/schema", "^/api/v1/auth/login$"],
    )


class LoginThrottle:
    """Counts wrong passwords per phone number in Redis."""

    def __init__(self, redis: Redis, *, max_failures: int, lock_minutes: int) -> None:
        self.redis = redis
        self.max_failures = max_failures
        self.lock_seconds = lock_minutes * 60

    @staticmethod
    def _key(phone: str) -> str:
        return f"fengling:login-failures:{phone.strip()}"

    async def seconds_locked(self, phone: str) -> int:
        key = self._key(phone)
        failures = await self.redis.get(key)
        if failures is None or int(failures) < self.max_failures:
            return 0
        return max(1, int(await self.redis.ttl(key)))

    async def record_failure(self, phone: str) -> None:
        key = self._key(phone)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self.lock_seconds)
            await pipe.execute()

    async def reset(self, phone: str) -> None:
        await self.redis.delete(self._key(phone))


class LoginIn(BaseModel):
    phone: str = Field(min_length=1, max_length=20, examples=["13800000001"])
    password: str = Field(min_length=1, max_length=128)


class LoginOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_at: datetime
    member: MeOut


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/login",
        guards=[public],
        operation_id="login",
        summary="Log in with phone number and password",
        middleware=[LOGIN_LIMIT.middleware],
        status_code=200,
        exclude_from_auth=True,
    )
    async def login(self, request: Request[Any, Any, Any], data: JSONBody[LoginIn]) -> LoginOut:
        settings = get_settings()
        throttle: LoginThrottle = request.app.state.login_throttle
        locked_for = await throttle.seconds_locked(data.phone)
        if locked_for:
            raise ProblemException(
                429,
                "login_locked",
                f"too many failed logins for this phone; retry in {locked_for} s",
                field="phone",
                headers={"Retry-After": str(locked_for)},
            )
        member = await authenticate(data.phone, data.password)
        if member is None:
            await throttle.record_failure(data.phone)
            raise ProblemException(401, "bad_credentials", "wrong phone number or password", field="password")
        await throttle.reset(data.phone)
        jwt_auth: JWTAuth[Principal, Token] = request.app.state.jwt_auth
        ttl = timedelta(minutes=settings.token_ttl_minutes)
        token = jwt_auth.create_token(identifier=str(member.id), token_expiration=ttl)
        return LoginOut(access_token=token, expires_at=datetime.now(UTC) + ttl, member=me_out(member))
