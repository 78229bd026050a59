"""Request and response models of the campaign routes, one per direction.

Amounts are ``Points``: JSON strings in both directions, never numbers.
Responses are built from the domain records (``campaigns.models``) by
attribute, in one place each: ``CampaignOut.of`` and ``CampaignDetailOut.of``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from activities.figures import CampaignFigures
from api.points import Points
from campaigns.models import CampaignStatus, CampaignWithBudget
from campaigns.rules import ReportKind
from core.ids import MAX_ID


class RulesModel(BaseModel):
    """Earning rules, in and out. Amounts as strings; see ``campaigns.rules``
    for their meaning and the rounding rule (half to even, two places)."""

    service_per_hour: dict[str, Points] = Field(default_factory=dict, examples=[{"default": "2.00", "patrol": "3.00"}])
    patrol_points: Points = Field(default="0.00", examples=["5.00"])  # type: ignore[assignment]
    patrol_min_minutes: int = Field(default=30, ge=0, le=24 * 60)
    report_points: dict[ReportKind, Points] = Field(default_factory=dict, examples=[{"hazard": "3.00"}])
    report_useful_bonus: Points = Field(default="0.00")  # type: ignore[assignment]
    daily_cap: Points | None = None
    weekly_cap: Points | None = None


class CampaignIn(BaseModel):
    organisation_id: int = Field(ge=1, le=MAX_ID)
    title_zh: str = Field(min_length=1, max_length=200, examples=["平安巡逻月"])
    title_en: str = Field(default="", max_length=200)
    description_zh: str = Field(default="", max_length=2000)
    starts_at: datetime
    ends_at: datetime | None = None
    is_default: bool = False
    rules: RulesModel = Field(default_factory=RulesModel)


class CampaignOut(BaseModel):
    id: int
    organisation_id: int
    title_zh: str
    title_en: str
    description_zh: str
    starts_at: datetime
    ends_at: datetime | None
    is_default: bool
    status: CampaignStatus
    rules: RulesModel
    budget_account: str
    budget: Points
    created_by: int | None
    created_at: datetime
    closed_at: datetime | None
    closed_by: int | None

    @classmethod
    def of(cls, campaign: CampaignWithBudget) -> CampaignOut:
        return cls.model_validate(campaign, from_attributes=True)


class CampaignDetailOut(CampaignOut):
    awarded: Points
    bonuses: Points
    activities_by_status: dict[str, int]

    @classmethod
    def of_figures(cls, campaign: CampaignWithBudget, figures: CampaignFigures) -> CampaignDetailOut:
        values = {name: getattr(campaign, name) for name in CampaignOut.model_fields}
        return cls.model_validate({**values, **figures.model_dump()}, from_attributes=True)


class CampaignPageOut(BaseModel):
    items: list[CampaignOut]
    next_cursor: str | None


class FundIn(BaseModel):
    amount: Points = Field(examples=["1000.00"])


class FundOut(BaseModel):
    entry_id: int
    amount: Points
    budget: Points
    replayed: bool
