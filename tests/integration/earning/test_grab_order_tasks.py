"""Grab-order patrol tasks (抢单式巡逻): exactly N claims for N slots under
any concurrency, release before the window and claim again, check-in from
the patrol flow linking the patrol, no-shows closed by the job without a
point moving, and the task's multiplier on the patrol award. Both engines;
the race runs real concurrent clients on PostgreSQL's pool."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from activities.claim_rules import GrabOrder
from activities.errors import ClaimRefused
from activities.models import ClaimStatus, Position, Status
from activities.patrol_tasks import (
    claim_task,
    create_patrol_task,
    grab_orders_for,
    mark_no_shows,
    patrol_tasks_near,
    release_claim,
    task_claims,
    tasks_to_check_in,
)
from activities.submissions import PatrolCheckIn, add_route_points, check_in_patrol, check_out_patrol
from activities.verification import verify_activity
from community.access import Principal, load_principal
from community.errors import AccessRefused
from core.clock import utc_now
from tests.support.earning_helpers import World, build_world, walked_route
from tests.support.marketplace_helpers import assert_ledger_ok, wallet

HERE = Position(latitude=35.05, longitude=118.34, accuracy_m=8.0)


async def _task(world: World, *, slots: int, starts_in: timedelta, hours: int = 4, multiplier: str = "1.00") -> int:
    start = utc_now() + starts_in
    task = await create_patrol_task(
        await load_principal(world.organizer),
        organisation_id=world.grid,
        title_zh="周末夜巡 平安路",
        area="平安路—幸福街",
        grab_order=GrabOrder(
            starts_at=start, ends_at=start + timedelta(hours=hours), slots=slots, multiplier=Decimal(multiplier)
        ),
    )
    return task.id


async def test_fifty_concurrent_claimers_for_three_slots_give_exactly_three_claims() -> None:
    world = await build_world(volunteers=50)
    task_id = await _task(world, slots=3, starts_in=timedelta(days=1))
    principals = [await load_principal(member) for member in world.volunteers]

    async def claim(principal: Principal) -> str:
        try:
            await claim_task(principal, task_id)
        except ClaimRefused as refused:
            return refused.code
        return "claimed"

    outcomes = await asyncio.gather(*(claim(principal) for principal in principals))

    assert outcomes.count("claimed") == 3
    assert outcomes.count("task_full") == 47
    claims = await task_claims(await load_principal(world.organizer), task_id)
    assert [claim.status for claim in claims] == [ClaimStatus.CLAIMED] * 3
    listed = {view.task.id: view.task for view in await patrol_tasks_near(principals[0])}
    assert listed[task_id].slots_taken == 3 and listed[task_id].slots_left == 0


async def test_a_member_claims_once_releases_before_the_window_and_the_slot_goes_to_another() -> None:
    world = await build_world(volunteers=2)
    task_id = await _task(world, slots=1, starts_in=timedelta(hours=3))
    first, second = [await load_principal(member) for member in world.volunteers]

    claimed = await claim_task(first, task_id)
    assert claimed.status is ClaimStatus.CLAIMED
    with pytest.raises(ClaimRefused) as twice:
        await claim_task(first, task_id)
    assert twice.value.code == "task_already_claimed"
    with pytest.raises(ClaimRefused) as full:
        await claim_task(second, task_id)
    assert full.value.code == "task_full"

    released = await release_claim(first, task_id)
    assert released.status is ClaimStatus.RELEASED and released.resolved_at is not None
    assert (await claim_task(second, task_id)).status is ClaimStatus.CLAIMED
    # The first may come back while a slot is free: here none is.
    with pytest.raises(ClaimRefused) as gone:
        await claim_task(first, task_id)
    assert gone.value.code == "task_full"


async def test_a_claim_cannot_be_given_back_once_the_window_started() -> None:
    world = await build_world(volunteers=1)
    task_id = await _task(world, slots=2, starts_in=timedelta(hours=1))
    volunteer = await load_principal(world.volunteers[0])
    await claim_task(volunteer, task_id)

    with pytest.raises(ClaimRefused) as late:
        await release_claim(volunteer, task_id, now=utc_now() + timedelta(hours=2))
    assert late.value.code == "claim_not_releasable"


async def test_only_volunteers_of_the_tasks_area_claim_and_only_its_managers_read_the_claims() -> None:
    world = await build_world(volunteers=1)
    task_id = await _task(world, slots=2, starts_in=timedelta(days=1))

    with pytest.raises(AccessRefused):  # an organiser cannot earn points
        await claim_task(await load_principal(world.organizer), task_id)
    # The building head lives below the task's grid and earns: allowed.
    assert (await claim_task(await load_principal(world.building_head), task_id)).status is ClaimStatus.CLAIMED

    claims = await task_claims(await load_principal(world.organizer), task_id)
    assert [claim.member_name for claim in claims] == ["楼栋长老王"]


async def test_check_in_needs_the_claim_links_the_patrol_and_the_multiplier_scales_the_award() -> None:
    world = await build_world(volunteers=2)
    await world.campaign(budget="100.00")
    start = utc_now() - timedelta(hours=1)
    task_id = await _task(world, slots=2, starts_in=timedelta(hours=-1), hours=3, multiplier="1.50")
    walker = await load_principal(world.volunteers[0])
    unclaimed = await load_principal(world.volunteers[1])

    with pytest.raises(ClaimRefused) as no_claim:
        await check_in_patrol(unclaimed, PatrolCheckIn(position=HERE, patrol_task_id=task_id), now=start)
    assert no_claim.value.code == "task_not_claimed"

    # Claimed before the window; checked in when it opened.
    await claim_task(walker, task_id, now=start - timedelta(hours=1))
    patrol = await check_in_patrol(walker, PatrolCheckIn(position=HERE, patrol_task_id=task_id), now=start)
    assert patrol.patrol_task_id == task_id
    (claim,) = await task_claims(await load_principal(world.organizer), task_id)
    assert claim.status is ClaimStatus.CHECKED_IN and claim.activity_id == patrol.id

    await add_route_points(walker, patrol.id, walked_route(start, 45, HERE), now=start + timedelta(minutes=45))
    done = await check_out_patrol(walker, patrol.id, HERE, now=start + timedelta(minutes=45))
    verified = await verify_activity(await load_principal(world.grid_worker), done.id)
    assert verified.status is Status.VERIFIED
    assert verified.points_awarded == Decimal("7.50")  # 5.00 patrol points x 1.50
    assert await wallet(world.volunteers[0]) == Decimal("7.50")
    await assert_ledger_ok()


async def test_the_job_marks_unused_claims_as_no_shows_and_moves_no_points() -> None:
    world = await build_world(volunteers=2)
    task_id = await _task(world, slots=2, starts_in=timedelta(hours=1), hours=2)
    absent, present = [await load_principal(member) for member in world.volunteers]
    await claim_task(absent, task_id)
    await claim_task(present, task_id)
    opened = utc_now() + timedelta(hours=1, minutes=5)
    await check_in_patrol(present, PatrolCheckIn(position=HERE, patrol_task_id=task_id), now=opened)
    before = await wallet(world.volunteers[0])

    assert await mark_no_shows(now=utc_now() + timedelta(hours=2)) == 0  # the window is still open
    after_window: datetime = utc_now() + timedelta(hours=3, minutes=1)
    assert await mark_no_shows(now=after_window) == 1
    assert await mark_no_shows(now=after_window) == 0  # idempotent

    statuses = {
        claim.member_id: claim.status for claim in await task_claims(await load_principal(world.organizer), task_id)
    }
    assert statuses == {world.volunteers[0]: ClaimStatus.NO_SHOW, world.volunteers[1]: ClaimStatus.CHECKED_IN}
    assert await wallet(world.volunteers[0]) == before
    await assert_ledger_ok()


async def test_the_phones_list_puts_my_claims_first_and_offers_only_tasks_i_may_grab_with_a_slot_left() -> None:
    world = await build_world(volunteers=2)
    volunteer, neighbour = [await load_principal(member) for member in world.volunteers]
    later = await _task(world, slots=2, starts_in=timedelta(days=2))
    sooner = await _task(world, slots=3, starts_in=timedelta(hours=5))
    full = await _task(world, slots=1, starts_in=timedelta(hours=6))
    await claim_task(neighbour, full)
    start = utc_now() + timedelta(hours=4)
    below = await create_patrol_task(  # the building's: seen from the grid, but not for its volunteers to claim
        await load_principal(world.organizer),
        organisation_id=world.building,
        title_zh="1号楼巡查",
        grab_order=GrabOrder(starts_at=start, ends_at=start + timedelta(hours=1), slots=2, multiplier=Decimal("1")),
    )
    assert below.id in {view.task.id for view in await patrol_tasks_near(volunteer)}

    listed = await grab_orders_for(volunteer)
    assert listed.mine == [] and [card.task.id for card in listed.open] == [sooner, later]

    await claim_task(volunteer, later)
    listed = await grab_orders_for(volunteer)
    assert [card.task.id for card in listed.open] == [sooner]
    [mine] = listed.mine
    assert (mine.task.id, mine.my_claim, mine.releasable, mine.check_in_open) == (
        later,
        ClaimStatus.CLAIMED,
        True,
        False,
    )
    assert await tasks_to_check_in(volunteer) == []
    # Twenty minutes before a claimed window opens, the patrol check-in offers it.
    assert mine.task.starts_at is not None
    almost = mine.task.starts_at - timedelta(minutes=20)
    assert [task.id for task in await tasks_to_check_in(volunteer, now=almost)] == [later]
    assert (await grab_orders_for(await load_principal(world.organizer))).open == []  # cannot earn: nothing to grab


async def test_a_check_in_queued_on_the_phone_inside_the_window_counts_when_it_arrives_after_it() -> None:
    world = await build_world(volunteers=1)
    walker = await load_principal(world.volunteers[0])
    now = utc_now()
    opened = now - timedelta(hours=3)
    task = await create_patrol_task(
        await load_principal(world.organizer),
        organisation_id=world.grid,
        title_zh="早班巡逻",
        grab_order=GrabOrder(starts_at=opened, ends_at=opened + timedelta(hours=2), slots=2, multiplier=Decimal("1")),
        now=opened - timedelta(hours=1),
    )
    await claim_task(walker, task.id, now=opened - timedelta(hours=1))

    with pytest.raises(ClaimRefused) as unrecorded:  # no phone time: judged now, after the window
        await check_in_patrol(walker, PatrolCheckIn(position=HERE, patrol_task_id=task.id), now=now)
    assert unrecorded.value.code == "task_closed"
    queued = PatrolCheckIn(position=HERE, patrol_task_id=task.id, recorded_at=opened + timedelta(minutes=5))
    patrol = await check_in_patrol(walker, queued, now=now)
    assert patrol.patrol_task_id == task.id and patrol.started_at == opened + timedelta(minutes=5)
    (claim,) = await task_claims(await load_principal(world.organizer), task.id)
    assert claim.status is ClaimStatus.CHECKED_IN and claim.activity_id == patrol.id
