"""What a phone's offline outbox relies on: a queued patrol is timed from
the phone's own times within bounds, the server keeps its receive time next
to them, and every retried step (check-in, route batch, check-out) is one
effect."""

from __future__ import annotations

from datetime import timedelta

import pytest

from activities.errors import ActivityNotFound
from activities.models import Kind, Position, Status
from activities.submission_rules import MAX_PATROL_MINUTES
from activities.submissions import (
    PatrolCheckIn,
    RoutePointIn,
    add_route_points,
    check_in_patrol,
    check_out_patrol,
    own_activity_id,
)
from activities.tables import Activity, PatrolPoint
from community.access import load_principal
from core.clock import utc_now
from tests.support.earning_helpers import World

HERE = Position(latitude=35.05, longitude=118.34, accuracy_m=8.0)


async def test_a_patrol_queued_offline_is_timed_from_the_phones_times(world: World) -> None:
    walker = await load_principal(world.volunteers[0])
    now = utc_now()
    checked_in_on_phone = now - timedelta(hours=2)
    check_in = PatrolCheckIn(position=HERE, client_ref="phone-p1", recorded_at=checked_in_on_phone)
    patrol = await check_in_patrol(walker, check_in, now=now)
    assert patrol.started_at == checked_in_on_phone

    row = (await Activity.select().where(Activity.id == patrol.id).run())[0]
    assert row["client_recorded_at"] == checked_in_on_phone and row["received_at"] == now

    again = await check_in_patrol(walker, check_in, now=now + timedelta(seconds=30))
    assert again.id == patrol.id and again.replayed
    assert await own_activity_id(walker, "phone-p1", Kind.PATROL) == patrol.id

    batch = [RoutePointIn(position=HERE, at=checked_in_on_phone + timedelta(minutes=m)) for m in (10, 20)]
    await add_route_points(walker, patrol.id, batch, now=now)
    await add_route_points(walker, patrol.id, batch, now=now + timedelta(seconds=5))
    routes = await PatrolPoint.count().where((PatrolPoint.activity == patrol.id) & (PatrolPoint.kind == "route")).run()
    assert routes == 2

    checked_out_on_phone = checked_in_on_phone + timedelta(minutes=50)
    done = await check_out_patrol(walker, patrol.id, HERE, recorded_at=checked_out_on_phone, now=now)
    assert done.status == Status.SUBMITTED and done.minutes == 50 and done.ended_at == checked_out_on_phone
    retried = await check_out_patrol(walker, patrol.id, HERE, recorded_at=checked_out_on_phone, now=now)
    assert retried.replayed and retried.minutes == 50
    assert [p.kind for p in retried.route or []] == ["check_in", "route", "route", "check_out"]


async def test_phone_times_outside_the_bounds_give_way_to_the_servers(world: World) -> None:
    walker = await load_principal(world.volunteers[0])
    now = utc_now()
    ahead = await check_in_patrol(
        walker, PatrolCheckIn(position=HERE, client_ref="ahead", recorded_at=now + timedelta(hours=3)), now=now
    )
    assert ahead.started_at == now
    done = await check_out_patrol(
        walker, ahead.id, HERE, recorded_at=now - timedelta(hours=1), now=now + timedelta(minutes=30)
    )
    assert done.ended_at == now + timedelta(minutes=30) and done.minutes == 30

    stroller = await load_principal(world.volunteers[1])
    stale = now - timedelta(minutes=MAX_PATROL_MINUTES + 60)
    old = await check_in_patrol(stroller, PatrolCheckIn(position=HERE, recorded_at=stale), now=now)
    assert old.started_at == now


async def test_another_members_client_ref_names_no_patrol(world: World) -> None:
    walker = await load_principal(world.volunteers[0])
    await check_in_patrol(walker, PatrolCheckIn(position=HERE, client_ref="mine"))
    with pytest.raises(ActivityNotFound):
        await own_activity_id(await load_principal(world.volunteers[1]), "mine", Kind.PATROL)
    with pytest.raises(ActivityNotFound):
        await own_activity_id(walker, "mine", Kind.REPORT)
