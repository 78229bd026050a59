"""Deciding a held order (``marketplace.held_orders`` holds it).

A reviewer (an organiser over the member's home organisation, never the
member: ``fraud.policy``) decides, or the review deadline releases it
(``release_held_order``, the system as actor):

- **approve**: the order becomes ``placed`` (pickable) with a fresh pickup
  code (the held one was not protected by the open-code index) and a whole
  pickup window from now; its points hold stays until pickup;
- **reject**: the points hold is voided, the stock comes back, the order is
  ``rejected``; the reviewer's note is the reason (on its case).

Lock order, as every order operation: order row → item row → case → ledger
accounts (the case is read unlocked first, to find its order).
"""

from __future__ import annotations

import functools
from datetime import datetime

from community import audit
from community.access import Principal
from core.clock import utc_now
from core.database import in_write_transaction, lock_row
from fraud.cases import case_ref, check_decidable, close_case, get_case, lock_case
from fraud.errors import CaseClosed, CaseNotFound, InvalidCaseNote
from fraud.models import CaseRecord, CaseStatus, Label, Subject
from fraud.policy import check_case_reviewer
from ledger.errors import HoldNotActive
from ledger.holds import get_hold, void_hold
from marketplace.models import OrderRecord
from marketplace.orders import _lock_order, _restock, get_order
from marketplace.pickup_codes import new_pickup_code
from marketplace.tables import CatalogItem, RedemptionOrder
from marketplace.transitions import OrderAction, decide_review

NOTE_MAX_CHARS = 2000
SYSTEM_ACTOR = "system:fraud-deadline"


def _note(note: str) -> str:
    text = note.strip()
    if not 1 <= len(text) <= NOTE_MAX_CHARS:
        raise InvalidCaseNote(f"a review decision needs a note of 1-{NOTE_MAX_CHARS} characters", field="note")
    return text


async def _locked(principal: Principal | None, case_id: int, now: datetime) -> tuple[OrderRecord, CaseRecord]:
    first = await get_case(case_id)
    if first.subject is not Subject.ORDER:
        raise CaseNotFound(f"no fraud case {case_id} on an order", field="case_id")
    if principal is not None:
        await check_case_reviewer(principal, first)
    order = await _lock_order(first.subject_id)
    case = await lock_case(case_id)
    if principal is not None:
        check_decidable(case, principal.member_id, now)
    elif case.status is not CaseStatus.OPEN or case.due_at > now:
        raise CaseClosed(f"case {case_id} is not an open overdue case", field="case_id")
    return order, case


async def _approve(principal: Principal | None, case_id: int, label: Label, note: str, now: datetime) -> int:
    order, case = await _locked(principal, case_id, now)
    status = decide_review(order, OrderAction.APPROVE)
    window = order.expires_at - order.placed_at
    await (
        RedemptionOrder.update(
            {
                RedemptionOrder.status: status.value,
                RedemptionOrder.pickup_code: new_pickup_code(),
                RedemptionOrder.expires_at: now + window,
            }
        )
        .where(RedemptionOrder.id == order.id)
        .run()
    )
    reviewer_id = principal.member_id if principal is not None else None
    await close_case(case, status=CaseStatus.APPROVED, reviewer_id=reviewer_id, label=label, note=note, now=now)
    actor = principal.ref if principal is not None else SYSTEM_ACTOR
    action = "fraud.case.approve" if principal is not None else "fraud.case.release"
    await audit.record(actor, action, case_ref(case_id), order_id=order.id, label=label.value, note=note)
    return order.id


async def approve_held_order(
    principal: Principal, case_id: int, *, label: Label, note: str, now: datetime | None = None
) -> OrderRecord:
    """Approve a held order: it becomes pickable (``placed``)."""
    work = functools.partial(_approve, principal, case_id, label, _note(note), now or utc_now())
    # A new pickup code that an open order already has is a unique violation
    # (marketplace_open_pickup_code): the approval re-runs with a fresh draw.
    return await get_order(await in_write_transaction(work, retry_unique=True))


async def release_held_order(case_id: int, *, now: datetime | None = None) -> OrderRecord:
    """The review deadline passed on a small amount: the system approves,
    labelled unclear (nobody looked)."""
    note = "审核期限已过，系统自动放行 · Review deadline passed: released automatically"
    work = functools.partial(_approve, None, case_id, Label.UNCLEAR, note, now or utc_now())
    return await get_order(await in_write_transaction(work, retry_unique=True))


async def _reject(principal: Principal, case_id: int, label: Label, note: str, now: datetime) -> int:
    order, case = await _locked(principal, case_id, now)
    status = decide_review(order, OrderAction.REJECT)
    await lock_row(CatalogItem, order.item_id, CatalogItem.id)
    try:
        await void_hold(order.hold_id)
    except HoldNotActive:
        if (await get_hold(order.hold_id)).status == "posted":
            raise
    await _restock(order.item_id, order.quantity)
    await (
        RedemptionOrder.update(
            {RedemptionOrder.status: status.value, RedemptionOrder.closed_at: now, RedemptionOrder.restocked: True}
        )
        .where(RedemptionOrder.id == order.id)
        .run()
    )
    await close_case(case, status=CaseStatus.REJECTED, reviewer_id=principal.member_id, label=label, note=note, now=now)
    await audit.record(
        principal.ref, "fraud.case.reject", case_ref(case_id), order_id=order.id, label=label.value, note=note
    )
    return order.id


async def reject_held_order(
    principal: Principal, case_id: int, *, label: Label, note: str, now: datetime | None = None
) -> OrderRecord:
    """Reject a held order: hold voided, stock back, order ``rejected``."""
    work = functools.partial(_reject, principal, case_id, label, _note(note), now or utc_now())
    return await get_order(await in_write_transaction(work))
