"""Star levels from lifetime earnings and verified hours: spending never
lowers a level; thresholds per issuing organisation, set by its managers
(validated, audited)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from activities.verification import reject_activity, verify_activity
from community.access import load_principal
from community.errors import AccessRefused
from community.tables import AuditEvent
from ledger import accounts
from recognition.errors import InvalidThresholds
from recognition.levels import Threshold
from recognition.stars import level_of, my_level, read_thresholds, set_thresholds
from tests.support.earning_helpers import World, service
from tests.support.leaderboard_helpers import SHOP, spend
from tests.support.marketplace_helpers import wallet

LOW = [Threshold(1, 0, 0), Threshold(2, 100, 1), Threshold(3, 500, 2), Threshold(4, 1_000, 3), Threshold(5, 2_000, 4)]


async def test_spending_everything_keeps_the_level(world: World) -> None:
    await world.campaign()
    volunteer = world.volunteers[0]
    await set_thresholds(await load_principal(world.organizer), world.community, LOW)
    log = await service(volunteer, minutes=120)  # 2 hours at 2.00 an hour: 4.00 points
    await verify_activity(await load_principal(world.grid_worker), log.id)
    before = await my_level(await load_principal(volunteer))
    assert (before.level.stars, before.level.earned_minor, before.level.minutes) == (2, 400, 120)
    await accounts.open_account(SHOP, account_type="liability")
    await spend(volunteer, "4.00")
    assert await wallet(volunteer) == Decimal("0.00")
    after = await my_level(await load_principal(volunteer))
    assert after.level == before.level


async def test_a_star_needs_both_its_points_and_its_hours_and_says_what_the_next_needs(world: World) -> None:
    await world.campaign()
    volunteer = world.volunteers[1]
    log = await service(volunteer, minutes=60)
    await verify_activity(await load_principal(world.grid_worker), log.id)
    default = await level_of(volunteer, world.grid)
    assert default.thresholds.defaults and default.thresholds.organisation_id == world.community
    assert default.level.stars == 1
    assert default.level.next is not None and default.level.next.stars == 2
    assert (default.level.points_needed_minor, default.level.minutes_needed) == (3_000 - 200, 5 * 60 - 60)


async def test_thresholds_are_set_by_managers_of_the_issuer_only_validated_and_audited(world: World) -> None:
    organiser = await load_principal(world.organizer)
    volunteer = await load_principal(world.volunteers[0])
    with pytest.raises(AccessRefused):
        await set_thresholds(volunteer, world.community, LOW)
    falling = [*LOW[:3], Threshold(4, 400, 3), LOW[4]]
    with pytest.raises(InvalidThresholds) as refused:
        await set_thresholds(organiser, world.community, falling)
    assert refused.value.field == "levels[3]"
    with pytest.raises(InvalidThresholds) as not_issuer:
        await set_thresholds(organiser, world.grid, LOW)
    assert not_issuer.value.field == "organisation_id"
    assert (await set_thresholds(organiser, world.community, LOW)).levels == tuple(LOW)
    assert (await read_thresholds(volunteer, world.community)).levels == tuple(LOW)
    actions = await AuditEvent.select(AuditEvent.action).where(AuditEvent.action == "recognition.thresholds").run()
    assert len(actions) == 1


async def test_a_reversal_takes_the_points_back_off_the_level(world: World) -> None:
    """A correction is not spending: the points were never earned."""
    await world.campaign()
    volunteer = world.volunteers[2]
    log = await service(volunteer, minutes=120)
    await verify_activity(await load_principal(world.grid_worker), log.id)
    assert (await my_level(await load_principal(volunteer))).level.earned_minor == 400
    await reject_activity(await load_principal(world.grid_worker), log.id, reason="重复登记")
    after = await my_level(await load_principal(volunteer))
    assert (after.level.earned_minor, after.level.minutes) == (0, 0)
