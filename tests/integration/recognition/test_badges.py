"""Badges: awarded after verification, once per member even under
concurrent qualifying verifications, with the activity that earned them;
season top 3 at freezing; the backfill awards what history earns."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from activities.models import Status
from activities.submissions import ReportIn
from activities.submissions import submit_report as submit_report
from activities.verification import HandleIn, handle_report, verify_activity
from campaigns.rules import ReportKind
from community.access import load_principal
from core.clock import utc_now
from leaderboards.feed import feed_once
from leaderboards.freezing import freeze_due_seasons
from leaderboards.periods import china_date
from leaderboards.season_rules import FREEZE_GRACE, end_of
from leaderboards.seasons import SeasonDraft, create_season
from recognition.awarding import award_badges, award_season_badges, backfill, badges_of, not_yet
from recognition.tables import BadgeAward
from tests.support.database import on_postgres
from tests.support.earning_helpers import World, service
from tests.support.leaderboard_helpers import fresh_redis


def _report(n: int) -> ReportIn:
    # One place (reports moments apart far from each other would be impossible travel).
    return ReportIn(
        report_kind=ReportKind.HAZARD,
        title=f"楼道堆放杂物 {n} 号",
        position={"latitude": 35.0, "longitude": 118.0},
    )


async def _badge_rows(member_id: int) -> list[dict[str, object]]:
    return list(await BadgeAward.select().where(BadgeAward.member == member_id).run())


async def test_ten_concurrent_qualifying_verifications_award_the_first_report_badge_once(world: World) -> None:
    if not on_postgres():
        pytest.skip("SQLite runs one writer at a time: only PostgreSQL races the ten verifications")
    await world.campaign()
    volunteer = world.volunteers[0]
    acting = await load_principal(volunteer)
    # Sent 15 minutes apart: ten at once would be a burst, held for review.
    moments = [utc_now() - timedelta(minutes=15 * (10 - n)) for n in range(10)]
    reports = [await submit_report(acting, _report(n), now=moment) for n, moment in enumerate(moments)]
    verifiers = [await load_principal(world.grid_worker), await load_principal(world.organizer)] * 5
    verified = await asyncio.gather(
        *(verify_activity(verifier, report.id) for verifier, report in zip(verifiers, reports, strict=True))
    )
    assert {view.status for view in verified} == {Status.VERIFIED}
    rows = await _badge_rows(volunteer)
    assert [row["badge"] for row in rows] == ["first_report"]
    assert rows[0]["activity"] in {report.id for report in reports}
    # Ten more awarders at once, on the same history: still one row.
    await asyncio.gather(*(award_badges(volunteer) for _ in range(10)))
    assert len(await _badge_rows(volunteer)) == 1


async def test_a_badge_names_the_activity_that_earned_it_and_is_not_awarded_twice(world: World) -> None:
    await world.campaign()
    volunteer = world.volunteers[0]
    acting, verifier = await load_principal(volunteer), await load_principal(world.grid_worker)
    first = await submit_report(acting, _report(1))
    second = await submit_report(acting, _report(2))
    assert [row["badge"] for row in await _badge_rows(volunteer)] == []  # submitted is not verified
    await verify_activity(verifier, first.id)
    await verify_activity(verifier, second.id)
    held = await badges_of(volunteer)
    assert [(badge.rule.code, badge.activity_id) for badge in held] == [("first_report", first.id)]
    assert "first_report" not in {rule.code for rule in not_yet(held)}
    # Marked useful by its handler: the 有效线索 badge, for that report.
    await handle_report(verifier, second.id, data=HandleIn(useful=True, feedback="已清理"))
    codes = [(badge.rule.code, badge.activity_id) for badge in await badges_of(volunteer)]
    assert codes == [("first_report", first.id), ("first_useful_report", second.id)]
    assert await award_badges(volunteer) == []


async def test_the_backfill_awards_what_history_earns_once(world: World) -> None:
    """Work verified before badges existed (here: with the after-commit
    award failing) is awarded by the backfill, idempotently."""
    await world.campaign()
    volunteer = world.volunteers[1]
    for day in range(7):  # seven weeks in a row, one service log a week
        log = await service(volunteer, minutes=60, now=utc_now() - timedelta(days=7 * day))
        await verify_activity(await load_principal(world.grid_worker), log.id)
    await BadgeAward.delete(force=True).run()
    members, added = await backfill()
    assert members >= len(world.volunteers) and added == 1
    assert [badge.rule.code for badge in await badges_of(volunteer)] == ["seven_weeks"]
    assert (await backfill())[1] == 0


async def test_the_top_three_of_a_frozen_season_get_its_badge_once(world: World) -> None:
    await world.campaign()
    organiser = await load_principal(world.organizer)
    today = china_date(utc_now())
    season = await create_season(
        organiser, SeasonDraft("冬季竞赛", "", world.community, today, today), now=utc_now() - timedelta(days=1)
    )
    verifier = await load_principal(world.grid_worker)
    for minutes, volunteer in zip((180, 120, 60), world.volunteers, strict=True):
        log = await service(volunteer, minutes=minutes)
        await verify_activity(verifier, log.id)
    async with fresh_redis() as redis:
        await feed_once(redis)
        assert await freeze_due_seasons(redis, now=end_of(season.last_day) + FREEZE_GRACE) == [season.id]
    assert await award_season_badges([season.id]) == len(world.volunteers)
    assert await award_season_badges([season.id]) == 0
    best = [badge for badge in await badges_of(world.volunteers[0]) if badge.rule.code == "season_top3"]
    assert len(best) == 1 and best[0].season_id == season.id and best[0].detail.endswith("#1")
