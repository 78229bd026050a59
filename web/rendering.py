"""How a page is rendered: the language, elder mode, the catalog and the
formatting helpers every template gets, in one place."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from community.models import MemberRecord
from core.clock import utc_now
from web.i18n import (
    ELDER_COOKIE,
    LANGUAGE_COOKIE,
    LANGUAGES,
    china_time,
    china_window,
    language_from_accept,
    points,
    signed_points,
    translator,
    unbroken_time,
)

HTML = "text/html; charset=utf-8"
VIEWER_HEADER = "X-Fengling-Viewer"


def language_of(request: Request[Any, Any, Any], member: MemberRecord | None) -> str:
    """The member's own setting once logged in; before that, the one chosen
    on the login page (``LANGUAGE_COOKIE``), else the browser's."""
    if member is not None:
        return member.preferred_language
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return language_from_accept(request.headers.get("accept-language"))


def render(
    request: Request[Any, Any, Any],
    template: str,
    *,
    member: MemberRecord | None = None,
    status_code: int = 200,
    **context: Any,
) -> Template:
    language = language_of(request, member)
    return Template(
        template_name=template,
        status_code=status_code,
        media_type=HTML,
        # Whose page this is: the offline shell keeps one member's pages
        # and drops them when another's arrive (web/static/service-worker.js).
        headers={VIEWER_HEADER: str(member.id)} if member is not None else None,
        context={
            "lang": language,
            "html_lang": "en" if language == "en" else "zh-CN",
            "t": translator(language),
            # The member's own setting; without one at hand (login, 403,
            # 404), what their last login or change on Me left in a cookie.
            "elder": member.elder_mode if member is not None else request.cookies.get(ELDER_COOKIE) == "1",
            "member": member,
            # Times as markup, the label unbroken (an attribute takes when_text).
            "when": lambda moment: unbroken_time(china_time(moment, language), language),
            "when_text": lambda moment: china_time(moment, language),
            # On paper (the printable statement and report): always with the year.
            "when_dated": lambda moment: unbroken_time(china_time(moment, language, with_year=True), language),
            "window": lambda starts, ends: unbroken_time(china_window(starts, ends, language), language),
            "points": points,
            "signed_points": signed_points,
            "path": request.url.path,
            # When the page was made: a page the phone shows from its cache
            # (offline) says how old its figures are.
            "rendered_at": utc_now(),
            **context,
        },
    )
