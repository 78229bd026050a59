"""Fraud decisions on the verify path: held, not declined (issue #12).

A *review* decision turns the award into a ledger hold on the campaign's
budget (points pending, in no balance), which a reviewer approves (posted
to the wallet) or rejects (voided, the activity rejected); *deny* refuses
and changes nothing but the stored decision. The ledger verifies after
each step."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from decimal import Decimal

import pytest

from activities.errors import ActivityNotOpen
from activities.held import approve_held, pending_award, reject_held
from activities.models import Kind, Position, Status
from activities.records import get_activity
from activities.submissions import ReportIn, ServiceLogIn, log_service, submit_report
from activities.verification import reject_activity, verify_activity
from campaigns.accounts import budget_code
from campaigns.funding import close_campaign
from campaigns.rules import ReportKind
from community.access import load_principal
from community.accounts import issuance_code
from community.members import grant_role
from community.roles import Role
from community.tables import AuditEvent
from core.clock import utc_now
from fraud.cases import add_objection, case_for, member_cases, open_cases_for, take_case
from fraud.decisions import decisions_for
from fraud.errors import CaseNotFound, CaseTaken, FraudDenied, ReviewerConflict
from fraud.models import CaseStatus, Label, Outcome, Subject
from fraud.thresholds import set_overrides
from ledger.holds import get_hold
from ledger.models import HoldStatus
from tests.support.earning_helpers import World, default_rules, service
from tests.support.marketplace_helpers import assert_ledger_ok, available, balance, fast_member, wallet

# A 60-minute log at 60.00 an hour earns 60.00: a large award, which for a
# member who joined today is the cooling-off rule's planted case (score 50: review).
LARGE = default_rules(service_per_hour={"default": "60.00", "patrol": "60.00"})
LAT, LON = 35.1041, 118.3564


async def _held_world(world: World) -> tuple[int, int, int]:
    """A large award to a new volunteer, verified by the grid worker: held.
    (campaign id, activity id, case id)."""
    campaign = await world.campaign(budget="1000.00", rules=LARGE)
    log = await service(world.volunteers[0], minutes=60)
    held = await verify_activity(await load_principal(world.grid_worker), log.id)
    assert held.status == Status.HELD
    case = await case_for(Subject.ACTIVITY, log.id)
    assert case is not None
    return campaign.id, log.id, case.id


async def test_a_held_award_is_pending_in_no_balance_and_posted_on_approval(world: World) -> None:
    campaign_id, activity_id, case_id = await _held_world(world)
    volunteer = world.volunteers[0]
    held = await get_activity(activity_id)
    assert held.points_awarded == Decimal("60.00") and held.award_entry_id is None
    # Pending: not in the wallet; reserved on the budget (balance unchanged, available down).
    assert await wallet(volunteer) == Decimal("0.00")
    assert await balance(budget_code(campaign_id)) == Decimal("1000.00")
    assert await available(budget_code(campaign_id)) == Decimal("940.00")
    pending = await pending_award(held)
    assert pending is not None and pending.points == Decimal("60.00")
    assert "加入未满" in pending.reason_zh and pending.due_at > utc_now()
    await assert_ledger_ok()

    approved = await approve_held(
        await load_principal(world.organizer), case_id, label=Label.LEGITIMATE, note="本人核实，确有其事"
    )

    assert approved.status == Status.VERIFIED and approved.award_entry_id is not None
    assert await wallet(volunteer) == Decimal("60.00")
    assert await balance(budget_code(campaign_id)) == Decimal("940.00")
    assert await available(budget_code(campaign_id)) == Decimal("940.00")
    case = await case_for(Subject.ACTIVITY, activity_id)
    assert case is not None and case.status is CaseStatus.APPROVED and case.label is Label.LEGITIMATE
    assert (await get_hold(case.hold_id)).status is HoldStatus.POSTED
    await assert_ledger_ok()


async def test_a_rejected_held_award_is_voided_and_the_activity_rejected_with_the_reason(world: World) -> None:
    campaign_id, activity_id, case_id = await _held_world(world)

    rejected = await reject_held(await load_principal(world.organizer), case_id, label=Label.FRAUD, note="当天不在本地")

    assert rejected.status == Status.REJECTED and rejected.rejection_reason == "当天不在本地"
    assert await wallet(world.volunteers[0]) == Decimal("0.00")
    assert await available(budget_code(campaign_id)) == Decimal("1000.00")
    case = await case_for(Subject.ACTIVITY, activity_id)
    assert case is not None and case.status is CaseStatus.REJECTED
    assert (await get_hold(case.hold_id)).status is HoldStatus.VOIDED
    await assert_ledger_ok()
    actions = {row["action"] for row in await AuditEvent.select(AuditEvent.action).run()}
    assert {"activity.hold", "fraud.case.reject"} <= actions


async def test_the_reviewer_is_never_the_member_nor_the_verifier(world: World) -> None:
    await world.campaign(rules=LARGE)
    volunteer = world.volunteers[0]
    log = await service(volunteer, minutes=60)
    # The organiser verifies, so the organiser may not review it.
    await verify_activity(await load_principal(world.organizer), log.id)
    case = await case_for(Subject.ACTIVITY, log.id)
    assert case is not None

    with pytest.raises(ReviewerConflict):
        await approve_held(await load_principal(world.organizer), case.id, label=Label.LEGITIMATE, note="我核实的")
    with pytest.raises(ReviewerConflict):
        await approve_held(await load_principal(volunteer), case.id, label=Label.LEGITIMATE, note="我自己的")
    with pytest.raises(ReviewerConflict):
        await take_case(await load_principal(world.organizer), case.id)
    # Nor does it appear in the verifier's queue.
    assert await open_cases_for(await load_principal(world.organizer)) == []
    # A grid worker holds a post but does not manage: the case is not theirs to see.
    with pytest.raises(CaseNotFound):
        await approve_held(await load_principal(world.grid_worker), case.id, label=Label.LEGITIMATE, note="看看")
    assert (await get_activity(log.id)).status == Status.HELD

    second = await fast_member(world.community, "第二组织者")
    await grant_role(second, world.community, Role.ORGANIZER)
    approved = await approve_held(await load_principal(second), case.id, label=Label.UNCLEAR, note="无法证伪")
    assert approved.status == Status.VERIFIED
    await assert_ledger_ok()


async def test_two_reviewers_taking_one_case_at_once_one_gets_it(world: World) -> None:
    _, _, case_id = await _held_world(world)
    second = await fast_member(world.community, "第二组织者")
    await grant_role(second, world.community, Role.ORGANIZER)
    first, other = await load_principal(world.organizer), await load_principal(second)

    results = await asyncio.gather(take_case(first, case_id), take_case(other, case_id), return_exceptions=True)

    winners = [result for result in results if not isinstance(result, BaseException)]
    losers = [result for result in results if isinstance(result, BaseException)]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], CaseTaken)
    winner_id = winners[0].taken_by
    loser = other if winner_id == world.organizer else first
    # The loser cannot decide while the winner holds it.
    with pytest.raises(CaseTaken):
        await approve_held(loser, case_id, label=Label.LEGITIMATE, note="抢先")


async def test_a_held_activity_moves_only_through_its_case(world: World) -> None:
    _, activity_id, _ = await _held_world(world)
    with pytest.raises(ActivityNotOpen):
        await verify_activity(await load_principal(world.organizer), activity_id)
    with pytest.raises(ActivityNotOpen):
        await reject_activity(await load_principal(world.organizer), activity_id, reason="直接驳回")
    assert (await get_activity(activity_id)).status == Status.HELD


async def test_the_volunteer_sees_why_and_adds_an_objection_others_cannot(world: World) -> None:
    _, activity_id, case_id = await _held_world(world)
    objected = await add_objection(
        await load_principal(world.volunteers[0]), case_id, note="我是新来的，确实服务了一小时"
    )
    assert objected.objection.startswith("我是新来的")
    with pytest.raises(CaseNotFound):
        await add_objection(await load_principal(world.volunteers[1]), case_id, note="替他说话")
    pending = await pending_award(await get_activity(activity_id))
    assert pending is not None and pending.objection == objected.objection


async def test_deny_refuses_and_changes_nothing_but_the_stored_decision(world: World) -> None:
    """Cooling-off (50) and a planted burst (50) reach the deny score (100)."""
    campaign = await world.campaign(budget="1000.00", rules=LARGE)
    volunteer = world.volunteers[0]
    now = utc_now()
    logs = [
        await log_service(
            await load_principal(volunteer),
            ServiceLogIn(
                title=f"服务{n}",
                started_at=now - timedelta(hours=30 - n * 2),
                ended_at=now - timedelta(hours=29 - n * 2),
                recorded_at=now - timedelta(minutes=6 - n),
            ),
            now=now,
        )
        for n in range(6)
    ]

    with pytest.raises(FraudDenied) as denied:
        await verify_activity(await load_principal(world.grid_worker), logs[-1].id)

    assert (await get_activity(logs[-1].id)).status == Status.SUBMITTED
    assert await wallet(volunteer) == Decimal("0.00")
    assert await available(budget_code(campaign.id)) == Decimal("1000.00")
    decisions = await decisions_for(Subject.ACTIVITY, logs[-1].id)
    assert [decision.outcome for decision in decisions] == [Outcome.DENY]
    assert decisions[0].id == denied.value.decision_id
    assert {result["rule"] for result in decisions[0].results if result["hit"]} == {"burst", "cooling_off"}
    await assert_ledger_ok()


async def test_a_days_offline_queue_uploaded_at_once_is_not_a_burst(world: World) -> None:
    """Eight reports recorded an hour apart arrive in the same second: the
    burst rule counts the phone's times, so the award is simply paid."""
    await world.campaign()
    volunteer = world.volunteers[0]
    now = utc_now()
    reports = [
        await submit_report(
            await load_principal(volunteer),
            ReportIn(
                report_kind=ReportKind.HAZARD,
                title=f"路灯不亮 {hour}",
                position=Position(latitude=LAT, longitude=LON, accuracy_m=15),
                occurred_at=now - timedelta(hours=9 - hour),
                recorded_at=now - timedelta(hours=9 - hour),
            ),
            now=now + timedelta(milliseconds=hour),
        )
        for hour in range(8)
    ]
    verified = await verify_activity(await load_principal(world.grid_worker), reports[-1].id)
    assert verified.status == Status.VERIFIED
    decision = (await decisions_for(Subject.ACTIVITY, reports[-1].id))[0]
    assert decision.outcome is Outcome.ALLOW
    assert not any(result["hit"] for result in decision.results)


async def test_impossible_travel_between_two_reports_holds_the_award(world: World) -> None:
    await world.campaign()
    volunteer = world.volunteers[0]
    now = utc_now()

    async def report(latitude: float, minutes_ago: int) -> int:
        submitted = await submit_report(
            await load_principal(volunteer),
            ReportIn(
                report_kind=ReportKind.HAZARD,
                title="井盖缺失",
                position=Position(latitude=latitude, longitude=LON, accuracy_m=20),
                occurred_at=now - timedelta(minutes=minutes_ago),
            ),
            now=now,
        )
        return submitted.id

    await report(LAT, 20)
    far = await report(LAT + 0.9, 15)  # 100 km in 5 minutes
    held = await verify_activity(await load_principal(world.grid_worker), far)
    assert held.status == Status.HELD and held.kind is Kind.REPORT
    decision = (await decisions_for(Subject.ACTIVITY, far))[0]
    travel = next(result for result in decision.results if result["rule"] == "impossible_travel")
    assert travel["hit"] and travel["evidence"]["speed_kmh"] > 1000


async def test_a_decision_is_not_rewritten_when_the_thresholds_change(world: World) -> None:
    _, activity_id, _ = await _held_world(world)
    before = await decisions_for(Subject.ACTIVITY, activity_id)

    await set_overrides(world.community, {"review_score": 500, "deny_score": 900})

    after = await decisions_for(Subject.ACTIVITY, activity_id)
    assert after == before
    assert after[0].outcome is Outcome.REVIEW and after[0].thresholds["review_score"] == 50
    # A new award is judged with the new thresholds: allowed.
    log = await service(world.volunteers[1], minutes=60, ago=timedelta(hours=5))
    assert (await verify_activity(await load_principal(world.grid_worker), log.id)).status == Status.VERIFIED
    assert json.loads(json.dumps(after[0].thresholds))["deny_score"] == 100


async def test_the_volunteer_finds_their_held_points_among_their_cases(world: World) -> None:
    _, activity_id, case_id = await _held_world(world)
    mine = await member_cases(await load_principal(world.volunteers[0]))
    assert [(case.id, case.subject_id, case.status) for case in mine] == [(case_id, activity_id, CaseStatus.OPEN)]
    assert await member_cases(await load_principal(world.volunteers[1])) == []
    queue = await open_cases_for(await load_principal(world.organizer))
    assert [case.id for case in queue] == [case_id]
    # The member manages nothing: their queue is empty, their own case included.
    assert await open_cases_for(await load_principal(world.volunteers[0])) == []


async def test_closing_a_campaign_keeps_a_held_award_until_its_review(world: World) -> None:
    """Closing sweeps only what is not on hold; rejecting the held award
    afterwards returns it to issuance, so the closed budget ends empty."""
    campaign_id, _, case_id = await _held_world(world)
    await close_campaign(await load_principal(world.organizer), campaign_id)
    assert await balance(budget_code(campaign_id)) == Decimal("60.00")
    assert await available(budget_code(campaign_id)) == Decimal("0.00")
    await assert_ledger_ok()

    await reject_held(await load_principal(world.organizer), case_id, label=Label.FRAUD, note="虚报时长")

    assert await balance(budget_code(campaign_id)) == Decimal("0.00")
    assert await balance(issuance_code(world.community)) == Decimal("0.00")
    await assert_ledger_ok()
