"""The activities app's typed records and statuses.

Services take and return these, never table rows. Each record is built from
its table's row in exactly one place (its ``from_row``), which is also the
only place that turns hundredths into points (``ledger.amounts``) and text
into a status or kind. Records are frozen: a changed activity is a new
record, read back (or ``dataclasses.replace``-d) after the decision.

Which status an action leads to is ``activities.transitions``; which status
has a deadline is ``activities.deadline_rules``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from activities.tables import Activity
from campaigns.rules import ReportKind
from ledger.amounts import from_minor

Row = Mapping[str, Any]


class Kind(StrEnum):
    """What the volunteer did. One table and one status machine hold all three."""

    SERVICE = "service"  # a service log: hours, from the times given
    PATROL = "patrol"  # checked in and out by the phone, with a route
    REPORT = "report"  # a hazard, tip, dispute or snapshot, with a place and photos


class Status(StrEnum):
    """Where an activity stands (``activities.transitions`` has the table of
    which action leads from which status to which)."""

    CHECKED_IN = "checked_in"  # a patrol under way
    SUBMITTED = "submitted"  # waiting for a reviewer to verify or reject
    HELD = "held"  # 待审核: verified, but the fraud rules held its award for review (points on a ledger hold)
    VERIFIED = "verified"  # accepted; its award (if any) was posted
    REJECTED = "rejected"  # refused; any award it had was reversed
    ASSIGNED = "assigned"  # a verified report handed to a handler
    HANDLED = "handled"  # a report dealt with, feedback given
    CLOSED = "closed"  # a handled report, rated by its reporter


class PointKind(StrEnum):
    """Where a patrol's position was taken."""

    CHECK_IN = "check_in"
    ROUTE = "route"
    CHECK_OUT = "check_out"


class Position(BaseModel):
    """WGS-84 coordinates from the phone. Floats are right here: these are
    positions, never point amounts. A pydantic model rather than a dataclass
    because phones send it as it is (check-out, reports, route points)."""

    model_config = ConfigDict(frozen=True)

    latitude: float
    longitude: float
    accuracy_m: float | None = None


@dataclass(frozen=True, slots=True)
class RoutePoint:
    """One row of ``activities_patrol_point``: a position on a patrol."""

    kind: PointKind
    latitude: float
    longitude: float
    accuracy_m: float | None
    at: datetime

    @classmethod
    def from_row(cls, row: Row) -> RoutePoint:
        return cls(
            kind=PointKind(row["kind"]),
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            accuracy_m=None if row["accuracy_m"] is None else float(row["accuracy_m"]),
            at=row["at"],
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """One row of ``activities_activity``. Member and organisation columns
    are ids (``…_id``, and ``verifier_id``, ``rejected_by``, ``handler_id``);
    amounts are points."""

    id: int
    kind: Kind
    status: Status
    member_id: int
    # Where it happened; reviewers hold a role here or above.
    organisation_id: int
    campaign_id: int | None
    team_id: int | None
    patrol_task_id: int | None
    report_kind: ReportKind | None
    title: str
    description: str
    started_at: datetime
    ended_at: datetime | None
    minutes: int | None
    position: Position | None
    submitted_at: datetime | None
    client_ref: str | None
    # China-time day and ISO week of started_at: the periods caps count in.
    award_day: str
    award_week: str
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
    # The current deadline stage's due time and who answers for it now.
    due_at: datetime | None
    responsible_organisation_id: int
    overdue: bool
    escalations: int
    # When the phone recorded the submission (its clock), if it said.
    client_recorded_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Row) -> ActivityRecord:
        latitude, longitude = row["latitude"], row["longitude"]
        computed = row["points_computed_minor"]
        return cls(
            id=int(row["id"]),
            kind=Kind(row["kind"]),
            status=Status(row["status"]),
            member_id=int(row["member"]),
            organisation_id=int(row["organisation"]),
            campaign_id=_optional_int(row["campaign"]),
            team_id=_optional_int(row["team"]),
            patrol_task_id=_optional_int(row["patrol_task"]),
            report_kind=ReportKind(row["report_kind"]) if row["report_kind"] else None,
            title=row["title"],
            description=row["description"],
            started_at=row["started_at"],
            ended_at=row["ended_at"],
            minutes=_optional_int(row["minutes"]),
            position=(
                Position(latitude=latitude, longitude=longitude, accuracy_m=row["accuracy_m"])
                if latitude is not None and longitude is not None
                else None
            ),
            submitted_at=row["submitted_at"],
            client_ref=row["client_ref"],
            award_day=row["award_day"],
            award_week=row["award_week"],
            verifier_id=_optional_int(row["verifier"]),
            verified_at=row["verified_at"],
            rejected_by=_optional_int(row["rejected_by"]),
            rejected_at=row["rejected_at"],
            rejection_reason=row["rejection_reason"],
            points_computed=from_minor(computed) if computed is not None else None,
            points_awarded=from_minor(row["points_awarded_minor"]),
            bonus=from_minor(row["bonus_minor"]),
            capped=bool(row["capped"]),
            award_entry_id=_optional_int(row["award_entry_id"]),
            bonus_entry_id=_optional_int(row["bonus_entry_id"]),
            award_reversal_entry_id=_optional_int(row["award_reversal_entry_id"]),
            bonus_reversal_entry_id=_optional_int(row["bonus_reversal_entry_id"]),
            handler_id=_optional_int(row["handler"]),
            assigned_at=row["assigned_at"],
            complex=bool(row["complex"]),
            handled_at=row["handled_at"],
            useful=None if row["useful"] is None else bool(row["useful"]),
            feedback=row["feedback"],
            rating=_optional_int(row["rating"]),
            rating_comment=row["rating_comment"],
            rated_at=row["rated_at"],
            due_at=row["due_at"],
            responsible_organisation_id=int(row["responsible_organisation"]),
            overdue=bool(row["overdue"]),
            escalations=int(row["escalations"]),
            client_recorded_at=row.get("client_recorded_at"),
        )


# What ``ActivityView.from_row`` reads: the activity and its member's name.
ACTIVITY_VIEW_COLUMNS = (*Activity.all_columns(), Activity.member.name.as_alias("member_name"))


@dataclass(frozen=True, slots=True)
class ActivityView(ActivityRecord):
    """An activity as its readers see it: the row, its member's name, its
    photos (SHA-256, in upload order) and, for a patrol read alone, its
    route. ``replayed``: the step asked for had already happened, and this
    is the activity as it stands (nothing was changed)."""

    member_name: str = ""
    photos: list[str] = field(default_factory=list)
    route: list[RoutePoint] | None = None
    replayed: bool = False

    @classmethod
    def from_row(
        cls,
        row: Row,
        *,
        photos: list[str] | None = None,
        route: list[RoutePoint] | None = None,
        replayed: bool = False,
    ) -> ActivityView:
        """``row``: selected with ``ACTIVITY_VIEW_COLUMNS``."""
        activity = ActivityRecord.from_row(row)
        values = {column.name: getattr(activity, column.name) for column in fields(ActivityRecord)}
        return cls(**values, member_name=row["member_name"], photos=list(photos or ()), route=route, replayed=replayed)


@dataclass(frozen=True, slots=True)
class PatrolTaskRecord:
    """One row of ``activities_patrol_task``: a patrol an organiser asks for.
    Returned to clients as it is (it carries nothing they may not see).

    A grab-order task has ``slots`` (and a window); ``slots_left`` is what
    may still be claimed. ``multiplier`` scales the patrol award (1.00 when
    the organiser set none)."""

    id: int
    organisation_id: int
    title_zh: str
    title_en: str
    description: str
    active: bool
    created_at: datetime
    area: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    slots: int | None = None
    slots_taken: int = 0
    multiplier_pct: int = 100

    @property
    def grab_order(self) -> bool:
        return self.slots is not None

    @property
    def slots_left(self) -> int | None:
        return None if self.slots is None else max(0, self.slots - self.slots_taken)

    @property
    def multiplier(self) -> Decimal:
        return (Decimal(self.multiplier_pct) / 100).quantize(Decimal("0.01"))

    @classmethod
    def from_row(cls, row: Row) -> PatrolTaskRecord:
        return cls(
            id=int(row["id"]),
            organisation_id=int(row["organisation"]),
            title_zh=row["title_zh"],
            title_en=row["title_en"],
            description=row["description"],
            active=bool(row["active"]),
            created_at=row["created_at"],
            area=row["area"],
            starts_at=row["starts_at"],
            ends_at=row["ends_at"],
            slots=None if row["slots"] is None else int(row["slots"]),
            slots_taken=int(row["slots_taken"]),
            multiplier_pct=int(row["multiplier_pct"]),
        )


class ClaimStatus(StrEnum):
    """A grab-order claim: ``claimed`` → ``checked_in`` (the patrol started),
    ``released`` (given back before the window), or ``no_show`` (the window
    ended without a check-in; shown to the organiser, never a penalty)."""

    CLAIMED = "claimed"
    CHECKED_IN = "checked_in"
    RELEASED = "released"
    NO_SHOW = "no_show"


LIVE_CLAIMS = (ClaimStatus.CLAIMED, ClaimStatus.CHECKED_IN)


@dataclass(frozen=True, slots=True)
class TaskClaimRecord:
    """One row of ``activities_task_claim``, with the claimant's name (their
    organiser sees who claimed; a volunteer sees only their own)."""

    id: int
    task_id: int
    member_id: int
    member_name: str
    status: ClaimStatus
    claimed_at: datetime
    resolved_at: datetime | None
    activity_id: int | None

    @classmethod
    def from_row(cls, row: Row) -> TaskClaimRecord:
        return cls(
            id=int(row["id"]),
            task_id=int(row["task"]),
            member_id=int(row["member"]),
            member_name=str(row.get("member_name") or ""),
            status=ClaimStatus(row["status"]),
            claimed_at=row["claimed_at"],
            resolved_at=row["resolved_at"],
            activity_id=None if row["activity"] is None else int(row["activity"]),
        )


@dataclass(frozen=True, slots=True)
class PhotoRecord:
    """One row of ``activities_photo``: who uploaded which bytes (stored on
    disk under ``sha256``)."""

    id: int
    sha256: str
    content_type: str
    size_bytes: int
    uploaded_by: int
    uploaded_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> PhotoRecord:
        return cls(
            id=int(row["id"]),
            sha256=row["sha256"],
            content_type=row["content_type"],
            size_bytes=int(row["size_bytes"]),
            uploaded_by=int(row["uploaded_by"]),
            uploaded_at=row["uploaded_at"],
        )


@dataclass(frozen=True, slots=True)
class ActivityPlace:
    """Whose an activity is and where it happened: what decides who may see
    it (and the photos attached to it)."""

    member_id: int
    organisation_id: int

    @classmethod
    def from_row(cls, row: Row) -> ActivityPlace:
        return cls(member_id=int(row["member"]), organisation_id=int(row["organisation"]))
