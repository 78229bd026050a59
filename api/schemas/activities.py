"""Request and response models of the campaign and activity routes.

Amounts are ``Points``: JSON strings in both directions, never numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from activities.figures import CampaignFigures
from activities.models import ActivityView, Kind, PointKind, Position, Status
from api.points import Points
from campaigns.campaigns import CampaignOut
from campaigns.rules import EarningRules, ReportKind
from core.ids import MAX_ID


class RulesModel(BaseModel):
    """Earning rules. Amounts as strings; see ``campaigns.rules`` for meaning
    and the rounding rule (half to even, two places)."""

    service_per_hour: dict[str, Points] = Field(default_factory=dict, examples=[{"default": "2.00", "patrol": "3.00"}])
    patrol_points: Points = Field(default="0.00", examples=["5.00"])  # type: ignore[assignment]
    patrol_min_minutes: int = Field(default=30, ge=0, le=24 * 60)
    report_points: dict[ReportKind, Points] = Field(default_factory=dict, examples=[{"hazard": "3.00"}])
    report_useful_bonus: Points = Field(default="0.00")  # type: ignore[assignment]
    daily_cap: Points | None = None
    weekly_cap: Points | None = None


def rules_out(rules: EarningRules) -> RulesModel:
    return RulesModel.model_validate(rules.model_dump())


class CampaignIn(BaseModel):
    organisation_id: int = Field(ge=1, le=MAX_ID)
    title_zh: str = Field(min_length=1, max_length=200, examples=["平安巡逻月"])
    title_en: str = Field(default="", max_length=200)
    description_zh: str = Field(default="", max_length=2000)
    starts_at: datetime
    ends_at: datetime | None = None
    is_default: bool = False
    rules: RulesModel = Field(default_factory=RulesModel)


class CampaignOutModel(BaseModel):
    id: int
    organisation_id: int
    title_zh: str
    title_en: str
    description_zh: str
    starts_at: datetime
    ends_at: datetime | None
    is_default: bool
    status: str
    rules: RulesModel
    budget_account: str
    budget: Points
    created_by: int | None
    created_at: datetime
    closed_at: datetime | None
    closed_by: int | None


class CampaignDetailOut(CampaignOutModel):
    awarded: Points
    bonuses: Points
    activities_by_status: dict[str, int]


def campaign_out(campaign: CampaignOut) -> CampaignOutModel:
    return CampaignOutModel(**{**campaign.model_dump(exclude={"rules"}), "rules": rules_out(campaign.rules)})


def campaign_detail_out(campaign: CampaignOut, figures: CampaignFigures) -> CampaignDetailOut:
    return CampaignDetailOut(
        **campaign_out(campaign).model_dump(exclude={"budget", "rules"}),
        budget=campaign.budget,
        rules=rules_out(campaign.rules),
        **figures.model_dump(),
    )


class CampaignPageOut(BaseModel):
    items: list[CampaignOutModel]
    next_cursor: str | None


class FundIn(BaseModel):
    amount: Points = Field(examples=["1000.00"])


class FundOut(BaseModel):
    entry_id: int
    amount: Points
    budget: Points
    replayed: bool


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
