"""fraud/policy and fraud/cases pure checks: who may decide a case, and
when it can be decided. No database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fraud.cases import check_decidable
from fraud.errors import CaseClosed, CaseTaken, ReviewerConflict
from fraud.models import CaseRecord, CaseStatus, Subject
from fraud.policy import check_reviewer

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CASE = CaseRecord(
    id=1,
    decision_id=1,
    subject=Subject.ACTIVITY,
    subject_id=7,
    member_id=4,
    verifier_id=2,
    organisation_id=5,
    hold_id=9,
    amount=Decimal("60.00"),
    reason_zh="加入未满 7 天即有60.00 积分的奖励",
    reason_en="an award of 60.00 points within 7 days of joining",
    status=CaseStatus.OPEN,
    due_at=NOW + timedelta(days=3),
    taken_by=None,
    taken_until=None,
    decided_by=None,
    decided_at=None,
    label=None,
    note="",
    objection="",
    created_at=NOW,
)


def test_the_member_and_the_verifier_never_review_anyone_else_may() -> None:
    with pytest.raises(ReviewerConflict):
        check_reviewer(CASE, 4)
    with pytest.raises(ReviewerConflict):
        check_reviewer(CASE, 2)
    check_reviewer(CASE, 1)


def test_a_case_taken_by_another_waits_until_their_lock_runs_out() -> None:
    taken = replace(CASE, taken_by=8, taken_until=NOW + timedelta(minutes=5))
    with pytest.raises(CaseTaken):
        check_decidable(taken, 1, NOW)
    check_decidable(taken, 8, NOW)  # the taker decides
    check_decidable(taken, 1, NOW + timedelta(minutes=6))  # lock run out


def test_a_decided_case_is_closed() -> None:
    with pytest.raises(CaseClosed):
        check_decidable(replace(CASE, status=CaseStatus.APPROVED), 1, NOW)
