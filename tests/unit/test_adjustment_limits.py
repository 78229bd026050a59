"""When a manual adjustment may post on its actor's word, and when it waits
for a second person (``community.manual_points.second_person_needed``): the
per-request threshold, and the two 24-hour totals that stop a large move
from being split into small ones."""

from __future__ import annotations

from decimal import Decimal

import pytest

from community.manual_points import UnattendedTotals, second_person_needed

SINGLE = Decimal("500.00")
DAILY = Decimal("2000.00")


def why(amount: str, *, by_actor: str = "0", to_account: str = "0") -> str | None:
    recent = UnattendedTotals(by_actor=Decimal(by_actor), to_account=Decimal(to_account))
    return second_person_needed(Decimal(amount), recent, single_limit=SINGLE, daily_limit=DAILY)


def test_an_adjustment_within_every_limit_posts_on_its_actors_word() -> None:
    assert why("500.00") is None
    assert why("0.01", by_actor="1999.99", to_account="499.99") is None


def test_an_adjustment_above_the_threshold_always_waits() -> None:
    assert why("500.01") == "amount"


@pytest.mark.parametrize(("to_account", "amount"), [("500.00", "0.01"), ("250.00", "250.01"), ("499.99", "0.02")])
def test_one_account_receives_at_most_the_threshold_a_day_without_a_second_person(to_account: str, amount: str) -> None:
    assert why(amount, to_account=to_account) == "account_window"


@pytest.mark.parametrize(("by_actor", "amount"), [("2000.00", "0.01"), ("1800.00", "200.01")])
def test_one_actor_posts_at_most_the_daily_limit_without_a_second_person(by_actor: str, amount: str) -> None:
    assert why(amount, by_actor=by_actor) == "actor_window"


def test_the_account_limit_is_named_before_the_actors() -> None:
    assert why("100.00", by_actor="2000.00", to_account="450.00") == "account_window"
