"""fraud: the queue filter's check and per-rule statistics, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fraud.cases import QueueFilter, check_queue_filter
from fraud.errors import InvalidQueueFilter
from fraud.models import CaseRecord, CaseStatus, Label, Subject
from fraud.statistics import hit_rules_of, rule_statistics

AT = datetime(2026, 12, 1, tzinfo=UTC)


def _case(rules: tuple[str, ...], label: Label | None, minutes: int | None, by: int | None = 9) -> CaseRecord:
    decided = AT + timedelta(minutes=minutes) if minutes is not None else None
    status = CaseStatus.OPEN if label is None else CaseStatus.APPROVED
    return CaseRecord(
        id=1, decision_id=1, subject=Subject.ACTIVITY, subject_id=1, member_id=2, verifier_id=3, organisation_id=4,
        hold_id=5, amount=Decimal("1.00"), reason_zh="", reason_en="", status=status, due_at=AT, taken_by=None,
        taken_until=None, decided_by=by if decided else None, decided_at=decided, label=label, note="", objection="",
        created_at=AT, score=50, rules=rules,
    )  # fmt: skip


def test_a_rule_filter_must_name_a_registered_rule() -> None:
    check_queue_filter(QueueFilter(rule="burst"), frozenset({"burst"}))
    check_queue_filter(QueueFilter(), frozenset({"burst"}))
    with pytest.raises(InvalidQueueFilter):
        check_queue_filter(QueueFilter(rule="bursts"), frozenset({"burst"}))


def test_precision_counts_fraud_over_fraud_and_legitimate_and_ignores_unclear() -> None:
    cases = [
        _case(("burst",), Label.FRAUD, 10),
        _case(("burst",), Label.LEGITIMATE, 20),
        _case(("burst",), Label.UNCLEAR, 30),
        _case(("burst",), Label.FRAUD, 40),
        _case(("burst",), None, None),
    ]
    [row] = rule_statistics(["burst"], [["burst"], ["burst", "burst"], []], cases)
    assert row.hits == 2
    assert (row.labelled_fraud, row.labelled_legitimate, row.labelled_unclear) == (2, 1, 1)
    assert row.precision == Decimal("0.667")
    assert row.median_minutes_to_decide == Decimal("25.0")


def test_a_release_by_the_deadline_is_no_reviewers_decision_time() -> None:
    [row] = rule_statistics(["burst"], [], [_case(("burst",), Label.UNCLEAR, 5000, by=None)])
    assert row.median_minutes_to_decide is None and row.precision is None


def test_hit_rules_are_read_from_a_stored_decisions_results() -> None:
    text = '[{"rule": "burst", "hit": true}, {"rule": "cooling_off", "hit": false}]'
    assert hit_rules_of(text) == ["burst"]
