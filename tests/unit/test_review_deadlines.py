"""fraud/review_deadlines: the pure step an overdue review takes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from core.calendar import WorkCalendar
from fraud.models import CaseRecord, CaseStatus, Subject
from fraud.review_deadlines import Expiry, expiry_step

DUE = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # a Friday, 09:00 China time
MOMENT = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # Saturday


def _case(amount: str, organisation_id: int = 5) -> CaseRecord:
    return CaseRecord(
        id=1, decision_id=1, subject=Subject.ACTIVITY, subject_id=9, member_id=3, verifier_id=4,
        organisation_id=organisation_id, hold_id=8, amount=Decimal(amount), reason_zh="", reason_en="",
        status=CaseStatus.OPEN, due_at=DUE, taken_by=None, taken_until=None, decided_by=None, decided_at=None,
        label=None, note="", objection="", created_at=DUE,
    )  # fmt: skip


def test_amounts_up_to_the_setting_are_released() -> None:
    step = expiry_step(
        _case("20.00"), auto_release=Decimal("20.00"), parent_id=2, moment=MOMENT, working_days=3,
        calendar=WorkCalendar(),
    )  # fmt: skip
    assert step.action is Expiry.RELEASE and step.new_due_at is None


def test_larger_amounts_escalate_to_the_parent_with_a_fresh_working_day_deadline() -> None:
    step = expiry_step(
        _case("20.01"), auto_release=Decimal("20.00"), parent_id=2, moment=MOMENT, working_days=3,
        calendar=WorkCalendar(),
    )  # fmt: skip
    assert step.action is Expiry.ESCALATE
    assert (step.from_organisation_id, step.to_organisation_id) == (5, 2)
    # Saturday: the clock starts Monday 00:00 China time; three working days on is Thursday.
    assert step.new_due_at == datetime(2026, 12, 9, 16, 0, tzinfo=UTC)
    assert step.missed_due_at == DUE


def test_at_the_root_a_case_stays_with_a_fresh_deadline() -> None:
    step = expiry_step(
        _case("50.00"), auto_release=Decimal("20.00"), parent_id=None, moment=MOMENT, working_days=0,
        calendar=WorkCalendar(),
    )  # fmt: skip
    assert step.to_organisation_id == 5
    assert step.new_due_at is not None and step.new_due_at > MOMENT
