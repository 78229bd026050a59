"""Response and request models of the leaderboard routes. Points are
strings with two places (``api.points.Points``); times are UTC instants,
and each period is named by its China-time id (``week:2026-W48``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.points import Points
from leaderboards.league_rules import LeagueMethod, LeagueUnits, RankedUnit
from leaderboards.leagues import LeagueView
from leaderboards.models import BoardView, RankedMember, Visibility, VisibilityRecord, WeekComparison


class RankedMemberOut(BaseModel):
    rank: int = Field(ge=1)
    member_id: int
    name: str = Field(description="Masked (张*英) unless the member shows their full name, or is you")
    points: Points
    reached_at: datetime = Field(description="When the member reached these points (UTC; ties rank earlier first)")
    is_me: bool

    @classmethod
    def of(cls, row: RankedMember) -> RankedMemberOut:
        return cls(
            rank=row.rank,
            member_id=row.member_id,
            name=row.name,
            points=row.points,
            reached_at=row.reached_at,
            is_me=row.is_me,
        )


class MyStandingOut(BaseModel):
    rank: int | None = Field(description="Your rank; null when you have no points here yet or have left the rankings")
    points: Points
    hidden: bool = Field(description="You left the rankings: others do not see you; your points are kept")
    visibility: Visibility


class WeekComparisonOut(BaseModel):
    """本周比上周 · this week compared with last week (China-time ISO weeks)."""

    this_week: str
    last_week: str
    points_this_week: Points
    points_last_week: Points
    rank_this_week: int | None
    rank_last_week: int | None

    @classmethod
    def of(cls, week: WeekComparison) -> WeekComparisonOut:
        return cls(
            this_week=week.this_week,
            last_week=week.last_week,
            points_this_week=week.points_this_week,
            points_last_week=week.points_last_week,
            rank_this_week=week.rank_this_week,
            rank_last_week=week.rank_last_week,
        )


class BoardOut(BaseModel):
    scope: str = Field(examples=["org:12"])
    period: str = Field(examples=["week:2026-W48"], description="The period's id, in China time")
    size: int = Field(description="Members on the board (those who left the rankings are not counted)")
    top: list[RankedMemberOut]
    me: MyStandingOut
    neighbours: list[RankedMemberOut] = Field(description="Those just above and below you (around=me); you included")
    week: WeekComparisonOut | None = Field(description="本周比上周, for period=week")
    as_of: datetime

    @classmethod
    def of(cls, view: BoardView, visibility: Visibility) -> BoardOut:
        return cls(
            scope=view.scope,
            period=view.period,
            size=view.size,
            top=[RankedMemberOut.of(row) for row in view.top],
            me=MyStandingOut(rank=view.me.rank, points=view.me.points, hidden=view.me.hidden, visibility=visibility),
            neighbours=[RankedMemberOut.of(row) for row in view.neighbours],
            week=WeekComparisonOut.of(view.week) if view.week is not None else None,
            as_of=view.as_of,
        )


class RankingVisibilityIn(BaseModel):
    visibility: Visibility = Field(
        description="masked: on boards as 张*英 (default); full_name: your full name; hidden: off every board "
        "(your points are kept; you can come back)"
    )


class RankingVisibilityOut(BaseModel):
    visibility: Visibility
    version: int

    @classmethod
    def of(cls, record: VisibilityRecord) -> RankingVisibilityOut:
        return cls(visibility=record.visibility, version=record.version)


class LeagueUnitOut(BaseModel):
    rank: int = Field(ge=1)
    unit_id: int = Field(description="An organisation node's id (units=children) or a team's (units=teams)")
    name_zh: str
    total: Points = Field(description="Members' points added up (those who left the rankings included)")
    headcount: int
    value: Points = Field(description="What the league ranks by: the total, or the total per member")

    @classmethod
    def of(cls, unit: RankedUnit, name_zh: str) -> LeagueUnitOut:
        return cls(
            rank=unit.rank,
            unit_id=unit.unit_id,
            name_zh=name_zh,
            total=unit.total,
            headcount=unit.headcount,
            value=unit.value,
        )


class LeagueOut(BaseModel):
    scope: str
    period: str
    units: LeagueUnits
    method: LeagueMethod
    ranking: list[LeagueUnitOut]
    as_of: datetime

    @classmethod
    def of(cls, view: LeagueView) -> LeagueOut:
        return cls(
            scope=view.scope,
            period=view.period,
            units=view.units,
            method=view.method,
            ranking=[LeagueUnitOut.of(unit, view.names.get(unit.unit_id, "")) for unit in view.ranking],
            as_of=view.as_of,
        )


class LeagueMethodIn(BaseModel):
    method: LeagueMethod = Field(description="sum: members' points added up; average: per member (small grids compete)")


class LeagueMethodOut(BaseModel):
    organisation_id: int
    method: LeagueMethod
