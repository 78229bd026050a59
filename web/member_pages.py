"""The logged-in member's pages: home, statement (with its printable
version), me (profile, preferences, password, logout).

Every page answers only for the caller's own data: there is no member id in
these paths. A request without a current session is sent to the login page
(``to_login``); refusals render as pages, never as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from redis.asyncio import Redis

from api.community.auth import TOKEN_DEPENDENCIES, TokenIssuer, issue_token
from api.community.sessions import change_own_password
from api.dependencies import ActingPrincipal
from api.errors import ProblemException
from api.guards import requires_member
from api.params import Id
from api.routing import get, post
from community.access import Principal
from community.accounts import wallet_view_if_earner
from community.errors import CommunityError, InvalidMemberData, WrongPassword
from community.members import get_member
from community.organisations import get_organisation
from community.passwords import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from community.preferences import set_preferences
from community.roles import Role
from community.teams import teams_of_member
from core.clock import utc_now
from core.cursors import MAX_CURSOR_LENGTH
from core.errors import InvalidCursor
from fengling_settings import Settings
from fraud.cases import add_objection
from fraud.errors import InvalidCaseNote
from fraud.pending import awards_pending, wallet_with_pending_reviews
from leaderboards.models import Visibility
from leaderboards.visibility import set_visibility, visibility_of
from ledger.models import AccountView, StatementLine
from ledger.statements import MAX_PAGE_SIZE, statement
from web.causes import Cause, causes_for
from web.form_body import FormBody
from web.page_errors import PAGE_EXCEPTION_HANDLERS
from web.rendering import render
from web.session_cookie import display_cookies, session_cookie

HOME_LINES = 5
STATEMENT_PAGE = 20
# The printable statement: every line, up to this many (a few years of a busy volunteer).
PRINT_MAX_LINES = 2000
NOTICES = frozenset({"me_saved", "password_changed", "ranking_saved"})
VISIBILITIES = tuple(choice.value for choice in Visibility)


@dataclass(frozen=True, slots=True)
class Line:
    """A statement line as a page shows it, with what caused it."""

    line: StatementLine
    cause: Cause | None


async def shown(lines: tuple[StatementLine, ...]) -> list[Line]:
    causes = await causes_for(line.cause_ref for line in lines)
    return [Line(line, causes[line.cause_ref]) for line in lines]


@dataclass
class PreferencesForm:
    preferred_language: str = ""
    elder_mode: str = ""


@dataclass
class ObjectionForm:
    note: str = ""


@dataclass
class VisibilityForm:
    ranking_visibility: str = ""


@dataclass
class PasswordForm:
    current_password: str = ""
    new_password: str = ""


async def _wallet_of(principal: Principal) -> AccountView | None:
    """The member's wallet as home and the statements show it; None for a
    member whose roles earn no points (shop staff, organisers)."""
    return await wallet_view_if_earner(
        principal.member_id, principal.home_organisation_id, (role for _, role in principal.grants)
    )


class MemberPages(Controller):
    path = ""
    include_in_schema = False
    guards = [requires_member]
    dependencies = TOKEN_DEPENDENCIES
    exception_handlers = PAGE_EXCEPTION_HANDLERS

    @get("/", name="home")
    async def home(self, request: Request[Any, Any, Any], principal: ActingPrincipal) -> Template:
        return await self._home_page(request, principal)

    async def _home_page(
        self, request: Request[Any, Any, Any], principal: Principal, *, error: str | None = None, status_code: int = 200
    ) -> Template:
        member = await get_member(principal.member_id)
        # The wallet and its open review cases in one read (fraud.pending), as the API's wallet.
        view, pending = await wallet_with_pending_reviews(
            principal.member_id, principal.home_organisation_id, (role for _, role in principal.grants)
        )
        lines = await shown((await statement(view.code, limit=HOME_LINES)).lines) if view else []
        # Counter staff get a way to their counter (which shop: /counter decides).
        counter = Role.SHOP_STAFF in {role for _, role in principal.grants}
        return render(
            request,
            "home.html",
            member=member,
            wallet=view,
            lines=lines,
            counter=counter,
            pending=pending,
            # Awards held for review: in no balance yet (the held figure has the orders).
            awards_pending=awards_pending(pending),
            error=error,
            status_code=status_code,
        )

    @post("/pending/{case_id:int}/objection", status_code=303, name="pending_objection")
    async def pending_objection(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        case_id: Id,
        data: FormBody[ObjectionForm],
    ) -> Response[Any]:
        """The member's note against points held for review (``fraud.cases``)."""
        try:
            await add_objection(principal, case_id, note=data.note)
        except InvalidCaseNote:
            return await self._home_page(request, principal, error="pending_review_bad_note", status_code=422)
        return Redirect(f"/#pending-{case_id}", status_code=303)

    @get("/statement", name="statement")
    async def statement_page(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        cursor: Annotated[str | None, QueryParameter(max_length=MAX_CURSOR_LENGTH)] = None,
    ) -> Template:
        """Every line, a page at a time; "more" appends the next page with htmx
        (``statement_lines.html``), or loads it as a page without script."""
        member = await get_member(principal.member_id)
        template = "statement_more.html" if request.headers.get("hx-request") else "statement.html"
        member_id, home, roles = principal.member_id, principal.home_organisation_id, [r for _, r in principal.grants]
        if template == "statement.html":
            view, pending = await wallet_with_pending_reviews(member_id, home, roles)
        else:
            view, pending = await _wallet_of(principal), []
        if view is None:
            return render(request, template, member=member, wallet=None, lines=[], next_cursor=None, pending=pending)
        try:
            page = await statement(view.code, cursor=cursor, limit=STATEMENT_PAGE)
        except InvalidCursor:
            page = await statement(view.code, limit=STATEMENT_PAGE)
        return render(
            request,
            template,
            member=member,
            wallet=view,
            lines=await shown(page.lines),
            next_cursor=page.next_cursor,
            pending=pending,
        )

    @get("/statement/print", name="statement_print")
    async def statement_print(self, request: Request[Any, Any, Any], principal: ActingPrincipal) -> Template:
        """Every line on A4 in large type (``static/print.css``)."""
        member = await get_member(principal.member_id)
        view = await _wallet_of(principal)
        lines: list[StatementLine] = []
        cursor: str | None = None
        while view is not None and len(lines) < PRINT_MAX_LINES:
            page = await statement(view.code, cursor=cursor, limit=MAX_PAGE_SIZE)
            lines.extend(page.lines)
            cursor = page.next_cursor
            if cursor is None:
                break
        return render(
            request,
            "statement_print.html",
            member=member,
            wallet=view,
            lines=await shown(tuple(lines[:PRINT_MAX_LINES])),
            truncated=cursor is not None,
            printed_at=utc_now(),
        )

    @get("/me", name="me")
    async def me(self, request: Request[Any, Any, Any], principal: ActingPrincipal) -> Template:
        return await self._me_page(request, principal)

    async def _me_page(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        *,
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        member = await get_member(principal.member_id)
        grid = await get_organisation(member.home_organisation_id)
        teams = await teams_of_member(member.id)
        notice = request.query_params.get("n")
        return render(
            request,
            "me.html",
            member=member,
            grid=grid,
            teams=teams,
            error=error,
            notice=notice if notice in NOTICES else None,
            visibility=(await visibility_of(member.id)).visibility.value,
            visibilities=VISIBILITIES,
            min_password=MIN_PASSWORD_CHARS,
            max_password=MAX_PASSWORD_CHARS,
            status_code=status_code,
        )

    @post("/me/preferences", status_code=303, name="me_preferences")
    async def preferences(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        data: FormBody[PreferencesForm],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        language = data.preferred_language or None
        elder = {"1": True, "0": False}.get(data.elder_mode)
        try:
            member = await set_preferences(principal, preferred_language=language, elder_mode=elder)
        except InvalidMemberData:
            return await self._me_page(request, principal, error="me_bad_language", status_code=422)
        return Redirect(
            "/me?n=me_saved",
            status_code=303,
            cookies=display_cookies(member.preferred_language, member.elder_mode, settings),
        )

    @post("/me/ranking-visibility", status_code=303, name="me_ranking_visibility")
    async def ranking_visibility(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        redis: NamedDependency[Redis],
        data: FormBody[VisibilityForm],
    ) -> Response[Any]:
        """Masked, full name or not ranked (``leaderboards.visibility``, audited)."""
        try:
            choice = Visibility(data.ranking_visibility)
        except ValueError:
            return await self._me_page(request, principal, error="me_bad_visibility", status_code=422)
        await set_visibility(principal, choice, redis=redis)
        return Redirect("/me?n=ranking_saved", status_code=303)

    @post("/me/password", status_code=303, name="me_password")
    async def password(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        data: FormBody[PasswordForm],
        redis: NamedDependency[Redis],
        settings: NamedDependency[Settings],
        jwt_auth: NamedDependency[TokenIssuer],
    ) -> Response[Any]:
        """Every other session ends; this browser gets a fresh cookie."""
        if len(data.current_password) > MAX_PASSWORD_CHARS or len(data.new_password) > MAX_PASSWORD_CHARS:
            return await self._me_page(request, principal, error="password_too_short", status_code=422)
        try:
            member = await change_own_password(
                principal,
                redis,
                settings,
                current_password=data.current_password,
                new_password=data.new_password,
            )
        except WrongPassword:
            return await self._me_page(request, principal, error="password_wrong", status_code=422)
        except ProblemException:
            return await self._me_page(request, principal, error="password_wrong", status_code=429)
        except CommunityError:
            return await self._me_page(request, principal, error="password_too_short", status_code=422)
        token = issue_token(jwt_auth, settings, member)
        return Redirect(
            "/me?n=password_changed",
            status_code=303,
            cookies=[session_cookie(token.access_token, settings, max_age=settings.token_ttl_minutes * 60)],
        )
