"""Grid-worker ratings (星级网格员) from the closed loop itself: reports
verified, handled on time or late (deadline passed, or escalated first),
rated by their reporters; read by the organisers of the node."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from activities.deadlines import escalate_overdue
from activities.grid_workers import grid_worker_ratings
from activities.models import Position
from activities.submissions import ReportIn, submit_report
from activities.tables import Activity
from activities.verification import HandleIn, RateIn, handle_report, rate_report, verify_activity
from campaigns.rules import ReportKind
from community.access import load_principal
from community.errors import AccessRefused, OrganisationNotFound
from community.members import grant_role
from community.roles import Role
from core.clock import utc_now
from tests.support.earning_helpers import World
from tests.support.marketplace_helpers import fast_member

KINDS = (ReportKind.HAZARD, ReportKind.TIP, ReportKind.DISPUTE)


async def _handled_report(world: World, n: int, *, verified_days_ago: int, escalate: bool = False) -> int:
    """A report by volunteer ``n`` (its own kind and place, so no fraud rule
    links them), verified ``verified_days_ago`` days ago by the grid worker
    (a finish deadline 3 working days after that), optionally escalated for
    missing it, then handled by the grid worker now."""
    reporter = await load_principal(world.volunteers[n])
    where = Position(latitude=35.05 + n * 0.02, longitude=118.34, accuracy_m=8.0)
    report = await submit_report(
        reporter, ReportIn(report_kind=KINDS[n], title=f"隐患{n}", description="楼道堆放杂物", position=where)
    )
    worker = await load_principal(world.grid_worker)
    await verify_activity(worker, report.id, now=utc_now() - timedelta(days=verified_days_ago))
    if escalate:
        assert await escalate_overdue() == 1
    await handle_report(worker, report.id, data=HandleIn(useful=False, feedback="已处理"))
    return report.id


async def test_on_time_share_rating_and_stars_come_from_what_was_handled_in_the_period(world: World) -> None:
    await world.campaign(budget="100.00")
    other_worker = await fast_member(world.other_grid, "网格员小周")
    await grant_role(other_worker, world.other_grid, Role.GRID_WORKER)

    on_time = await _handled_report(world, 0, verified_days_ago=0)
    late = await _handled_report(world, 1, verified_days_ago=10)
    escalated = await _handled_report(world, 2, verified_days_ago=10, escalate=True)
    flags = {row["id"]: row["handled_late"] for row in await Activity.select(Activity.id, Activity.handled_late).run()}
    assert flags == {on_time: False, late: True, escalated: True}
    await rate_report(await load_principal(world.volunteers[0]), on_time, data=RateIn(rating=5))
    await rate_report(await load_principal(world.volunteers[1]), late, data=RateIn(rating=3))

    organiser = await load_principal(world.organizer)
    ratings = await grid_worker_ratings(organiser, world.community, "week")
    assert [worker.member_id for worker in ratings.workers] == [world.grid_worker, other_worker]
    mine, idle = ratings.workers
    assert (mine.handled, mine.timed, mine.on_time, mine.rated) == (3, 3, 1, 2)
    assert mine.on_time_pct == Decimal("33.3") and mine.average_rating == Decimal("4.00")
    assert mine.stars == 1  # a third on time: below every row
    assert mine.name == "网格员小李" and mine.organisation_id == world.grid
    assert (idle.handled, idle.stars, idle.on_time_pct, idle.average_rating) == (0, None, None, None)

    # Had the two late ones been on time, the same ratings earn 4 stars (100 %, 4.0).
    await Activity.update({Activity.handled_late: False}).where(Activity.id.is_in([late, escalated])).run()
    better = (await grid_worker_ratings(organiser, world.grid, "month")).workers
    assert [(worker.member_id, worker.on_time, worker.stars) for worker in better] == [(world.grid_worker, 3, 4)]

    # Handled before the column existed: counted as handled, not timed.
    await Activity.update({Activity.handled_late: None}).where(Activity.id == escalated).run()
    (partly,) = (await grid_worker_ratings(organiser, world.grid, "week")).workers
    assert (partly.handled, partly.timed, partly.on_time) == (3, 2, 2)

    quiet = await grid_worker_ratings(organiser, world.community, "month:2020-01")
    assert quiet.period.period_id == "month:2020-01"
    assert [(worker.handled, worker.stars) for worker in quiet.workers] == [(0, None), (0, None)]
    # Another grid's worker sees nothing of this grid's work.
    other_grid = await grid_worker_ratings(organiser, world.other_grid, "week")
    assert [(worker.member_id, worker.handled) for worker in other_grid.workers] == [(other_worker, 0)]


async def test_only_managers_of_the_node_or_above_read_the_ratings(world: World) -> None:
    """A grid worker and a building head see the community (it is above
    their home) but do not manage it: refused. The organiser does not
    manage the street above the community, and a node nobody can see is
    not found."""
    for member in (world.grid_worker, world.building_head, world.volunteers[0]):
        with pytest.raises(AccessRefused):
            await grid_worker_ratings(await load_principal(member), world.community, "week")
    organiser = await load_principal(world.organizer)
    with pytest.raises(AccessRefused):
        await grid_worker_ratings(organiser, world.city, "week")
    with pytest.raises(OrganisationNotFound):
        await grid_worker_ratings(organiser, 2_000_000, "week")
