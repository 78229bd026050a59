"""Request and response models of the campaign and activity routes.

Amounts are ``Points``: JSON strings in both directions, never numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from activities.figures import CampaignFigures
from activities.records import ActivityOut
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


class ActivityOutModel(ActivityOut):
    """An activity as the API shows it: amounts as strings."""

    points_computed: Points | None
    points_awarded: Points
    bonus: Points


def activity_out(activity: ActivityOut) -> ActivityOutModel:
    return ActivityOutModel.model_validate(activity.model_dump())


class ActivityPageOut(BaseModel):
    items: list[ActivityOutModel]
    next_cursor: str | None


class AssignIn(BaseModel):
    handler_id: int = Field(ge=1, le=MAX_ID)


class PhotoOut(BaseModel):
    sha256: str
    content_type: str
    size_bytes: int


class PatrolTaskIn(BaseModel):
    organisation_id: int = Field(ge=1, le=MAX_ID)
    title_zh: str = Field(min_length=1, max_length=200, examples=["夜间巡逻：平安路—幸福街"])
    title_en: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)


ActivityScope = Literal["mine", "review"]
