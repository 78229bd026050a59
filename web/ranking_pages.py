"""The ranking page (排行榜): where I stand this week or this month in my
grid, my community or one of my teams, next to the people just above and
below me (their names masked unless they chose otherwise), and 本周比上周;
and the season running over my home node (本赛季), when there is one.
The ranking-visibility choice is on the Me page (``web.member_pages``).

Boards are read with ``leaderboards.reading.read_board``, as the API does: the board's
policy (``leaderboards.policy``) decides which scopes the member may see.
Which boards the page offers is ``board_choices`` (pure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template
from redis.asyncio import Redis

from api.dependencies import ActingPrincipal
from api.guards import requires_member
from api.routing import get
from community.members import get_member
from community.models import OrganisationRecord, TeamRecord
from community.organisations import get_organisation
from community.roles import Level
from community.teams import teams_of_member
from leaderboards.periods import PeriodKind
from leaderboards.reading import BoardQuery, read_board
from leaderboards.seasons import running_season_over
from leaderboards.visibility import visibility_of
from web.page_errors import PAGE_EXCEPTION_HANDLERS
from web.rendering import render

TOP = 3
NEIGHBOURS = 3
PERIODS = {"week": PeriodKind.WEEK, "month": PeriodKind.MONTH}
# How far up the tree the page looks for the member's grid and community.
MAX_TREE_DEPTH = 12


@dataclass(frozen=True, slots=True)
class BoardChoice:
    """A board the page offers: its key in the URL, its leaderboard scope,
    and its label (catalog key and the values it takes)."""

    key: str
    scope: str
    label: str
    name: str = ""


def _name(language: str, zh: str, en: str) -> str:
    return en if language == "en" and en else zh


def board_choices(nodes: Sequence[OrganisationRecord], teams: Sequence[TeamRecord], language: str) -> list[BoardChoice]:
    """``nodes``: the member's home node and its ancestors, nearest first.
    The nearest grid (else the home node) and the nearest community, then
    each team."""
    grid = next((node for node in nodes if node.level is Level.GRID), nodes[0] if nodes else None)
    community = next((node for node in nodes if node.level is Level.COMMUNITY), None)
    choices = []
    if grid is not None:
        choices.append(BoardChoice("grid", f"org:{grid.id}", "ranking_grid"))
    if community is not None and community is not grid:
        choices.append(BoardChoice("community", f"org:{community.id}", "ranking_community"))
    choices.extend(
        BoardChoice(f"team-{team.id}", f"team:{team.id}", "ranking_team", _name(language, team.name_zh, team.name_en))
        for team in teams
    )
    return choices


async def _nodes_up(organisation_id: int) -> list[OrganisationRecord]:
    nodes = [await get_organisation(organisation_id)]
    while nodes[-1].parent_id is not None and len(nodes) < MAX_TREE_DEPTH:
        nodes.append(await get_organisation(nodes[-1].parent_id))
    return nodes


class RankingPages(Controller):
    path = ""
    include_in_schema = False
    guards = [requires_member]
    exception_handlers = PAGE_EXCEPTION_HANDLERS

    @get("/ranking", name="ranking")
    async def ranking(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        redis: NamedDependency[Redis],
        board: Annotated[str | None, QueryParameter(max_length=30)] = None,
        period: Annotated[str | None, QueryParameter(max_length=10)] = None,
    ) -> Template:
        """An unknown board or period shows the first board this week."""
        member = await get_member(principal.member_id)
        choices = board_choices(
            await _nodes_up(member.home_organisation_id), await teams_of_member(member.id), member.preferred_language
        )
        chosen = next((choice for choice in choices if choice.key == board), choices[0] if choices else None)
        season = await running_season_over(member.home_organisation_id)
        offered = (*PERIODS, "season") if season is not None else tuple(PERIODS)
        period_key = period if period in offered else "week"
        view = None
        if chosen is not None:
            query = BoardQuery(
                scope=chosen.scope,
                period=PERIODS.get(period_key, PeriodKind.SEASON),
                top=TOP,
                around=NEIGHBOURS,
                season_id=season.id if period_key == "season" and season is not None else None,
            )
            view = await read_board(principal, query, redis=redis)
        return render(
            request,
            "ranking.html",
            member=member,
            choices=choices,
            chosen=chosen,
            period=period_key,
            periods=offered,
            season=season,
            view=view,
            visibility=(await visibility_of(member.id)).visibility.value,
        )
