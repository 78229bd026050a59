"""Earning points from the phone: the service log, patrol and report
forms, and my submissions with their status and the report rating.

Every form posts to a handler that parses (``web.earn_forms``), calls the
very service the API calls (``activities.submissions``,
``activities.verification``: policy, audit and the one-effect rules of
``client_ref`` live there) and shapes the answer. Two kinds of caller:

- a plain form post (no script): a redirect to my submissions, or the
  form again with the error named;
- the phone's outbox (``static/outbox.js``, header ``X-Fengling-Outbox``):
  JSON ``{"activity_id", "replayed"}``, or an ``application/problem+json``
  refusal (4xx) that the outbox shows under "needs attention". The outbox
  sends each queued item by itself, with the ``client_ref`` and
  ``client_recorded_at`` the phone made when it was queued, so a retry
  after a lost answer is the same effect.

A queued route point or check-out names its patrol by the check-in's
``client_ref`` (the phone never learnt the patrol's id while offline). The
check-in carries ``patrol_task_id`` when the volunteer holds a claimed
grab-order task whose window is open (``patrol_tasks.tasks_to_check_in``),
so the patrol counts for it; the 抢单 page itself is ``web.task_pages``.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from anyio import to_thread
from litestar import Controller, Request, Response
from litestar.datastructures import UploadFile
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from activities import errors as activity_errors
from activities.listing import ActivityFilter, list_activities_for
from activities.models import ActivityView, Kind, Status
from activities.patrol_tasks import tasks_to_check_in
from activities.photos import register_photo
from activities.submissions import (
    CheckOutIn,
    PatrolCheckIn,
    ReportIn,
    RoutePointIn,
    ServiceLogIn,
    add_route_points,
    check_in_patrol,
    check_out_patrol,
    log_service,
    own_activity_id,
    submit_report,
)
from activities.verification import RateIn, rate_report
from api.activities.uploads import prepare_image, save_image
from api.community.auth import TOKEN_DEPENDENCIES
from api.dependencies import ActingPrincipal
from api.errors import DOMAIN_STATUS, ProblemException, problem
from api.guards import public, requires_member
from api.params import Id
from api.routing import get, post
from campaigns import errors as campaign_errors
from campaigns.rules import ReportKind
from community import errors as community_errors
from community.access import Principal
from community.members import get_member
from community.teams import teams_of_member
from core import errors as core_errors
from core.clock import utc_now
from core.cursors import MAX_CURSOR_LENGTH
from core.errors import InvalidCursor
from fraud import errors as fraud_errors
from fraud.photo_prints import perceptual_hash
from web import earn_forms as forms
from web.earn_forms import FormProblem
from web.form_body import FormBody, UploadBody
from web.i18n import CATALOG, translate
from web.mount import STATIC
from web.page_errors import PAGE_EXCEPTION_HANDLERS
from web.rendering import language_of, render

OUTBOX_HEADER = "x-fengling-outbox"
# The phone shrinks a photo to about 300 KB; anything up to the API's limit is accepted.
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MINE_PAGE = 20
MAX_TITLE = 200
MAX_DESCRIPTION = 2000
DOMAIN_ERRORS = (
    activity_errors.ActivityError,
    campaign_errors.CampaignError,
    community_errors.CommunityError,
    fraud_errors.FraudError,
    core_errors.CoreError,
)
# Report kinds as picture buttons: the named ones first, the catch-all
# (其他情况) last, where a volunteer looks when nothing else fits.
REPORT_KINDS = (ReportKind.HAZARD, ReportKind.TIP, ReportKind.DISPUTE, ReportKind.SNAP)
NOTICES = frozenset({"earn_sent", "earn_rated"})


@dataclass
class PhoneStamp:
    """What the phone's outbox adds to every item it queues: the item's own
    ``client_ref`` and the phone's clock when it was queued."""

    client_ref: str = ""
    client_recorded_at: str = ""


@dataclass
class PlaceFields(PhoneStamp):
    """A position from the phone, with the stamp."""

    latitude: str = ""
    longitude: str = ""
    accuracy_m: str = ""


@dataclass
class ServiceForm(PhoneStamp):
    title: str = ""
    team_id: str = ""
    started_at: str = ""
    ended_at: str = ""


@dataclass
class PositionForm(PlaceFields):
    # Route points and check-out: the patrol, by its check-in's client_ref or its id.
    patrol_ref: str = ""
    activity_id: str = ""
    # Check-in: the claimed grab-order task this patrol counts for (the page
    # offers the one whose window is open; the outbox queues it with the rest).
    patrol_task_id: str = ""


@dataclass
class ReportForm(PlaceFields):
    report_kind: str = ""
    title: str = ""
    photo: UploadFile | None = field(default=None)


@dataclass
class RateForm(PhoneStamp):
    rating: str = ""
    comment: str = ""


def from_outbox(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get(OUTBOX_HEADER) == "1"


def sent(request: Request[Any, Any, Any], view: ActivityView, notice: str = "earn_sent") -> Response[Any]:
    if from_outbox(request):
        return Response({"activity_id": view.id, "replayed": view.replayed, "status": view.status.value})
    return Redirect(f"/earn/mine?n={notice}", status_code=303)


def form_refusal(request: Request[Any, Any, Any], language: str, refusal: FormProblem) -> Response[Any]:
    """A field the form could not read: 422, naming it."""
    return problem(
        request,
        status=422,
        code="invalid_form",
        detail=translate(language, refusal.key),
        field=refusal.field,
        errors=[{"field": refusal.field, "message": translate(language, refusal.key)}],
    )


def domain_refusal(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """A refusal of the domain, as the API words it (status, code, field)."""
    status = next((s for cls, s in DOMAIN_STATUS.items() if isinstance(error, cls)), 400)
    code = str(getattr(error, "code", "invalid_activity"))
    field_name = getattr(error, "field", None)
    detail = str(getattr(error, "message", error))
    return problem(request, status=status, code=code, detail=detail, field=field_name)


def refusal_words(language: str, error: Exception) -> str:
    """Why the domain refused, for the plain form: a grab-order task's
    refusal (``task_closed``, ``task_not_claimed``…) in the catalog's plain
    words, any other in the domain's own message."""
    if isinstance(error, activity_errors.ClaimRefused) and error.code in CATALOG:
        return translate(language, error.code)
    return str(getattr(error, "message", error))


async def _store_photo(principal: Principal, upload: UploadFile) -> str:
    """The report's photo through the API's upload path: decoded,
    re-encoded, stored under its SHA-256 (the same bytes sent again are
    the same photo, counted once against the daily quota)."""
    try:
        image = await prepare_image(upload, max_bytes=MAX_PHOTO_BYTES, problem_code="invalid_activity")
    except ProblemException as refused:
        raise FormProblem("photo", "form_bad_photo") from refused
    await register_photo(
        sha256=image.sha256,
        content_type=image.content_type,
        size_bytes=image.size_bytes,
        member_id=principal.member_id,
        phash=await to_thread.run_sync(perceptual_hash, image.content),
    )
    return (await save_image("reports", image)).sha256


async def _patrol_id(principal: Principal, data: PositionForm) -> int:
    if data.patrol_ref.strip():
        return await own_activity_id(principal, forms.text(data.patrol_ref, "patrol_ref", max_chars=100), Kind.PATROL)
    found = forms.optional_id(data.activity_id, "activity_id")
    if found is None:
        raise FormProblem("patrol_ref", "form_no_patrol")
    return found


class EarnPages(Controller):
    path = "/earn"
    include_in_schema = False
    guards = [requires_member]
    dependencies = TOKEN_DEPENDENCIES
    exception_handlers = PAGE_EXCEPTION_HANDLERS

    async def _page(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        template: str,
        *,
        error: str | None = None,
        status_code: int = 200,
        **context: Any,
    ) -> Template:
        member = await get_member(principal.member_id)
        notice = request.query_params.get("n")
        return render(
            request,
            template,
            member=member,
            error=error,
            notice=notice if notice in NOTICES else None,
            status_code=status_code,
            **context,
        )

    async def _answer(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        template: str,
        work: Any,
        notice: str = "earn_sent",
        **context: Any,
    ) -> Response[Any]:
        """Run ``work`` (parse and call the service); shape its outcome for
        the outbox (JSON) or the plain form (redirect, or the form again)."""
        member = await get_member(principal.member_id)
        language = language_of(request, member)
        try:
            view: ActivityView = await work()
        except FormProblem as refusal:
            if from_outbox(request):
                return form_refusal(request, language, refusal)
            return await self._form_again(request, principal, template, refusal.key, context)
        except DOMAIN_ERRORS as error:
            if from_outbox(request):
                return domain_refusal(request, error)
            message = refusal_words(language, error)
            return await self._form_again(
                request, principal, template, "earn_refused", {**context, "error_values": {"reason": message}}
            )
        return sent(request, view, notice)

    async def _form_page(
        self, request: Request[Any, Any, Any], principal: ActingPrincipal, template: str, **context: Any
    ) -> Template:
        """A form with what it lists (teams, kinds, the open patrol, my
        items); ``context`` as ``_page`` takes it (error, status_code…)."""
        lists = await self._context_for(template, principal)
        return await self._page(request, principal, template, **lists, **context)

    async def _form_again(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        template: str,
        error: str,
        context: dict[str, Any],
    ) -> Template:
        return await self._form_page(request, principal, template, error=error, status_code=422, **context)

    async def _context_for(self, template: str, principal: ActingPrincipal) -> dict[str, Any]:
        if template == "earn_service.html":
            return {"teams": await teams_of_member(principal.member_id)}
        if template == "earn_report.html":
            return {"kinds": REPORT_KINDS}
        if template == "earn_patrol.html":
            return {
                "open_patrol": await self._open_patrol(principal),
                "check_in_tasks": await tasks_to_check_in(principal),
            }
        if template == "earn_mine.html":
            page = await list_activities_for(principal, view="mine", where=ActivityFilter(), limit=MINE_PAGE)
            return {"items": page.items, "next_cursor": page.next_cursor}
        return {}

    async def _open_patrol(self, principal: ActingPrincipal) -> ActivityView | None:
        page = await list_activities_for(
            principal, view="mine", where=ActivityFilter(kind=Kind.PATROL, status=Status.CHECKED_IN), limit=1
        )
        return page.items[0] if page.items else None

    @get("", name="earn")
    async def earn(self, request: Request[Any, Any, Any], principal: ActingPrincipal) -> Template:
        return await self._page(request, principal, "earn.html")

    @get("/service", name="earn_service")
    async def service_form(self, request: Request[Any, Any, Any], principal: ActingPrincipal) -> Template:
        return await self._form_page(request, principal, "earn_service.html")

    @post("/service", status_code=200, name="earn_service_post")
    async def service(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        data: FormBody[ServiceForm],
    ) -> Response[Any]:
        async def work() -> ActivityView:
            log = ServiceLogIn(
                title=forms.text(data.title, "title", max_chars=MAX_TITLE),
                team_id=forms.optional_id(data.team_id, "team_id"),
                started_at=forms.china_local_time(data.started_at, "started_at"),
                ended_at=forms.china_local_time(data.ended_at, "ended_at"),
                client_ref=forms.client_ref(data.client_ref),
                recorded_at=forms.phone_time(data.client_recorded_at),
            )
            return await log_service(principal, log)

        return await self._answer(request, principal, "earn_service.html", work)

    @get("/patrol", name="earn_patrol")
    async def patrol_page(self, request: Request[Any, Any, Any], principal: ActingPrincipal) -> Template:
        return await self._form_page(request, principal, "earn_patrol.html")

    @post("/patrol/check-in", status_code=200, name="earn_check_in")
    async def check_in(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        data: FormBody[PositionForm],
    ) -> Response[Any]:
        async def work() -> ActivityView:
            check_in = PatrolCheckIn(
                position=forms.position(data.latitude, data.longitude, data.accuracy_m),
                patrol_task_id=forms.optional_id(data.patrol_task_id, "patrol_task_id"),
                client_ref=forms.client_ref(data.client_ref),
                recorded_at=forms.phone_time(data.client_recorded_at),
            )
            return await check_in_patrol(principal, check_in)

        return await self._answer(request, principal, "earn_patrol.html", work)

    @post("/patrol/route", status_code=200, name="earn_route")
    async def route(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        data: FormBody[PositionForm],
    ) -> Response[Any]:
        async def work() -> ActivityView:
            place = forms.position(data.latitude, data.longitude, data.accuracy_m)
            at = forms.phone_time(data.client_recorded_at) or utc_now()
            patrol_id = await _patrol_id(principal, data)
            return await add_route_points(principal, patrol_id, [RoutePointIn(position=place, at=at)])

        return await self._answer(request, principal, "earn_patrol.html", work)

    @post("/patrol/check-out", status_code=200, name="earn_check_out")
    async def check_out(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        data: FormBody[PositionForm],
    ) -> Response[Any]:
        async def work() -> ActivityView:
            place = forms.position(data.latitude, data.longitude, data.accuracy_m)
            ended = CheckOutIn(
                latitude=place.latitude,
                longitude=place.longitude,
                accuracy_m=place.accuracy_m,
                recorded_at=forms.phone_time(data.client_recorded_at),
            )
            patrol_id = await _patrol_id(principal, data)
            return await check_out_patrol(principal, patrol_id, ended, recorded_at=ended.recorded_at)

        return await self._answer(request, principal, "earn_patrol.html", work)

    @get("/report", name="earn_report")
    async def report_form(self, request: Request[Any, Any, Any], principal: ActingPrincipal) -> Template:
        return await self._form_page(request, principal, "earn_report.html")

    @post("/report", status_code=200, name="earn_report_post", request_max_body_size=MAX_PHOTO_BYTES + 64 * 1024)
    async def report(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        data: UploadBody[ReportForm],
    ) -> Response[Any]:
        async def work() -> ActivityView:
            text = forms.text(data.title, "title", max_chars=MAX_DESCRIPTION)
            submission = ReportIn(
                report_kind=forms.report_kind(data.report_kind),
                title=text[:MAX_TITLE],
                description=text if len(text) > MAX_TITLE else "",
                position=forms.position(data.latitude, data.longitude, data.accuracy_m),
                client_ref=forms.client_ref(data.client_ref),
                recorded_at=forms.phone_time(data.client_recorded_at),
            )
            photo = data.photo
            if photo is not None and photo.filename:
                submission = submission.model_copy(update={"photos": [await _store_photo(principal, photo)]})
            return await submit_report(principal, submission)

        return await self._answer(request, principal, "earn_report.html", work)

    @get("/mine", name="earn_mine")
    async def mine(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        cursor: Annotated[str | None, QueryParameter(max_length=MAX_CURSOR_LENGTH)] = None,
    ) -> Template:
        """My submissions, newest first, a page at a time."""
        try:
            page = await list_activities_for(
                principal, view="mine", where=ActivityFilter(), cursor=cursor, limit=MINE_PAGE
            )
        except InvalidCursor:
            page = await list_activities_for(principal, view="mine", where=ActivityFilter(), limit=MINE_PAGE)
        return await self._page(
            request,
            principal,
            "earn_mine.html",
            items=page.items,
            next_cursor=page.next_cursor,
        )

    @post("/mine/{activity_id:int}/rate", status_code=200, name="earn_rate")
    async def rate(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        activity_id: Id,
        data: FormBody[RateForm],
    ) -> Response[Any]:
        async def work() -> ActivityView:
            rated = RateIn(
                rating=forms.rating(data.rating),
                comment=forms.text(data.comment, "comment", max_chars=1000, required=False),
            )
            return await rate_report(principal, activity_id, data=rated)

        return await self._answer(request, principal, "earn_mine.html", work, notice="earn_rated")


SERVICE_WORKER = STATIC / "service-worker.js"
# The worker's cache name as written in service-worker.js; served with the static files' digest.
SHELL_VERSION_MARK = "fengling-shell-dev"


def shell_version(static_dir: Path) -> str:
    """A name for the offline shell's cache that changes whenever any static
    file does. The worker serves static files cache first and their URLs
    carry no version, so a phone would keep an old ``pages.css`` for good
    unless the cache is renamed; a changed name also changes ``/sw.js``'s
    bytes, which is what makes the browser install the new worker."""
    digest = hashlib.sha256()
    for path in sorted(p for p in static_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(static_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return f"fengling-shell-{digest.hexdigest()[:16]}"


@functools.cache
def service_worker_script() -> bytes:
    """``service-worker.js`` with its cache named by ``shell_version`` (read
    once per process: the files do not change under a running server)."""
    script = SERVICE_WORKER.read_text(encoding="utf-8")
    if SHELL_VERSION_MARK not in script:
        raise RuntimeError(f"{SERVICE_WORKER} lost its cache name {SHELL_VERSION_MARK!r}")
    return script.replace(SHELL_VERSION_MARK, shell_version(STATIC)).encode()


class ServiceWorkerScript(Controller):
    """``/sw.js``: the offline shell's service worker, served from the root
    so that its scope is every page (a worker under ``/static/`` could only
    control ``/static/``). Always revalidated, so a new version reaches the
    phones on their next visit."""

    path = "/sw.js"
    include_in_schema = False

    @get("", guards=[public], opt={"exclude_from_auth": True}, name="service_worker")
    async def script(self) -> Response[bytes]:
        content = await to_thread.run_sync(service_worker_script)
        return Response(
            content,
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
        )
