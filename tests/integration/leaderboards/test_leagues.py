"""Leagues of grids and teams: sum or per-capita average, as the organiser
chooses; the choice is stored and audited; hidden members still count."""

from __future__ import annotations

from decimal import Decimal

import pytest

from community.access import load_principal
from community.errors import AccessRefused, OrganisationNotFound
from community.members import grant_role
from community.roles import Role
from community.tables import AuditEvent
from leaderboards.errors import InvalidBoardRequest
from leaderboards.feed import feed_once
from leaderboards.league_rules import LeagueMethod, LeagueUnits
from leaderboards.leagues import read_league, set_league_method
from leaderboards.models import Visibility
from leaderboards.periods import PeriodKind
from leaderboards.visibility import set_visibility
from tests.support.leaderboard_helpers import award, build_town, fresh_redis
from tests.support.marketplace_helpers import fast_member


async def test_the_big_grid_leads_by_sum_and_the_small_one_by_average() -> None:
    town = await build_town(volunteers=4)  # three live in the first grid, one in the second
    first, second, third, far = town.members
    for member in (first, second, third):
        await award(member, "4.00", town.grid)
    await award(far, "6.00", town.other_grid)
    organiser = await fast_member(town.community, "陈书记")
    await grant_role(organiser, town.community, Role.ORGANIZER)
    manager = await load_principal(organiser)
    async with fresh_redis() as redis:
        await set_visibility(await load_principal(first), Visibility.HIDDEN, redis=redis)
        await feed_once(redis)
        scope = f"org:{town.community}"
        by_sum = await read_league(manager, scope, units=LeagueUnits.CHILDREN, period=PeriodKind.ALL, redis=redis)
        assert by_sum.method is LeagueMethod.SUM
        # The hidden member's points still count for their grid.
        assert [(u.unit_id, u.value, u.headcount) for u in by_sum.ranking] == [
            (town.grid, Decimal("12.00"), 3),
            (town.other_grid, Decimal("6.00"), 1),
        ]
        assert await set_league_method(manager, town.community, LeagueMethod.AVERAGE) is LeagueMethod.AVERAGE
        by_average = await read_league(
            await load_principal(second), scope, units=LeagueUnits.CHILDREN, period=PeriodKind.ALL, redis=redis
        )
        assert [(u.unit_id, u.value) for u in by_average.ranking] == [
            (town.other_grid, Decimal("6.00")),
            (town.grid, Decimal("4.00")),
        ]
        teams = await read_league(manager, scope, units=LeagueUnits.TEAMS, period=PeriodKind.ALL, redis=redis)
        assert [(u.unit_id, u.total, u.headcount, u.value) for u in teams.ranking] == [
            (town.team, Decimal("8.00"), 2, Decimal("4.00"))
        ]
        assert teams.names[town.team] == "红袖标巡逻队"
    rows = await AuditEvent.select().where(AuditEvent.action == "leaderboards.league_method").run()
    assert len(rows) == 1 and rows[0]["target_ref"] == f"organisation:{town.community}"


async def test_only_a_manager_of_the_node_sets_its_league_method() -> None:
    town = await build_town(volunteers=2)
    volunteer = await load_principal(town.members[0])
    with pytest.raises(AccessRefused):
        await set_league_method(volunteer, town.community, LeagueMethod.AVERAGE)
    with pytest.raises(OrganisationNotFound):
        await set_league_method(volunteer, town.other_grid, LeagueMethod.AVERAGE)
    async with fresh_redis() as redis:
        with pytest.raises(InvalidBoardRequest):
            await read_league(
                volunteer, f"team:{town.team}", units=LeagueUnits.TEAMS, period=PeriodKind.WEEK, redis=redis
            )
