"""Refusals on the pages answer as pages, never as problem+json: no
current session → the login page (303; an htmx request gets ``HX-Redirect``),
403 and 404 as pages in the reader's language. A 403 says which it is: a
form without its CSRF token (reload and try again) or a page the reader's
roles do not open (ask the community staff)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from fengling_settings import get_settings
from web.rendering import render
from web.session_cookie import LOGIN_PATH, ended_session_cookie


def to_login(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    """No current session: to the login page, dropping a stale cookie."""
    cookie = ended_session_cookie(get_settings())
    if request.headers.get("hx-request"):
        return Response(b"", status_code=200, headers={"HX-Redirect": LOGIN_PATH}, cookies=[cookie])
    return Redirect(LOGIN_PATH, status_code=303, cookies=[cookie])


# What Litestar's CSRF middleware says when it refuses a request
# (litestar/middleware/csrf.py); a guard or a policy refusal says anything else.
CSRF_REFUSAL = "CSRF token verification failed"


def refusal_words(error: Exception) -> str:
    """The catalog key of a 403 page: a failed CSRF check, or no permission."""
    if isinstance(error, HTTPException) and error.detail == CSRF_REFUSAL:
        return "error_csrf"
    return "error_forbidden"


def refused(request: Request[Any, Any, Any], error: Exception) -> Template:
    return render(request, "error.html", status_code=403, message=refusal_words(error))


def not_found(request: Request[Any, Any, Any], _: Exception) -> Template:
    return render(request, "error.html", status_code=404, message="error_not_found")


PAGE_EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {401: to_login, 403: refused, 404: not_found}
