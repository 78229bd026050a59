"""Request and response models of the season routes. Days are China dates
(``2026-12-07``), first and last inclusive."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from core.ids import MAX_ID
from leaderboards.models import SeasonRecord
from leaderboards.season_rules import MAX_NAME_CHARS


class SeasonIn(BaseModel):
    name_zh: str = Field(min_length=1, max_length=MAX_NAME_CHARS, examples=["2027 春季竞赛"])
    name_en: str = Field(default="", max_length=MAX_NAME_CHARS, examples=["Spring 2027"])
    organisation_id: int = Field(ge=1, le=MAX_ID, description="The node whose grids and teams compete")
    first_day: date = Field(description="China date, tomorrow or later", examples=["2027-03-01"])
    last_day: date = Field(description="China date, inclusive", examples=["2027-05-31"])


class SeasonPatch(BaseModel):
    """Fields left out stay as they are; the dates only before the first day."""

    name_zh: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_CHARS)
    name_en: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    first_day: date | None = None
    last_day: date | None = None


class SeasonOut(BaseModel):
    id: int
    name_zh: str
    name_en: str
    organisation_id: int
    first_day: date
    last_day: date
    period: str = Field(examples=["season:3"], description="Its boards: GET /api/v1/leaderboards?period=season:<id>")
    created_by: int | None
    created_at: datetime
    frozen_at: datetime | None = Field(description="When its board became final (after the last day)")

    @classmethod
    def of(cls, season: SeasonRecord) -> SeasonOut:
        return cls(
            id=season.id,
            name_zh=season.name_zh,
            name_en=season.name_en,
            organisation_id=season.organisation_id,
            first_day=season.first_day,
            last_day=season.last_day,
            period=f"season:{season.id}",
            created_by=season.created_by,
            created_at=season.created_at,
            frozen_at=season.frozen_at,
        )


class SeasonListOut(BaseModel):
    items: list[SeasonOut]
