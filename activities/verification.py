"""The closed loop: someone else verifies, handles and closes what a
volunteer submitted.

Rules every step enforces, whatever face calls it:
- nobody acts on their own submission (invariant 7): not verify, reject,
  assign to themselves, handle or mark their own report useful;
- the actor holds a post (the three heads, grid worker) or manages the
  organisation where it happened, or one above it;
- each step starts by locking the activity row, so concurrent calls take
  turns; a step that has already happened is answered with the current
  state (``replayed``) and changes nothing: verifying twice awards once.

The verify path, step by step; each row is read once and locked once, and
what was loaded is passed down, never read again:

1. lock the activity row (``records.lock_activity``) and check that the
   principal may see it (``policy.check_activity_visible``): its member or
   a reviewer over its organisation, one walk up the tree. So an actor who
   is not the member is a reviewer, and the self-verification check is all
   that is left to decide;
2. the status machine decides (``activities.transitions.decide``): a
   verified activity is a replay; only a submitted one can be verified;
3. the campaign it earns from, locked: the one chosen at submission
   (``campaigns.campaigns.locked_campaign``), or, when the verifier names
   one or none was chosen, the applicable one, resolved and locked in the
   same read (``policy.applicable_campaign_for(lock=True)``, one more walk
   up the tree for the campaign's reach);
4. what the caps count (one query, only if the campaign has caps) and the
   team's kind (only for service logged with a team), then what is owed
   (``activities.earning.owed``, pure);
5. the fraud rules judge a non-zero award (``activities.screening``; the
   decision is stored): *deny* stores only the decision and its audit row,
   then refuses (``FraudDenied``); *review* holds the award on the budget
   and opens a case (``activities.held.hold_award``), the activity becomes
   ``held``; *allow* goes on. A report the duplicate-report rule found to
   confirm another member's earlier one is owed only its confirmation
   share (recomputed, caps applied to the share);
6. ``campaigns.budget.pay``: one ledger entry from the budget to the
   wallet; the posting locks the two accounts once and applies the budget
   rule;
7. the activity row's update and the audit record, then commit;
8. the reply, read after commit (``records.get_activity``).

Lock order, the same on every path: activity → campaign → ledger accounts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import datetime

from pydantic import BaseModel, Field

from activities.deadline_rules import finish_due, handled_late
from activities.earning import NOTHING, Earned, Owed, Purpose, Work, counts_caps, entry_wording, owed
from activities.errors import (
    ActivityNotFound,
    ActivityNotOpen,
    InvalidActivity,
    NotResponsible,
    SelfVerificationRefused,
)
from activities.held import HeldAward, award_metadata, hold_award
from activities.models import ActivityRecord, ActivityView, Kind, Status
from activities.policy import applicable_campaign_for, check_activity_visible, may_review
from activities.records import get_activity, lock_activity
from activities.screening import Screened, screen_award
from activities.tables import Activity, PatrolTask
from activities.transitions import Action, decide
from campaigns.budget import Payment, Refund, pay, take_back
from campaigns.campaigns import locked_campaign
from campaigns.errors import CampaignClosed
from campaigns.models import CampaignRecord
from community import audit
from community.access import Principal
from community.accounts import member_ref
from community.teams import team_kind_of
from core.clock import utc_now
from core.database import in_write_transaction
from core.ids import RowId
from fraud.errors import FraudDenied
from fraud.models import Outcome
from fraud.rules import confirmation_pct_of
from ledger.amounts import from_minor, to_minor
from ledger.errors import InsufficientFunds
from recognition.awarding import badges_after_commit


class VerifyIn(BaseModel):
    # Earn from this campaign instead of the one chosen at submission.
    campaign_id: RowId | None = None
    # A complex report gets the longer handling deadline.
    complex: bool = False


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class HandleIn(BaseModel):
    useful: bool
    feedback: str = Field(min_length=1, max_length=2000)


class RateIn(BaseModel):
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=1000)


def _work(activity: ActivityRecord, team_kind: str | None, multiplier_pct: int = 100) -> Work:
    """What the earning rules look at."""
    minutes = activity.minutes or 0
    return Work(
        kind=activity.kind,
        minutes=minutes,
        report_kind=activity.report_kind,
        team_kind=team_kind,
        multiplier_pct=multiplier_pct,
    )


async def _task_multiplier(activity: ActivityRecord) -> int:
    """A patrol on a task: the task's points multiplier (hundredths); 100 otherwise."""
    if activity.kind is not Kind.PATROL or activity.patrol_task_id is None:
        return 100
    found = (
        await PatrolTask.select(PatrolTask.multiplier_pct)
        .where(PatrolTask.id == activity.patrol_task_id)
        .output(as_list=True)
        .run()
    )
    return int(found[0]) if found else 100


@dataclass(frozen=True, slots=True)
class Verified:
    """What the verify transaction did: nothing (``replayed``), verified
    or held, or stored a *deny* decision (``denied``) and nothing else."""

    replayed: bool
    denied: Screened | None = None


@dataclass(frozen=True, slots=True)
class Award:
    owed: Owed
    entry_id: int | None


def _ref(activity_id: int) -> str:
    return f"activity:{activity_id}"


async def _lock_visible(principal: Principal, activity_id: int) -> ActivityRecord:
    """Lock the activity row, if the principal may see it (``policy``):
    otherwise the same not-found as for a missing one."""
    try:
        activity: ActivityRecord | None = await lock_activity(activity_id)
    except ActivityNotFound:
        activity = None
    return await check_activity_visible(principal, activity_id, activity)


def _check_actor(activity: ActivityRecord, actor_id: int, action: str) -> None:
    """Invariant 7. The actor has passed ``_lock_visible``, so unless they
    are the member they are a reviewer over the activity's organisation."""
    if activity.member_id == actor_id:
        raise SelfVerificationRefused(
            f"you cannot {action} your own submission; someone else with a post over this grid must",
            field="activity_id",
        )


_EARNED_SQL = (
    "SELECT COALESCE(SUM(CASE WHEN award_day = {} THEN points_awarded_minor + bonus_minor ELSE 0 END), 0) AS today, "
    "COALESCE(SUM(points_awarded_minor + bonus_minor), 0) AS this_week FROM activities_activity "
    "WHERE member = {} AND campaign = {} AND award_week = {} AND status != {}"
)


async def _earned(activity: ActivityRecord, campaign_id: int) -> Earned:
    """What the caps count, in one query: the member's points from the
    campaign in the activity's China-time day and ISO week (a day lies in
    one week), bonuses included, rejected (reversed) activities excluded."""
    rows = await Activity.raw(
        _EARNED_SQL, activity.award_day, activity.member_id, campaign_id, activity.award_week, Status.REJECTED.value
    ).run()
    return Earned(today=from_minor(int(rows[0]["today"])), this_week=from_minor(int(rows[0]["this_week"])))


async def _owed(
    activity: ActivityRecord, campaign: CampaignRecord | None, purpose: Purpose, *, confirmation_pct: int = 100
) -> Owed:
    """Load what the earning rules need and decide what is owed."""
    if campaign is None:
        return NOTHING
    if not campaign.is_open:
        raise CampaignClosed(
            f"campaign {campaign.id} is closed; verify under another campaign (campaign_id)", field="campaign_id"
        )
    with_team = purpose == "award" and activity.kind is Kind.SERVICE and activity.team_id is not None
    team_kind = await team_kind_of(activity.team_id) if with_team and activity.team_id is not None else None
    earned = await _earned(activity, campaign.id) if counts_caps(campaign.rules) else Earned()
    multiplier_pct = await _task_multiplier(activity) if purpose == "award" else 100
    work = replace(_work(activity, team_kind, multiplier_pct), confirmation_pct=confirmation_pct)
    return owed(work, campaign.rules, earned, purpose)


async def _grant(
    activity: ActivityRecord,
    campaign: CampaignRecord | None,
    *,
    purpose: Purpose,
    approver_id: int,
    decided: Owed | None = None,
) -> Award:
    """Decide what is owed (unless already decided), and have the budget pay it."""
    if decided is None:
        decided = await _owed(activity, campaign, purpose)
    if campaign is None or decided.awarded <= 0:
        return Award(owed=decided, entry_id=None)
    kind, reason_zh, reason_en = entry_wording(purpose, activity.kind)
    payment = Payment(
        member_id=activity.member_id,
        amount=decided.awarded,
        kind=kind,
        reason_zh=reason_zh + activity.title,
        reason_en=reason_en + activity.title,
        actor_ref=member_ref(approver_id),
        cause_ref=_ref(activity.id),
        idempotency_key=f"{_ref(activity.id)}:{purpose}",
        metadata=award_metadata(activity, decided, approver_id),
    )
    return Award(owed=decided, entry_id=await pay(campaign, payment))


async def _campaign_to_pay(principal: Principal, activity: ActivityRecord, named: int | None) -> CampaignRecord | None:
    """The campaign the award comes from, locked (step 3 above)."""
    if named is None and activity.campaign_id is not None:
        return await locked_campaign(activity.campaign_id)
    return await applicable_campaign_for(
        principal, named, organisation_id=activity.organisation_id, moment=activity.started_at, lock=True
    )


async def _verify(principal: Principal, activity_id: int, data: VerifyIn, now: datetime) -> Verified:
    activity = await _lock_visible(principal, activity_id)
    _check_actor(activity, principal.member_id, "verify")
    move = decide(Action.VERIFY, activity_id=activity_id, kind=activity.kind, status=activity.status)
    if move.replay:
        return Verified(replayed=True)
    campaign = await _campaign_to_pay(principal, activity, data.campaign_id)
    decided = await _owed(activity, campaign, "award")
    if campaign is not None and decided.awarded > 0:
        screened = await screen_award(activity, amount=decided.awarded, verifier_id=principal.member_id, now=now)
        confirmation = confirmation_pct_of(screened.verdict)
        if confirmation is not None:
            # A confirmation of another member's earlier report: its share only.
            decided = await _owed(activity, campaign, "award", confirmation_pct=confirmation)
        if screened.verdict.outcome is Outcome.DENY:
            await audit.record(
                principal.ref, "activity.verify.denied", _ref(activity_id), decision_id=screened.decision_id
            )
            return Verified(replayed=False, denied=screened)
        if screened.verdict.outcome is Outcome.REVIEW:
            held = HeldAward(activity=activity, campaign=campaign, owed=decided, screened=screened)
            await hold_award(principal, held, complex_=bool(data.complex and activity.kind is Kind.REPORT), now=now)
            return Verified(replayed=False)
    award = await _grant(activity, campaign, purpose="award", approver_id=principal.member_id, decided=decided)
    campaign_id = campaign.id if campaign is not None else None
    is_report = activity.kind is Kind.REPORT
    complex_ = bool(data.complex and is_report)
    await (
        Activity.update(
            {
                Activity.status: move.to.value,
                Activity.campaign: campaign_id,
                Activity.verifier: principal.member_id,
                Activity.verified_at: now,
                Activity.points_computed_minor: to_minor(award.owed.computed),
                Activity.points_awarded_minor: to_minor(award.owed.awarded),
                Activity.capped: award.owed.capped,
                Activity.award_entry_id: award.entry_id,
                Activity.complex: complex_,
                Activity.due_at: finish_due(now, complex=complex_) if is_report else None,
                Activity.overdue: False,
                Activity.responsible_organisation: activity.organisation_id,
                Activity.updated_at: now,
            }
        )
        .where(Activity.id == activity_id)
        .run()
    )
    await audit.record(
        principal.ref,
        "activity.verify",
        _ref(activity_id),
        campaign_id=campaign_id,
        points_awarded=str(award.owed.awarded),
    )
    await badges_after_commit(activity.member_id)  # recognition/awarding.py: after commit, once
    return Verified(replayed=False)


async def verify_activity(
    principal: Principal, activity_id: int, *, data: VerifyIn | None = None, now: datetime | None = None
) -> ActivityView:
    """submitted → verified, posting the award with its audit record.
    Refusals change nothing: not visible (not found), self-verification, no
    post over the grid, not yet submitted, already rejected, campaign closed
    or out of scope, budget exhausted, denied by the fraud rules
    (``FraudDenied``: only the decision is stored). When the rules ask for
    review, the activity is ``held`` and its award waits on a ledger hold
    (``activities.held``)."""
    work = functools.partial(_verify, principal, activity_id, data or VerifyIn(), now or utc_now())
    verified = await in_write_transaction(work)
    if verified.denied is not None:
        # The decision and its audit row are committed; nothing else changed.
        verdict = verified.denied.verdict
        raise FraudDenied(
            f"拒绝：{verdict.reason_zh()} · Refused: {verdict.reason_en()}",
            decision_id=verified.denied.decision_id,
            field="activity_id",
        )
    return await get_activity(activity_id, replayed=verified.replayed)


def _brief(text: str, limit: int = 100) -> str:
    """Ledger reasons are short; the full text stays in the metadata."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _take_back_points(activity: ActivityRecord, *, actor_id: int, reason: str) -> tuple[int | None, int | None]:
    """Reverse the award and bonus of ``activity`` (in that order) through
    the campaign's budget; the reversals' entry ids. Refused, with nothing
    changed, if the volunteer has already spent them."""
    paid = [
        (purpose, entry_id, amount)
        for purpose, entry_id, amount in (
            ("award", activity.award_entry_id, activity.points_awarded),
            ("bonus", activity.bonus_entry_id, activity.bonus),
        )
        if entry_id is not None
    ]
    if not paid:
        return None, None
    if activity.campaign_id is None:  # an award is only ever paid from a campaign
        raise ActivityNotOpen(f"activity {activity.id} has points but no campaign", field="activity_id")
    refunds = [
        Refund(
            entry_id=entry_id,
            amount=amount,
            reason_zh=f"撤销积分：{_brief(reason)}",
            reason_en=f"Points withdrawn: {_brief(reason)}",
            idempotency_key=f"{_ref(activity.id)}:{purpose}:reversal",
            metadata={"activity_id": activity.id, "rejected_by_member_id": actor_id, "reason": reason},
        )
        for purpose, entry_id, amount in paid
    ]
    campaign = await locked_campaign(activity.campaign_id)
    try:
        reversal_ids = await take_back(campaign, refunds, actor_ref=member_ref(actor_id))
    except InsufficientFunds as error:
        raise ActivityNotOpen(
            "the volunteer has already spent these points, so the award cannot be withdrawn; "
            "an organiser can correct the wallet with an adjustment",
            field="activity_id",
        ) from error
    by_purpose = {purpose: reversal_id for (purpose, _, _), reversal_id in zip(paid, reversal_ids, strict=True)}
    return by_purpose.get("award"), by_purpose.get("bonus")


async def _reject(principal: Principal, activity_id: int, reason: str, now: datetime) -> bool:
    activity = await _lock_visible(principal, activity_id)
    _check_actor(activity, principal.member_id, "reject")
    move = decide(Action.REJECT, activity_id=activity_id, kind=activity.kind, status=activity.status)
    if move.replay:
        return True
    if activity.status is Status.HELD:
        # Its points wait on a ledger hold: only the review case releases them.
        raise ActivityNotOpen(
            f"activity {activity_id} is held for fraud review; decide its review case instead", field="activity_id"
        )
    award_reversal, bonus_reversal = await _take_back_points(activity, actor_id=principal.member_id, reason=reason)
    await (
        Activity.update(
            {
                Activity.status: move.to.value,
                Activity.rejected_by: principal.member_id,
                Activity.rejected_at: now,
                Activity.rejection_reason: reason,
                Activity.award_reversal_entry_id: award_reversal,
                Activity.bonus_reversal_entry_id: bonus_reversal,
                Activity.due_at: None,
                Activity.overdue: False,
                Activity.updated_at: now,
            }
        )
        .where(Activity.id == activity_id)
        .run()
    )
    await audit.record(principal.ref, "activity.reject", _ref(activity_id), reason=reason)
    return False


async def reject_activity(
    principal: Principal, activity_id: int, *, reason: str, now: datetime | None = None
) -> ActivityView:
    """submitted → rejected; verified (awarded) → rejected with its award
    and bonus reversed and its audit record, in the same transaction. If
    the campaign has closed since, the returned points go on to issuance,
    as closing would have sent them (``campaigns.budget.take_back``)."""
    reason = reason.strip()
    if not 1 <= len(reason) <= 500:
        raise InvalidActivity("a rejection needs a reason of 1-500 characters", field="reason")
    replayed = await in_write_transaction(functools.partial(_reject, principal, activity_id, reason, now or utc_now()))
    return await get_activity(activity_id, replayed=replayed)


async def _assign(principal: Principal, activity_id: int, handler_id: int, now: datetime) -> None:
    activity = await _lock_visible(principal, activity_id)
    _check_actor(activity, principal.member_id, "assign")
    move = decide(Action.ASSIGN, activity_id=activity_id, kind=activity.kind, status=activity.status)
    if handler_id == activity.member_id:
        raise SelfVerificationRefused("a reporter cannot handle their own report", field="handler_id")
    if not await may_review(handler_id, activity.organisation_id):
        raise NotResponsible(f"member {handler_id} holds no post over this grid", field="handler_id")
    await (
        Activity.update(
            {
                Activity.status: move.to.value,
                Activity.handler: handler_id,
                Activity.assigned_at: now,
                Activity.updated_at: now,
            }
        )
        .where(Activity.id == activity_id)
        .run()
    )
    await audit.record(principal.ref, "activity.assign", _ref(activity_id), handler_id=handler_id)


async def assign_report(
    principal: Principal, activity_id: int, *, handler_id: int, now: datetime | None = None
) -> ActivityView:
    """verified → assigned to a handler who also holds a post over the grid
    (and is not the reporter). Reassigning an assigned report is allowed."""
    await in_write_transaction(functools.partial(_assign, principal, activity_id, handler_id, now or utc_now()))
    return await get_activity(activity_id)


async def _handle(principal: Principal, activity_id: int, data: HandleIn, feedback: str, now: datetime) -> bool:
    handler_id = principal.member_id
    activity = await _lock_visible(principal, activity_id)
    _check_actor(activity, handler_id, "handle")
    move = decide(Action.HANDLE, activity_id=activity_id, kind=activity.kind, status=activity.status)
    if move.replay:
        return True
    if activity.handler_id is not None and activity.handler_id != handler_id:
        raise NotResponsible(f"report {activity_id} is assigned to member {activity.handler_id}", field="activity_id")
    bonus_minor, bonus_entry, capped = 0, None, activity.capped
    if data.useful:
        campaign = await locked_campaign(activity.campaign_id) if activity.campaign_id is not None else None
        bonus = await _grant(activity, campaign, purpose="bonus", approver_id=handler_id)
        bonus_minor, bonus_entry, capped = to_minor(bonus.owed.awarded), bonus.entry_id, capped or bonus.owed.capped
    await (
        Activity.update(
            {
                Activity.status: move.to.value,
                Activity.handler: handler_id,
                Activity.handled_at: now,
                Activity.handled_late: handled_late(due_at=activity.due_at, overdue=activity.overdue, moment=now),
                Activity.useful: data.useful,
                Activity.feedback: feedback,
                Activity.bonus_minor: bonus_minor,
                Activity.bonus_entry_id: bonus_entry,
                Activity.capped: capped,
                Activity.due_at: None,
                Activity.overdue: False,
                Activity.updated_at: now,
            }
        )
        .where(Activity.id == activity_id)
        .run()
    )
    await audit.record(
        principal.ref, "activity.handle", _ref(activity_id), useful=data.useful, bonus=str(from_minor(bonus_minor))
    )
    if data.useful:
        await badges_after_commit(activity.member_id)
    return False


async def handle_report(
    principal: Principal, activity_id: int, *, data: HandleIn, now: datetime | None = None
) -> ActivityView:
    """verified/assigned → handled, with feedback for the reporter; a
    useful report earns the campaign's bonus. Only the assigned handler,
    or anyone with a post over the grid if nobody was assigned."""
    feedback = data.feedback.strip()
    if not feedback:
        raise InvalidActivity("feedback for the reporter is required", field="feedback")
    work = functools.partial(_handle, principal, activity_id, data, feedback, now or utc_now())
    replayed = await in_write_transaction(work)
    return await get_activity(activity_id, replayed=replayed)


async def _rate(principal: Principal, activity_id: int, data: RateIn, now: datetime) -> bool:
    """Rate; ``True`` when it had already been rated (nothing written)."""
    activity = await _lock_visible(principal, activity_id)
    if activity.member_id != principal.member_id:
        raise NotResponsible("only the reporter rates how their report was handled", field="activity_id")
    move = decide(Action.RATE, activity_id=activity_id, kind=activity.kind, status=activity.status)
    if move.replay:
        return True
    await (
        Activity.update(
            {
                Activity.status: move.to.value,
                Activity.rating: data.rating,
                Activity.rating_comment: data.comment.strip(),
                Activity.rated_at: now,
                Activity.updated_at: now,
            }
        )
        .where(Activity.id == activity_id)
        .run()
    )
    return False


async def rate_report(
    principal: Principal, activity_id: int, *, data: RateIn, now: datetime | None = None
) -> ActivityView:
    """handled → closed: the reporter rates how it was handled (闭环). A
    report already rated answers as it stands: the first rating holds (a
    phone's queued rating sent again is one effect)."""
    replayed = await in_write_transaction(functools.partial(_rate, principal, activity_id, data, now or utc_now()))
    return await get_activity(activity_id, replayed=replayed)
