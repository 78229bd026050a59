"""Request and response models of the activity routes (campaigns: ``api/schemas/campaigns.py``).

Amounts are ``Points``: JSON strings in both directions, never numbers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from activities.claim_rules import MAX_SLOTS, GrabOrder
from activities.grid_workers import GridWorkerRatings
from activities.models import ActivityView, ClaimStatus, Kind, PatrolTaskRecord, PointKind, Position, Status
from api.points import Points
from campaigns.rules import ReportKind
from core.ids import MAX_ID


class RoutePointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: PointKind
    latitude: float
    longitude: float
    accuracy_m: float | None
    at: datetime


class ActivityOut(BaseModel):
    """An activity as the API shows it (``activities.models.ActivityView``):
    amounts as strings, people and places as ids."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: Kind
    status: Status
    member_id: int
    member_name: str
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
    verifier_id: int | None
    verified_at: datetime | None
    rejected_by: int | None
    rejected_at: datetime | None
    rejection_reason: str
    points_computed: Points | None
    points_awarded: Points
    bonus: Points
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
    photos: list[str] = Field(description="SHA-256 of each photo; GET /api/v1/activities/photos/{sha256}")
    route: list[RoutePointOut] | None = Field(default=None, description="a patrol's positions (detail only)")
    replayed: bool = Field(default=False, description="the step had already happened; nothing was changed")


def activity_out(activity: ActivityView) -> ActivityOut:
    """The one builder of ``ActivityOut``."""
    return ActivityOut.model_validate(activity, from_attributes=True)


class ActivityPageOut(BaseModel):
    items: list[ActivityOut]
    next_cursor: str | None = Field(description="opaque; pass as ?cursor= for the next page (null: no more)")


class AssignIn(BaseModel):
    handler_id: int = Field(ge=1, le=MAX_ID)


class PhotoOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sha256: str
    content_type: str
    size_bytes: int


class PatrolTaskIn(BaseModel):
    """A patrol task. With ``slots`` it is a grab-order task (抢单): then
    ``starts_at`` and ``ends_at`` are required, and ``points_multiplier``
    (1.00-5.00, default 1.00) scales the patrol award."""

    organisation_id: int = Field(ge=1, le=MAX_ID)
    title_zh: str = Field(min_length=1, max_length=200, examples=["夜间巡逻：平安路—幸福街"])
    title_en: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)
    area: str = Field(default="", max_length=300, examples=["平安路—幸福街—学府巷"])
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    slots: int | None = Field(default=None, ge=1, le=MAX_SLOTS)
    points_multiplier: Points | None = Field(default=None, description='e.g. "1.50"; grab-order tasks only')

    @model_validator(mode="after")
    def _grab_order_is_whole(self) -> PatrolTaskIn:
        if self.slots is None:
            for name in ("starts_at", "ends_at", "points_multiplier"):
                if getattr(self, name) is not None:
                    raise PydanticCustomError("grab_order", f"{name} needs slots (a grab-order task)")
            return self
        for name in ("starts_at", "ends_at"):
            if getattr(self, name) is None:
                raise PydanticCustomError("grab_order", f"a grab-order task needs {name}")
        return self

    def grab_order(self) -> GrabOrder | None:
        if self.slots is None or self.starts_at is None or self.ends_at is None:
            return None
        return GrabOrder(
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            slots=self.slots,
            multiplier=self.points_multiplier or Decimal("1.00"),
        )


class PatrolTaskOut(BaseModel):
    """A patrol task as a member sees it; ``my_claim`` is the caller's own
    claim of a grab-order task (null when they hold none)."""

    id: int
    organisation_id: int
    title_zh: str
    title_en: str
    description: str
    area: str
    active: bool
    created_at: datetime
    grab_order: bool
    starts_at: datetime | None
    ends_at: datetime | None
    slots: int | None
    slots_left: int | None
    points_multiplier: Points
    my_claim: ClaimStatus | None


def patrol_task_out(task: PatrolTaskRecord, my_claim: ClaimStatus | None = None) -> PatrolTaskOut:
    return PatrolTaskOut(
        id=task.id,
        organisation_id=task.organisation_id,
        title_zh=task.title_zh,
        title_en=task.title_en,
        description=task.description,
        area=task.area,
        active=task.active,
        created_at=task.created_at,
        grab_order=task.grab_order,
        starts_at=task.starts_at,
        ends_at=task.ends_at,
        slots=task.slots,
        slots_left=task.slots_left,
        points_multiplier=task.multiplier,
        my_claim=my_claim,
    )


class TaskClaimOut(BaseModel):
    """A claim of a grab-order task. ``member_name`` is shown to the task's
    organisers; a volunteer sees only their own claim."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    task_id: int
    member_id: int
    member_name: str
    status: ClaimStatus
    claimed_at: datetime
    resolved_at: datetime | None
    activity_id: int | None


ActivityScope = Literal["mine", "review"]


class GridWorkerRatingOut(BaseModel):
    """星级网格员 · one grid worker's handling of reports in the period
    (``activities.grid_worker_rules`` documents the star thresholds)."""

    member_id: int
    name: str
    organisation_id: int = Field(description="Where they hold the grid-worker post")
    handled: int = Field(ge=0, description="Reports handled in the period")
    timed: int = Field(ge=0, description="Of which it is known whether they were on time")
    on_time: int = Field(ge=0, description="Of which handled before their deadline")
    on_time_pct: str | None = Field(description='On-time share in percent, e.g. "92.3"; null if nothing is timed')
    rated: int = Field(ge=0, description="Of which the reporter gave a rating")
    average_rating: str | None = Field(description='Reporters\' average rating (1–5), e.g. "4.50"; null if none')
    stars: int | None = Field(ge=1, le=5, description="1–5 stars; null: nothing to rate this period (未评级)")


class GridWorkerRatingsOut(BaseModel):
    organisation_id: int
    period: str = Field(description="week:2026-W48 or month:2026-11 (China time)")
    starts_at: datetime = Field(description="UTC instant the period starts (00:00 China time)")
    ends_at: datetime = Field(description="UTC instant the next period starts")
    workers: list[GridWorkerRatingOut]
    truncated: bool = Field(description="More grid workers than one answer lists: rate a lower node")

    @classmethod
    def of(cls, ratings: GridWorkerRatings) -> GridWorkerRatingsOut:
        return cls(
            organisation_id=ratings.organisation_id,
            period=ratings.period.period_id,
            starts_at=ratings.period.starts_at,
            ends_at=ratings.period.ends_at,
            workers=[
                GridWorkerRatingOut(
                    member_id=worker.member_id,
                    name=worker.name,
                    organisation_id=worker.organisation_id,
                    handled=worker.handled,
                    timed=worker.timed,
                    on_time=worker.on_time,
                    on_time_pct=None if worker.on_time_pct is None else str(worker.on_time_pct),
                    rated=worker.rated,
                    average_rating=None if worker.average_rating is None else str(worker.average_rating),
                    stars=worker.stars,
                )
                for worker in ratings.workers
            ],
            truncated=ratings.truncated,
        )
