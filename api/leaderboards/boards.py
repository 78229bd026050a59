"""Leaderboards: where I stand, and whether I am on the boards at all.

``GET /api/v1/leaderboards``: a board of a scope the caller may see
(``leaderboards.policy``: their own nodes, their teams, campaigns they can
see; anything else is 404 as if it did not exist), for the current week,
month or all time, with the top N, the caller's rank and, with
``around=me``, their neighbours. ``PUT /api/v1/me/ranking-visibility``:
the caller's own choice (masked, full name, hidden), audited.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from litestar import Controller
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import JSONBody, QueryParameter
from redis.asyncio import Redis

from api.dependencies import ActingPrincipal
from api.guards import requires_manager, requires_member
from api.params import Id
from api.routing import get, put
from api.schemas.leaderboards import (
    BoardOut,
    LeagueMethodIn,
    LeagueMethodOut,
    LeagueOut,
    RankingVisibilityIn,
    RankingVisibilityOut,
)
from leaderboards.league_rules import LeagueUnits
from leaderboards.leagues import read_league, set_league_method
from leaderboards.periods import PeriodKind
from leaderboards.reading import MAX_AROUND, MAX_TOP, BoardQuery, read_board
from leaderboards.visibility import set_visibility, visibility_of

DEFAULT_NEIGHBOURS = 5


# week, month, all, or season:<id> (an id within the id columns' range).
PERIOD_PATTERN = r"^(week|month|all|season:[1-9][0-9]{0,8})$"


class BoardPeriod(StrEnum):
    """The rolling periods (a league's; a board also takes season:<id>)."""

    WEEK = "week"
    MONTH = "month"
    ALL = "all"


class Around(StrEnum):
    ME = "me"


class LeaderboardsController(Controller):
    path = "/api/v1/leaderboards"
    tags = ["leaderboards"]
    guards = [requires_member]

    @get(
        "",
        operation_id="getLeaderboard",
        summary="排行榜 · A board: top N, my rank and my neighbours, this week vs last",
    )
    async def board(
        self,
        principal: ActingPrincipal,
        redis: NamedDependency[Redis],
        board_scope: Annotated[
            str | None,
            QueryParameter(
                name="scope",
                description="org:<id>, team:<id> or campaign:<id>; default: your home grid "
                "(checked by leaderboards.policy: 422 naming scope if it is not one)",
                examples=[Example(value="org:12")],
            ),
        ] = None,
        period: Annotated[
            str,
            QueryParameter(
                pattern=PERIOD_PATTERN,
                description="China-time week, month, all time, or season:<id> (a season's board; "
                "final after its last day)",
                examples=[Example(value="week"), Example(value="season:3")],
            ),
        ] = BoardPeriod.WEEK.value,
        around: Annotated[Around | None, QueryParameter(description="me: include your neighbours")] = None,
        top: Annotated[int, QueryParameter(ge=1, le=MAX_TOP)] = 10,
        neighbours: Annotated[
            int, QueryParameter(ge=1, le=MAX_AROUND, description="how many above and below you, with around=me")
        ] = DEFAULT_NEIGHBOURS,
    ) -> BoardOut:
        season_id = int(period.removeprefix("season:")) if period.startswith("season:") else None
        query = BoardQuery(
            scope=board_scope,
            period=PeriodKind.SEASON if season_id is not None else PeriodKind(period),
            season_id=season_id,
            top=top,
            around=neighbours if around is Around.ME else 0,
        )
        view = await read_board(principal, query, redis=redis)
        return BoardOut.of(view, (await visibility_of(principal.member_id)).visibility)

    @get(
        "/leagues",
        operation_id="getLeague",
        summary="四季竞赛 · The grids (or teams) under a node ranked by sum or per-capita average",
    )
    async def league(
        self,
        principal: ActingPrincipal,
        redis: NamedDependency[Redis],
        board_scope: Annotated[
            str,
            QueryParameter(
                name="scope",
                description="org:<id>: the node whose child nodes or teams compete",
                examples=[Example(value="org:12")],
            ),
        ],
        units: Annotated[LeagueUnits, QueryParameter(description="children: its child nodes; teams: its teams")] = (
            LeagueUnits.CHILDREN
        ),
        period: Annotated[
            str,
            QueryParameter(
                pattern=PERIOD_PATTERN,
                description="China-time week, month, all time, or season:<id> (final after its last day)",
            ),
        ] = BoardPeriod.WEEK.value,
    ) -> LeagueOut:
        season_id = int(period.removeprefix("season:")) if period.startswith("season:") else None
        kind = PeriodKind.SEASON if season_id is not None else PeriodKind(period)
        view = await read_league(principal, board_scope, units=units, period=kind, redis=redis, season_id=season_id)
        return LeagueOut.of(view)


class LeagueMethodController(Controller):
    path = "/api/v1/organisations"
    tags = ["leaderboards"]
    guards = [requires_manager]

    @put(
        "/{organisation_id:int}/league-method",
        operation_id="setLeagueMethod",
        summary="联赛计分方式 · Rank this node's leagues by sum or per-capita average",
    )
    async def set_method(
        self, principal: ActingPrincipal, organisation_id: Id, data: JSONBody[LeagueMethodIn]
    ) -> LeagueMethodOut:
        method = await set_league_method(principal, organisation_id, data.method)
        return LeagueMethodOut(organisation_id=organisation_id, method=method)


class RankingVisibilityController(Controller):
    path = "/api/v1/me/ranking-visibility"
    tags = ["leaderboards"]
    guards = [requires_member]

    @put(
        "",
        operation_id="setMyRankingVisibility",
        summary="我的排行榜显示 · Show me masked, by full name, or leave the rankings (points are kept)",
    )
    async def set_mine(
        self, principal: ActingPrincipal, redis: NamedDependency[Redis], data: JSONBody[RankingVisibilityIn]
    ) -> RankingVisibilityOut:
        return RankingVisibilityOut.of(await set_visibility(principal, data.visibility, redis=redis))
