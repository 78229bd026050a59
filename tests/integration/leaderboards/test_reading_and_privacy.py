"""Reading boards (top, my rank, neighbours, this week vs last week, ties)
and privacy (masked names, full names by choice, opting out and back in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from community.access import load_principal
from community.tables import AuditEvent
from leaderboards.errors import BoardNotFound, InvalidBoardRequest
from leaderboards.feed import feed_once
from leaderboards.keys import board_key, sum_key
from leaderboards.models import Visibility
from leaderboards.periods import PeriodKind
from leaderboards.reading import BoardQuery, read_board
from leaderboards.visibility import set_visibility
from ledger import posting
from tests.support.leaderboard_helpers import Town, award, build_town, fresh_redis, number_at
from tests.support.marketplace_helpers import wallet


async def _awarded(town: Town, amounts: list[str]) -> None:
    for member, amount in zip(town.members, amounts, strict=False):
        await award(member, amount, town.grid if member != town.members[-1] else town.other_grid)


async def test_top_my_rank_and_neighbours_with_masked_names() -> None:
    town = await build_town(volunteers=4)
    await _awarded(town, ["5.00", "9.00", "7.00", "1.00"])
    reader = await load_principal(town.members[0])
    async with fresh_redis() as redis:
        await feed_once(redis)
        view = await read_board(
            reader, BoardQuery(scope=f"org:{town.community}", period=PeriodKind.ALL, top=2, around=1), redis=redis
        )
    assert view.size == 4
    assert [(row.rank, row.name, row.points) for row in view.top] == [
        (1, "李*", Decimal("9.00")),
        (2, "王*力", Decimal("7.00")),
    ]
    assert view.me.rank == 3 and view.me.points == Decimal("5.00") and not view.me.hidden
    # Neighbours ±1: the one above, me (my own name shown whole to me), the one below.
    assert [(row.rank, row.name, row.is_me) for row in view.neighbours] == [
        (2, "王*力", False),
        (3, "张小英", True),
        (4, "周*", False),
    ]


async def test_a_member_who_shows_their_full_name_is_named_in_full() -> None:
    town = await build_town(volunteers=2)
    await _awarded(town, ["5.00"])
    async with fresh_redis() as redis:
        await set_visibility(await load_principal(town.members[0]), Visibility.FULL_NAME, redis=redis)
        await feed_once(redis)
        view = await read_board(
            await load_principal(town.members[1]),
            BoardQuery(scope=f"org:{town.community}", period=PeriodKind.ALL),
            redis=redis,
        )
    assert [row.name for row in view.top] == ["张小英"]


async def test_equal_points_rank_by_who_reached_them_first(monkeypatch: pytest.MonkeyPatch) -> None:
    town = await build_town(volunteers=3)
    first, second, _, _ = [*town.members, 0][:4]
    moments = iter([datetime(2026, 11, 2, 1, 0, tzinfo=UTC), datetime(2026, 11, 2, 2, 0, tzinfo=UTC)])
    # The first member reaches the score an hour before the second. Without
    # the time in the score, Redis would order the tie by member id,
    # highest first (ZREVRANGE): the second member (a higher id) on top.
    monkeypatch.setattr(posting, "entry_time", lambda: next(moments))
    await award(first, "5.00", town.grid)
    await award(second, "5.00", town.grid)
    assert second > first
    async with fresh_redis() as redis:
        await feed_once(redis)
        view = await read_board(
            await load_principal(first), BoardQuery(scope=f"org:{town.grid}", period=PeriodKind.ALL), redis=redis
        )
    assert [row.member_id for row in view.top] == [first, second]


async def test_the_week_rolls_over_at_china_midnight_and_this_week_is_compared_with_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    town = await build_town(volunteers=2)
    member = town.members[0]
    sunday_late = datetime(2026, 11, 29, 15, 59, tzinfo=UTC)  # Sunday 23:59 in China
    monday = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)  # Monday 00:00 in China
    moments = iter([sunday_late, monday])
    monkeypatch.setattr(posting, "entry_time", lambda: next(moments))
    await award(member, "3.00", town.grid)
    await award(member, "8.00", town.grid)
    async with fresh_redis() as redis:
        await feed_once(redis)
        view = await read_board(
            await load_principal(member),
            BoardQuery(scope=f"org:{town.grid}", period=PeriodKind.WEEK),
            redis=redis,
            now=monday + timedelta(hours=1),
        )
    assert view.period == "week:2026-W49"
    assert view.week is not None
    assert (view.week.this_week, view.week.last_week) == ("week:2026-W49", "week:2026-W48")
    assert (view.week.points_this_week, view.week.points_last_week) == (Decimal("8.00"), Decimal("3.00"))
    assert (view.week.rank_this_week, view.week.rank_last_week) == (1, 1)


async def test_opting_out_hides_the_member_everywhere_keeps_their_points_and_opting_in_restores_them() -> None:
    town = await build_town(volunteers=4)
    first, second, third, _ = town.members
    await _awarded(town, ["5.00", "9.00", "7.00", "1.00"])
    team_scope, grid_scope = f"team:{town.team}", f"org:{town.grid}"
    async with fresh_redis() as redis:
        await feed_once(redis)
        before = await wallet(second)
        await set_visibility(await load_principal(second), Visibility.HIDDEN, redis=redis)
        # An award after opting out must not bring them back either.
        await award(second, "1.00", town.grid)
        await feed_once(redis)
        # (No campaign row exists here to authorise a read; its board is checked in Redis.)
        assert await redis.zscore(board_key("campaign:1", "all"), str(second)) is None
        for scope in (grid_scope, team_scope, f"org:{town.community}"):
            view = await read_board(
                await load_principal(first), BoardQuery(scope=scope, period=PeriodKind.ALL, around=5), redis=redis
            )
            assert second not in {row.member_id for row in (*view.top, *view.neighbours)}, scope
        view = await read_board(
            await load_principal(third), BoardQuery(scope=grid_scope, period=PeriodKind.ALL, around=5), redis=redis
        )
        assert view.me.rank == 1 and view.size == 2
        # The team's total keeps the hidden member's points (a league counts them, unnamed).
        assert await number_at(redis, sum_key(team_scope, "all")) == 500 + 1000
        # They still see their own points, unranked.
        mine = await read_board(
            await load_principal(second), BoardQuery(scope=grid_scope, period=PeriodKind.ALL), redis=redis
        )
        assert mine.me.rank is None and mine.me.hidden and mine.me.points == Decimal("10.00")
        assert await wallet(second) == before + Decimal("1.00")
        await set_visibility(await load_principal(second), Visibility.MASKED, redis=redis)
        back = await read_board(
            await load_principal(first), BoardQuery(scope=team_scope, period=PeriodKind.ALL), redis=redis
        )
        assert [row.member_id for row in back.top] == [second, first]
    actions = await AuditEvent.select(AuditEvent.action, AuditEvent.target_ref).order_by(AuditEvent.id).run()
    assert [row["action"] for row in actions].count("leaderboards.visibility") == 2


async def test_setting_the_same_visibility_again_writes_nothing() -> None:
    town = await build_town(volunteers=2)
    async with fresh_redis() as redis:
        principal = await load_principal(town.members[0])
        first = await set_visibility(principal, Visibility.HIDDEN, redis=redis)
        again = await set_visibility(principal, Visibility.HIDDEN, redis=redis)
    assert first.version == again.version == 1
    assert await AuditEvent.count().where(AuditEvent.action == "leaderboards.visibility").run() == 1


async def test_boards_of_another_grid_or_a_missing_scope_are_not_found() -> None:
    town = await build_town(volunteers=2)
    reader = await load_principal(town.members[0])
    async with fresh_redis() as redis:
        for scope in (f"org:{town.other_grid}", "org:999999", "team:999999", "campaign:999999", f"org:{2**31}"):
            with pytest.raises(BoardNotFound):
                await read_board(reader, BoardQuery(scope=scope), redis=redis)
        for scope in ("shop:1", "org:", "org:" + "1" * 40):
            with pytest.raises(InvalidBoardRequest) as refused:
                await read_board(reader, BoardQuery(scope=scope), redis=redis)
            assert refused.value.field == "scope"
        with pytest.raises(InvalidBoardRequest):
            await read_board(reader, BoardQuery(top=500), redis=redis)
        # The home grid is the default scope, and the community above it is visible.
        assert (await read_board(reader, BoardQuery(), redis=redis)).scope == f"org:{town.grid}"
        await read_board(reader, BoardQuery(scope=f"org:{town.community}"), redis=redis)
