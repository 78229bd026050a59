"""Reading activities: the one shape they leave the app in, and row locks.

Statuses (one machine for every kind):

    service, report:  submitted → verified | rejected
    patrol:           checked_in → submitted → verified | rejected
    report, after verified:  → assigned → handled → closed (rated by the reporter)

An awarded activity that is rejected later has its award reversed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from activities.errors import ActivityNotFound
from activities.tables import Activity, ActivityPhoto, PatrolPoint
from core.database import is_sqlite
from ledger.amounts import from_minor


class Kind(StrEnum):
    SERVICE = "service"
    PATROL = "patrol"
    REPORT = "report"


class Status(StrEnum):
    CHECKED_IN = "checked_in"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    REJECTED = "rejected"
    ASSIGNED = "assigned"
    HANDLED = "handled"
    CLOSED = "closed"


# Verified and beyond: the activity has had its award (if any).
AWARDED_STATUSES = frozenset({Status.VERIFIED, Status.ASSIGNED, Status.HANDLED, Status.CLOSED})


class Position(BaseModel):
    """WGS-84 coordinates from the phone. Floats are right here: these are
    positions, never point amounts."""

    latitude: float
    longitude: float
    accuracy_m: float | None = None


class RoutePoint(BaseModel):
    kind: str
    latitude: float
    longitude: float
    accuracy_m: float | None
    at: datetime


class ActivityOut(BaseModel):
    id: int
    kind: Kind
    status: Status
    member_id: int
    member_name: str
    organisation_id: int
    campaign_id: int | None
    team_id: int | None
    patrol_task_id: int | None
    report_kind: str | None
    title: str
    description: str
    started_at: datetime
    ended_at: datetime | None
    minutes: int | None
    position: Position | None
    submitted_at: datetime | None
    verifier_id: int | None
    verified_at: datetime | None
    rejected_by: int | None
    rejected_at: datetime | None
    rejection_reason: str
    points_computed: Decimal | None
    points_awarded: Decimal
    bonus: Decimal
    capped: bool
    award_entry_id: int | None
    bonus_entry_id: int | None
    award_reversal_entry_id: int | None
    bonus_reversal_entry_id: int | None
    handler_id: int | None
    assigned_at: datetime | None
    complex: bool
    handled_at: datetime | None
    useful: bool | None
    feedback: str
    rating: int | None
    rating_comment: str
    rated_at: datetime | None
    due_at: datetime | None
    responsible_organisation_id: int
    overdue: bool
    escalations: int
    photos: list[str]
    route: list[RoutePoint] | None = None
    replayed: bool = False


ACTIVITY_COLUMNS = (*Activity.all_columns(), Activity.member.name.as_alias("member_name"))


def activity_out(
    row: dict[str, Any], photos: list[str], route: list[RoutePoint] | None = None, *, replayed: bool = False
) -> ActivityOut:
    position = (
        Position(latitude=row["latitude"], longitude=row["longitude"], accuracy_m=row["accuracy_m"])
        if row["latitude"] is not None and row["longitude"] is not None
        else None
    )
    computed = row["points_computed_minor"]
    return ActivityOut(
        id=row["id"],
        kind=Kind(row["kind"]),
        status=Status(row["status"]),
        member_id=row["member"],
        member_name=row["member_name"],
        organisation_id=row["organisation"],
        campaign_id=row["campaign"],
        team_id=row["team"],
        patrol_task_id=row["patrol_task"],
        report_kind=row["report_kind"] or None,
        title=row["title"],
        description=row["description"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        minutes=row["minutes"],
        position=position,
        submitted_at=row["submitted_at"],
        verifier_id=row["verifier"],
        verified_at=row["verified_at"],
        rejected_by=row["rejected_by"],
        rejected_at=row["rejected_at"],
        rejection_reason=row["rejection_reason"],
        points_computed=from_minor(computed) if computed is not None else None,
        points_awarded=from_minor(row["points_awarded_minor"]),
        bonus=from_minor(row["bonus_minor"]),
        capped=bool(row["capped"]),
        award_entry_id=row["award_entry_id"],
        bonus_entry_id=row["bonus_entry_id"],
        award_reversal_entry_id=row["award_reversal_entry_id"],
        bonus_reversal_entry_id=row["bonus_reversal_entry_id"],
        handler_id=row["handler"],
        assigned_at=row["assigned_at"],
        complex=bool(row["complex"]),
        handled_at=row["handled_at"],
        useful=None if row["useful"] is None else bool(row["useful"]),
        feedback=row["feedback"],
        rating=row["rating"],
        rating_comment=row["rating_comment"],
        rated_at=row["rated_at"],
        due_at=row["due_at"],
        responsible_organisation_id=row["responsible_organisation"],
        overdue=bool(row["overdue"]),
        escalations=row["escalations"],
        photos=photos,
        route=route,
        replayed=replayed,
    )


async def photos_of(activity_ids: list[int]) -> dict[int, list[str]]:
    if not activity_ids:
        return {}
    rows = (
        await ActivityPhoto.select(ActivityPhoto.activity, ActivityPhoto.photo.sha256.as_alias("sha256"))
        .where(ActivityPhoto.activity.is_in(activity_ids))
        .order_by(ActivityPhoto.id)
        .run()
    )
    found: dict[int, list[str]] = {activity_id: [] for activity_id in activity_ids}
    for row in rows:
        found[row["activity"]].append(row["sha256"])
    return found


async def route_of(activity_id: int) -> list[RoutePoint]:
    rows = await PatrolPoint.select().where(PatrolPoint.activity == activity_id).order_by(PatrolPoint.at).run()
    return [
        RoutePoint(
            kind=row["kind"],
            latitude=row["latitude"],
            longitude=row["longitude"],
            accuracy_m=row["accuracy_m"],
            at=row["at"],
        )
        for row in rows
    ]


async def get_activity(activity_id: int, *, replayed: bool = False) -> ActivityOut:
    rows = await Activity.select(*ACTIVITY_COLUMNS).where(Activity.id == activity_id).run()
    if not rows:
        raise ActivityNotFound(f"activity {activity_id} does not exist", field="activity_id")
    row = rows[0]
    route = await route_of(activity_id) if row["kind"] == Kind.PATROL else None
    return activity_out(row, (await photos_of([activity_id]))[activity_id], route, replayed=replayed)


async def lock_activity(activity_id: int) -> dict[str, Any]:
    """The activity row, locked on PostgreSQL (SQLite: the IMMEDIATE
    transaction already serialises writers). Every step of the loop starts
    here, so concurrent verify/reject calls on one activity take turns."""
    query = Activity.select().where(Activity.id == activity_id)
    if not is_sqlite():
        query = query.lock_rows()
    rows = await query.run()
    if not rows:
        raise ActivityNotFound(f"activity {activity_id} does not exist", field="activity_id")
    return dict(rows[0])
