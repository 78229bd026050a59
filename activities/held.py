"""Held, not declined: an award the fraud rules sent to review.

When the rules decide *review* (``activities.screening``), the verify step
does not pay: it reserves the award on the campaign's budget with a ledger
hold (so the budget cannot promise it twice), opens a review case
(``fraud.cases``) with a deadline in working days (the calendar of
``activities.deadline_rules``), and moves the activity to ``held``
(待审核). The volunteer sees why, who decides (organisers over the grid)
and by when (``pending_award``).

A reviewer (an organiser over the grid, never the member, never the
verifier: ``fraud.policy``) then decides:

- **approve**: the hold is posted budget → wallet in one entry, under the
  same idempotency key an unheld award uses, and the activity is
  ``verified`` (a report's handling deadline starts then);
- **reject**: the hold is voided (the points stay in the budget, or go on
  to issuance if the campaign has closed since), and the activity is
  ``rejected`` with the reviewer's reason.

**Hook for totals and leaderboards**: held points are in no wallet and in
no award entry until approved, so anything counting award entries or
balances counts them nowhere; ``HELD_STATUSES`` names the statuses whose
points are pending, for anything that counts activities instead.

Lock order, as on the verify path: activity → campaign → case → ledger accounts
(the case is read unlocked first, to find its activity).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from activities.calendar import add_working_days
from activities.deadline_rules import deadline_policy, finish_due
from activities.earning import Owed, entry_wording
from activities.errors import InvalidActivity
from activities.models import ActivityRecord, ActivityView, Kind, Status
from activities.records import get_activity, lock_activity
from activities.screening import Screened
from activities.tables import Activity
from activities.transitions import Action, decide
from campaigns.accounts import budget_code
from campaigns.budget import return_to_issuance
from campaigns.campaigns import locked_campaign
from campaigns.models import CampaignRecord
from campaigns.rules import check_budget
from community import audit
from community.access import Principal
from community.accounts import open_wallet, wallet_code
from community.members import home_organisation_of
from core.clock import utc_now
from core.database import in_write_transaction
from fraud.cases import case_for, case_ref, check_decidable, close_case, get_case, lock_case, open_case
from fraud.errors import CaseClosed, CaseNotFound
from fraud.models import CaseRecord, CaseStatus, Label, Subject
from fraud.policy import check_case_reviewer
from ledger.amounts import to_minor
from ledger.errors import AccountNotFound, InsufficientFunds
from ledger.holds import create_hold, post_hold, void_hold
from recognition.awarding import badges_after_commit

HELD_STATUSES = frozenset({Status.HELD})
# The ledger hold outlives the review deadline by this much: an overdue
# review is escalated, not silently released by the hold's expiry.
HOLD_GRACE = timedelta(days=30)
REVIEW_NOTE_MAX_CHARS = 2000
# Who releases a small held award when its review deadline passes.
RELEASE_ACTOR = "system:fraud-deadline"
RELEASE_NOTE = "审核期限已过，系统自动放行 · Review deadline passed: released automatically"


@dataclass(frozen=True, slots=True)
class HeldAward:
    activity: ActivityRecord
    campaign: CampaignRecord
    owed: Owed
    screened: Screened


@dataclass(frozen=True, slots=True)
class PendingAward:
    """What the volunteer is told about points held for review."""

    case_id: int
    points: Decimal
    status: CaseStatus
    reason_zh: str
    reason_en: str
    deciders_zh: str
    deciders_en: str
    due_at: datetime
    objection: str


def award_metadata(activity: ActivityRecord, decided: Owed, approver_id: int) -> dict[str, object]:
    """What an award's ledger entry (or hold) records about its cause."""
    return {
        "activity_id": activity.id,
        "activity_kind": activity.kind.value,
        "approver_member_id": approver_id,
        "organisation_id": activity.organisation_id,
        "minutes": activity.minutes,
        "computed": str(decided.computed),
        "capped": decided.capped,
    }


def _ref(activity_id: int) -> str:
    return f"activity:{activity_id}"


async def _reserve(principal: Principal, held: HeldAward, due_at: datetime) -> int:
    activity, campaign = held.activity, held.campaign
    _, reason_zh, reason_en = entry_wording("award", activity.kind)
    try:
        hold = await create_hold(
            account_code=budget_code(campaign.id),
            amount=held.owed.awarded,
            reason_zh=f"待审核 · {reason_zh}{activity.title}",
            reason_en=f"Pending review · {reason_en}{activity.title}",
            expires_at=due_at + HOLD_GRACE,
            actor_ref=principal.ref,
            cause_ref=_ref(activity.id),
            metadata={
                **award_metadata(activity, held.owed, principal.member_id),
                "fraud_decision_id": held.screened.decision_id,
            },
            idempotency_key=f"{_ref(activity.id)}:award:held",
        )
    except InsufficientFunds as refused:
        check_budget(campaign.id, available=refused.available, amount=held.owed.awarded)
        raise
    return hold.id


async def hold_award(principal: Principal, held: HeldAward, *, complex_: bool, now: datetime) -> int:
    """Inside the verify transaction: reserve the award, open the case,
    move the activity to ``held``; the case id."""
    activity = held.activity
    verdict = held.screened.verdict
    due_at = add_working_days(now, verdict.thresholds.review_working_days, deadline_policy().calendar)
    hold_id = await _reserve(principal, held, due_at)
    case_id = await open_case(
        decision_id=held.screened.decision_id,
        subject=Subject.ACTIVITY,
        subject_id=activity.id,
        member_id=activity.member_id,
        verifier_id=principal.member_id,
        organisation_id=activity.organisation_id,
        hold_id=hold_id,
        amount=held.owed.awarded,
        reason_zh=verdict.reason_zh(),
        reason_en=verdict.reason_en(),
        due_at=due_at,
        now=now,
        score=verdict.score,
        rules=verdict.hit_rules(),
        campaign_id=held.campaign.id,
    )
    move = decide(Action.HOLD, activity_id=activity.id, kind=activity.kind, status=activity.status)
    await (
        Activity.update(
            {
                Activity.status: move.to.value,
                Activity.campaign: held.campaign.id,
                Activity.verifier: principal.member_id,
                Activity.verified_at: now,
                Activity.points_computed_minor: to_minor(held.owed.computed),
                Activity.points_awarded_minor: to_minor(held.owed.awarded),
                Activity.capped: held.owed.capped,
                Activity.award_entry_id: None,
                Activity.complex: complex_,
                Activity.due_at: None,
                Activity.overdue: False,
                Activity.responsible_organisation: activity.organisation_id,
                Activity.updated_at: now,
            }
        )
        .where(Activity.id == activity.id)
        .run()
    )
    await audit.record(
        principal.ref,
        "activity.hold",
        _ref(activity.id),
        case_id=case_id,
        decision_id=held.screened.decision_id,
        score=verdict.score,
        points_held=str(held.owed.awarded),
    )
    return case_id


async def _locked(
    principal: Principal, case_id: int, now: datetime, *, with_campaign: bool
) -> tuple[ActivityRecord, CampaignRecord | None, CaseRecord]:
    """The case's activity, its campaign (if asked), then the case, each
    locked in the path's order; the reviewer checked."""
    first = await get_case(case_id)
    if first.subject is not Subject.ACTIVITY:
        raise CaseNotFound(f"no fraud case {case_id} on an activity", field="case_id")
    await check_case_reviewer(principal, first)
    activity = await lock_activity(first.subject_id)
    campaign = None
    if with_campaign and activity.campaign_id is not None:
        campaign = await locked_campaign(activity.campaign_id)
    case = await lock_case(case_id)
    check_decidable(case, principal.member_id, now)
    return activity, campaign, case


def _note(note: str) -> str:
    text = note.strip()
    if not 1 <= len(text) <= REVIEW_NOTE_MAX_CHARS:
        raise InvalidActivity(f"a review decision needs a note of 1-{REVIEW_NOTE_MAX_CHARS} characters", field="note")
    return text


async def _post_to_wallet(case: CaseRecord, activity: ActivityRecord, actor_ref: str, reviewer_id: int | None) -> int:
    kind, reason_zh, reason_en = entry_wording("award", activity.kind)

    async def post() -> int:
        _, entry = await post_hold(
            case.hold_id,
            destination_code=wallet_code(activity.member_id),
            kind=kind,
            reason_zh=reason_zh + activity.title,
            reason_en=reason_en + activity.title,
            actor_ref=actor_ref,
            metadata={
                "activity_id": activity.id,
                "fraud_case_id": case.id,
                "reviewer_member_id": reviewer_id,
                # Who verified the work (the cashing-out rule's funders).
                "approver_member_id": case.verifier_id,
            },
            idempotency_key=f"{_ref(activity.id)}:award",
        )
        return entry.id

    try:
        return await post()
    except AccountNotFound as missing:
        if missing.account_code != wallet_code(activity.member_id):
            raise
        await open_wallet(activity.member_id, await home_organisation_of(activity.member_id))
        return await post()


async def _approve(principal: Principal | None, case_id: int, label: Label, note: str, now: datetime) -> int:
    if principal is None:
        activity, _, case = await _locked_for_release(case_id, now)
    else:
        activity, _, case = await _locked(principal, case_id, now, with_campaign=False)
    move = decide(Action.CLEAR, activity_id=activity.id, kind=activity.kind, status=activity.status)
    actor_ref = principal.ref if principal is not None else RELEASE_ACTOR
    reviewer_id = principal.member_id if principal is not None else None
    entry_id = await _post_to_wallet(case, activity, actor_ref, reviewer_id)
    is_report = activity.kind is Kind.REPORT
    await (
        Activity.update(
            {
                Activity.status: move.to.value,
                Activity.award_entry_id: entry_id,
                Activity.due_at: finish_due(now, complex=activity.complex) if is_report else None,
                Activity.overdue: False,
                Activity.updated_at: now,
            }
        )
        .where(Activity.id == activity.id)
        .run()
    )
    await close_case(case, status=CaseStatus.APPROVED, reviewer_id=reviewer_id, label=label, note=note, now=now)
    action = "fraud.case.approve" if principal is not None else "fraud.case.release"
    await audit.record(actor_ref, action, case_ref(case_id), activity_id=activity.id, label=label.value, note=note)
    await badges_after_commit(activity.member_id)
    return activity.id


async def _locked_for_release(case_id: int, now: datetime) -> tuple[ActivityRecord, None, CaseRecord]:
    """As ``_locked``, for the system releasing an overdue case: still open
    and past its deadline, whoever has taken it."""
    first = await get_case(case_id)
    if first.subject is not Subject.ACTIVITY:
        raise CaseNotFound(f"no fraud case {case_id} on an activity", field="case_id")
    activity = await lock_activity(first.subject_id)
    case = await lock_case(case_id)
    if case.status is not CaseStatus.OPEN or case.due_at > now:
        raise CaseClosed(f"case {case_id} is not an open overdue case", field="case_id")
    return activity, None, case


async def release_held(case_id: int, *, now: datetime | None = None) -> ActivityView:
    """The review deadline passed on a small amount (``fraud.review_deadlines``):
    the system approves, labelled unclear (nobody looked), audited as
    ``RELEASE_ACTOR``."""
    work = functools.partial(_approve, None, case_id, Label.UNCLEAR, RELEASE_NOTE, now or utc_now())
    return await get_activity(await in_write_transaction(work))


async def approve_held(
    principal: Principal, case_id: int, *, label: Label, note: str, now: datetime | None = None
) -> ActivityView:
    """Approve a held award: the hold is posted to the wallet and the
    activity is verified, with the reviewer's label and note."""
    work = functools.partial(_approve, principal, case_id, label, _note(note), now or utc_now())
    return await get_activity(await in_write_transaction(work))


async def _reject(principal: Principal, case_id: int, label: Label, note: str, now: datetime) -> int:
    activity, campaign, case = await _locked(principal, case_id, now, with_campaign=True)
    move = decide(Action.REJECT, activity_id=activity.id, kind=activity.kind, status=activity.status)
    await void_hold(case.hold_id)
    if campaign is not None and not campaign.is_open:
        # Closing swept only what was not held: the released points follow.
        await return_to_issuance(campaign, case.amount, actor_ref=principal.ref)
    await (
        Activity.update(
            {
                Activity.status: move.to.value,
                Activity.rejected_by: principal.member_id,
                Activity.rejected_at: now,
                Activity.rejection_reason: note,
                Activity.due_at: None,
                Activity.overdue: False,
                Activity.updated_at: now,
            }
        )
        .where(Activity.id == activity.id)
        .run()
    )
    await close_case(case, status=CaseStatus.REJECTED, reviewer_id=principal.member_id, label=label, note=note, now=now)
    await audit.record(
        principal.ref, "fraud.case.reject", case_ref(case_id), activity_id=activity.id, label=label.value, note=note
    )
    return activity.id


async def reject_held(
    principal: Principal, case_id: int, *, label: Label, note: str, now: datetime | None = None
) -> ActivityView:
    """Reject a held award: the hold is voided and the activity rejected
    with the reviewer's note as its reason."""
    work = functools.partial(_reject, principal, case_id, label, _note(note), now or utc_now())
    return await get_activity(await in_write_transaction(work))


async def pending_award(activity: ActivityRecord) -> PendingAward | None:
    """Why a held activity's points are pending, who decides and by when
    (for the volunteer and the activity's readers); None if never held."""
    case = await case_for(Subject.ACTIVITY, activity.id)
    if case is None:
        return None
    return PendingAward(
        case_id=case.id,
        points=case.amount,
        status=case.status,
        reason_zh=f"系统提示：{case.reason_zh}。积分暂不入账，待组织者审核。",
        reason_en=f"Flagged: {case.reason_en}. The points wait for an organiser's review.",
        deciders_zh="本网格及上级的组织者（不含核实人）",
        deciders_en="organisers of this grid or above (not the verifier)",
        due_at=case.due_at,
        objection=case.objection,
    )
