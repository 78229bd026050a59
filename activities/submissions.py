"""What volunteers submit from their phones: service logs, patrols, reports.

Every submission is one transaction. A phone on a bad network retries: a
``client_ref`` (the phone's own id for the submission) makes the retry
return the first activity instead of creating a second one. Timed
activities (service and patrol) of one person never overlap; the member's
row is locked (PostgreSQL) while that is checked, so two concurrent
submissions cannot both pass.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from activities.deadlines import accept_due
from activities.errors import (
    ActivityNotFound,
    ActivityNotOpen,
    ActivityOverlap,
    InvalidActivity,
    PhotoNotFound,
    PhotoUnavailable,
)
from activities.periods import award_day, award_week

# Recording a photo (with its daily quota) lives in activities/photos.py;
# re-exported for callers that submit and upload together.
from activities.photos import register_photo as register_photo
from activities.policy import applicable_campaign_for, check_own_patrol, may_see_photo
from activities.records import ActivityOut, Kind, Position, Status, get_activity, lock_activity
from activities.tables import Activity, ActivityPhoto, PatrolPoint, PatrolTask, Photo
from campaigns.rules import ReportKind
from community.access import Principal
from community.members import get_member
from community.organisations import issuing_organisation_for, subtree_ids
from community.policy import visible_organisation
from community.tables import Member
from community.teams import is_team_member
from core.clock import utc_now
from core.database import in_write_transaction, is_sqlite
from core.ids import RowId

MAX_SERVICE_MINUTES = 12 * 60
MAX_PATROL_MINUTES = 12 * 60
# A log may be entered up to this long after the fact.
MAX_BACKDATE = timedelta(days=30)
# Phones' clocks drift; a little of the future is tolerated.
CLOCK_SKEW = timedelta(minutes=5)
MAX_ROUTE_POINTS = 500
MAX_ROUTE_POINTS_PER_CALL = 100
MAX_PHOTOS = 9
TIMED_KINDS = (Kind.SERVICE.value, Kind.PATROL.value)


class ServiceLogIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    started_at: datetime
    ended_at: datetime
    team_id: RowId | None = None
    organisation_id: RowId | None = None
    campaign_id: RowId | None = None
    client_ref: str | None = Field(default=None, min_length=1, max_length=100)


class ReportIn(BaseModel):
    report_kind: ReportKind
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    position: Position
    occurred_at: datetime | None = None
    photos: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS)
    organisation_id: RowId | None = None
    campaign_id: RowId | None = None
    client_ref: str | None = Field(default=None, min_length=1, max_length=100)


class PatrolCheckIn(BaseModel):
    position: Position
    patrol_task_id: RowId | None = None
    team_id: RowId | None = None
    organisation_id: RowId | None = None
    campaign_id: RowId | None = None
    title: str = Field(default="", max_length=200)
    client_ref: str | None = Field(default=None, min_length=1, max_length=100)


class RoutePointIn(BaseModel):
    position: Position
    at: datetime


def check_position(position: Position, field: str = "position") -> None:
    if not -90 <= position.latitude <= 90:
        raise InvalidActivity("latitude must be between -90 and 90", field=f"{field}.latitude")
    if not -180 <= position.longitude <= 180:
        raise InvalidActivity("longitude must be between -180 and 180", field=f"{field}.longitude")
    if position.accuracy_m is not None and not 0 <= position.accuracy_m <= 10_000:
        raise InvalidActivity("accuracy_m must be between 0 and 10000 metres", field=f"{field}.accuracy_m")


def _aware(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None:
        raise InvalidActivity("times need a time zone, e.g. 2026-11-22T09:00:00+08:00", field=field)
    return moment


async def _place(principal: Principal, organisation_id: int | None) -> int:
    """Where the activity happened: the member's home organisation by
    default, else a node within the area that issues their points. A node
    outside it that they may not even see answers as a missing one."""
    member = await get_member(principal.member_id)
    place = organisation_id if organisation_id is not None else member.home_organisation_id
    issuer = await issuing_organisation_for(member.home_organisation_id)
    area = await subtree_ids(issuer.id if issuer is not None else member.home_organisation_id)
    if place not in area:
        await visible_organisation(principal, place)
        raise InvalidActivity("this place is outside the area your points are issued for", field="organisation_id")
    return place


async def _check_team(team_id: int | None, member_id: int) -> None:
    if team_id is not None and not await is_team_member(team_id, member_id):
        raise InvalidActivity(f"you are not a member of team {team_id}", field="team_id")


async def _lock_member(member_id: int) -> None:
    query = Member.select(Member.id).where(Member.id == member_id)
    if not is_sqlite():
        query = query.lock_rows()
    await query.run()


async def _check_no_overlap(member_id: int, started_at: datetime, ended_at: datetime | None) -> None:
    """No other live timed activity of this member overlaps [started, ended)."""
    query = Activity.select(Activity.id, Activity.title).where(
        (Activity.member == member_id)
        & Activity.kind.is_in(list(TIMED_KINDS))
        & (Activity.status != Status.REJECTED.value)
        & (Activity.ended_at.is_null() | (Activity.ended_at > started_at))
    )
    if ended_at is not None:
        query = query.where(Activity.started_at < ended_at)
    clash = await query.limit(1).run()
    if clash:
        raise ActivityOverlap(
            f"overlaps your activity {clash[0]['id']} ({clash[0]['title']}); one person cannot be in two places",
            field="started_at",
        )


async def _replay(member_id: int, client_ref: str | None, kind: Kind) -> ActivityOut | None:
    if client_ref is None:
        return None
    rows = (
        await Activity.select(Activity.id, Activity.kind)
        .where((Activity.member == member_id) & (Activity.client_ref == client_ref))
        .run()
    )
    if not rows:
        return None
    if rows[0]["kind"] != kind:
        raise InvalidActivity("client_ref was already used for another kind of activity", field="client_ref")
    return await get_activity(rows[0]["id"], replayed=True)


async def _insert(values: dict[str, Any], *, moment: datetime, submitted: bool) -> int:
    now = values["updated_at"]
    values |= {
        "award_day": award_day(moment),
        "award_week": award_week(moment),
        "responsible_organisation": values["organisation"],
        "submitted_at": now if submitted else None,
        "due_at": accept_due(now) if submitted else None,
    }
    inserted = await Activity.insert(Activity(**values)).run()
    return int(inserted[0]["id"])


async def _submit(
    member_id: int, client_ref: str | None, kind: Kind, work: Callable[[], Awaitable[int]]
) -> ActivityOut:
    async def guarded() -> ActivityOut | int:
        await _lock_member(member_id)
        replay = await _replay(member_id, client_ref, kind)
        return replay if replay is not None else await work()

    # A unique violation on (member, client_ref): a concurrent twin won; the
    # re-run finds and replays it.
    result = await in_write_transaction(guarded, retry_unique=True)
    return result if isinstance(result, ActivityOut) else await get_activity(result)


async def log_service(principal: Principal, data: ServiceLogIn, *, now: datetime | None = None) -> ActivityOut:
    """The principal's own service log: hours come from the times, never
    from the volunteer."""
    member_id = principal.member_id
    now = now or utc_now()
    started = _aware(data.started_at, "started_at")
    ended = _aware(data.ended_at, "ended_at")
    if ended <= started:
        raise InvalidActivity("ended_at must be after started_at", field="ended_at")
    minutes = int((ended - started).total_seconds() // 60)
    if minutes < 1:
        raise InvalidActivity("a service log lasts at least one minute", field="ended_at")
    if minutes > MAX_SERVICE_MINUTES:
        raise InvalidActivity(f"one log covers at most {MAX_SERVICE_MINUTES // 60} hours", field="ended_at")
    if ended > now + CLOCK_SKEW:
        raise InvalidActivity("a service log cannot end in the future", field="ended_at")
    if started < now - MAX_BACKDATE:
        raise InvalidActivity(f"logs older than {MAX_BACKDATE.days} days are not accepted", field="started_at")
    place = await _place(principal, data.organisation_id)
    await _check_team(data.team_id, member_id)
    campaign = await applicable_campaign_for(principal, data.campaign_id, organisation_id=place, moment=started)
    campaign_id = campaign.id if campaign is not None else None

    async def work() -> int:
        await _check_no_overlap(member_id, started, ended)
        return await _insert(
            {
                "kind": Kind.SERVICE.value,
                "status": Status.SUBMITTED.value,
                "member": member_id,
                "organisation": place,
                "campaign": campaign_id,
                "team": data.team_id,
                "title": data.title.strip(),
                "description": data.description.strip(),
                "started_at": started,
                "ended_at": ended,
                "minutes": minutes,
                "client_ref": data.client_ref,
                "updated_at": now,
            },
            moment=started,
            submitted=True,
        )

    return await _submit(member_id, data.client_ref, Kind.SERVICE, work)


async def check_in_patrol(principal: Principal, data: PatrolCheckIn, *, now: datetime | None = None) -> ActivityOut:
    """Start the principal's patrol (a task or a free patrol) at their
    position. The server's clock, not the phone's, times the patrol."""
    member_id = principal.member_id
    now = now or utc_now()
    check_position(data.position)
    place = await _place(principal, data.organisation_id)
    await _check_team(data.team_id, member_id)
    title = data.title.strip()
    if data.patrol_task_id is not None:
        tasks = await PatrolTask.select().where(PatrolTask.id == data.patrol_task_id).run()
        # One answer for a missing, ended or elsewhere task: task ids of other areas cannot be probed.
        no_task = InvalidActivity(f"no active patrol task {data.patrol_task_id} here", field="patrol_task_id")
        if not tasks or not tasks[0]["active"]:
            raise no_task
        if tasks[0]["organisation"] not in await subtree_ids(place) and place not in await subtree_ids(
            tasks[0]["organisation"]
        ):
            raise no_task
        title = title or tasks[0]["title_zh"]
    campaign = await applicable_campaign_for(principal, data.campaign_id, organisation_id=place, moment=now)
    campaign_id = campaign.id if campaign is not None else None

    async def work() -> int:
        await _check_no_overlap(member_id, now, None)
        activity_id = await _insert(
            {
                "kind": Kind.PATROL.value,
                "status": Status.CHECKED_IN.value,
                "member": member_id,
                "organisation": place,
                "campaign": campaign_id,
                "team": data.team_id,
                "patrol_task": data.patrol_task_id,
                "title": title or "自由巡逻",
                "started_at": now,
                "latitude": data.position.latitude,
                "longitude": data.position.longitude,
                "accuracy_m": data.position.accuracy_m,
                "client_ref": data.client_ref,
                "updated_at": now,
            },
            moment=now,
            submitted=False,
        )
        await _add_point(activity_id, "check_in", data.position, now)
        return activity_id

    return await _submit(member_id, data.client_ref, Kind.PATROL, work)


async def _add_point(activity_id: int, kind: str, position: Position, at: datetime) -> None:
    await PatrolPoint.insert(
        PatrolPoint(
            activity=activity_id,
            kind=kind,
            latitude=position.latitude,
            longitude=position.longitude,
            accuracy_m=position.accuracy_m,
            at=at,
        )
    ).run()


async def _own_open_patrol(principal: Principal, activity_id: int) -> dict[str, Any]:
    """The principal's own patrol, still under way, locked. Someone else's
    activity answers exactly as a missing one (``policy.check_own_patrol``)."""
    try:
        found: dict[str, Any] | None = await lock_activity(activity_id)
    except ActivityNotFound:
        found = None
    row = check_own_patrol(principal, activity_id, found)
    if row["kind"] != Kind.PATROL:
        raise InvalidActivity(f"activity {activity_id} is not a patrol", field="activity_id")
    if row["status"] != Status.CHECKED_IN:
        raise ActivityNotOpen(f"patrol {activity_id} is already checked out", field="activity_id")
    return row


async def add_route_points(
    principal: Principal, activity_id: int, points: Sequence[RoutePointIn], *, now: datetime | None = None
) -> ActivityOut:
    """Positions recorded along the way (the phone may batch them)."""
    now = now or utc_now()
    if not 1 <= len(points) <= MAX_ROUTE_POINTS_PER_CALL:
        raise InvalidActivity(f"send 1-{MAX_ROUTE_POINTS_PER_CALL} points at a time", field="points")
    for index, point in enumerate(points):
        check_position(point.position, f"points.{index}.position")
        _aware(point.at, f"points.{index}.at")

    async def work() -> None:
        row = await _own_open_patrol(principal, activity_id)
        for index, point in enumerate(points):
            if not row["started_at"] <= point.at <= now + CLOCK_SKEW:
                raise InvalidActivity("a route point must fall within the patrol", field=f"points.{index}.at")
        count = await PatrolPoint.count().where(PatrolPoint.activity == activity_id).run()
        if count + len(points) > MAX_ROUTE_POINTS:
            raise InvalidActivity(f"a patrol records at most {MAX_ROUTE_POINTS} points", field="points")
        for point in points:
            await _add_point(activity_id, "route", point.position, point.at)

    await in_write_transaction(work)
    return await get_activity(activity_id)


async def check_out_patrol(
    principal: Principal, activity_id: int, position: Position, *, now: datetime | None = None
) -> ActivityOut:
    """End the patrol; it goes to verification with its duration."""
    now = now or utc_now()
    check_position(position)

    async def work() -> None:
        row = await _own_open_patrol(principal, activity_id)
        minutes = int((now - row["started_at"]).total_seconds() // 60)
        if minutes > MAX_PATROL_MINUTES:
            minutes = MAX_PATROL_MINUTES
        await _add_point(activity_id, "check_out", position, now)
        await (
            Activity.update(
                {
                    Activity.status: Status.SUBMITTED.value,
                    Activity.ended_at: now,
                    Activity.minutes: minutes,
                    Activity.submitted_at: now,
                    Activity.due_at: accept_due(now),
                    Activity.updated_at: now,
                }
            )
            .where(Activity.id == activity_id)
            .run()
        )

    await in_write_transaction(work)
    return await get_activity(activity_id)


async def _attach_photos(activity_id: int, member_id: int, hashes: Sequence[str]) -> None:
    if len(set(hashes)) != len(hashes):
        raise InvalidActivity("the same photo is listed twice", field="photos")
    for index, sha256 in enumerate(hashes):
        rows = await Photo.select(Photo.id).where(Photo.sha256 == sha256.lower()).run()
        if not rows:
            raise PhotoNotFound(f"photo {sha256} was not uploaded; upload it first", field=f"photos.{index}")
        elsewhere = (
            await ActivityPhoto.select(ActivityPhoto.activity)
            .where((ActivityPhoto.photo == rows[0]["id"]) & (ActivityPhoto.activity.member != member_id))
            .limit(1)
            .run()
        )
        if elsewhere:
            raise InvalidActivity("this photo is already part of someone else's report", field=f"photos.{index}")
        await ActivityPhoto.insert(ActivityPhoto(activity=activity_id, photo=rows[0]["id"])).run()


async def submit_report(principal: Principal, data: ReportIn, *, now: datetime | None = None) -> ActivityOut:
    """The principal's hazard, tip, dispute or snapshot, with where and
    (optionally) photos."""
    member_id = principal.member_id
    now = now or utc_now()
    check_position(data.position)
    occurred = _aware(data.occurred_at, "occurred_at") if data.occurred_at is not None else now
    if occurred > now + CLOCK_SKEW:
        raise InvalidActivity("occurred_at cannot be in the future", field="occurred_at")
    if occurred < now - MAX_BACKDATE:
        raise InvalidActivity(f"reports older than {MAX_BACKDATE.days} days are not accepted", field="occurred_at")
    place = await _place(principal, data.organisation_id)
    campaign = await applicable_campaign_for(principal, data.campaign_id, organisation_id=place, moment=occurred)
    campaign_id = campaign.id if campaign is not None else None

    async def work() -> int:
        activity_id = await _insert(
            {
                "kind": Kind.REPORT.value,
                "status": Status.SUBMITTED.value,
                "member": member_id,
                "organisation": place,
                "campaign": campaign_id,
                "report_kind": data.report_kind.value,
                "title": data.title.strip(),
                "description": data.description.strip(),
                "started_at": occurred,
                "latitude": data.position.latitude,
                "longitude": data.position.longitude,
                "accuracy_m": data.position.accuracy_m,
                "client_ref": data.client_ref,
                "updated_at": now,
            },
            moment=occurred,
            submitted=True,
        )
        await _attach_photos(activity_id, member_id, data.photos)
        return activity_id

    return await _submit(member_id, data.client_ref, Kind.REPORT, work)


async def photo_activities(sha256: str) -> tuple[int | None, list[tuple[int, int]]]:
    """Who uploaded a photo, and (member, organisation) of each activity it
    is attached to: what decides who may look at it."""
    rows = await Photo.select(Photo.id, Photo.uploaded_by).where(Photo.sha256 == sha256).run()
    if not rows:
        return None, []
    links = (
        await ActivityPhoto.select(
            ActivityPhoto.activity.member.as_alias("member"),
            ActivityPhoto.activity.organisation.as_alias("organisation"),
        )
        .where(ActivityPhoto.photo == rows[0]["id"])
        .run()
    )
    return int(rows[0]["uploaded_by"]), [(int(row["member"]), int(row["organisation"])) for row in links]


async def visible_photo(principal: Principal, sha256: str) -> None:
    """``PhotoUnavailable`` unless the principal uploaded the photo or may
    see an activity it is attached to (``policy.may_see_photo``); a missing
    photo answers the same."""
    uploader, links = await photo_activities(sha256)
    if not await may_see_photo(principal, uploader, links):
        raise PhotoUnavailable("no such photo for you", field="sha256")
