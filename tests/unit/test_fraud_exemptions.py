"""fraud.rules honours snoozes and allow-listed pairs (pure), and
fraud.exemptions checks what an organiser asks for."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from fraud.errors import ExemptionNotFound, InvalidExemption
from fraud.exemptions import check_exemption_manager, check_pair, check_reason, check_snooze
from fraud.models import DEFAULT_THRESHOLDS, Outcome, PhotoPrint, VerifierFacts
from fraud.rules import decide
from tests.unit.test_fraud_rules import NOW, context, fix

T = DEFAULT_THRESHOLDS
MINE = PhotoPrint("a" * 64, "ffffffffffffffff", 10, 4)
FAMILY_PHOTO = PhotoPrint("b" * 64, "fffffffffffffffe", 11, 5)  # one bit away, the sister's


def test_a_snoozed_rule_never_hits_but_records_what_it_would_have_said() -> None:
    travel = context(positions=(fix(0, 0), fix(50, 5, own=True)))
    assert decide(travel, T).outcome is Outcome.REVIEW
    verdict = decide(replace(travel, snoozed_rules=frozenset({"impossible_travel"})), T)
    assert verdict.outcome is Outcome.ALLOW and verdict.score == 0
    [result] = [result for result in verdict.results if result.rule == "impossible_travel"]
    assert not result.hit and result.evidence == {"snoozed": True, "would_hit": True, "would_score": T.travel_score}


def test_an_allow_listed_partners_photo_is_no_near_duplicate() -> None:
    shared = context(photos=(MINE,), other_photos=(FAMILY_PHOTO,))
    assert decide(shared, T).outcome is Outcome.REVIEW
    assert decide(replace(shared, allowed_members=frozenset({5})), T).outcome is Outcome.ALLOW
    # Someone else's allow-listing does not help.
    assert decide(replace(shared, allowed_members=frozenset({6})), T).outcome is Outcome.REVIEW


def test_an_allow_listed_verifier_is_no_concentration() -> None:
    facts = VerifierFacts(
        pair_approvals=20, member_approvals=20, verifier_approvals=20, reverse_approvals=5, pair_days=9
    )
    pair = context(verifier_id=5, verifications=facts)
    assert decide(pair, T).outcome is not Outcome.ALLOW
    assert decide(replace(pair, allowed_members=frozenset({5})), T).outcome is Outcome.ALLOW


def test_what_an_organiser_asks_for_is_checked() -> None:
    check_snooze("burst", NOW + timedelta(days=7), NOW)
    with pytest.raises(InvalidExemption, match="no rule"):
        check_snooze("bursts", NOW + timedelta(days=7), NOW)
    with pytest.raises(InvalidExemption, match="future"):
        check_snooze("burst", NOW - timedelta(minutes=1), NOW)
    with pytest.raises(InvalidExemption, match="future"):
        check_snooze("burst", NOW + timedelta(days=400), NOW)
    assert check_pair(9, 3) == (3, 9)
    with pytest.raises(InvalidExemption):
        check_pair(3, 3)
    with pytest.raises(InvalidExemption):
        check_reason("  ")
    check_exemption_manager({1, 2}, [1, 2])
    with pytest.raises(ExemptionNotFound):
        check_exemption_manager({1, 2}, [1, 3])
