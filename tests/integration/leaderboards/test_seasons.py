"""Seasons: defined by organisers of the node (audited), fed by the awards
of their dates at or below the node, frozen after the last day so that a
late reversal moves no frozen board."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from community.access import Principal, load_principal
from community.errors import AccessRefused, OrganisationNotFound
from community.members import grant_role
from community.roles import Role
from community.tables import AuditEvent
from core.clock import utc_now
from leaderboards.errors import InvalidSeason, SeasonNotFound, SeasonStarted
from leaderboards.feed import feed_once
from leaderboards.freezing import freeze_due_seasons
from leaderboards.keys import board_key
from leaderboards.league_rules import LeagueUnits
from leaderboards.leagues import read_league
from leaderboards.models import SeasonRecord, Visibility
from leaderboards.periods import PeriodKind, china_date
from leaderboards.reading import BoardQuery, read_board
from leaderboards.rebuild import rebuild
from leaderboards.season_rules import FREEZE_GRACE, end_of
from leaderboards.seasons import (
    SeasonChange,
    SeasonDraft,
    create_season,
    delete_season,
    list_seasons,
    update_season,
    visible_season,
)
from leaderboards.tables import SeasonStanding
from leaderboards.visibility import set_visibility
from ledger.tables import LedgerEntry
from tests.support.leaderboard_helpers import Town, award, board_snapshot, build_town, fresh_redis, take_back
from tests.support.marketplace_helpers import fast_member


async def _organiser(organisation_id: int) -> Principal:
    member = await fast_member(organisation_id, "陈书记")
    await grant_role(member, organisation_id, Role.ORGANIZER)
    return await load_principal(member)


async def _running_season(town: Town, organiser: Principal, *, days: int = 7) -> SeasonRecord:
    """A season on the community that began today (defined yesterday)."""
    today = china_date(utc_now())
    draft = SeasonDraft("冬季竞赛", "Winter", town.community, today, today + timedelta(days=days - 1))
    return await create_season(organiser, draft, now=utc_now() - timedelta(days=1))


def _season_query(season_id: int, scope: str, around: int = 0) -> BoardQuery:
    return BoardQuery(scope=scope, period=PeriodKind.SEASON, season_id=season_id, around=around)


async def test_awards_in_the_season_feed_its_boards_up_to_its_node_and_equal_a_rebuild() -> None:
    town = await build_town()
    first, second, _, far = town.members
    season = await _running_season(town, await _organiser(town.community))
    await award(first, "5.00", town.grid)
    await award(second, "3.00", town.grid)
    await award(far, "2.00", town.other_grid)
    async with fresh_redis() as redis:
        await feed_once(redis)
        reader = await load_principal(first)
        grid = await read_board(reader, _season_query(season.id, f"org:{town.grid}", around=1), redis=redis)
        assert grid.period == f"season:{season.id}"
        assert [(row.member_id, row.points) for row in grid.top] == [
            (first, Decimal("5.00")),
            (second, Decimal("3.00")),
        ]
        community = await read_board(reader, _season_query(season.id, f"org:{town.community}"), redis=redis)
        assert [row.member_id for row in community.top] == [first, second, far]
        team = await read_board(reader, _season_query(season.id, f"team:{town.team}"), redis=redis)
        assert team.size == 2
        # Above the season's node there is no season board.
        city_key = board_key(f"org:{(await visible_season(reader, season.id)).organisation_id - 1}", grid.period)
        assert await redis.zcard(city_key) == 0
        incremental = await board_snapshot(redis)
        await rebuild(redis)
        assert await board_snapshot(redis) == incremental


async def test_a_frozen_season_board_never_moves_even_when_an_in_season_award_is_reversed() -> None:
    town = await build_town()
    first, second, *_ = town.members
    season = await _running_season(town, await _organiser(town.community), days=1)
    undone = await award(first, "9.00", town.grid)
    await award(second, "4.00", town.grid)
    after_the_end = end_of(season.last_day) + FREEZE_GRACE
    async with fresh_redis() as redis:
        await feed_once(redis)
        reader = await load_principal(second)
        before = await read_board(reader, _season_query(season.id, f"org:{town.grid}"), redis=redis)
        assert await freeze_due_seasons(redis, now=after_the_end) == [season.id]
        assert await freeze_due_seasons(redis, now=after_the_end) == []  # once
        stored = await SeasonStanding.count().where(SeasonStanding.season == season.id).run()
        assert stored == 4 * 2  # grid, community, team and campaign boards: two members each
        await take_back(undone.id)
        await feed_once(redis)
        await rebuild(redis)
        frozen = await read_board(reader, _season_query(season.id, f"org:{town.grid}"), redis=redis, now=after_the_end)
        assert [(row.member_id, row.points, row.rank) for row in frozen.top] == [
            (row.member_id, row.points, row.rank) for row in before.top
        ]
        assert frozen.me.rank == 2 and frozen.me.points == Decimal("4.00")
        # The all-time board did move: the reversal counts there.
        all_time = await read_board(reader, BoardQuery(scope=f"org:{town.grid}", period=PeriodKind.ALL), redis=redis)
        assert [row.member_id for row in all_time.top] == [second]
    assert (await visible_season(reader, season.id)).frozen_at is not None


async def test_reading_a_season_board_after_its_end_freezes_it_first() -> None:
    town = await build_town()
    first, *_ = town.members
    season = await _running_season(town, await _organiser(town.community), days=1)
    await award(first, "2.00", town.grid)
    async with fresh_redis() as redis:
        await feed_once(redis)
        later = end_of(season.last_day) + FREEZE_GRACE + timedelta(minutes=1)
        view = await read_board(
            await load_principal(first), _season_query(season.id, f"org:{town.grid}"), redis=redis, now=later
        )
        assert view.me.rank == 1
    assert await SeasonStanding.count().where(SeasonStanding.season == season.id).run() > 0


async def test_only_managers_of_the_node_define_seasons_and_each_change_is_audited() -> None:
    town = await build_town()
    organiser = await _organiser(town.community)
    volunteer = await load_principal(town.members[0])
    other_community = await fast_member(town.grid, "路人")  # lives in the grid: sees the community, manages nothing
    tomorrow = china_date(utc_now()) + timedelta(days=1)
    draft = SeasonDraft("春季竞赛", "", town.community, tomorrow, tomorrow + timedelta(days=30))
    with pytest.raises(AccessRefused):
        await create_season(volunteer, draft)
    season = await create_season(organiser, draft)
    assert [s.id for s in await list_seasons(await load_principal(other_community))] == [season.id]
    renamed = await update_season(organiser, season.id, SeasonChange(name_zh="春季大赛", last_day=tomorrow))
    assert (renamed.name_zh, renamed.last_day) == ("春季大赛", tomorrow)
    with pytest.raises(AccessRefused):
        await update_season(volunteer, season.id, SeasonChange(name_zh="我的赛季"))
    with pytest.raises(InvalidSeason) as past:
        await update_season(organiser, season.id, SeasonChange(first_day=tomorrow - timedelta(days=2)))
    assert past.value.field == "first_day"
    # Another community's organiser does not even see it.
    elsewhere = await build_town()
    stranger = await _organiser(elsewhere.community)
    with pytest.raises(SeasonNotFound):
        await visible_season(stranger, season.id)
    with pytest.raises(SeasonNotFound):
        await delete_season(stranger, season.id)
    with pytest.raises(OrganisationNotFound):
        await create_season(stranger, draft)
    await delete_season(organiser, season.id)
    with pytest.raises(SeasonNotFound):
        await visible_season(organiser, season.id)
    actions = [row["action"] for row in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.id).run()]
    assert [a for a in actions if a.startswith("leaderboards.season")] == [
        "leaderboards.season_create",
        "leaderboards.season_update",
        "leaderboards.season_delete",
    ]


async def test_a_running_season_keeps_its_dates_and_is_not_deleted_but_can_be_renamed() -> None:
    town = await build_town()
    organiser = await _organiser(town.community)
    season = await _running_season(town, organiser)
    with pytest.raises(SeasonStarted):
        await update_season(organiser, season.id, SeasonChange(last_day=season.last_day + timedelta(days=1)))
    with pytest.raises(SeasonStarted):
        await delete_season(organiser, season.id)
    assert (await update_season(organiser, season.id, SeasonChange(name_en="Winter cup"))).name_en == "Winter cup"


async def test_an_award_at_the_last_china_minute_counts_and_one_at_midnight_does_not() -> None:
    """The season's last day ends at 24:00 China time (16:00 UTC): the feed
    places each award by its ledger time."""
    town = await build_town()
    first, second, *_ = town.members
    season = await _running_season(town, await _organiser(town.community), days=1)
    ends = end_of(season.last_day)
    inside = await award(first, "1.00", town.grid)
    outside = await award(second, "2.00", town.grid)
    await (
        LedgerEntry.update({LedgerEntry.created_at: ends - timedelta(minutes=1)})
        .where(LedgerEntry.id == inside.id)
        .run()
    )
    await LedgerEntry.update({LedgerEntry.created_at: ends}).where(LedgerEntry.id == outside.id).run()
    async with fresh_redis() as redis:
        await feed_once(redis)
        view = await read_board(await load_principal(first), _season_query(season.id, f"org:{town.grid}"), redis=redis)
        assert [row.member_id for row in view.top] == [first]
        assert view.size == 1


async def test_a_member_who_leaves_the_rankings_after_freezing_is_not_shown_on_the_frozen_board() -> None:
    town = await build_town()
    first, second, *_ = town.members
    season = await _running_season(town, await _organiser(town.community), days=1)
    await award(first, "9.00", town.grid)
    await award(second, "4.00", town.grid)
    after_the_end = end_of(season.last_day) + FREEZE_GRACE
    async with fresh_redis() as redis:
        await feed_once(redis)
        await freeze_due_seasons(redis, now=after_the_end)
        await set_visibility(await load_principal(first), Visibility.HIDDEN, redis=redis)
        query = _season_query(season.id, f"org:{town.grid}")
        seen = await read_board(await load_principal(second), query, redis=redis, now=after_the_end)
        assert [(row.member_id, row.rank) for row in seen.top] == [(second, 2)]  # the frozen rank is kept
        mine = await read_board(await load_principal(first), query, redis=redis, now=after_the_end)
        assert mine.me.hidden and mine.me.points == Decimal("9.00")


async def test_a_season_league_ranks_the_grids_live_and_then_as_frozen() -> None:
    town = await build_town()
    first, second, _, far = town.members
    organiser = await _organiser(town.community)
    season = await _running_season(town, organiser, days=1)
    undone = await award(first, "3.00", town.grid)
    await award(second, "1.00", town.grid)
    await award(far, "5.00", town.other_grid)
    scope = f"org:{town.community}"
    async with fresh_redis() as redis:
        await feed_once(redis)
        live = await read_league(
            organiser, scope, units=LeagueUnits.CHILDREN, period=PeriodKind.SEASON, redis=redis, season_id=season.id
        )
        assert live.period == f"season:{season.id}"
        assert [(u.unit_id, u.total) for u in live.ranking] == [
            (town.other_grid, Decimal("5.00")),
            (town.grid, Decimal("4.00")),
        ]
        after_the_end = end_of(season.last_day) + FREEZE_GRACE
        await freeze_due_seasons(redis, now=after_the_end)
        await take_back(undone.id)
        await feed_once(redis)
        frozen = await read_league(
            organiser,
            scope,
            units=LeagueUnits.CHILDREN,
            period=PeriodKind.SEASON,
            redis=redis,
            season_id=season.id,
            now=after_the_end,
        )
        assert [(u.unit_id, u.total) for u in frozen.ranking] == [(u.unit_id, u.total) for u in live.ranking]
