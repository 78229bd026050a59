"""The operator console: piccolo_admin, built once at start-up and mounted
at ``/admin`` (``api/app.py``), for admins at a root of the tree only.

- **Built once.** ``create_admin`` builds a whole FastAPI app (~1.5 s with
  our tables); ``build_console`` runs once per process, at the first
  ``create_app``, never per request. It shows the tables of ``admin/console_tables.py`` (all
  read-only) and the forms of ``admin/console_forms.py`` (each calls a
  domain service as the operator).
- **One identity.** piccolo's own authentication is replaced
  (``admin/console_auth.py``): Fengling's session cookie is the only
  authority, and the mount's guard admits only
  ``community.policy.may_use_operator_console``. Anonymous: a page request
  goes to our login page and comes back (``/login?next=/admin/``), anything
  else is a 401 problem; a member who is not such an admin gets 403.
  piccolo's login, change-password and MFA endpoints answer 404: there is no
  second password to type or change. Its logout ends the member's sessions
  everywhere (as ``POST /logout`` does) and drops the cookie.
- **CSRF.** The console keeps piccolo's own CSRF middleware (double-submit
  ``csrftoken`` cookie and ``X-CSRFToken`` header, which its front end
  sends); Litestar's CSRF middleware skips ``/admin`` (``web/mount.py``), as
  the two would otherwise claim the same header. The logout, answered here,
  checks the same pair.
- **CSP.** ``/admin`` gets a policy of its own (``api/security_headers.py``):
  the console's front end inserts ``<style>`` elements as it renders, so
  ``style-src`` allows inline styles there, and nowhere else.
- **Out of the OpenAPI document.** The mount is not an HTTP route of ours,
  so the authorisation matrix never sees it; its guard is tested in
  ``tests/integration/admin/``.
"""

from __future__ import annotations

import functools
import json
import secrets
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, asgi
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.handlers import ASGIRouteHandler
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect
from litestar.response.base import ASGIResponse
from litestar.types import Receive, Scope, Send
from piccolo_admin.endpoints import AdminRouter, create_admin, handle_auth_exception
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Mount

from admin.console_auth import PRINCIPAL_SCOPE_KEY, REDIS_SCOPE_KEY, FenglingConsoleBackend
from admin.console_forms import console_forms
from admin.console_tables import console_tables
from api.community.auth import PAGE_SESSION_OPT
from api.errors import EXCEPTION_HANDLERS
from api.guards import principal_of
from api.security_headers import CONSOLE_OPT
from community.access import Principal
from community.policy import may_use_operator_console
from community.sessions import end_all_sessions
from fengling_settings import get_settings
from web.page_errors import refused
from web.session_cookie import LOGIN_PATH, ended_session_cookie

CONSOLE_PATH = "/admin"
SITE_NAME = "风铃运营后台 Fengling console"
PAGE_SIZE = 50
# piccolo's own password endpoints: no second password exists to use them.
REFUSED_PATHS = ("/public/login", "/api/change-password", "/api/mfa-setup")
LOGOUT_PATH = "/public/logout/"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = b"x-csrftoken"


def _with_fengling_authentication(console: AdminRouter) -> AdminRouter:
    """Swap piccolo's session backend on the console's ``/api`` mount for
    ``FenglingConsoleBackend`` (the private app behind it stays as built)."""
    for index, route in enumerate(console.router.routes):
        if isinstance(route, Mount) and route.path == "/api":
            private_app = route.app.app  # type: ignore[attr-defined]
            console.router.routes[index] = Mount(
                "/api",
                app=AuthenticationMiddleware(
                    private_app,
                    backend=FenglingConsoleBackend(),
                    on_error=handle_auth_exception,  # type: ignore[arg-type]
                ),
            )
            return console
    raise RuntimeError("piccolo_admin's /api mount was not found; check the piccolo_admin version")


@functools.cache
def build_console(*, secure_cookies: bool) -> AdminRouter:
    """The console app, built once per process (it costs ~1.5 s here: a
    FastAPI app with a CRUD router per table) and shared by every app the
    process builds with the same cookie setting. Nothing in it belongs to
    one app: the principal and the Redis client arrive with each request
    (``serve_console``)."""
    console: AdminRouter = create_admin(
        tables=console_tables(),
        forms=console_forms(),
        auto_include_related=False,
        page_size=PAGE_SIZE,
        site_name=SITE_NAME,
        default_language_code="zh-CN",
        production=secure_cookies,
    )
    return _with_fengling_authentication(console)


async def requires_console_operator(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The mount's guard: a session (401 otherwise), of an admin at a root
    of the tree (403 otherwise)."""
    if not await may_use_operator_console(principal_of(connection)):
        raise PermissionDeniedException("the operator console is for admins at the top of the tree")


def _wants_page(request: Request[Any, Any, Any]) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def console_problem(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """A browser refused the console (403) sees our refusal page; anything
    else gets the app's problem+json, its ``instance`` the path as requested
    (the mount sees only the part below ``/admin``)."""
    if _wants_page(request) and isinstance(error, PermissionDeniedException):
        return refused(request, error)
    problem: Response[Any] = EXCEPTION_HANDLERS[HTTPException](request, error)
    if isinstance(problem.content, dict):
        problem.content["instance"] = CONSOLE_PATH + request.url.path
    return problem


def to_login_or_problem(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """No session: a browser opening a console page goes to our login page
    and returns here after it; the console's own API calls get a 401 problem."""
    if not _wants_page(request):
        return console_problem(request, error)
    return Redirect(
        f"{LOGIN_PATH}?next={quote(CONSOLE_PATH + '/', safe='/')}",
        status_code=303,
        cookies=[ended_session_cookie(get_settings())],
    )


async def _answer(
    scope: Scope, receive: Receive, send: Send, status: int, detail: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
    response = ASGIResponse(body=body, status_code=status, media_type="application/json", headers=headers)
    await response(scope, receive, send)


def _csrf_pair_matches(scope: Scope) -> bool:
    """piccolo's double-submit check, for the logout answered here."""
    request: Request[Any, Any, Any] = Request(scope)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = next((value.decode("latin-1") for name, value in scope["headers"] if name == CSRF_HEADER), "")
    return bool(cookie) and secrets.compare_digest(cookie, header)


async def _log_out(principal: Principal, scope: Scope, receive: Receive, send: Send) -> None:
    if not _csrf_pair_matches(scope):
        await _answer(scope, receive, send, 403, "CSRF token missing or wrong")
        return
    await end_all_sessions(principal)
    cookie = ended_session_cookie(get_settings()).to_header(header="")
    await _answer(scope, receive, send, 200, "logged out", {"set-cookie": cookie})


async def serve_console(console: AdminRouter, scope: Scope, receive: Receive, send: Send) -> None:
    """Hand an admitted request to the console, with its principal; answer
    the few paths that piccolo would answer with its own user base."""
    principal = principal_of(ASGIConnection(scope))
    path = scope["path"]  # below /admin (Litestar's router rewrote it)
    if scope.get("raw_path", b"").rstrip(b"?") == CONSOLE_PATH.encode():
        # /admin: the console's assets are relative to /admin/.
        await _answer(scope, receive, send, 308, "/admin/", {"location": CONSOLE_PATH + "/"})
        return
    if path.startswith(REFUSED_PATHS):
        await _answer(scope, receive, send, 404, "log in at /login; Fengling has one identity")
        return
    if path == LOGOUT_PATH and scope.get("method") == "POST":
        await _log_out(principal, scope, receive, send)
        return
    scope[PRINCIPAL_SCOPE_KEY] = principal  # type: ignore[literal-required]
    scope[REDIS_SCOPE_KEY] = scope["litestar_app"].state.redis  # type: ignore[literal-required]
    await console(scope, receive, send)  # type: ignore[arg-type]


def console_route(console: AdminRouter) -> ASGIRouteHandler:
    """The ``/admin`` mount for ``create_app``: guarded, out of the schema."""
    handler = asgi(
        CONSOLE_PATH,
        is_mount=True,
        copy_scope=True,
        guards=[requires_console_operator],
        exception_handlers={NotAuthorizedException: to_login_or_problem, HTTPException: console_problem},
        name="operator_console",
        # The console is a page face (the session cookie, even under its
        # /api/) with a CSP of its own: the mount sees only paths below /admin.
        opt={PAGE_SESSION_OPT: True, CONSOLE_OPT: True},
    )

    async def operator_console(scope: Scope, receive: Receive, send: Send) -> None:
        await serve_console(console, scope, receive, send)

    return handler(operator_console)
