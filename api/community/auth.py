"""Login with phone + password, JWT bearer tokens, and login lockouts.

Two layers against guessing: a per-address rate limit (``api/rate_limits.py``;
the address is the socket peer unless it is a trusted proxy, see
``admin/cli.py``), and a per-phone failure counter in Redis
(``PhoneLockout``) that allows ``FENGLING_LOGIN_MAX_FAILURES`` attempts per
``FENGLING_LOGIN_LOCK_MINUTES``, whichever address they come from. A
device that logged in before keeps its own counter
(``api/community/known_devices.py``), so the shared one cannot be used to
lock a volunteer out of their own phone.

Tokens carry the member's ``session_version`` (claim ``sv``). A token whose
version is not the member's current one answers 401: a password change, a
reset, a removed role, a deactivation and a logout end every older session
(``community/sessions.py``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from litestar import Controller
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.authentication import AuthenticationResult
from litestar.params import JSONBody, SkipValidation
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token
from litestar.types import ASGIApp, Receive, Scope, Send
from pydantic import BaseModel, Field
from redis.asyncio import Redis

from api.caller import enter_request_as, leave_request
from api.community.known_devices import device_of
from api.errors import ProblemException
from api.guards import public
from api.params import MAX_ID
from api.rate_limits import LOGIN_LIMIT
from api.routing import post
from api.schemas.ledger import MeOut, me_out
from community.access import Principal, principal_for_session
from community.errors import InvalidMemberData
from community.members import authenticate, normalise_phone
from community.models import MemberRecord
from fengling_settings import Settings

SESSION_VERSION_CLAIM = "sv"
# Tokens remembered as verified per process. A token is a few hundred
# bytes; past this the oldest go first (they expire first).
MAX_VERIFIED_TOKENS = 10_000
# A token's subject is a member id: ASCII digits, no sign, no leading zero,
# and within the id column's range (anything else cannot be a member and
# must not reach the database driver).
_MEMBER_ID = re.compile(r"^[1-9][0-9]{0,9}$")


def member_id_of(token: Token) -> int | None:
    """The member id in ``sub``, or None when it cannot be one."""
    if not isinstance(token.sub, str) or not _MEMBER_ID.match(token.sub):
        return None
    member_id = int(token.sub)
    return member_id if member_id <= MAX_ID else None


class SessionToken(Token):
    """A login token, verified once per process and then remembered until it
    expires.

    Verifying a token (base64, JSON, HMAC-SHA256, claim checks, the
    ``Token`` built from them) cost more CPU than the rest of a cheap
    authenticated request (``bench/RESULTS.md``, the wallet read), for the
    same bytes on every request of a session. A token's claims cannot change
    without its bytes changing and its signature breaking, so the exact
    string, once verified with this process's secret, stands for its claims
    until ``exp``; nothing but the expiry is time-dependent (Fengling issues
    no ``nbf``). Whether the session is still current is not the token's to
    say: ``principal_for_token`` checks the session version on every request.
    """

    @classmethod
    def decode(
        cls,
        encoded_token: str,
        secret: str,
        algorithm: str,
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        require_claims: Sequence[str] | None = None,
        verify_exp: bool = True,
        verify_nbf: bool = True,
        strict_audience: bool = False,
    ) -> Self:
        key = (secret, algorithm, encoded_token)
        known = _verified_tokens.get(key)
        if known is not None and known[0] > time.time():
            remembered: Self = known[1]
            return remembered
        token = super().decode(
            encoded_token,
            secret,
            algorithm,
            audience=audience,
            issuer=issuer,
            require_claims=require_claims,
            verify_exp=verify_exp,
            verify_nbf=verify_nbf,
            strict_audience=strict_audience,
        )
        if len(_verified_tokens) >= MAX_VERIFIED_TOKENS:
            _verified_tokens.pop(next(iter(_verified_tokens)))
        _verified_tokens[key] = (token.exp.timestamp(), token)
        return token


# (secret, algorithm, token) -> (its expiry as a Unix time, the verified token)
_verified_tokens: dict[tuple[str, str, str], tuple[float, Any]] = {}

_AUTHORIZATION = b"authorization"
# The pages' session cookie (``web/``): the same token as the API's bearer
# token, so a logout, a password change or a role change ends it exactly as
# it ends API tokens. Read only outside the JSON API: ``/api/`` takes bearer
# tokens alone, so a cookie can never authorise an API call (no CSRF there).
SESSION_COOKIE = "fengling_session"
API_PREFIX = "/api/"
# A mounted ASGI app sees (and its middleware reads) only the path below its
# mount, so a mount whose paths may start with /api/ (the operator console
# at /admin, ``admin/console.py``) says by this route option that it is a
# page face and takes the session cookie.
PAGE_SESSION_OPT = "page_session"


def _recording_caller(app: ASGIApp) -> ASGIApp:
    """``app``, run with ``scope["user"]`` recorded for ``api.caller.caller()``
    and unset when it returns, however it returns."""

    async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
        entered = enter_request_as(scope.get("user"))
        try:
            await app(scope, receive, send)
        finally:
            leave_request(entered)

    return recorded


class SessionTokenMiddleware(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware, reading the ``Authorization`` header
    straight from the request's raw headers: the stock one builds a
    ``Headers`` mapping of every header on every request to read that one
    (servers hand ASGI apps lower-case header names). Page requests (any
    path outside ``/api/``) without that header use the session cookie.

    Besides ``scope["user"]`` and ``scope["auth"]``, as the stock one sets
    them, it records the caller for ``api.caller.caller()`` while the
    request runs inside it, and unsets it when the request leaves."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Litestar's middleware sets scope["user"] and then calls self.app: the
        # app it calls records that caller around the rest of the request.
        self.app = _recording_caller(self.app)

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        for name, value in connection.scope["headers"]:
            if name == _AUTHORIZATION:
                encoded_token = value.decode("latin-1").partition(" ")[-1]
                return await self.authenticate_token(encoded_token=encoded_token, connection=connection)
        if not connection.scope["path"].startswith(API_PREFIX) or _is_page_mount(connection):
            cookie = connection.cookies.get(SESSION_COOKIE)
            if cookie:
                return await self.authenticate_token(encoded_token=cookie, connection=connection)
        raise NotAuthorizedException("No JWT token found in request header")


def _is_page_mount(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    handler = connection.scope.get("route_handler")
    return handler is not None and bool(handler.opt.get(PAGE_SESSION_OPT))


async def principal_for_token(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The token's member as the acting principal, or None (401) for
    anything that is not a current session: an unknown or deactivated
    member, or a session version that is not the member's current one.

    No member row per request: ``community.access.principal_for_session``
    serves the member from this process's cache, which every committed
    change to their sessions or roles clears in every API process at once
    (``community/session_cache.py``, ``api/session_events.py``)."""
    member_id = member_id_of(token)
    version = token.extras.get(SESSION_VERSION_CLAIM)
    if member_id is None or type(version) is not int:
        return None
    return await principal_for_session(member_id, version)


def build_jwt_auth(settings: Settings) -> JWTAuth[Principal, Token]:
    return JWTAuth[Principal, Token](
        retrieve_user_handler=principal_for_token,
        token_cls=SessionToken,
        authentication_middleware_class=SessionTokenMiddleware,
        token_secret=settings.secret_key,
        default_token_expiration=timedelta(minutes=settings.token_ttl_minutes),
        exclude=["^/health$", "^/schema", "^/api/v1/auth/login$", "^/static/"],
    )


@dataclass(frozen=True, slots=True)
class PhoneLockout:
    """Attempts per normalised phone number for one purpose (login,
    invitation), counted in Redis.

    An attempt is *reserved* before it is evaluated: one atomic
    ``INCR`` + ``EXPIRE … NX``. The first ``max_failures`` reservations in a
    window are evaluated; every later one is refused unevaluated with the
    seconds left, however many arrive at once (no check-then-record race).
    A success resets the counter. The window starts at the first attempt and
    is not extended by refused ones, so hammering a locked phone does not
    keep its owner locked out for longer. Keys use the normalised number,
    so ``+86 138-0000-0002`` and ``13800000002`` share one counter.
    """

    redis: Redis
    purpose: str
    max_failures: int
    lock_seconds: int

    @classmethod
    def for_purpose(cls, redis: Redis, purpose: str, settings: Settings) -> PhoneLockout:
        return cls(
            redis,
            purpose,
            max_failures=settings.login_max_failures,
            lock_seconds=settings.login_lock_minutes * 60,
        )

    def key(self, phone: str) -> str:
        """The counter's key; ``phone`` must already be normalised."""
        return f"fengling:{self.purpose}-failures:{phone}"

    async def reserve(self, phone: str) -> int:
        """Count one attempt. 0: evaluate it; otherwise the seconds until
        the phone may try again (evaluate nothing)."""
        key = self.key(phone)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self.lock_seconds, nx=True)
            pipe.ttl(key)
            attempts, _, ttl = await pipe.execute()
        if int(attempts) <= self.max_failures:
            return 0
        return max(1, int(ttl))

    async def reset(self, phone: str) -> None:
        await self.redis.delete(self.key(phone))


LOGIN_PURPOSE = "login"
INVITATION_PURPOSE = "invitation"
# Logins from a known device (``api.community.known_devices``): counted per
# (number, device), keyed ``<number>:<device>``.
KNOWN_DEVICE_PURPOSE = "login-device"
LOCKOUT_PURPOSES = (LOGIN_PURPOSE, INVITATION_PURPOSE)


def login_lockout(redis: Redis, settings: Settings) -> PhoneLockout:
    return PhoneLockout.for_purpose(redis, LOGIN_PURPOSE, settings)


def lockout_clearer(redis: Redis, settings: Settings) -> Callable[[str], Awaitable[int]]:
    """Clears every lockout counter of a normalised number (the shared
    login and invitation ones, and each known device's): what an operator's
    unlock does (``community.lockouts``)."""

    async def clear(phone: str) -> int:
        keys = [PhoneLockout.for_purpose(redis, purpose, settings).key(phone) for purpose in LOCKOUT_PURPOSES]
        device_keys = PhoneLockout.for_purpose(redis, KNOWN_DEVICE_PURPOSE, settings).key(f"{phone}:*")
        keys += [key async for key in redis.scan_iter(match=device_keys, count=100)]
        return int(await redis.delete(*keys))

    return clear


def locked_problem(code: str, field: str, seconds: int) -> ProblemException:
    return ProblemException(
        429,
        code,
        f"too many failed attempts for this phone; retry in {seconds} s",
        field=field,
        headers={"Retry-After": str(seconds)},
    )


class LoginIn(BaseModel):
    phone: str = Field(min_length=1, max_length=20, examples=["13800000001"])
    password: str = Field(min_length=1, max_length=128)


class LoginOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_at: datetime
    member: MeOut


def provide_jwt_auth(state: State) -> JWTAuth[Principal, Token]:
    """The app's token issuer (``api/app.py`` keeps it in the app state)."""
    jwt_auth: JWTAuth[Principal, Token] = state.jwt_auth
    return jwt_auth


# For the controllers that hand out tokens: login and the password change.
TOKEN_DEPENDENCIES = {"jwt_auth": Provide(provide_jwt_auth, sync_to_thread=False)}
# How a handler receives it: as it is (a dataclass whose annotations only
# resolve for type checkers, so Litestar must not try to validate it).
TokenIssuer = SkipValidation[NamedDependency[JWTAuth[Principal, Token]]]


async def log_in(
    redis: Redis, settings: Settings, phone_as_typed: str, password: str, *, device_cookie: str | None = None
) -> MemberRecord:
    """Phone + password to a member, counting the attempt against the phone's
    lockout (``PhoneLockout``): the API's login and the pages' login form
    (``web/``) both come here, so one lockout covers both. An attempt that
    presents a valid device token for the number (``device_cookie``, the
    pages' ``known_devices`` cookie) is counted on that device's own counter
    instead, so a stranger's wrong passwords cannot lock the owner out of
    the phone they used before. Raises ``login_locked`` (429) or
    ``bad_credentials`` (401) problems."""
    try:
        phone = normalise_phone(phone_as_typed)
    except InvalidMemberData:
        phone = None  # nobody's number: nothing to lock, same answer and cost
    lockout, counted = login_lockout(redis, settings), phone
    if phone is not None:
        device = device_of(settings.secret_key, phone, device_cookie)
        if device is not None:
            lockout = PhoneLockout.for_purpose(redis, KNOWN_DEVICE_PURPOSE, settings)
            counted = f"{phone}:{device}"
    if counted is not None:
        locked_for = await lockout.reserve(counted)
        if locked_for:
            raise locked_problem("login_locked", "phone", locked_for)
    member = await authenticate(phone_as_typed, password)
    if member is None:
        raise ProblemException(401, "bad_credentials", "wrong phone number or password", field="password")
    await lockout.reset(counted if counted is not None else member.phone)
    return member


def issue_token(jwt_auth: JWTAuth[Principal, Token], settings: Settings, member: MemberRecord) -> LoginOut:
    """A token for the member's current session version."""
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    token = jwt_auth.create_token(
        identifier=str(member.id),
        token_expiration=ttl,
        token_extras={SESSION_VERSION_CLAIM: member.session_version},
    )
    return LoginOut(access_token=token, expires_at=datetime.now(UTC) + ttl, member=me_out(member))


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]
    dependencies = TOKEN_DEPENDENCIES

    @post(
        "/login",
        guards=[public],
        operation_id="login",
        summary="Log in with phone number and password",
        middleware=[LOGIN_LIMIT.middleware],
        status_code=200,
        exclude_from_auth=True,
    )
    async def login(
        self,
        data: JSONBody[LoginIn],
        redis: NamedDependency[Redis],
        settings: NamedDependency[Settings],
        jwt_auth: NamedDependency[TokenIssuer],
    ) -> LoginOut:
        """The per-address limit is the route's middleware; this counts
        attempts per phone (``PhoneLockout``)."""
        member = await log_in(redis, settings, data.phone, data.password)
        return issue_token(jwt_auth, settings, member)
