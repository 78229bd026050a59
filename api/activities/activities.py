"""Activities from the phone, and the verification loop.

A volunteer sees their own activities; a reviewer (a post holder or
manager over the grid) sees and acts on those in their area. Anything else
answers 404, as if it did not exist. The rules are ``activities/policy.py``,
applied by the services; handlers parse, call and shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from anyio import to_thread
from litestar import Controller, Response
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody, QueryParameter

from activities.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ActivityFilter, list_activities_for
from activities.models import Kind, Status
from activities.patrol_tasks import claim_task, create_patrol_task, patrol_tasks_near, release_claim, task_claims
from activities.photos import register_photo
from activities.policy import visible_activity
from activities.submission_rules import MAX_ROUTE_POINTS_PER_CALL
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
    submit_report,
    visible_photo,
)
from activities.verification import (
    HandleIn,
    RateIn,
    RejectIn,
    VerifyIn,
    assign_report,
    handle_report,
    rate_report,
    reject_activity,
    verify_activity,
)
from api.activities.uploads import ImageUpload, Sha256, prepare_image, read_image, save_image
from api.dependencies import ActingPrincipal
from api.guards import requires_manager, requires_member
from api.params import MAX_ID, Id
from api.routing import get, post
from api.schemas.activities import (
    ActivityOut,
    ActivityPageOut,
    ActivityScope,
    AssignIn,
    PatrolTaskIn,
    PatrolTaskOut,
    PhotoOut,
    TaskClaimOut,
    activity_out,
    patrol_task_out,
)
from campaigns.rules import ReportKind
from fraud.photo_prints import perceptual_hash

# A phone photo, re-encoded by the app, fits well within this.
MAX_PHOTO_BYTES = 5 * 1024 * 1024


class ActivitiesController(Controller):
    path = "/api/v1/activities"
    tags = ["activities"]
    guards = [requires_member]

    @post("/service", operation_id="logService", summary="记录志愿服务时长 · Log service hours", status_code=201)
    async def service(self, principal: ActingPrincipal, data: JSONBody[ServiceLogIn]) -> ActivityOut:
        return activity_out(await log_service(principal, data))

    @post("/patrols", operation_id="checkInPatrol", summary="巡逻签到 · Check in for a patrol", status_code=201)
    async def check_in(self, principal: ActingPrincipal, data: JSONBody[PatrolCheckIn]) -> ActivityOut:
        return activity_out(await check_in_patrol(principal, data))

    @post(
        "/patrols/{activity_id:int}/route",
        operation_id="addPatrolRoute",
        summary="巡逻轨迹点 · Add route points",
        status_code=200,
    )
    async def route(
        self,
        principal: ActingPrincipal,
        activity_id: Id,
        data: Annotated[list[RoutePointIn], Body(max_length=MAX_ROUTE_POINTS_PER_CALL)],
    ) -> ActivityOut:
        return activity_out(await add_route_points(principal, activity_id, data))

    @post(
        "/patrols/{activity_id:int}/check-out",
        operation_id="checkOutPatrol",
        summary="巡逻签退 · Check out; the patrol goes to verification",
        status_code=200,
    )
    async def check_out(self, principal: ActingPrincipal, activity_id: Id, data: JSONBody[CheckOutIn]) -> ActivityOut:
        return activity_out(await check_out_patrol(principal, activity_id, data, recorded_at=data.recorded_at))

    @post(
        "/reports", operation_id="submitReport", summary="随手报：隐患、线索、纠纷、其他情况 · Report", status_code=201
    )
    async def report(self, principal: ActingPrincipal, data: JSONBody[ReportIn]) -> ActivityOut:
        return activity_out(await submit_report(principal, data))

    @post(
        "/photos",
        operation_id="uploadReportPhoto",
        summary="上传照片 · Upload a photo (PNG, JPEG or WebP, ≤ 5 MB)",
        status_code=201,
    )
    async def upload_photo(
        self,
        principal: ActingPrincipal,
        data: Annotated[ImageUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> PhotoOut:
        # Recorded (duplicate and quota checks) before it is written: a refused
        # upload leaves no file, and a retry after a failed write heals it.
        image = await prepare_image(data.data, max_bytes=MAX_PHOTO_BYTES, problem_code="invalid_activity")
        await register_photo(
            sha256=image.sha256,
            content_type=image.content_type,
            size_bytes=image.size_bytes,
            member_id=principal.member_id,
            phash=await to_thread.run_sync(perceptual_hash, image.content),
        )
        return PhotoOut.model_validate(await save_image("reports", image), from_attributes=True)

    @get("/photos/{sha256:str}", operation_id="getReportPhoto", summary="A report photo")
    async def photo(self, principal: ActingPrincipal, sha256: Sha256) -> Response[bytes]:
        await visible_photo(principal, sha256)
        content, media_type = await read_image("reports", sha256)
        return Response(content, media_type=media_type, headers={"Cache-Control": "private, max-age=86400"})

    @get("", operation_id="listActivities", summary="我的记录 / 待我审核 · My activities, or those I review")
    async def list_all(
        self,
        principal: ActingPrincipal,
        view: Annotated[
            ActivityScope, QueryParameter(name="scope", description="mine: my own; review: those I may verify")
        ] = "mine",
        status: Annotated[Status | None, QueryParameter()] = None,
        kind: Annotated[Kind | None, QueryParameter()] = None,
        report_kind: Annotated[ReportKind | None, QueryParameter()] = None,
        organisation_id: Annotated[
            int | None, QueryParameter(ge=1, le=MAX_ID, description="a grid (or any node): it and below")
        ] = None,
        campaign_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
        started_from: Annotated[datetime | None, QueryParameter(name="from", description="started at or after")] = None,
        started_before: Annotated[datetime | None, QueryParameter(name="to", description="started before")] = None,
        overdue: Annotated[bool | None, QueryParameter()] = None,
        cursor: Annotated[
            str | None, QueryParameter(max_length=64, description="next_cursor of the page before")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    ) -> ActivityPageOut:
        where = ActivityFilter(
            status=status,
            kind=kind,
            report_kind=report_kind,
            campaign_id=campaign_id,
            organisation_id=organisation_id,
            started_from=started_from,
            started_before=started_before,
            overdue=overdue,
        )
        page = await list_activities_for(principal, view=view, where=where, cursor=cursor, limit=limit)
        return ActivityPageOut(items=[activity_out(a) for a in page.items], next_cursor=page.next_cursor)

    @get("/{activity_id:int}", operation_id="getActivity", summary="记录详情 · One activity")
    async def detail(self, principal: ActingPrincipal, activity_id: Id) -> ActivityOut:
        return activity_out(await visible_activity(principal, activity_id))

    @post("/{activity_id:int}/verify", operation_id="verifyActivity", summary="审核通过并发放积分", status_code=200)
    async def verify(
        self, principal: ActingPrincipal, activity_id: Id, data: JSONBody[VerifyIn | None] = None
    ) -> ActivityOut:
        return activity_out(await verify_activity(principal, activity_id, data=data))

    @post("/{activity_id:int}/reject", operation_id="rejectActivity", summary="驳回（已发积分则冲正）", status_code=200)
    async def reject(self, principal: ActingPrincipal, activity_id: Id, data: JSONBody[RejectIn]) -> ActivityOut:
        return activity_out(await reject_activity(principal, activity_id, reason=data.reason))

    @post("/{activity_id:int}/assign", operation_id="assignReport", summary="交办 · Assign a report", status_code=200)
    async def assign(self, principal: ActingPrincipal, activity_id: Id, data: JSONBody[AssignIn]) -> ActivityOut:
        return activity_out(await assign_report(principal, activity_id, handler_id=data.handler_id))

    @post(
        "/{activity_id:int}/handle",
        operation_id="handleReport",
        summary="办结并反馈 · Handled, with feedback",
        status_code=200,
    )
    async def handle(self, principal: ActingPrincipal, activity_id: Id, data: JSONBody[HandleIn]) -> ActivityOut:
        return activity_out(await handle_report(principal, activity_id, data=data))

    @post(
        "/{activity_id:int}/rate", operation_id="rateReport", summary="评价办理结果 · Rate the outcome", status_code=200
    )
    async def rate(self, principal: ActingPrincipal, activity_id: Id, data: JSONBody[RateIn]) -> ActivityOut:
        return activity_out(await rate_report(principal, activity_id, data=data))


class PatrolTasksController(Controller):
    path = "/api/v1/patrol-tasks"
    tags = ["activities"]

    @post("", guards=[requires_manager], operation_id="createPatrolTask", summary="发布巡逻任务", status_code=201)
    async def create(self, principal: ActingPrincipal, data: JSONBody[PatrolTaskIn]) -> PatrolTaskOut:
        return patrol_task_out(
            await create_patrol_task(
                principal,
                organisation_id=data.organisation_id,
                title_zh=data.title_zh,
                title_en=data.title_en,
                description=data.description,
                area=data.area,
                grab_order=data.grab_order(),
            )
        )

    @get("", guards=[requires_member], operation_id="listPatrolTasks", summary="巡逻任务 · Patrol tasks near me")
    async def list_all(
        self,
        principal: ActingPrincipal,
        open_only: Annotated[
            bool, QueryParameter(description="only tasks still open: not over, and with a slot left or mine")
        ] = False,
    ) -> list[PatrolTaskOut]:
        views = await patrol_tasks_near(principal, open_only=open_only)
        return [patrol_task_out(view.task, view.my_claim) for view in views]

    @post(
        "/{task_id:int}/claim",
        guards=[requires_member],
        operation_id="claimPatrolTask",
        summary="抢单 · Claim a slot",
        status_code=201,
    )
    async def claim(self, principal: ActingPrincipal, task_id: Id) -> TaskClaimOut:
        return TaskClaimOut.model_validate(await claim_task(principal, task_id))

    @post(
        "/{task_id:int}/release",
        guards=[requires_member],
        operation_id="releasePatrolTask",
        summary="退出抢单 · Give the slot back",
        status_code=200,
    )
    async def release(self, principal: ActingPrincipal, task_id: Id) -> TaskClaimOut:
        return TaskClaimOut.model_validate(await release_claim(principal, task_id))

    @get(
        "/{task_id:int}/claims",
        guards=[requires_manager],
        operation_id="listPatrolTaskClaims",
        summary="抢单名单 · Who claimed, who did not show",
    )
    async def claims(self, principal: ActingPrincipal, task_id: Id) -> list[TaskClaimOut]:
        return [TaskClaimOut.model_validate(claim) for claim in await task_claims(principal, task_id)]
