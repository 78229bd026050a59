"""Review deadlines: what happens to a case nobody decided in time.

Like the closed loop's response deadlines (``activities.deadline_rules``),
on the same working-day calendar (``core.calendar``):

- a held amount up to the issuing organisation's ``auto_release`` (setting
  ``auto_release_minor``, default 20.00) is **released**: the screened app
  approves it with the system as actor (``activities.held.release_held``,
  ``marketplace.order_reviews.release_held_order``), labelled unclear;
- a larger one **escalates**: the case moves to the parent organisation's
  queue (reviewers over that node) with a fresh deadline of
  ``review_working_days`` counted from the escalation; at the root it stays
  and gets the fresh deadline (and is audited each time).

``expiry_step`` is pure; ``escalate_case`` writes one step with a
conditional UPDATE on the deadline it missed, so two workers escalate a
case once. The orchestration (which app releases what) is
``jobs.review_deadlines``; this app reads no other app's tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from community import audit
from community.organisations import get_organisation
from core.calendar import WorkCalendar, add_working_days
from core.database import in_write_transaction
from fraud.cases import case_ref
from fraud.models import CaseRecord, CaseStatus
from fraud.tables import FraudCase


class Expiry(StrEnum):
    RELEASE = "release"  # small: approved by the system
    ESCALATE = "escalate"  # large: one level up the tree, fresh deadline


@dataclass(frozen=True, slots=True)
class ExpiryStep:
    action: Expiry
    from_organisation_id: int
    to_organisation_id: int
    missed_due_at: datetime
    new_due_at: datetime | None  # None for a release


def expiry_step(
    case: CaseRecord,
    *,
    auto_release: Decimal,
    parent_id: int | None,
    moment: datetime,
    working_days: int,
    calendar: WorkCalendar,
) -> ExpiryStep:
    """What an overdue open case's deadline passing does (pure). The new
    deadline is at least one working day after ``moment`` (a second run at
    the same moment finds nothing to do) unless ``working_days`` is 0."""
    if case.amount <= auto_release:
        return ExpiryStep(Expiry.RELEASE, case.organisation_id, case.organisation_id, case.due_at, None)
    return ExpiryStep(
        action=Expiry.ESCALATE,
        from_organisation_id=case.organisation_id,
        to_organisation_id=parent_id if parent_id is not None else case.organisation_id,
        missed_due_at=case.due_at,
        new_due_at=add_working_days(moment, max(1, working_days), calendar),
    )


async def parent_of(organisation_id: int) -> int | None:
    return (await get_organisation(organisation_id)).parent_id


async def _escalate(case_id: int, step: ExpiryStep, actor_ref: str) -> bool:
    moved = await (
        FraudCase.update(
            {
                FraudCase.organisation: step.to_organisation_id,
                FraudCase.due_at: step.new_due_at,
                FraudCase.taken_by: None,
                FraudCase.taken_until: None,
            }
        )
        .where(
            (FraudCase.id == case_id)
            & (FraudCase.status == CaseStatus.OPEN.value)
            & (FraudCase.due_at == step.missed_due_at)
        )
        .returning(FraudCase.id)
        .run()
    )
    if not moved:
        return False
    await audit.record(
        actor_ref,
        "fraud.case.escalate",
        case_ref(case_id),
        from_organisation_id=step.from_organisation_id,
        to_organisation_id=step.to_organisation_id,
        missed_due_at=step.missed_due_at.isoformat(),
        new_due_at=step.new_due_at.isoformat() if step.new_due_at else None,
    )
    return True


async def escalate_case(case_id: int, step: ExpiryStep, *, actor_ref: str) -> bool:
    """Write an escalation (audited, in one transaction); False if another
    run did it first (the case's deadline is no longer the missed one)."""
    if step.action is not Expiry.ESCALATE or step.new_due_at is None:
        raise ValueError("only an escalation step is written here")
    return await in_write_transaction(lambda: _escalate(case_id, step, actor_ref))


async def overdue_case_ids(moment: datetime, *, after_id: int = 0, limit: int = 100) -> list[int]:
    """Open cases past their deadline, by id (the ``due_at`` index)."""
    ids: list[int] = await (
        FraudCase.select(FraudCase.id)
        .where((FraudCase.status == CaseStatus.OPEN.value) & (FraudCase.due_at <= moment) & (FraudCase.id > after_id))
        .order_by(FraudCase.id)
        .limit(limit)
        .output(as_list=True)
        .run()
    )
    return ids
