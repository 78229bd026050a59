"""The pages' session cookie (``api.community.auth.SESSION_COOKIE``): the
API's own token, HttpOnly, SameSite=Lax, Secure when
``FENGLING_COOKIE_SECURE=1``."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar.datastructures import Cookie

from api.community.auth import SESSION_COOKIE
from fengling_settings import Settings
from web.i18n import ELDER_COOKIE, LANGUAGE_COOKIE

LOGIN_PATH = "/login"
HOME_PATH = "/"
# Where a login may send its member back to (``/login?next=/admin/``): a
# path of this site, no longer than this.
MAX_NEXT_PATH_CHARS = 200
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 60 * 60


def local_next_path(value: str | None) -> str | None:
    """``value`` if it is a path on this site to return to after login, else
    None: it starts with one ``/`` (``//host`` and ``/\\host`` are other
    sites to a browser), holds only printable ASCII, and is not the login
    page itself. An open redirect would let a link to our login page send
    a member anywhere."""
    if not value or len(value) > MAX_NEXT_PATH_CHARS:
        return None
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    if not all(" " < character < "\x7f" for character in value) or "\\" in value:
        return None
    if value == LOGIN_PATH or value.startswith(LOGIN_PATH + "?"):
        return None
    return value


def site_cookie(key: str, value: str, settings: Settings, *, max_age: int) -> Cookie:
    """A cookie of the pages: the whole site, HttpOnly, SameSite=Lax, Secure
    behind ``FENGLING_COOKIE_SECURE``."""
    return Cookie(
        key=key,
        value=value,
        path="/",
        max_age=max_age,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )


DEVICE_COOKIE = "fengling_device"
DEVICE_COOKIE_SECONDS = 365 * 24 * 60 * 60


def device_cookie(value: str, settings: Settings) -> Cookie:
    """The device tokens of the numbers that logged in on this phone
    (``api.community.known_devices``): kept a year, and kept on logout (it
    names no session and opens nothing; it only spares its owner the shared
    lockout)."""
    return site_cookie(DEVICE_COOKIE, value, settings, max_age=DEVICE_COOKIE_SECONDS)


def session_cookie(value: str, settings: Settings, *, max_age: int) -> Cookie:
    return site_cookie(SESSION_COOKIE, value, settings, max_age=max_age)


def ended_session_cookie(settings: Settings) -> Cookie:
    """The cookie removed (empty, expired now)."""
    return session_cookie("", settings, max_age=0)


def language_cookie(language: str, settings: Settings) -> Cookie:
    """The language for pages rendered without the member at hand: the
    login page before anyone is known, and the error pages (403, 404),
    whose handlers cannot read the member. Set by the login page's 中文 /
    English, then at each login and each change on Me to the member's own."""
    return site_cookie(LANGUAGE_COOKIE, language, settings, max_age=LANGUAGE_COOKIE_SECONDS)


def elder_cookie(elder_mode: bool, settings: Settings) -> Cookie:
    """Elder mode for the pages rendered without the member at hand. Set by
    the login page's switch (before anyone is known), then at each login and
    each change on Me to the member's own."""
    return site_cookie(ELDER_COOKIE, "1" if elder_mode else "0", settings, max_age=LANGUAGE_COOKIE_SECONDS)


def display_cookies(language: str, elder_mode: bool, settings: Settings) -> list[Cookie]:
    """The member's language and elder mode for the pages rendered without
    the member at hand (the login page, 403 and 404): set at each login and
    each change on Me, so an elderly member's error page and next login
    page are as large as the rest."""
    return [language_cookie(language, settings), elder_cookie(elder_mode, settings)]


def login_path(next_path: str | None) -> str:
    """The login page, still carrying where the login returns to."""
    back = local_next_path(next_path)
    return f"{LOGIN_PATH}?{urlencode({'next': back})}" if back else LOGIN_PATH
