"""Review deadlines (issue #12), with a frozen clock: an overdue review of
a small amount is released by the system (posted, audited), a larger one
escalates to the parent organisation's queue with a fresh deadline, like
the closed loop; a second run at the same moment does nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from activities.models import Status
from activities.records import get_activity
from campaigns.accounts import budget_code
from community.organisations import get_organisation
from community.tables import AuditEvent
from fraud.cases import get_case
from fraud.models import CaseStatus, Label
from fraud.thresholds import set_overrides
from jobs.review_deadlines import expire_reviews
from tests.integration.earning.test_fraud_holds import _held_world
from tests.support.earning_helpers import World
from tests.support.marketplace_helpers import assert_ledger_ok, available, wallet

MINUTE = timedelta(minutes=1)


async def _audited(action: str) -> list[dict[str, object]]:
    return await AuditEvent.select().where(AuditEvent.action == action).run()


async def test_an_overdue_small_held_award_is_released_by_the_system(world: World) -> None:
    await set_overrides(world.community, {"auto_release_minor": 10_000})  # up to 100.00
    _, activity_id, case_id = await _held_world(world)
    case = await get_case(case_id)
    assert await expire_reviews(now=case.due_at - MINUTE) == 0
    assert await expire_reviews(now=case.due_at + MINUTE) == 1
    released = await get_case(case_id)
    assert released.status is CaseStatus.APPROVED and released.decided_by is None
    assert released.label is Label.UNCLEAR
    assert (await get_activity(activity_id)).status == Status.VERIFIED
    assert await wallet(world.volunteers[0]) == Decimal("60.00")
    [event] = await _audited("fraud.case.release")
    assert event["actor_ref"] == "system:fraud-deadline"
    assert await expire_reviews(now=case.due_at + MINUTE) == 0
    await assert_ledger_ok()


async def test_an_overdue_large_held_award_escalates_up_the_tree_once(world: World) -> None:
    campaign_id, activity_id, case_id = await _held_world(world)  # 60.00 > the default 20.00
    case = await get_case(case_id)
    moment = case.due_at + MINUTE
    assert await expire_reviews(now=moment) == 1
    moved = await get_case(case_id)
    parent = (await get_organisation(case.organisation_id)).parent_id
    assert parent is not None
    assert moved.status is CaseStatus.OPEN and moved.organisation_id == parent
    assert moved.due_at > moment
    assert await expire_reviews(now=moment) == 0
    [event] = await _audited("fraud.case.escalate")
    assert event["actor_ref"] == "system:fraud-deadline"
    # Still pending: nothing paid, the budget still reserved.
    assert await wallet(world.volunteers[0]) == Decimal("0.00")
    assert (await get_activity(activity_id)).status == Status.HELD
    assert await available(budget_code(campaign_id)) == Decimal("940.00")
    # Missed again: one more level up.
    assert await expire_reviews(now=moved.due_at + MINUTE) == 1
    grandparent = (await get_organisation(parent)).parent_id
    assert (await get_case(case_id)).organisation_id == (grandparent if grandparent is not None else parent)
    await assert_ledger_ok()
