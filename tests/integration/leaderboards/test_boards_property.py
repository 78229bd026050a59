"""Property: for any sequence of awards, bonuses, reversals and spending,
with the feed run at random moments (and sometimes run again over blocks it
already applied, as after a crash before its cursor moved), the boards the
feed built equal the boards rebuilt from the ledger, for every scope and
period. A lost update or a duplicated one makes them differ
(``test_feed.test_a_lost_board_update_is_caught_by_the_comparison_with_a_rebuild``)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import utc_now
from leaderboards.feed import feed_once
from leaderboards.keys import FEED_KEY
from leaderboards.periods import china_date
from leaderboards.rebuild import rebuild
from leaderboards.tables import Season
from ledger.errors import InsufficientFunds
from tests.integration.marketplace.test_orders_property import pooled
from tests.support.database import truncate_all
from tests.support.leaderboard_helpers import award, board_snapshot, build_town, fresh_redis, spend, take_back


@dataclass(frozen=True)
class Step:
    action: str  # award, bonus, reverse, spend, feed, replay
    member: int  # index into the town's members
    cents: int
    pick: int  # which earlier award a reversal takes back


steps = st.lists(
    st.builds(
        Step,
        action=st.sampled_from(["award", "award", "bonus", "reverse", "spend", "feed", "replay"]),
        member=st.integers(min_value=0, max_value=3),
        cents=st.integers(min_value=1, max_value=5_000),
        pick=st.integers(min_value=0, max_value=50),
    ),
    min_size=1,
    max_size=25,
)


async def scenario(plan: list[Step]) -> None:
    await truncate_all()
    town = await build_town()
    # A season running on the community: its boards must agree with their rebuild too.
    today = china_date(utc_now())
    await Season.insert(
        Season(name_zh="冬季竞赛", organisation=town.community, first_day=today, last_day=today + timedelta(days=6))
    ).run()
    awarded: list[int] = []
    reversed_ids: set[int] = set()
    async with fresh_redis() as redis:
        for step in plan:
            member = town.members[step.member]
            grid = town.other_grid if step.member == 3 else town.grid
            if step.action in {"award", "bonus"}:
                kind = "award" if step.action == "award" else "award_bonus"
                awarded.append((await award(member, f"{step.cents / 100:.2f}", grid, kind=kind)).id)
            elif step.action == "reverse" and awarded:
                entry_id = awarded[step.pick % len(awarded)]
                if entry_id not in reversed_ids:
                    reversed_ids.add(entry_id)
                    try:
                        await take_back(entry_id)
                    except InsufficientFunds:  # already spent: the ledger refuses, nothing moved
                        reversed_ids.discard(entry_id)
            elif step.action == "spend":
                with contextlib.suppress(InsufficientFunds):  # an empty wallet refuses, nothing moved
                    await spend(member, "0.01")
            elif step.action == "feed":
                await feed_once(redis)
            elif step.action == "replay":
                await feed_once(redis)
                await redis.hset(FEED_KEY, mapping={"block": 0, "seq": 0})
        await feed_once(redis)
        incremental = await board_snapshot(redis)
        await rebuild(redis)
        assert await board_snapshot(redis) == incremental


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(plan=steps)
def test_incremental_boards_equal_boards_rebuilt_from_the_ledger(plan: list[Step]) -> None:
    asyncio.run(pooled(scenario(plan)))
