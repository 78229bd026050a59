"""``fengling leaderboards rebuild`` / ``feed``, run in-process."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from typer.testing import CliRunner

from admin.cli import app
from core.clock import utc_now
from fengling_settings import get_settings
from leaderboards.keys import board_key
from leaderboards.periods import china_date
from leaderboards.tables import Season
from tests.support.leaderboard_helpers import award, build_town

runner = CliRunner()
real_redis = pytest.mark.skipif(
    get_settings().uses_embedded_redis, reason="the CLI reaches only a real Redis (FENGLING_TEST_REDIS_URL)"
)


def test_rebuild_refuses_the_in_process_stand_in_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGLING_REDIS_URL", "memory://")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["leaderboards", "rebuild"])
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "in-process stand-in" in result.output


def test_rebuild_refuses_a_scope_that_is_not_one() -> None:
    result = runner.invoke(app, ["leaderboards", "rebuild", "--scope", "shop:1"])
    assert result.exit_code == 2
    assert "--scope" in result.output


async def _town_with_awards() -> tuple[int, int]:
    town = await build_town(volunteers=2)
    await award(town.members[0], "6.00", town.grid)
    return town.grid, town.members[0]


async def _board(scope: str) -> list[Any]:
    redis = Redis.from_url(get_settings().redis_url)
    try:
        return list(await redis.zrevrange(board_key(scope, "all"), 0, -1, withscores=True))
    finally:
        await redis.aclose()


async def _flush() -> None:
    redis = Redis.from_url(get_settings().redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


@real_redis
def test_rebuild_and_feed_write_the_boards_from_the_ledger() -> None:
    asyncio.run(_flush())
    grid, member = asyncio.run(_town_with_awards())
    fed = runner.invoke(app, ["leaderboards", "feed"])
    assert fed.exit_code == 0, fed.output
    assert [int(m) for m, _ in asyncio.run(_board(f"org:{grid}"))] == [member]
    asyncio.run(_flush())
    rebuilt = runner.invoke(app, ["leaderboards", "rebuild", "--scope", f"org:{grid}"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rebuilt" in rebuilt.output
    assert [int(m) for m, _ in asyncio.run(_board(f"org:{grid}"))] == [member]


async def _ended_season() -> int:
    grid, _ = await _town_with_awards()
    ended = china_date(utc_now()) - timedelta(days=3)
    rows = (
        await Season.insert(Season(name_zh="秋季竞赛", organisation=grid, first_day=ended, last_day=ended))
        .returning(Season.id)
        .run()
    )
    return int(rows[0]["id"])


@real_redis
def test_freeze_seasons_freezes_an_ended_season_once() -> None:
    asyncio.run(_flush())
    season_id = asyncio.run(_ended_season())
    frozen = runner.invoke(app, ["leaderboards", "freeze-seasons"])
    assert frozen.exit_code == 0, frozen.output
    assert f"froze 1 season(s): {season_id}" in frozen.output
    again = runner.invoke(app, ["leaderboards", "freeze-seasons"])
    assert "froze 0 season(s)" in again.output
