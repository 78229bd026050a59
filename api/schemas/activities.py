"""Request and response models of the activity routes (campaigns: ``api/schemas/campaigns.py``).

Amounts are ``Points``: JSON strings in both directions, never numbers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from activities.records import ActivityOut
from api.points import Points
from core.ids import MAX_ID


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
