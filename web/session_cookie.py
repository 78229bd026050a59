"""The pages' session cookie (``api.community.auth.SESSION_COOKIE``): the
API's own token, HttpOnly, SameSite=Lax, Secure when
``FENGLING_COOKIE_SECURE=1``."""

from __future__ import annotations

from litestar.datastructures import Cookie

from api.community.auth import SESSION_COOKIE
from fengling_settings import Settings

LOGIN_PATH = "/login"
HOME_PATH = "/"


def session_cookie(value: str, settings: Settings, *, max_age: int) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        path="/",
        max_age=max_age,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )


def ended_session_cookie(settings: Settings) -> Cookie:
    """The cookie removed (empty, expired now)."""
    return session_cookie("", settings, max_age=0)
