"""The boards follow the ledger after commit, exactly once, and equal a
rebuild from the ledger; spending never lowers a rank."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from community import teams
from community.access import load_principal
from community.teams import add_team_member, remove_team_member
from leaderboards.feed import feed_once
from leaderboards.keys import FEED_KEY, all_key, board_key, seq_key, sum_key
from leaderboards.models import Visibility
from leaderboards.periods import periods_of
from leaderboards.rebuild import rebuild
from leaderboards.redis_boards import STAGE_SCRIPT, SWAP_SCRIPT, scopes_of_member, text
from leaderboards.scores import Score
from leaderboards.visibility import set_visibility
from ledger import posting
from ledger.chain import seal_pending
from tests.support.leaderboard_helpers import (
    award,
    board_snapshot,
    build_town,
    fresh_redis,
    number_at,
    spend,
    take_back,
)


async def _points(redis: object, key: str) -> dict[int, int]:
    rows = await redis.zrevrange(key, 0, -1, withscores=True)  # type: ignore[attr-defined]
    return {int(member): Score.of(score).points_minor for member, score in rows}


async def test_awards_reach_every_scope_and_period_after_the_feed_runs() -> None:
    town = await build_town()
    first, second, _, far = town.members
    await award(first, "5.00", town.grid)
    await award(second, "3.50", town.grid, kind="award_bonus")
    await award(far, "2.00", town.other_grid)
    async with fresh_redis() as redis:
        assert await _points(redis, board_key(f"org:{town.grid}", "all")) == {}  # nothing before the feed
        await feed_once(redis)
        week = periods_of(datetime.now(UTC))[0]
        assert await _points(redis, board_key(f"org:{town.grid}", week)) == {first: 500, second: 350}
        assert await _points(redis, board_key(f"org:{town.community}", "all")) == {first: 500, second: 350, far: 200}
        assert await _points(redis, board_key(f"team:{town.team}", "all")) == {first: 500, second: 350}
        assert await _points(redis, board_key("campaign:1", "all")) == {first: 500, second: 350, far: 200}
        assert await number_at(redis, sum_key(f"org:{town.community}", "all")) == 1050


async def test_spending_never_lowers_the_board_and_a_reversal_takes_its_points_off() -> None:
    town = await build_town()
    first, second, *_ = town.members
    kept = await award(first, "5.00", town.grid)
    undone = await award(second, "9.00", town.grid)
    async with fresh_redis() as redis:
        await feed_once(redis)
        await spend(first, "5.00")
        await take_back(undone.id)
        await feed_once(redis)
        assert await _points(redis, board_key(f"org:{town.grid}", "all")) == {first: 500}
        assert await redis.hget(all_key(f"org:{town.grid}", "all"), str(second)) is None
        assert kept.id


async def test_feeding_the_same_blocks_twice_changes_nothing() -> None:
    """A run that dies before moving its cursor is repeated whole: the
    scopes skip what they already applied."""
    town = await build_town()
    for n, member in enumerate(town.members):
        await award(member, f"{n + 1}.00", town.grid)
    async with fresh_redis() as redis:
        await feed_once(redis)
        once = await board_snapshot(redis)
        await redis.delete(FEED_KEY)  # the cursor lost: every block is read again
        await feed_once(redis)
        assert await board_snapshot(redis) == once
        assert await number_at(redis, seq_key(f"org:{town.grid}")) >= len(town.members)


async def test_a_lost_board_update_is_caught_by_the_comparison_with_a_rebuild() -> None:
    """The check the property test relies on can fail: a board missing one
    update differs from its rebuild."""
    town = await build_town()
    await award(town.members[0], "1.00", town.grid)
    async with fresh_redis() as redis:
        await feed_once(redis)
        await award(town.members[1], "2.00", town.grid)
        await seal_pending()  # committed and sealed, but the feed is not run for it
        before = await board_snapshot(redis)
        await rebuild(redis)
        assert await board_snapshot(redis) != before


async def test_a_duplicated_board_update_is_caught_by_the_comparison_with_a_rebuild() -> None:
    """The other half: a board that applied an update twice (its scope's
    position and the feed's cursor lost) differs from its rebuild."""
    town = await build_town()
    await award(town.members[0], "1.00", town.grid)
    async with fresh_redis() as redis:
        await feed_once(redis)
        await redis.delete(FEED_KEY, seq_key(f"org:{town.grid}"))
        await feed_once(redis)  # the grid's board applies the award again
        assert await _points(redis, board_key(f"org:{town.grid}", "all")) == {town.members[0]: 200}
        before = await board_snapshot(redis)
        await rebuild(redis)
        assert await board_snapshot(redis) != before


async def test_a_team_board_keeps_what_was_earned_in_the_team_after_leaving_and_a_rebuild_agrees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Awards count for the teams their member was in when they were made:
    the feed (run before or after the member left) and a rebuild agree, and
    what is earned after leaving, or before joining again, stays off."""
    town = await build_town()
    member, other = town.members[0], town.members[1]
    moments = iter(datetime(2026, 11, 2, hour, tzinfo=UTC) for hour in range(1, 12))
    monkeypatch.setattr(posting, "entry_time", lambda: next(moments))
    monkeypatch.setattr(teams, "utc_now", lambda: next(moments))
    team_all = board_key(f"team:{town.team}", "all")
    async with fresh_redis() as redis:
        await award(member, "5.00", town.grid)  # 01:00, in the team
        await feed_once(redis)
        await award(member, "1.00", town.grid)  # 02:00, in the team, fed only after leaving
        await remove_team_member(town.team, member, actor_ref="test")  # 03:00
        await award(member, "7.00", town.grid)  # 04:00, out of the team
        await award(other, "2.00", town.grid)  # 05:00
        await feed_once(redis)
        assert await _points(redis, team_all) == {member: 600, other: 200}
        await add_team_member(town.team, member, actor_ref="test")  # 06:00
        await award(member, "3.00", town.grid)  # 07:00, in the team again
        await feed_once(redis)
        assert await _points(redis, team_all) == {member: 900, other: 200}
        assert await _points(redis, board_key(f"org:{town.grid}", "all")) == {member: 1600, other: 200}
        incremental = await board_snapshot(redis)
        await rebuild(redis)
        assert await board_snapshot(redis) == incremental


async def test_redis_losing_everything_is_repaired_by_a_rebuild_and_the_feed_carries_on() -> None:
    town = await build_town()
    first, second, *_ = town.members
    await award(first, "4.00", town.grid)
    async with fresh_redis() as redis:
        await feed_once(redis)
        expected = await board_snapshot(redis)
        await redis.flushdb()
        await rebuild(redis)
        assert await board_snapshot(redis) == expected
        await award(second, "6.00", town.grid)
        await feed_once(redis)
        assert await _points(redis, board_key(f"org:{town.grid}", "all")) == {second: 600, first: 400}


@pytest.mark.parametrize("period_only", [False, True])
async def test_rebuilding_one_scope_or_period_leaves_the_feed_exactly_once(period_only: bool) -> None:
    town = await build_town()
    first, second, *_ = town.members
    await award(first, "4.00", town.grid)
    async with fresh_redis() as redis:
        await feed_once(redis)
        await redis.delete(board_key(f"org:{town.grid}", "all"), all_key(f"org:{town.grid}", "all"))
        await award(second, "1.00", town.grid)
        await rebuild(redis, scope=f"org:{town.grid}", period="all" if period_only else None)
        await award(second, "2.00", town.grid)
        await feed_once(redis)
        assert await _points(redis, board_key(f"org:{town.grid}", "all")) == {first: 400, second: 300}
        incremental = await board_snapshot(redis)
        await rebuild(redis)
        assert await board_snapshot(redis) == incremental


async def test_a_rebuild_reads_every_members_visibility_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild asks for every member on any board at once; it reads them a
    chunk at a time (PostgreSQL takes at most 32,767 parameters), and a
    member hidden in a later chunk stays hidden."""
    monkeypatch.setattr("leaderboards.feed.VISIBILITY_CHUNK", 2)
    town = await build_town(volunteers=6)
    for n, member in enumerate(town.members):
        await award(member, f"{n + 1}.00", town.grid)
    async with fresh_redis() as redis:
        last = town.members[-2]
        await set_visibility(await load_principal(last), Visibility.HIDDEN, redis=redis)
        await feed_once(redis)
        expected = await board_snapshot(redis)
        await redis.flushdb()
        await rebuild(redis)
        assert await board_snapshot(redis) == expected
        shown = await _points(redis, board_key(f"org:{town.grid}", "all"))
        assert last not in shown and len(shown) == len(town.members) - 1


async def test_a_board_bigger_than_a_chunk_is_staged_in_parts_and_swapped_in_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A million-member board must not be one Redis script (it would block
    every other client): it is staged a chunk at a time, the scopes are
    remembered and the feed's scripts sent in pipelines, and the result is
    the board the feed built, with no staging key left behind."""
    monkeypatch.setattr("leaderboards.redis_boards.STAGE_CHUNK", 2)
    monkeypatch.setattr("leaderboards.redis_boards.REMEMBER_CHUNK", 2)
    monkeypatch.setattr("leaderboards.redis_boards.APPLY_PIPELINE", 2)
    town = await build_town(volunteers=5)
    for n, member in enumerate(town.members):
        await award(member, f"{n + 1}.00", town.grid)
    async with fresh_redis() as redis:
        stages = _count_scripts(redis, monkeypatch, STAGE_SCRIPT)
        await feed_once(redis)
        incremental = await board_snapshot(redis)
        await rebuild(redis)
        assert await board_snapshot(redis) == incremental
        grid_board = await _points(redis, board_key(f"org:{town.grid}", "all"))
        assert len(grid_board) == len(town.members)
        boards = len([key for key in incremental if not key.endswith((":all", ":sum"))])
        assert len(stages) > boards  # some board took more than one staging script
        assert [key async for key in redis.scan_iter(match="lb:{*}:staged:*")] == []
        assert [key async for key in redis.scan_iter(match="lb:{*}:replaced")] == []
        for member in town.members:
            assert f"org:{town.grid}" in await scopes_of_member(redis, member)


async def test_a_visibility_change_while_a_board_is_staged_wins_over_the_staged_board(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A member hides themselves while a rebuild is staging a board with
    them still visible: the swap sees the scope's visibility generation
    moved, refuses the stale board and stages it again, so they end hidden."""
    monkeypatch.setattr("leaderboards.redis_boards.STAGE_CHUNK", 1)
    town = await build_town(volunteers=3)
    for n, member in enumerate(town.members):
        await award(member, f"{n + 1}.00", town.grid)
    hiding = min(town.members)
    async with fresh_redis() as redis:
        await feed_once(redis)
        swaps = _count_scripts(redis, monkeypatch, SWAP_SCRIPT)
        real_eval = redis.eval
        hidden = False

        async def hide_after_first_stage(script: str, numkeys: int, *args: object) -> object:
            nonlocal hidden
            result = await real_eval(script, numkeys, *args)  # type: ignore[arg-type]
            if script == STAGE_SCRIPT and not hidden:
                hidden = True
                await set_visibility(await load_principal(hiding), Visibility.HIDDEN, redis=redis)
            return result

        monkeypatch.setattr(redis, "eval", hide_after_first_stage)
        await rebuild(redis)
        assert -1 in swaps  # the stale board was refused at least once
        for key in [key async for key in redis.scan_iter(match="lb:{*}")]:
            if text(await redis.type(key)) == "zset":
                assert await redis.zscore(key, str(hiding)) is None, text(key)
        assert hiding not in await _points(redis, board_key(f"org:{town.grid}", "all"))
        assert await redis.hget(all_key(f"org:{town.grid}", "all"), str(hiding)) is not None  # points kept


def _count_scripts(redis: object, monkeypatch: pytest.MonkeyPatch, script: str) -> list[int]:
    """Wrap ``redis.eval`` to record what each run of ``script`` returned."""
    results: list[int] = []
    real_eval = redis.eval  # type: ignore[attr-defined]

    async def recording(sent: str, numkeys: int, *args: object) -> object:
        result = await real_eval(sent, numkeys, *args)
        if sent == script:
            results.append(int(result))
        return result

    monkeypatch.setattr(redis, "eval", recording)
    return results
