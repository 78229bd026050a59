"""Leagues (四季竞赛 between grids and teams): the units under a node ranked
by their members' points, by sum or per-capita average (``league_rules.py``).

The organiser's choice is stored per node (``leaderboards_league_rule``;
no row: ``sum``) and set by ``set_league_method`` (managers of the node,
audited). ``read_league`` reads each unit's total from its board's
``:sum`` key (one GET per unit, pipelined: a node has tens of units, not
thousands; a frozen season's from its stored standings, ``freezing.py``)
and its head count from the database: active members living in a child
node's subtree, or a team's members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis

from community import audit
from community.access import Principal
from community.organisations import get_organisation
from community.policy import managed_organisation
from community.tables import Organisation
from community.teams import list_teams
from community.tree_paths import SUBTREE_END
from core.clock import utc_now
from core.database import in_write_transaction
from leaderboards.errors import BoardNotFound, InvalidBoardRequest, SeasonNotFound
from leaderboards.freezing import frozen_if_due
from leaderboards.keys import ScopeKind, parse_scope, scope_name, sum_key
from leaderboards.league_rules import LeagueMethod, LeagueUnits, RankedUnit, UnitTotal, rank_units
from leaderboards.models import SeasonRecord
from leaderboards.periods import PeriodKind, current_period
from leaderboards.policy import check_board_visible
from leaderboards.redis_boards import text
from leaderboards.seasons import visible_season
from leaderboards.tables import LeagueRule, SeasonStanding

_CHILD_HEADCOUNTS_SQL = (
    "SELECT child.id AS id, COUNT(m.id) AS headcount FROM community_organisation AS child "  # noqa: S608 -- a constant of digits; values are bound parameters
    "LEFT JOIN community_organisation AS below "
    f"ON below.path >= child.path AND below.path < child.path || '{SUBTREE_END}' "
    "LEFT JOIN community_member AS m ON m.home_organisation = below.id AND m.active = {} "
    "WHERE child.parent = {} GROUP BY child.id"
)


@dataclass(frozen=True, slots=True)
class LeagueView:
    scope: str
    period: str
    units: LeagueUnits
    method: LeagueMethod
    ranking: tuple[RankedUnit, ...]
    names: dict[int, str]  # unit id → its Chinese name
    as_of: datetime


async def league_method(organisation_id: int) -> LeagueMethod:
    rows = await LeagueRule.select(LeagueRule.method).where(LeagueRule.organisation == organisation_id).run()
    return LeagueMethod(rows[0]["method"]) if rows else LeagueMethod.SUM


async def set_league_method(principal: Principal, organisation_id: int, method: LeagueMethod) -> LeagueMethod:
    """The node's league method; managers of the node only (404 for a node
    one cannot see, 403 for one seen but not managed)."""

    async def work() -> LeagueMethod:
        await managed_organisation(principal, organisation_id)
        previous = await league_method(organisation_id)
        if previous is method:
            return method
        updated = (
            await LeagueRule.update(
                {
                    LeagueRule.method: method.value,
                    LeagueRule.changed_by: principal.member_id,
                    LeagueRule.changed_at: utc_now(),
                }
            )
            .where(LeagueRule.organisation == organisation_id)
            .returning(LeagueRule.id)
            .run()
        )
        if not updated:
            await LeagueRule.insert(
                LeagueRule(organisation=organisation_id, method=method.value, changed_by=principal.member_id)
            ).run()
        await audit.record(
            principal.ref,
            "leaderboards.league_method",
            f"organisation:{organisation_id}",
            method=method.value,
            previous=previous.value,
        )
        return method

    return await in_write_transaction(work, retry_unique=True)


async def _season_for(principal: Principal, season_id: int, redis: Redis, now: datetime) -> SeasonRecord:
    try:
        season = await visible_season(principal, season_id)
    except SeasonNotFound:
        raise BoardNotFound(f"no season {season_id} for you", field="period") from None
    return await frozen_if_due(redis, season, now)


async def frozen_totals(season_id: int, scopes: list[str]) -> dict[str, int]:
    """A frozen season's points per board (members who were hidden included,
    as live leagues count them), from its stored standings."""
    if not scopes:
        return {}
    rows = (
        await SeasonStanding.select(SeasonStanding.scope, SeasonStanding.points_minor)
        .where((SeasonStanding.season == season_id) & SeasonStanding.scope.is_in(scopes))
        .run()
    )
    totals: dict[str, int] = {}
    for row in rows:
        totals[str(row["scope"])] = totals.get(str(row["scope"]), 0) + int(row["points_minor"])
    return totals


async def _children(organisation_id: int) -> tuple[list[tuple[int, int]], dict[int, str]]:
    rows = await Organisation.raw(_CHILD_HEADCOUNTS_SQL, True, organisation_id).run()
    units = sorted((int(row["id"]), int(row["headcount"])) for row in rows)
    names = {}
    if units:
        name_rows = (
            await Organisation.select(Organisation.id, Organisation.name_zh)
            .where(Organisation.id.is_in([unit for unit, _ in units]))
            .run()
        )
        names = {int(row["id"]): str(row["name_zh"]) for row in name_rows}
    return units, names


async def _teams(organisation_id: int) -> tuple[list[tuple[int, int]], dict[int, str]]:
    teams = await list_teams({organisation_id})
    return [(team.id, team.member_count) for team in teams], {team.id: team.name_zh for team in teams}


async def read_league(
    principal: Principal,
    scope: str,
    *,
    units: LeagueUnits,
    period: PeriodKind,
    redis: Redis,
    now: datetime | None = None,
    season_id: int | None = None,
) -> LeagueView:
    scope = await check_board_visible(principal, scope)
    kind, organisation_id = parse_scope(scope)
    if kind is not ScopeKind.ORGANISATION:
        raise InvalidBoardRequest("a league is of the units under an organisation node: scope org:<id>", field="scope")
    if (period is PeriodKind.SEASON) != (season_id is not None):
        raise InvalidBoardRequest("a season league is named season:<id>", field="period")
    await get_organisation(organisation_id)
    now = now or utc_now()
    members, names = await (_children(organisation_id) if units is LeagueUnits.CHILDREN else _teams(organisation_id))
    unit_kind = ScopeKind.ORGANISATION if units is LeagueUnits.CHILDREN else ScopeKind.TEAM
    unit_scopes = [scope_name(unit_kind, unit_id) for unit_id, _ in members]
    frozen: dict[str, int] | None = None
    if season_id is not None:
        season = await _season_for(principal, season_id, redis, now)
        period_id = f"season:{season.id}"
        if season.frozen_at is not None:
            frozen = await frozen_totals(season.id, unit_scopes)
    else:
        period_id = current_period(period, now)
    if frozen is None:
        async with redis.pipeline(transaction=False) as pipe:
            for unit_scope in unit_scopes:
                pipe.get(sum_key(unit_scope, period_id))
            sums = await pipe.execute()
        frozen_or_live = {
            scope: int(text(raw)) if raw is not None else 0 for scope, raw in zip(unit_scopes, sums, strict=True)
        }
    else:
        frozen_or_live = frozen
    totals = [
        UnitTotal(unit_id=unit_id, points_minor=frozen_or_live.get(unit_scope, 0), headcount=headcount)
        for (unit_id, headcount), unit_scope in zip(members, unit_scopes, strict=True)
    ]
    method = await league_method(organisation_id)
    return LeagueView(
        scope=scope,
        period=period_id,
        units=units,
        method=method,
        ranking=tuple(rank_units(totals, method)),
        names=names,
        as_of=now,
    )
