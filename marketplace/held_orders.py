"""Held, not declined: what placing an order writes for each fraud verdict.

``marketplace.orders.place_order`` judges the order with the rules
(``marketplace.screening``) inside its writing script, then sends these
steps in the same transaction:

- *allow*: the decision row; the order is ``placed`` as before;
- *review*: the decision row, the order moved to ``held`` (待审核: its
  points hold and its stock kept, not pickable, never expired by the order
  expiry), a review case (``fraud_case``, in the member's home
  organisation's queue) with a deadline in working days (``core.calendar``)
  and its audit row. The points hold outlives the deadline by
  ``HOLD_GRACE`` plus the order's pickup window, so a late decision still
  finds it;
- *deny*: the decision row and its audit row only; the placement then
  refuses (``FraudDenied``). The decision names the id the order would
  have had (the sequence's value; no order ever takes it).

Deciding a held order is ``marketplace.order_reviews``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from community.access import Principal
from community.audit import INSERT_AUDIT_ROW, audit_detail
from core.calendar import WorkCalendar, add_working_days
from core.clock import utc_now
from core.fixed_sql import Script
from fengling_settings import get_settings
from fraud import sql as fraud_sql
from fraud.cases import withdraw_case
from fraud.decisions import decision_values
from fraud.models import Outcome, Subject, Verdict
from ledger.amounts import to_minor
from marketplace import sql
from marketplace.models import OrderRecord, OrderStatus
from marketplace.placement import Placement
from marketplace.screening import OrderScreening

# The points hold of a held order outlives its review deadline by this much
# (plus the pickup window): an overdue review escalates, it is not silently
# released by the ledger's hold expiry.
HOLD_GRACE = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class OrderDenied:
    """The rules refused the order: only this decision was stored."""

    verdict: Verdict
    decision_id: int


@dataclass(frozen=True, slots=True)
class ReviewTerms:
    """When a held order's review is due, and its points hold's expiry."""

    due_at: datetime
    hold_expires_at: datetime


def work_calendar() -> WorkCalendar:
    """The deployment's working-day calendar (the settings' holidays)."""
    settings = get_settings()
    return WorkCalendar(holidays=settings.holidays, makeup_workdays=settings.makeup_workdays)


def review_terms(
    verdict: Verdict, decided: Placement, moment: datetime, calendar: WorkCalendar | None = None
) -> ReviewTerms:
    """The review deadline (``review_working_days`` working days after
    ``moment``) and a hold expiry that outlives it, the grace and a whole
    pickup window after a late approval (pure but for the settings)."""
    due_at = add_working_days(moment, verdict.thresholds.review_working_days, calendar or work_calendar())
    window = decided.expires_at - moment
    return ReviewTerms(due_at=due_at, hold_expires_at=max(decided.hold_expires_at, due_at + HOLD_GRACE + window))


def order_decision_values(
    screening: OrderScreening, verdict: Verdict, order_id: int, now: datetime, *, shadow: bool = False
) -> tuple[object, ...]:
    """The decision row of a verdict on an order (``fraud.sql.INSERT_DECISION``'s
    values; the placement writes the enforced one with the order,
    ``sql.PLACE_ORDER``)."""
    return decision_values(
        verdict,
        subject=Subject.ORDER,
        subject_id=order_id,
        member_id=screening.member_id,
        issuer_id=screening.issuer_id,
        now=now,
        shadow=shadow,
    )


def _decision_step(
    screening: OrderScreening, verdict: Verdict, order_id: int, now: datetime, *, shadow: bool = False
) -> Script[int]:
    rows = yield fraud_sql.INSERT_DECISION(*order_decision_values(screening, verdict, order_id, now, shadow=shadow))
    return int(rows[0]["id"])


def _decisions_steps(
    screening: OrderScreening, verdicts: tuple[Verdict, Verdict | None], order_id: int, now: datetime
) -> Script[int]:
    """The enforced decision, and the shadow one beside it; the enforced id."""
    verdict, shadow = verdicts
    decision_id = yield from _decision_step(screening, verdict, order_id, now)
    if shadow is not None:
        yield from _decision_step(screening, shadow, order_id, now, shadow=True)
    return decision_id


def denied_steps(
    principal: Principal, screening: OrderScreening, verdicts: tuple[Verdict, Verdict | None], order_id: int
) -> Script[OrderDenied]:
    """Store a *deny* (and its shadow) and its audit row; nothing else."""
    now = utc_now()
    verdict = verdicts[0]
    decision_id = yield from _decisions_steps(screening, verdicts, order_id, now)
    detail = audit_detail(decision_id=decision_id, score=verdict.score, shop_id=screening.shop_id)
    yield INSERT_AUDIT_ROW(principal.ref, "order.place.denied", f"order:{order_id}", detail, now)
    return OrderDenied(verdict=verdict, decision_id=decision_id)


def screened_steps(
    principal: Principal,
    screening: OrderScreening,
    verdicts: tuple[Verdict, Verdict | None],
    order: OrderRecord,
    review: ReviewTerms | None,
    decision_id: int,
    now: datetime,
) -> Script[OrderRecord]:
    """After the order and its enforced decision (``decision_id``) are
    written: the shadow decision, if any; for a review, the move to
    ``held``, the case and the audit row. The order as it now stands."""
    verdict, shadow = verdicts
    if shadow is not None:
        yield from _decision_step(screening, shadow, order.id, now, shadow=True)
    if verdict.outcome is not Outcome.REVIEW or review is None:
        return order
    yield sql.HOLD_ORDER(order.id)
    rows = yield fraud_sql.INSERT_CASE(
        decision_id,
        Subject.ORDER.value,
        order.id,
        order.member_id,
        None,
        principal.home_organisation_id,
        order.hold_id,
        to_minor(order.total),
        verdict.reason_zh(),
        verdict.reason_en(),
        review.due_at,
        now,
        verdict.score,
        verdict.hit_rules(),
    )
    case_id = int(rows[0]["id"])
    detail = audit_detail(case_id=case_id, decision_id=decision_id, score=verdict.score, points_held=str(order.total))
    yield INSERT_AUDIT_ROW(principal.ref, "order.hold", f"order:{order.id}", detail, now)
    return dataclasses.replace(order, status=OrderStatus.HELD)


async def withdraw_held(order_id: int) -> None:
    """The member cancelled a held order (inside the cancel's transaction):
    its open case is withdrawn."""
    await withdraw_case(Subject.ORDER, order_id, now=utc_now())
