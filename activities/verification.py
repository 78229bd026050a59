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
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from pydantic import BaseModel, Field

from activities.deadline_rules import finish_due
from activities.earning import award, reverse_awards, useful_bonus
from activities.errors import (
    ActivityNotFound,
    InvalidActivity,
    NotResponsible,
    SelfVerificationRefused,
)
from activities.models import ActivityRecord, ActivityView, Kind
from activities.policy import applicable_campaign_for, check_activity_visible, may_review
from activities.records import get_activity, lock_activity
from activities.tables import Activity
from activities.transitions import Action, decide
from community import audit
from community.access import Principal
from core.clock import utc_now
from core.database import in_write_transaction
from core.ids import RowId
from ledger.amounts import from_minor, to_minor


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


def _ref(activity_id: int) -> str:
    return f"activity:{activity_id}"


async def _lock_visible(principal: Principal, activity_id: int) -> ActivityRecord:
    """Lock the activity row, if the principal may see it (``policy``):
    otherwise the same not-found as for a missing one."""
    try:
        row: ActivityRecord | None = await lock_activity(activity_id)
    except ActivityNotFound:
        row = None
    return await check_activity_visible(principal, activity_id, row)


async def _check_actor(row: ActivityRecord, actor_id: int, action: str) -> None:
    if row.member_id == actor_id:
        raise SelfVerificationRefused(
            f"you cannot {action} your own submission; someone else with a post over this grid must",
            field="activity_id",
        )
    if not await may_review(actor_id, row.organisation_id):
        raise NotResponsible(f"you hold no post over the organisation of activity {row.id}", field="activity_id")


async def verify_activity(
    principal: Principal, activity_id: int, *, data: VerifyIn | None = None, now: datetime | None = None
) -> ActivityView:
    """submitted → verified, posting the award with its audit record.
    Refusals change nothing: not visible (not found), self-verification, no
    post over the grid, not yet submitted, already rejected, campaign closed
    or out of scope, budget exhausted."""
    data = data or VerifyIn()
    now = now or utc_now()
    verifier_id = principal.member_id

    async def work() -> bool:
        row = await _lock_visible(principal, activity_id)
        await _check_actor(row, verifier_id, "verify")
        move = decide(Action.VERIFY, activity_id=activity_id, kind=row.kind, status=row.status)
        if move.replay:
            return True
        campaign_id = data.campaign_id if data.campaign_id is not None else row.campaign_id
        if campaign_id is None or data.campaign_id is not None:
            campaign_id = await applicable_campaign_for(
                principal, campaign_id, organisation_id=row.organisation_id, moment=row.started_at
            )
        row = replace(row, campaign_id=campaign_id)
        given = await award(row, approver_id=verifier_id)
        is_report = row.kind is Kind.REPORT
        complex_ = bool(data.complex and is_report)
        await (
            Activity.update(
                {
                    Activity.status: move.to.value,
                    Activity.campaign: campaign_id,
                    Activity.verifier: verifier_id,
                    Activity.verified_at: now,
                    Activity.points_computed_minor: to_minor(given.computed),
                    Activity.points_awarded_minor: to_minor(given.awarded),
                    Activity.capped: given.capped,
                    Activity.award_entry_id: given.entry_id,
                    Activity.complex: complex_,
                    Activity.due_at: finish_due(now, complex=complex_) if is_report else None,
                    Activity.overdue: False,
                    Activity.responsible_organisation: row.organisation_id,
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
            points_awarded=str(given.awarded),
        )
        return False

    replayed = await in_write_transaction(work)
    return await get_activity(activity_id, replayed=replayed)


async def reject_activity(
    principal: Principal, activity_id: int, *, reason: str, now: datetime | None = None
) -> ActivityView:
    """submitted → rejected; verified (awarded) → rejected with its award
    and bonus reversed and its audit record, in the same transaction."""
    now = now or utc_now()
    rejecter_id = principal.member_id
    reason = reason.strip()
    if not 1 <= len(reason) <= 500:
        raise InvalidActivity("a rejection needs a reason of 1-500 characters", field="reason")

    async def work() -> bool:
        row = await _lock_visible(principal, activity_id)
        await _check_actor(row, rejecter_id, "reject")
        move = decide(Action.REJECT, activity_id=activity_id, kind=row.kind, status=row.status)
        if move.replay:
            return True
        award_reversal, bonus_reversal = await reverse_awards(row, actor_id=rejecter_id, reason=reason)
        await (
            Activity.update(
                {
                    Activity.status: move.to.value,
                    Activity.rejected_by: rejecter_id,
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

    replayed = await in_write_transaction(work)
    return await get_activity(activity_id, replayed=replayed)


async def assign_report(
    principal: Principal, activity_id: int, *, handler_id: int, now: datetime | None = None
) -> ActivityView:
    """verified → assigned to a handler who also holds a post over the grid
    (and is not the reporter). Reassigning an assigned report is allowed."""
    now = now or utc_now()

    async def work() -> None:
        row = await _lock_visible(principal, activity_id)
        await _check_actor(row, principal.member_id, "assign")
        move = decide(Action.ASSIGN, activity_id=activity_id, kind=row.kind, status=row.status)
        if handler_id == row.member_id:
            raise SelfVerificationRefused("a reporter cannot handle their own report", field="handler_id")
        if not await may_review(handler_id, row.organisation_id):
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

    await in_write_transaction(work)
    return await get_activity(activity_id)


async def handle_report(
    principal: Principal, activity_id: int, *, data: HandleIn, now: datetime | None = None
) -> ActivityView:
    """verified/assigned → handled, with feedback for the reporter; a
    useful report earns the campaign's bonus. Only the assigned handler,
    or anyone with a post over the grid if nobody was assigned."""
    now = now or utc_now()
    feedback = data.feedback.strip()
    if not feedback:
        raise InvalidActivity("feedback for the reporter is required", field="feedback")
    handler_id = principal.member_id

    async def work() -> bool:
        row = await _lock_visible(principal, activity_id)
        await _check_actor(row, handler_id, "handle")
        move = decide(Action.HANDLE, activity_id=activity_id, kind=row.kind, status=row.status)
        if move.replay:
            return True
        if row.handler_id is not None and row.handler_id != handler_id:
            raise NotResponsible(f"report {activity_id} is assigned to member {row.handler_id}", field="activity_id")
        bonus_minor, bonus_entry, capped = 0, None, row.capped
        if data.useful:
            bonus = await useful_bonus(row, approver_id=handler_id)
            bonus_minor, bonus_entry, capped = to_minor(bonus.awarded), bonus.entry_id, capped or bonus.capped
        await (
            Activity.update(
                {
                    Activity.status: move.to.value,
                    Activity.handler: handler_id,
                    Activity.handled_at: now,
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
        return False

    replayed = await in_write_transaction(work)
    return await get_activity(activity_id, replayed=replayed)


async def rate_report(
    principal: Principal, activity_id: int, *, data: RateIn, now: datetime | None = None
) -> ActivityView:
    """handled → closed: the reporter rates how it was handled (闭环)."""
    now = now or utc_now()

    async def work() -> None:
        row = await _lock_visible(principal, activity_id)
        if row.member_id != principal.member_id:
            raise NotResponsible("only the reporter rates how their report was handled", field="activity_id")
        move = decide(Action.RATE, activity_id=activity_id, kind=row.kind, status=row.status)
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

    await in_write_transaction(work)
    return await get_activity(activity_id)
