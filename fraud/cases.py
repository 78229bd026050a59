"""Review cases: one per held award, opened by the verify step that held it.

The case row keeps the ledger hold's id; posting or voiding that hold is
the screened app's business (``activities.held`` for awards), which calls
``lock_case`` and ``close_case`` here inside its own transaction.

Taking a case is one conditional UPDATE (open, and untaken or its lock run
out, or already the taker's), so of two reviewers taking at once exactly
one gets it, on either engine.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from piccolo.custom_types import Combinable

from community import audit
from community.access import Principal, managed_organisations
from community.organisations import subtree_ids
from core.clock import utc_now
from core.database import in_write_transaction, lock_row
from fraud.errors import CaseClosed, CaseTaken, InvalidCaseNote, InvalidQueueFilter
from fraud.models import CaseRecord, CaseStatus, Label, Subject
from fraud.policy import check_case_reviewer, may_review_case, not_found
from fraud.tables import FraudCase
from ledger.amounts import to_minor

# How long "take" keeps a case for one reviewer: long enough to look at the
# evidence, short enough that an abandoned case returns to the queue.
TAKE_MINUTES = 30
# Bounds one page of the queue.
MAX_CASES_LISTED = 200
NOTE_MAX_CHARS = 2000


def case_ref(case_id: int) -> str:
    return f"fraud_case:{case_id}"


async def open_case(
    *,
    decision_id: int,
    subject: Subject,
    subject_id: int,
    member_id: int,
    verifier_id: int | None,
    organisation_id: int,
    hold_id: int,
    amount: Decimal,
    reason_zh: str,
    reason_en: str,
    due_at: datetime,
    now: datetime,
    score: int = 0,
    rules: str = "",
    campaign_id: int | None = None,
) -> int:
    """Insert an open case inside the caller's transaction; its id."""
    rows = await FraudCase.insert(
        FraudCase(
            decision=decision_id,
            subject=subject.value,
            subject_id=subject_id,
            member=member_id,
            verifier=verifier_id,
            organisation=organisation_id,
            hold_id=hold_id,
            amount_minor=to_minor(amount),
            reason_zh=reason_zh,
            reason_en=reason_en,
            status=CaseStatus.OPEN.value,
            due_at=due_at,
            created_at=now,
            score=score,
            rules=rules,
            campaign=campaign_id,
        )
    ).run()
    return int(rows[0]["id"])


async def get_case(case_id: int) -> CaseRecord:
    rows = await FraudCase.select().where(FraudCase.id == case_id).run()
    if not rows:
        raise not_found(case_id)
    return CaseRecord.from_row(rows[0])


async def case_for(subject: Subject, subject_id: int) -> CaseRecord | None:
    """The latest case of an activity or order, if it was ever held."""
    rows = await (
        FraudCase.select()
        .where((FraudCase.subject == subject.value) & (FraudCase.subject_id == subject_id))
        .order_by(FraudCase.id, ascending=False)
        .limit(1)
        .run()
    )
    return CaseRecord.from_row(rows[0]) if rows else None


async def lock_case(case_id: int) -> CaseRecord:
    """The case row, locked for the rest of the transaction."""
    row = await lock_row(FraudCase, case_id)
    if row is None:
        raise not_found(case_id)
    return CaseRecord.from_row(row)


def check_decidable(case: CaseRecord, reviewer_id: int, now: datetime) -> None:
    """A decided case is closed; a case another reviewer holds (lock not
    run out) is theirs to decide (pure)."""
    if case.status is not CaseStatus.OPEN:
        raise CaseClosed(f"case {case.id} is already {case.status.value}", field="case_id")
    if case.taken_by not in (None, reviewer_id) and case.taken_until is not None and case.taken_until > now:
        raise CaseTaken(f"case {case.id} is being reviewed by member {case.taken_by}", field="case_id")


async def close_case(
    case: CaseRecord, *, status: CaseStatus, reviewer_id: int | None, label: Label, note: str, now: datetime
) -> None:
    """Record the reviewer's decision on a locked open case (``reviewer_id``
    None: the system released it when its deadline passed)."""
    await (
        FraudCase.update(
            {
                FraudCase.status: status.value,
                FraudCase.decided_by: reviewer_id,
                FraudCase.decided_at: now,
                FraudCase.label: label.value,
                FraudCase.note: note,
                FraudCase.taken_by: None,
                FraudCase.taken_until: None,
            }
        )
        .where(FraudCase.id == case.id)
        .run()
    )


async def withdraw_case(subject: Subject, subject_id: int, *, now: datetime) -> None:
    """The subject's open case is withdrawn (the member cancelled the held
    order), inside the caller's transaction; nothing if none is open."""
    await (
        FraudCase.update(
            {
                FraudCase.status: CaseStatus.WITHDRAWN.value,
                FraudCase.decided_at: now,
                FraudCase.taken_by: None,
                FraudCase.taken_until: None,
            }
        )
        .where(
            (FraudCase.subject == subject.value)
            & (FraudCase.subject_id == subject_id)
            & (FraudCase.status == CaseStatus.OPEN.value)
        )
        .run()
    )


async def _take(principal: Principal, case_id: int, now: datetime) -> CaseRecord:
    case = await get_case(case_id)
    await check_case_reviewer(principal, case)
    check_decidable(case, principal.member_id, now)
    until = now + timedelta(minutes=TAKE_MINUTES)
    free = (FraudCase.taken_by.is_null()) | (FraudCase.taken_until < now) | (FraudCase.taken_by == principal.member_id)
    won = await (
        FraudCase.update({FraudCase.taken_by: principal.member_id, FraudCase.taken_until: until})
        .where((FraudCase.id == case_id) & (FraudCase.status == CaseStatus.OPEN.value) & free)
        .returning(FraudCase.id)
        .run()
    )
    if not won:
        raise CaseTaken(f"case {case_id} was just taken by another reviewer", field="case_id")
    await audit.record(principal.ref, "fraud.case.take", case_ref(case_id), until=until.isoformat())
    return await get_case(case_id)


async def take_case(principal: Principal, case_id: int, *, now: datetime | None = None) -> CaseRecord:
    """Lock the case to the reviewer for ``TAKE_MINUTES``. Of two reviewers
    taking at once, one gets it and the other ``CaseTaken``."""
    return await in_write_transaction(functools.partial(_take, principal, case_id, now or utc_now()))


async def _object(principal: Principal, case_id: int, note: str) -> None:
    case = await lock_case(case_id)
    if case.member_id != principal.member_id:
        raise not_found(case_id)
    if case.status is not CaseStatus.OPEN:
        raise CaseClosed(f"case {case_id} is already {case.status.value}", field="case_id")
    await FraudCase.update({FraudCase.objection: note}).where(FraudCase.id == case_id).run()
    await audit.record(principal.ref, "fraud.case.object", case_ref(case_id), objection=note)


async def add_objection(principal: Principal, case_id: int, *, note: str) -> CaseRecord:
    """The member's own note against the hold, for the reviewer to read
    (replaces an earlier one while the case is open)."""
    text = note.strip()
    if not 1 <= len(text) <= NOTE_MAX_CHARS:
        raise InvalidCaseNote(f"an objection needs 1-{NOTE_MAX_CHARS} characters", field="note")
    await in_write_transaction(functools.partial(_object, principal, case_id, text))
    return await get_case(case_id)


class QueueSort(StrEnum):
    SCORE = "score"  # highest score first, then the earliest deadline
    DEADLINE = "deadline"  # earliest deadline first, then the highest score


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which open cases a reviewer lists: hit by one rule, in one grid (or
    below it), paid from one campaign; in which order."""

    rule: str | None = None
    organisation_id: int | None = None
    campaign_id: int | None = None
    sort: QueueSort = QueueSort.SCORE


def check_queue_filter(chosen: QueueFilter, known_rules: frozenset[str]) -> None:
    """A rule filter names a registered rule (pure)."""
    if chosen.rule is not None and chosen.rule not in known_rules:
        raise InvalidQueueFilter(f"no rule named {chosen.rule!r}", field="rule")


def _reviewable(principal: Principal, organisation_ids: set[int], now: datetime) -> Combinable:
    """Open cases in these organisations the principal may decide."""
    return (
        (FraudCase.status == CaseStatus.OPEN.value)
        & FraudCase.organisation.is_in(sorted(organisation_ids))
        & (FraudCase.member != principal.member_id)
        & (FraudCase.verifier.is_null() | (FraudCase.verifier != principal.member_id))
    )


async def open_cases_for(
    principal: Principal, *, chosen: QueueFilter | None = None, now: datetime | None = None
) -> list[CaseRecord]:
    """The principal's review queue: open cases in the organisations they
    manage (within the filter's grid), never their own nor those they
    verified, by score then deadline (or deadline then score); at most
    ``MAX_CASES_LISTED``."""
    chosen = chosen or QueueFilter()
    organisation_ids = await managed_organisations(principal)
    if chosen.organisation_id is not None:
        organisation_ids &= await subtree_ids(chosen.organisation_id)
    if not organisation_ids:
        return []
    query = FraudCase.select().where(_reviewable(principal, organisation_ids, now or utc_now()))
    if chosen.rule is not None:
        query = query.where(FraudCase.rules.like(f"%{chosen.rule}%"))
    if chosen.campaign_id is not None:
        query = query.where(FraudCase.campaign == chosen.campaign_id)
    if chosen.sort is QueueSort.SCORE:
        query = query.order_by(FraudCase.score, ascending=False).order_by(FraudCase.due_at, FraudCase.id)
    else:
        query = query.order_by(FraudCase.due_at).order_by(FraudCase.score, ascending=False).order_by(FraudCase.id)
    rows = await query.limit(MAX_CASES_LISTED).run()
    cases = list(map(CaseRecord.from_row, rows))
    # ``like`` matched text: keep the cases the rule really hit.
    return [case for case in cases if chosen.rule is None or chosen.rule in case.rules]


# "Take next" tries this many of the best free cases, in order: of two
# reviewers asking at once, the loser of the first goes on to the second.
NEXT_CANDIDATES = 10


async def _take_next(principal: Principal, organisation_ids: set[int], now: datetime) -> CaseRecord | None:
    free = FraudCase.taken_by.is_null() | (FraudCase.taken_until < now)
    candidates: list[int] = await (
        FraudCase.select(FraudCase.id)
        .where(_reviewable(principal, organisation_ids, now) & free)
        .order_by(FraudCase.score, ascending=False)
        .order_by(FraudCase.due_at, FraudCase.id)
        .limit(NEXT_CANDIDATES)
        .output(as_list=True)
        .run()
    )
    until = now + timedelta(minutes=TAKE_MINUTES)
    for case_id in candidates:
        won = await (
            FraudCase.update({FraudCase.taken_by: principal.member_id, FraudCase.taken_until: until})
            .where((FraudCase.id == case_id) & (FraudCase.status == CaseStatus.OPEN.value) & free)
            .returning(FraudCase.id)
            .run()
        )
        if won:
            await audit.record(principal.ref, "fraud.case.take", case_ref(case_id), until=until.isoformat(), next=True)
            return await get_case(case_id)
    return None


async def take_next_case(principal: Principal, *, now: datetime | None = None) -> CaseRecord | None:
    """Lock the best free case of the principal's queue (highest score,
    then earliest deadline) to them for ``TAKE_MINUTES``; None if none is
    free. Each take is one conditional UPDATE: two reviewers at once get
    different cases, or one gets none."""
    organisation_ids = await managed_organisations(principal)
    if not organisation_ids:
        return None
    moment = now or utc_now()
    return await in_write_transaction(functools.partial(_take_next, principal, organisation_ids, moment))


async def member_cases(principal: Principal) -> list[CaseRecord]:
    """The principal's own cases (points held, or held and decided),
    newest first; at most ``MAX_CASES_LISTED``."""
    rows = await (
        FraudCase.select()
        .where(FraudCase.member == principal.member_id)
        .order_by(FraudCase.id, ascending=False)
        .limit(MAX_CASES_LISTED)
        .run()
    )
    return [CaseRecord.from_row(row) for row in rows]


async def visible_case(principal: Principal, case_id: int) -> CaseRecord:
    """A case for reading: its member (why their points are pending) or a
    manager over its organisation; for anyone else, not found."""
    case = await get_case(case_id)
    if case.member_id == principal.member_id or await may_review_case(principal, case):
        return case
    raise not_found(case_id)
