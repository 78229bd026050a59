"""Leaderboard records: visibility, a board's rows and views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class Visibility(StrEnum):
    """How a member appears on boards (``community_member.ranking_visibility``)."""

    MASKED = "masked"  # the default: 张*英
    FULL_NAME = "full_name"  # opted in to their full name
    HIDDEN = "hidden"  # off every board; points untouched


@dataclass(frozen=True, slots=True)
class RankedMember:
    """One row of a board as a reader sees it."""

    rank: int  # 1 = first
    member_id: int
    name: str  # masked unless the member shows their full name, or is the reader
    points: Decimal
    reached_at: datetime
    is_me: bool


@dataclass(frozen=True, slots=True)
class MyStanding:
    """The reader on a board: rank None when not on it (no points yet, or hidden)."""

    rank: int | None
    points: Decimal
    hidden: bool


@dataclass(frozen=True, slots=True)
class WeekComparison:
    """本周比上周: the reader's points and rank this week and last week."""

    this_week: str
    last_week: str
    points_this_week: Decimal
    points_last_week: Decimal
    rank_this_week: int | None
    rank_last_week: int | None


@dataclass(frozen=True, slots=True)
class BoardView:
    scope: str
    period: str
    size: int  # members shown on the board (hidden ones not counted)
    top: tuple[RankedMember, ...]
    me: MyStanding
    neighbours: tuple[RankedMember, ...]
    week: WeekComparison | None
    as_of: datetime


@dataclass(frozen=True, slots=True)
class VisibilityRecord:
    member_id: int
    visibility: Visibility
    version: int


@dataclass(frozen=True, slots=True)
class SeasonRecord:
    """A season as stored; ``frozen_at`` set once its board is final."""

    id: int
    name_zh: str
    name_en: str
    organisation_id: int
    first_day: date
    last_day: date
    created_by: int | None
    created_at: datetime
    frozen_at: datetime | None
