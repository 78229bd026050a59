"""Request and response models of the activity routes (campaigns: ``api/schemas/campaigns.py``).

Amounts are ``Points``: JSON strings in both directions, never numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from activities.models import ActivityView, Kind, PointKind, Position, Status
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
    organisation_id: int = Field(ge=1, le=MAX_ID)
    title_zh: str = Field(min_length=1, max_length=200, examples=["夜间巡逻：平安路—幸福街"])
    title_en: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)


ActivityScope = Literal["mine", "review"]
