"""The verification loop and the awards it posts (invariants 5 and 7)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from activities.errors import (
    ActivityNotFound,
    ActivityNotOpen,
    ActivityOverlap,
    InvalidActivity,
    SelfVerificationRefused,
)
from activities.models import Status
from activities.records import get_activity
from activities.verification import VerifyIn, reject_activity, verify_activity
from campaigns.accounts import budget_code
from campaigns.errors import BudgetExhausted, CampaignClosed
from campaigns.funding import close_campaign
from community.access import load_principal
from community.accounts import issuance_code, wallet_code
from community.members import register_member
from community.posts import grant_post
from community.roles import Role
from ledger.accounts import find_balance
from ledger.posting import load_entry, transfer
from tests.support.database import on_postgres
from tests.support.earning_helpers import World, default_rules, last_china_noon, service
from tests.support.marketplace_helpers import assert_ledger_ok, assert_same, balance, snapshot_everything, wallet


async def test_verified_service_log_pays_hours_times_rate_from_the_budget(world: World) -> None:
    campaign = await world.campaign(budget="100.00")
    volunteer = world.volunteers[0]
    log = await service(volunteer, minutes=90)
    assert log.status == Status.SUBMITTED
    assert log.campaign_id == campaign.id

    verified = await verify_activity(await load_principal(world.grid_worker), log.id)

    assert verified.status == Status.VERIFIED
    assert verified.points_awarded == Decimal("3.00")  # 1.5 h × 2.00
    assert await wallet(volunteer) == Decimal("3.00")
    assert await balance(budget_code(campaign.id)) == Decimal("97.00")
    entry = await load_entry(verified.award_entry_id or 0)
    assert entry.kind == "award"
    assert entry.cause_ref == f"activity:{log.id}"
    assert entry.idempotency_key == f"activity:{log.id}:award"
    assert entry.metadata["activity_id"] == log.id
    assert entry.metadata["campaign_id"] == campaign.id
    assert entry.metadata["approver_member_id"] == world.grid_worker
    assert entry.actor_ref == f"member:{world.grid_worker}"
    await assert_ledger_ok()


async def test_a_person_never_verifies_their_own_submission(world: World) -> None:
    await world.campaign()
    own = await service(world.grid_worker, minutes=60)
    before = await snapshot_everything()

    with pytest.raises(SelfVerificationRefused):
        await verify_activity(await load_principal(world.grid_worker), own.id)
    with pytest.raises(SelfVerificationRefused):
        await reject_activity(await load_principal(world.grid_worker), own.id, reason="想自己驳回")

    assert_same(before, await snapshot_everything())
    # Someone else with a post over the grid may.
    assert (await verify_activity(await load_principal(world.organizer), own.id)).points_awarded == Decimal("2.00")


async def test_only_someone_with_a_post_over_that_grid_verifies(world: World) -> None:
    await world.campaign()
    log = await service(world.volunteers[0])
    before = await snapshot_everything()
    # Without a post over the grid the activity is not even visible: it
    # answers as a missing one would.
    with pytest.raises(ActivityNotFound):
        await verify_activity(await load_principal(world.volunteers[1]), log.id)
    # A building head's post covers their building, not the whole grid.
    with pytest.raises(ActivityNotFound):
        await verify_activity(await load_principal(world.building_head), log.id)
    assert_same(before, await snapshot_everything())
    in_building = await service(world.volunteers[1], organisation_id=world.building)
    assert (await verify_activity(await load_principal(world.building_head), in_building.id)).status == Status.VERIFIED


async def test_verifying_twice_awards_once(world: World) -> None:
    await world.campaign()
    log = await service(world.volunteers[0], minutes=60)
    first = await verify_activity(await load_principal(world.grid_worker), log.id)
    second = await verify_activity(await load_principal(world.organizer), log.id)
    assert not first.replayed and second.replayed
    assert second.award_entry_id == first.award_entry_id
    assert second.verifier_id == world.grid_worker
    assert await wallet(world.volunteers[0]) == Decimal("2.00")


async def test_ten_concurrent_verifications_award_once(world: World) -> None:
    campaign = await world.campaign(budget="50.00")
    log = await service(world.volunteers[0], minutes=120)
    verifiers = [await load_principal(world.grid_worker), await load_principal(world.organizer)] * 5

    results = await asyncio.gather(*(verify_activity(v, log.id) for v in verifiers))

    assert sum(not r.replayed for r in results) == 1
    assert len({r.award_entry_id for r in results}) == 1
    assert await wallet(world.volunteers[0]) == Decimal("4.00")
    assert await balance(budget_code(campaign.id)) == Decimal("46.00")
    await assert_ledger_ok()
    if on_postgres():
        # Really concurrent: the calls overlapped on separate connections.
        assert len(results) == 10


async def test_award_beyond_the_remaining_budget_is_refused_and_nothing_written(world: World) -> None:
    campaign = await world.campaign(budget="3.00")
    log = await service(world.volunteers[0], minutes=120)  # 4.00 points
    before = await snapshot_everything()

    with pytest.raises(BudgetExhausted) as refused:
        await verify_activity(await load_principal(world.grid_worker), log.id)

    assert refused.value.field == "campaign_id"
    assert "3.00" in refused.value.message and "4.00" in refused.value.message
    assert_same(before, await snapshot_everything())
    assert await balance(budget_code(campaign.id)) == Decimal("3.00")


async def test_reject_after_award_reverses_the_points(world: World) -> None:
    campaign = await world.campaign(budget="100.00")
    volunteer = world.volunteers[0]
    log = await service(volunteer, minutes=60)
    await verify_activity(await load_principal(world.grid_worker), log.id)

    rejected = await reject_activity(await load_principal(world.organizer), log.id, reason="当天并未到岗")

    assert rejected.status == Status.REJECTED
    assert rejected.rejection_reason == "当天并未到岗"
    assert await wallet(volunteer) == Decimal("0.00")
    assert await balance(budget_code(campaign.id)) == Decimal("100.00")
    reversal = await load_entry(rejected.award_reversal_entry_id or 0)
    assert reversal.reverses_id == rejected.award_entry_id
    assert (await reject_activity(await load_principal(world.organizer), log.id, reason="again")).replayed
    with pytest.raises(ActivityNotOpen):
        await verify_activity(await load_principal(world.grid_worker), log.id)
    await assert_ledger_ok()


async def test_reject_after_points_were_spent_is_refused_with_nothing_changed(world: World) -> None:
    await world.campaign(budget="100.00")
    volunteer = world.volunteers[0]
    log = await service(volunteer, minutes=60)
    await verify_activity(await load_principal(world.grid_worker), log.id)
    await transfer(
        debit_code=wallet_code(volunteer),
        credit_code=issuance_code(world.community),
        amount="1.50",
        kind="redeem",
        reason_zh="兑换",
    )
    before = await snapshot_everything()
    with pytest.raises(ActivityNotOpen, match="already spent"):
        await reject_activity(await load_principal(world.organizer), log.id, reason="核实有误")
    assert_same(before, await snapshot_everything())


async def test_closing_returns_the_unspent_budget_and_stops_awards(world: World) -> None:
    campaign = await world.campaign(budget="100.00")
    volunteer = world.volunteers[0]
    paid = await service(volunteer, minutes=60, ago=timedelta(hours=5))
    late = await service(volunteer, minutes=60, ago=timedelta(hours=2))
    await verify_activity(await load_principal(world.grid_worker), paid.id)
    issuance_before = await balance(issuance_code(world.community))

    closed = await close_campaign(await load_principal(world.organizer), campaign.id)

    assert closed.status == "closed" and closed.budget == Decimal("0.00")
    assert await balance(issuance_code(world.community)) == issuance_before + Decimal("98.00")
    with pytest.raises(CampaignClosed):
        await verify_activity(await load_principal(world.grid_worker), late.id)
    # A reversal after closing sends the points on to issuance, as closing would have.
    await reject_activity(await load_principal(world.organizer), paid.id, reason="重复登记")
    assert await balance(budget_code(campaign.id)) == Decimal("0.00")
    assert await balance(issuance_code(world.community)) == issuance_before + Decimal("100.00")
    # Closing twice changes nothing.
    assert (await close_campaign(await load_principal(world.organizer), campaign.id)).status == "closed"
    await assert_ledger_ok()


async def test_verify_under_another_campaign_when_the_first_closed(world: World) -> None:
    first = await world.campaign(budget="10.00")
    second = await world.campaign(budget="10.00", is_default=False)
    log = await service(world.volunteers[0], minutes=60, campaign_id=first.id)
    await close_campaign(await load_principal(world.organizer), first.id)
    verified = await verify_activity(
        await load_principal(world.grid_worker), log.id, data=VerifyIn(campaign_id=second.id)
    )
    assert verified.campaign_id == second.id
    assert await balance(budget_code(second.id)) == Decimal("8.00")


async def test_overlapping_logs_by_one_person_are_rejected(world: World) -> None:
    await world.campaign()
    volunteer = world.volunteers[0]
    await service(volunteer, minutes=120, ago=timedelta(hours=4))
    with pytest.raises(ActivityOverlap):
        await service(volunteer, minutes=60, ago=timedelta(hours=3))
    # Back to back is fine, and another person at the same time is fine.
    await service(volunteer, minutes=60, ago=timedelta(hours=2))
    await service(world.volunteers[1], minutes=60, ago=timedelta(hours=3))


async def test_a_rejected_log_frees_its_time(world: World) -> None:
    await world.campaign()
    volunteer = world.volunteers[0]
    wrong = await service(volunteer, minutes=60, ago=timedelta(hours=3))
    await reject_activity(await load_principal(world.grid_worker), wrong.id, reason="时间填错")
    assert (await service(volunteer, minutes=60, ago=timedelta(hours=3))).status == Status.SUBMITTED


async def test_daily_cap_cuts_an_award_down_to_what_is_left(world: World) -> None:
    await world.campaign(rules=default_rules(daily_cap="5.00"))
    volunteer = world.volunteers[0]
    # Both on one China-time day whatever the hour the test runs at: counted
    # back from the last China noon (6 and 3 hours before now straddle
    # midnight when the suite runs between 03:00 and 06:00 China time).
    noon = last_china_noon()
    first = await service(volunteer, minutes=120, ago=timedelta(hours=6), now=noon)  # 4.00
    second = await service(volunteer, minutes=120, ago=timedelta(hours=3), now=noon)  # 4.00 → 1.00
    await verify_activity(await load_principal(world.grid_worker), first.id)
    capped = await verify_activity(await load_principal(world.grid_worker), second.id)
    assert capped.points_computed == Decimal("4.00")
    assert capped.points_awarded == Decimal("1.00")
    assert capped.capped
    assert await wallet(volunteer) == Decimal("5.00")


async def test_verifying_without_any_campaign_awards_nothing(world: World) -> None:
    log = await service(world.volunteers[0])
    verified = await verify_activity(await load_principal(world.grid_worker), log.id)
    assert verified.status == Status.VERIFIED
    assert verified.campaign_id is None and verified.points_awarded == Decimal("0.00")
    assert verified.award_entry_id is None


async def test_rejection_needs_a_reason(world: World) -> None:
    await world.campaign()
    log = await service(world.volunteers[0])
    with pytest.raises(InvalidActivity) as refused:
        await reject_activity(await load_principal(world.grid_worker), log.id, reason="   ")
    assert refused.value.field == "reason"
    assert (await get_activity(log.id)).status == Status.SUBMITTED


async def test_two_overlapping_logs_sent_at_once_leave_one(world: World) -> None:
    """The member's row is locked while overlaps are checked: of two
    overlapping logs submitted side by side, exactly one is accepted."""
    volunteer = world.volunteers[0]
    results = await asyncio.gather(
        service(volunteer, minutes=90, ago=timedelta(hours=3)),
        service(volunteer, minutes=90, ago=timedelta(hours=2)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, ActivityOverlap) for r in results) == 1
    assert sum(not isinstance(r, BaseException) for r in results) == 1


async def test_a_member_without_a_wallet_gets_one_when_their_activity_is_verified(world: World) -> None:
    """Wallets open only for members who can earn; a verified activity is
    earning, so a member holding no earning role (no wallet yet) is paid
    into a wallet opened in the award's transaction, not refused."""
    await world.campaign()
    outsider = await register_member(
        name="居民甲", phone="13912345670", password="long-enough-1", home_organisation_id=world.grid, roles=()
    )
    assert await find_balance(wallet_code(outsider.id)) is None
    log = await service(outsider.id, minutes=60)

    verified = await verify_activity(await load_principal(world.grid_worker), log.id)

    assert verified.points_awarded == Decimal("2.00")
    assert await wallet(outsider.id) == Decimal("2.00")
    await assert_ledger_ok()


async def test_granting_a_post_opens_the_wallet_its_holder_earns_into(world: World) -> None:
    """Post holders (grid workers, the three heads) earn like volunteers, so
    granting a post opens their wallet; granting organiser does not."""
    newcomer = await register_member(
        name="新网格员", phone="13912345678", password="long-enough-1", home_organisation_id=world.grid, roles=()
    )
    other = await register_member(
        name="新组织者", phone="13912345679", password="long-enough-1", home_organisation_id=world.grid, roles=()
    )
    organiser = await load_principal(world.organizer)

    await grant_post(organiser, world.grid, newcomer.id, Role.GRID_WORKER)
    await grant_post(organiser, world.grid, other.id, Role.ORGANIZER)

    assert await find_balance(wallet_code(newcomer.id)) is not None
    assert await find_balance(wallet_code(other.id)) is None
