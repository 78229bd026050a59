"""The login form and logout for the pages.

A login sets the session cookie (``api.community.auth.SESSION_COOKIE``):
the same signed token the API hands out, carrying the member's session
version, so everything that ends API tokens (logout, a password change or
reset, a removed role, a deactivation) ends page sessions too. HttpOnly,
SameSite=Lax, Secure when ``FENGLING_COOKIE_SECURE=1``. The login shares the
API login's per-address rate limit and per-phone lockout
(``api.community.auth.log_in``); a phone that logged in before presents its
device token (``DEVICE_COOKIE``) and is counted on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.response import Redirect, Template
from redis.asyncio import Redis

from api.community.auth import (
    TOKEN_DEPENDENCIES,
    TokenIssuer,
    issue_token,
    log_in,
)
from api.community.known_devices import remember
from api.dependencies import ActingPrincipal
from api.errors import ProblemException
from api.guards import public, requires_member
from api.rate_limits import LOGIN_LIMIT
from api.routing import get, post
from community.sessions import end_all_sessions
from fengling_settings import Settings
from web.form_body import FormBody
from web.i18n import LANGUAGES
from web.page_errors import PAGE_EXCEPTION_HANDLERS
from web.rendering import render
from web.session_cookie import (
    DEVICE_COOKIE,
    HOME_PATH,
    LOGIN_PATH,
    device_cookie,
    display_cookies,
    elder_cookie,
    ended_session_cookie,
    language_cookie,
    local_next_path,
    login_path,
    session_cookie,
)

LANGUAGE_PATH = "/language"
ELDER_MODE_PATH = "/elder-mode"
ELDER_CHOICES = {"1": True, "0": False}
MAX_PHONE_CHARS = 20
MAX_PASSWORD_CHARS = 128


@dataclass
class LanguageForm:
    lang: str = ""
    # Where the login returns to, kept across the switch.
    next: str = ""


@dataclass
class ElderModeForm:
    elder_mode: str = ""
    next: str = ""


@dataclass
class LoginForm:
    phone: str = ""
    password: str = ""
    # Where to go back to (``web.session_cookie.local_next_path`` decides).
    next: str = ""


NOTICES = frozenset({"logged_out"})


def login_page(
    request: Request[Any, Any, Any],
    *,
    error: str | None = None,
    status_code: int = 200,
    next_path: str | None = None,
    **error_values: object,
) -> Template:
    notice = request.query_params.get("n")
    return render(
        request,
        "login.html",
        status_code=status_code,
        error=error,
        error_values=error_values,
        notice=notice if notice in NOTICES else None,
        next_path=local_next_path(next_path if next_path is not None else request.query_params.get("next")),
    )


def too_many_logins(request: Request[Any, Any, Any], _: Exception) -> Template:
    return login_page(request, error="login_rate_limited", status_code=429)


class LoginPages(Controller):
    path = ""
    include_in_schema = False
    dependencies = TOKEN_DEPENDENCIES
    exception_handlers = {**PAGE_EXCEPTION_HANDLERS, TooManyRequestsException: too_many_logins}

    @get(LOGIN_PATH, guards=[public], exclude_from_auth=True, name="login_page")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        return login_page(request)

    @post(
        LOGIN_PATH,
        guards=[public],
        exclude_from_auth=True,
        middleware=[LOGIN_LIMIT.middleware],
        status_code=303,
        name="login_submit",
    )
    async def submit(
        self,
        request: Request[Any, Any, Any],
        data: FormBody[LoginForm],
        redis: NamedDependency[Redis],
        settings: NamedDependency[Settings],
        jwt_auth: NamedDependency[TokenIssuer],
    ) -> Response[Any]:
        phone, password = data.phone.strip(), data.password
        back = local_next_path(data.next)
        if not phone or not password or len(phone) > MAX_PHONE_CHARS or len(password) > MAX_PASSWORD_CHARS:
            return login_page(request, error="login_bad_credentials", status_code=401, next_path=back)
        try:
            member = await log_in(redis, settings, phone, password, device_cookie=request.cookies.get(DEVICE_COOKIE))
        except ProblemException as problem:
            if problem.problem_code == "login_locked":
                return login_page(
                    request,
                    error="login_locked",
                    status_code=429,
                    next_path=back,
                    minutes=settings.login_lock_minutes,
                )
            return login_page(request, error="login_bad_credentials", status_code=401, next_path=back)
        token = issue_token(jwt_auth, settings, member)
        known = remember(settings.secret_key, member.phone, request.cookies.get(DEVICE_COOKIE))
        return Redirect(
            back or HOME_PATH,
            status_code=303,
            cookies=[
                session_cookie(token.access_token, settings, max_age=settings.token_ttl_minutes * 60),
                device_cookie(known, settings),
                *display_cookies(member.preferred_language, member.elder_mode, settings),
            ],
        )

    @post(LANGUAGE_PATH, guards=[public], exclude_from_auth=True, status_code=303, name="language")
    async def language(
        self,
        data: FormBody[LanguageForm],
        settings: NamedDependency[Settings],
    ) -> Redirect:
        """中文 / English on the login page: a cookie for the pages shown
        before logging in (an unknown choice keeps the current one). Once
        logged in, the member's own setting wins."""
        back = login_path(data.next)
        if data.lang not in LANGUAGES:
            return Redirect(back, status_code=303)
        return Redirect(back, status_code=303, cookies=[language_cookie(data.lang, settings)])

    @post(ELDER_MODE_PATH, guards=[public], exclude_from_auth=True, status_code=303, name="elder_mode")
    async def elder_mode(
        self,
        data: FormBody[ElderModeForm],
        settings: NamedDependency[Settings],
    ) -> Redirect:
        """长辈模式 on the login page: large text and buttons on this phone
        before anyone logs in, in the cookie the pages without a member read
        (``ELDER_COOKIE``; an unknown choice keeps the current one). Once
        logged in, the member's own setting wins, as for the language."""
        back = login_path(data.next)
        chosen = ELDER_CHOICES.get(data.elder_mode)
        if chosen is None:
            return Redirect(back, status_code=303)
        return Redirect(back, status_code=303, cookies=[elder_cookie(chosen, settings)])

    @post("/logout", guards=[requires_member], status_code=303, name="logout")
    async def logout(self, principal: ActingPrincipal, settings: NamedDependency[Settings]) -> Redirect:
        """Ends every session of the member, on every device (as the API's logout)."""
        await end_all_sessions(principal)
        return Redirect(f"{LOGIN_PATH}?n=logged_out", status_code=303, cookies=[ended_session_cookie(settings)])
