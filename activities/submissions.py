"""What volunteers submit from their phones: service logs, patrols, reports.

Every submission is one transaction: the input is checked
(``activities.submission_rules``, pure), then what needs the database
(place, team, campaign, overlap, photos), then written. A phone on a bad
network retries: a ``client_ref`` (the phone's own id for the submission)
makes the retry return the first activity instead of creating a second one.
Timed activities (service and patrol) of one person never overlap; the
member's row is locked while that is checked, so two concurrent submissions
cannot both pass.

A patrol's later steps (route points, check-out) go through the status
machine (``activities.transitions``): load the patrol locked, decide, write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

from activities.claim_rules import check_check_in
from activities.deadline_rules import accept_due, deadline_after
from activities.errors import ActivityNotFound, ActivityOverlap, InvalidActivity, PhotoNotFound, PhotoUnavailable
from activities.models import (
    LIVE_CLAIMS,
    ActivityPlace,
    ActivityRecord,
    ActivityView,
    ClaimStatus,
    Kind,
    PatrolTaskRecord,
    PhotoRecord,
    PointKind,
    Position,
    Status,
)
from activities.periods import award_day, award_week
from activities.policy import applicable_campaign_for, check_own_patrol, may_see_photo
from activities.records import get_activity, lock_activity
from activities.submission_rules import (
    MAX_PHOTOS,
    aware,
    check_photo_list,
    check_position,
    check_route_batch,
    check_route_fits,
    new_route_times,
    patrol_minutes,
    patrol_start,
    phone_time,
    report_time,
    service_minutes,
)
from activities.tables import Activity, ActivityPhoto, PatrolPoint, PatrolTask, Photo, TaskClaim
from activities.transitions import Action, decide, initial_status
from campaigns.rules import ReportKind
from community.access import Principal
from community.members import get_member
from community.organisations import issuing_organisation_for, subtree_ids
from community.policy import visible_organisation
from community.tables import Member
from community.teams import is_team_member
from core.clock import utc_now
from core.database import in_write_transaction, lock_row, lock_rows
from core.ids import RowId

TIMED_KINDS = (Kind.SERVICE.value, Kind.PATROL.value)
FREE_PATROL_TITLE = "自由巡逻"


class ServiceLogIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    started_at: datetime
    ended_at: datetime
    team_id: RowId | None = None
    organisation_id: RowId | None = None
    campaign_id: RowId | None = None
    client_ref: str | None = Field(default=None, min_length=1, max_length=100)
    # When the phone recorded this submission, by its clock (an offline
    # phone uploads later); the fraud rules count bursts by it.
    recorded_at: datetime | None = None


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
    # When the phone recorded this submission, by its clock (an offline
    # phone uploads later); the fraud rules count bursts by it.
    recorded_at: datetime | None = None


class PatrolCheckIn(BaseModel):
    position: Position
    patrol_task_id: RowId | None = None
    team_id: RowId | None = None
    organisation_id: RowId | None = None
    campaign_id: RowId | None = None
    title: str = Field(default="", max_length=200)
    client_ref: str | None = Field(default=None, min_length=1, max_length=100)
    # When the phone checked in, by its clock: a check-in queued offline is
    # timed from it within bounds (``submission_rules.patrol_start``).
    recorded_at: datetime | None = None


class RoutePointIn(BaseModel):
    position: Position
    at: datetime


class CheckOutIn(Position):
    """Where the patrol ended, and when by the phone's clock (a check-out
    queued offline): believed between the patrol's start and now
    (``submission_rules.phone_time``), else the server's time counts."""

    recorded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewActivity:
    """What a submission writes, once every check has passed. ``moment``:
    when it happened (the periods caps count in)."""

    kind: Kind
    member_id: int
    organisation_id: int
    campaign_id: int | None
    title: str
    moment: datetime
    now: datetime
    client_ref: str | None
    recorded_at: datetime | None = None
    team_id: int | None = None
    patrol_task_id: int | None = None
    report_kind: ReportKind | None = None
    description: str = ""
    ended_at: datetime | None = None
    minutes: int | None = None
    position: Position | None = None


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


async def _check_no_overlap(member_id: int, started_at: datetime, ended_at: datetime | None) -> None:
    """No other live timed activity of this member overlaps [started, ended)."""
    query = Activity.select().where(
        (Activity.member == member_id)
        & Activity.kind.is_in(list(TIMED_KINDS))
        & (Activity.status != Status.REJECTED.value)
        & (Activity.ended_at.is_null() | (Activity.ended_at > started_at))
    )
    if ended_at is not None:
        query = query.where(Activity.started_at < ended_at)
    clashes = [ActivityRecord.from_row(row) for row in await query.limit(1).run()]
    if clashes:
        raise ActivityOverlap(
            f"overlaps your activity {clashes[0].id} ({clashes[0].title}); one person cannot be in two places",
            field="started_at",
        )


async def _replay(member_id: int, client_ref: str | None, kind: Kind) -> ActivityView | None:
    """The activity an earlier try with this ``client_ref`` created, if any."""
    if client_ref is None:
        return None
    rows = await Activity.select().where((Activity.member == member_id) & (Activity.client_ref == client_ref)).run()
    if not rows:
        return None
    earlier = ActivityRecord.from_row(rows[0])
    if earlier.kind is not kind:
        raise InvalidActivity("client_ref was already used for another kind of activity", field="client_ref")
    return await get_activity(earlier.id, replayed=True)


def _recorded(recorded_at: datetime | None) -> datetime | None:
    """The phone's recorded time, which must carry a time zone; whether it
    is believed is the fraud rules' business (``fraud.rules.believed_time``)."""
    return None if recorded_at is None else aware(recorded_at, "recorded_at")


async def _insert(new: NewActivity) -> int:
    status = initial_status(new.kind)
    submitted = status is Status.SUBMITTED
    position = new.position
    inserted = await Activity.insert(
        Activity(
            kind=new.kind.value,
            status=status.value,
            member=new.member_id,
            organisation=new.organisation_id,
            responsible_organisation=new.organisation_id,
            campaign=new.campaign_id,
            team=new.team_id,
            patrol_task=new.patrol_task_id,
            report_kind=new.report_kind.value if new.report_kind is not None else "",
            title=new.title,
            description=new.description,
            started_at=new.moment,
            ended_at=new.ended_at,
            minutes=new.minutes,
            latitude=position.latitude if position is not None else None,
            longitude=position.longitude if position is not None else None,
            accuracy_m=position.accuracy_m if position is not None else None,
            client_ref=new.client_ref,
            client_recorded_at=new.recorded_at,
            received_at=new.now,
            award_day=award_day(new.moment),
            award_week=award_week(new.moment),
            submitted_at=new.now if submitted else None,
            due_at=accept_due(new.now) if submitted else None,
            updated_at=new.now,
        )
    ).run()
    return int(inserted[0]["id"])


async def _submit_once(new: NewActivity, write: Callable[[], Awaitable[int]]) -> ActivityView:
    """Run ``write`` (the checks and inserts of a new activity) in one
    transaction with the member's row locked, unless ``new.client_ref``
    shows an earlier try already created it: then that one is answered."""

    async def guarded() -> ActivityView | int:
        await lock_row(Member, new.member_id, Member.id)
        replay = await _replay(new.member_id, new.client_ref, new.kind)
        return replay if replay is not None else await write()

    # A unique violation on (member, client_ref): a concurrent twin won; the
    # re-run finds and replays it.
    result = await in_write_transaction(guarded, retry_unique=True)
    return result if isinstance(result, ActivityView) else await get_activity(result)


async def _insert_timed(new: NewActivity) -> int:
    await _check_no_overlap(new.member_id, new.moment, new.ended_at)
    activity_id = await _insert(new)
    if new.kind is Kind.PATROL and new.position is not None:
        await _add_point(activity_id, PointKind.CHECK_IN, new.position, new.moment, received_at=new.now)
    return activity_id


async def log_service(principal: Principal, data: ServiceLogIn, *, now: datetime | None = None) -> ActivityView:
    """The principal's own service log: hours come from the times, never
    from the volunteer (``submission_rules.service_minutes``)."""
    now = now or utc_now()
    minutes = service_minutes(data.started_at, data.ended_at, now=now)
    place = await _place(principal, data.organisation_id)
    await _check_team(data.team_id, principal.member_id)
    campaign = await applicable_campaign_for(principal, data.campaign_id, organisation_id=place, moment=data.started_at)
    campaign_id = campaign.id if campaign is not None else None
    new = NewActivity(
        kind=Kind.SERVICE,
        member_id=principal.member_id,
        organisation_id=place,
        campaign_id=campaign_id,
        team_id=data.team_id,
        title=data.title.strip(),
        description=data.description.strip(),
        moment=data.started_at,
        ended_at=data.ended_at,
        minutes=minutes,
        client_ref=data.client_ref,
        recorded_at=_recorded(data.recorded_at),
        now=now,
    )
    return await _submit_once(new, lambda: _insert_timed(new))


async def _patrol_task(task_id: int, place: int) -> PatrolTaskRecord:
    """An active task at the place, above it or below it. One answer for a
    missing, ended or elsewhere task: task ids of other areas cannot be probed."""
    no_task = InvalidActivity(f"no active patrol task {task_id} here", field="patrol_task_id")
    rows = await PatrolTask.select().where(PatrolTask.id == task_id).run()
    if not rows:
        raise no_task
    task = PatrolTaskRecord.from_row(rows[0])
    if not task.active:
        raise no_task
    if task.organisation_id not in await subtree_ids(place) and place not in await subtree_ids(task.organisation_id):
        raise no_task
    return task


async def check_in_patrol(principal: Principal, data: PatrolCheckIn, *, now: datetime | None = None) -> ActivityView:
    """Start the principal's patrol (a task or a free patrol) at their
    position. It starts when the phone says it checked in, if that is
    within the bounds of ``submission_rules.patrol_start`` (a check-in queued
    offline), else when the server hears of it."""
    now = now or utc_now()
    check_position(data.position)
    started = patrol_start(data.recorded_at, now=now)
    place = await _place(principal, data.organisation_id)
    await _check_team(data.team_id, principal.member_id)
    title = data.title.strip()
    task: PatrolTaskRecord | None = None
    if data.patrol_task_id is not None:
        task = await _patrol_task(data.patrol_task_id, place)
        title = title or task.title_zh
    campaign = await applicable_campaign_for(principal, data.campaign_id, organisation_id=place, moment=started)
    campaign_id = campaign.id if campaign is not None else None
    new = NewActivity(
        kind=Kind.PATROL,
        member_id=principal.member_id,
        organisation_id=place,
        campaign_id=campaign_id,
        team_id=data.team_id,
        patrol_task_id=data.patrol_task_id,
        title=title or FREE_PATROL_TITLE,
        moment=started,
        position=data.position,
        client_ref=data.client_ref,
        recorded_at=_recorded(data.recorded_at),
        now=now,
    )
    if task is not None and task.grab_order:
        grabbed = task
        return await _submit_once(new, lambda: _check_in_claimed(new, grabbed))
    return await _submit_once(new, lambda: _insert_timed(new))


async def _check_in_claimed(new: NewActivity, task: PatrolTaskRecord) -> int:
    """A patrol on a grab-order task: the member's own live claim, started
    inside the window (``claim_rules.check_check_in``), becomes ``checked_in`` and
    links the patrol, in the patrol's transaction."""
    claims = await lock_rows(
        TaskClaim.select(TaskClaim.id, TaskClaim.status).where(
            (TaskClaim.task == task.id)
            & (TaskClaim.member == new.member_id)
            & TaskClaim.status.is_in([status.value for status in LIVE_CLAIMS])
        )
    )
    status = ClaimStatus(str(claims[0]["status"])) if claims else None
    # Judged at the patrol's start (``patrol_start``: the phone's check-in
    # time, within bounds): a check-in queued offline inside the window still
    # counts when it arrives after the window, until the no-show job closed the claim.
    check_check_in(task, status, now=new.moment)
    activity_id = await _insert_timed(new)
    await (
        TaskClaim.update({TaskClaim.status: ClaimStatus.CHECKED_IN.value, TaskClaim.activity: activity_id})
        .where(TaskClaim.id == int(str(claims[0]["id"])))
        .run()
    )
    return activity_id


async def _add_point(
    activity_id: int, kind: PointKind, position: Position, at: datetime, *, received_at: datetime
) -> None:
    await PatrolPoint.insert(
        PatrolPoint(
            activity=activity_id,
            kind=kind.value,
            latitude=position.latitude,
            longitude=position.longitude,
            accuracy_m=position.accuracy_m,
            at=at,
            received_at=received_at,
        )
    ).run()


async def _own_patrol(principal: Principal, activity_id: int) -> ActivityRecord:
    """The principal's own patrol, locked. Someone else's activity answers
    exactly as a missing one (``policy.check_own_patrol``)."""
    try:
        found: ActivityRecord | None = await lock_activity(activity_id)
    except ActivityNotFound:
        found = None
    return check_own_patrol(principal, activity_id, found)


async def _record_route(principal: Principal, activity_id: int, points: Sequence[RoutePointIn], now: datetime) -> None:
    patrol = await _own_patrol(principal, activity_id)
    decide(Action.ADD_ROUTE, activity_id=activity_id, kind=patrol.kind, status=patrol.status)
    earlier = (
        await PatrolPoint.select(PatrolPoint.at)
        .where((PatrolPoint.activity == activity_id) & (PatrolPoint.kind == PointKind.ROUTE.value))
        .output(as_list=True)
        .run()
    )
    fresh = [points[index] for index in new_route_times([point.at for point in points], earlier)]
    recorded = await PatrolPoint.count().where(PatrolPoint.activity == activity_id).run()
    check_route_fits([point.at for point in fresh], started_at=patrol.started_at, recorded=recorded, now=now)
    for point in fresh:
        await _add_point(activity_id, PointKind.ROUTE, point.position, point.at, received_at=now)


async def add_route_points(
    principal: Principal, activity_id: int, points: Sequence[RoutePointIn], *, now: datetime | None = None
) -> ActivityView:
    """Positions recorded along the way (the phone may batch them). A point
    already recorded (same instant) is not added again: a retried batch is
    one effect."""
    moment = now or utc_now()
    check_route_batch([(point.position, point.at) for point in points])
    await in_write_transaction(lambda: _record_route(principal, activity_id, points, moment))
    return await get_activity(activity_id)


async def _check_out(
    principal: Principal, activity_id: int, position: Position, recorded_at: datetime | None, now: datetime
) -> bool:
    """Check out; ``True`` when it had already happened (nothing written)."""
    patrol = await _own_patrol(principal, activity_id)
    move = decide(Action.CHECK_OUT, activity_id=activity_id, kind=patrol.kind, status=patrol.status)
    if move.replay:
        return True
    ended = phone_time(recorded_at, earliest=patrol.started_at, now=now)
    deadline = deadline_after(patrol.kind, move.before, move.to, moment=now)
    await _add_point(activity_id, PointKind.CHECK_OUT, position, ended, received_at=now)
    await (
        Activity.update(
            {
                Activity.status: move.to.value,
                Activity.ended_at: ended,
                Activity.minutes: patrol_minutes(patrol.started_at, now=ended),
                Activity.submitted_at: now,
                Activity.due_at: deadline.due_at,
                Activity.overdue: False,
                Activity.responsible_organisation: patrol.organisation_id,
                Activity.updated_at: now,
            }
        )
        .where(Activity.id == activity_id)
        .run()
    )
    return False


async def check_out_patrol(
    principal: Principal,
    activity_id: int,
    position: Position,
    *,
    recorded_at: datetime | None = None,
    now: datetime | None = None,
) -> ActivityView:
    """End the patrol; it goes to verification with its duration, timed
    from the phone's check-out time within bounds (``phone_time``). A
    patrol already checked out answers as it stands (a retry is one effect)."""
    moment = now or utc_now()
    check_position(position)
    replayed = await in_write_transaction(lambda: _check_out(principal, activity_id, position, recorded_at, moment))
    return await get_activity(activity_id, replayed=replayed)


async def own_activity_id(principal: Principal, client_ref: str, kind: Kind) -> int:
    """The id of the principal's own activity of ``kind`` that the phone
    created with ``client_ref`` (a queued route point or check-out names its
    patrol so: the phone never learnt the id). Anyone else's answers as
    missing."""
    rows = (
        await Activity.select(Activity.id)
        .where(
            (Activity.member == principal.member_id)
            & (Activity.client_ref == client_ref)
            & (Activity.kind == kind.value)
        )
        .output(as_list=True)
        .run()
    )
    if not rows:
        raise ActivityNotFound(f"no {kind.value} of yours made as {client_ref}", field="client_ref")
    return int(rows[0])


async def _attach_photos(activity_id: int, member_id: int, hashes: Sequence[str]) -> None:
    """Attach uploaded photos to a new report. A photo already on someone
    else's report cannot be reused (each report shows its own evidence)."""
    check_photo_list(hashes)
    for index, sha256 in enumerate(hashes):
        found = await Photo.select(Photo.id).where(Photo.sha256 == sha256.lower()).output(as_list=True).run()
        if not found:
            raise PhotoNotFound(f"photo {sha256} was not uploaded; upload it first", field=f"photos.{index}")
        photo_id = int(found[0])
        if (
            await ActivityPhoto.exists()
            .where((ActivityPhoto.photo == photo_id) & (ActivityPhoto.activity.member != member_id))
            .run()
        ):
            raise InvalidActivity("this photo is already part of someone else's report", field=f"photos.{index}")
        await ActivityPhoto.insert(ActivityPhoto(activity=activity_id, photo=photo_id)).run()


async def _insert_report(new: NewActivity, photos: Sequence[str]) -> int:
    activity_id = await _insert(new)
    await _attach_photos(activity_id, new.member_id, photos)
    return activity_id


async def submit_report(principal: Principal, data: ReportIn, *, now: datetime | None = None) -> ActivityView:
    """The principal's hazard, tip, dispute or snapshot, with where and
    (optionally) photos."""
    now = now or utc_now()
    check_position(data.position)
    occurred = report_time(data.occurred_at, now=now)
    place = await _place(principal, data.organisation_id)
    campaign = await applicable_campaign_for(principal, data.campaign_id, organisation_id=place, moment=occurred)
    campaign_id = campaign.id if campaign is not None else None
    new = NewActivity(
        kind=Kind.REPORT,
        member_id=principal.member_id,
        organisation_id=place,
        campaign_id=campaign_id,
        report_kind=data.report_kind,
        title=data.title.strip(),
        description=data.description.strip(),
        moment=occurred,
        position=data.position,
        client_ref=data.client_ref,
        recorded_at=_recorded(data.recorded_at),
        now=now,
    )
    return await _submit_once(new, lambda: _insert_report(new, data.photos))


async def photo_activities(sha256: str) -> tuple[int | None, list[ActivityPlace]]:
    """Who uploaded a photo, and whose and where each activity it is
    attached to is: what decides who may look at it."""
    rows = await Photo.select().where(Photo.sha256 == sha256).run()
    if not rows:
        return None, []
    photo = PhotoRecord.from_row(rows[0])
    links = (
        await ActivityPhoto.select(
            ActivityPhoto.activity.member.as_alias("member"),
            ActivityPhoto.activity.organisation.as_alias("organisation"),
        )
        .where(ActivityPhoto.photo == photo.id)
        .run()
    )
    return photo.uploaded_by, [ActivityPlace.from_row(row) for row in links]


async def visible_photo(principal: Principal, sha256: str) -> None:
    """``PhotoUnavailable`` unless the principal uploaded the photo or may
    see an activity it is attached to (``policy.may_see_photo``); a missing
    photo answers the same."""
    uploader, links = await photo_activities(sha256)
    if not await may_see_photo(principal, uploader, links):
        raise PhotoUnavailable("no such photo for you", field="sha256")
