"""marketplace/statements: a shop's month composed from its orders, and when
it may be settled, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from marketplace import statements
from marketplace.errors import PeriodAlreadySettled, PeriodNotClosed
from marketplace.models import OrderStatus, StatementLineKind
from marketplace.periods import month_bounds
from tests.support.marketplace_records import NOW, a_fulfilled_order, a_settlement, a_shop

NOVEMBER = month_bounds("2026-11")


def test_pickups_add_returns_subtract_and_lines_run_in_time_order() -> None:
    early = a_fulfilled_order(id=1, at=NOW, total=Decimal("20.00"), quantity=2)
    late = a_fulfilled_order(id=2, at=NOW + timedelta(hours=1), total=Decimal("7.50"), quantity=1)
    returned = a_fulfilled_order(
        id=3,
        at=NOW - timedelta(days=1),
        total=Decimal("5.00"),
        quantity=1,
        status=OrderStatus.RETURNED,
        returned_at=NOW + timedelta(minutes=30),
    )
    statement = statements.compose_statement(
        a_shop(),
        period="2026-11",
        bounds=NOVEMBER,
        picked_up=[late, early, returned],
        returned=[returned],
        settlement=None,
    )
    assert [(line.order_id, line.kind, line.points) for line in statement.lines] == [
        (3, StatementLineKind.REDEMPTION, Decimal("5.00")),
        (1, StatementLineKind.REDEMPTION, Decimal("20.00")),
        (3, StatementLineKind.RETURN, Decimal("-5.00")),
        (2, StatementLineKind.REDEMPTION, Decimal("7.50")),
    ]
    assert (statement.redeemed, statement.returned, statement.net) == (
        Decimal("32.50"),
        Decimal("5.00"),
        Decimal("27.50"),
    )
    assert sum((line.points for line in statement.lines), Decimal("0")) == statement.net
    assert statement.order_count == 3  # pickups, not lines
    assert (statement.period_start, statement.period_end) == NOVEMBER
    assert not statement.settled and statement.settled_at is None and statement.settlement_entry_id is None


def test_a_quiet_month_is_zero_and_empty() -> None:
    statement = statements.compose_statement(
        a_shop(), period="2026-11", bounds=NOVEMBER, picked_up=[], returned=[], settlement=None
    )
    assert (statement.net, statement.lines, statement.order_count) == (Decimal("0.00"), (), 0)
    assert str(statement.net) == "0.00"


def test_a_settled_month_says_when_and_by_which_entry() -> None:
    settlement = a_settlement()
    statement = statements.compose_statement(
        a_shop(), period="2026-11", bounds=NOVEMBER, picked_up=[], returned=[], settlement=settlement
    )
    assert statement.settled
    assert (statement.settled_at, statement.settlement_entry_id) == (settlement.settled_at, settlement.entry_id)


def test_ties_in_time_are_broken_by_order_id() -> None:
    same_time = [a_fulfilled_order(id=9, at=NOW), a_fulfilled_order(id=4, at=NOW)]
    lines = statements.statement_lines(same_time, [])
    assert [line.order_id for line in lines] == [4, 9]


def test_only_a_finished_month_is_settled() -> None:
    _, end = NOVEMBER
    statements.check_period_over("2026-11", period_end=end, now=end)
    with pytest.raises(PeriodNotClosed) as caught:
        statements.check_period_over("2026-11", period_end=end, now=end - timedelta(microseconds=1))
    assert caught.value.field == "period"


def test_a_month_is_settled_once() -> None:
    statements.check_not_settled("2026-11", settled=False)
    with pytest.raises(PeriodAlreadySettled) as caught:
        statements.check_not_settled("2026-11", settled=True)
    assert caught.value.field == "period"


def test_november_ends_at_midnight_china_time() -> None:
    start, end = NOVEMBER
    assert (start, end) == (datetime(2026, 10, 31, 16, 0, tzinfo=UTC), datetime(2026, 11, 30, 16, 0, tzinfo=UTC))
