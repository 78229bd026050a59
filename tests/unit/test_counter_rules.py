"""The counter's pure rules: what typed text can be a pickup code (and the
hint for letters codes never hold), and what a sync conflict is called."""

from __future__ import annotations

import pytest

from marketplace.counter import CONFLICT_REASONS, conflict_reason
from marketplace.models import OrderStatus
from marketplace.pickup_codes import ALPHABET, AMBIGUOUS, typed_code_problem


@pytest.mark.parametrize("typed", ["abcd-efgh", " ABCD EFGH ", "abcdefgh", "2345-6789"])
def test_lower_case_spaces_and_dashes_are_tolerated(typed: str) -> None:
    assert typed_code_problem(typed) is None


@pytest.mark.parametrize("typed", ["ABCD-EFG0", "oBCDEFGH", "ABCDEFG1", "iBCDEFGH", "ABCDEFGl"])
def test_letters_codes_never_hold_are_refused_as_ambiguous(typed: str) -> None:
    assert typed_code_problem(typed) == "ambiguous"


def test_the_ambiguous_letters_are_exactly_those_left_out_of_the_alphabet() -> None:
    assert not AMBIGUOUS & set(ALPHABET)
    assert {"0", "O", "1", "I", "L"} == AMBIGUOUS


@pytest.mark.parametrize(
    ("typed", "problem"),
    [("", "empty"), (" - ", "empty"), ("ABC", "length"), ("ABCD*EFG", "invalid"), ("ABCDEFGHJ", "length")],
)
def test_other_malformed_codes_say_why(typed: str, problem: str) -> None:
    assert typed_code_problem(typed) == problem


def test_every_closed_order_status_has_a_conflict_reason_and_an_open_one_none() -> None:
    assert set(CONFLICT_REASONS) == set(OrderStatus) - {OrderStatus.PLACED}
    assert conflict_reason(OrderStatus.FULFILLED) == "picked_up_elsewhere"
    assert conflict_reason(OrderStatus.CANCELLED) == "cancelled"
    assert conflict_reason(OrderStatus.EXPIRED) == "expired"
    assert conflict_reason(OrderStatus.HELD) == "held_for_review"
    assert conflict_reason(OrderStatus.REJECTED) == "rejected"
    with pytest.raises(KeyError):
        conflict_reason(OrderStatus.PLACED)
