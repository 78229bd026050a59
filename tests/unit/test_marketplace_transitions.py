"""marketplace/transitions: the order state machine and the guards on each
move (pickup, cancel, expire, return, the return window), without a database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace import transitions
from marketplace.errors import (
    OrderNotFound,
    OrderNotOpen,
    PeriodAlreadySettled,
    PickupCodeNotFound,
    ReturnWindowClosed,
)
from marketplace.models import OrderStatus
from marketplace.periods import LOCAL_ZONE
from marketplace.transitions import OrderAction
from tests.support.marketplace_records import NOW, a_fulfilled_order, an_order

ALLOWED = {
    (OrderStatus.HELD, OrderAction.APPROVE): OrderStatus.PLACED,
    (OrderStatus.HELD, OrderAction.REJECT): OrderStatus.REJECTED,
    (OrderStatus.HELD, OrderAction.CANCEL): OrderStatus.CANCELLED,
    (OrderStatus.PLACED, OrderAction.PICK_UP): OrderStatus.FULFILLED,
    (OrderStatus.PLACED, OrderAction.CANCEL): OrderStatus.CANCELLED,
    (OrderStatus.PLACED, OrderAction.EXPIRE): OrderStatus.EXPIRED,
    (OrderStatus.FULFILLED, OrderAction.RETURN): OrderStatus.RETURNED,
}


@pytest.mark.parametrize("status", list(OrderStatus))
@pytest.mark.parametrize("action", list(OrderAction))
def test_the_state_machine_allows_exactly_seven_moves(status: OrderStatus, action: OrderAction) -> None:
    assert transitions.next_status(status, action) == ALLOWED.get((status, action))


def test_closed_orders_are_final() -> None:
    for status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.RETURNED, OrderStatus.REJECTED):
        assert all(transitions.next_status(status, action) is None for action in OrderAction)


def test_pickup_fulfils_an_open_order_of_this_shop_before_its_deadline() -> None:
    order = an_order(shop_id=7, expires_at=NOW + timedelta(seconds=1))
    assert transitions.decide_pickup(order, shop_id=7, now=NOW) == OrderStatus.FULFILLED


def test_pickup_of_another_shops_or_a_closed_order_reveals_nothing() -> None:
    """Other shop, fulfilled, cancelled: one answer, as for a code never issued."""
    answers = set()
    for order, shop_id in (
        (an_order(shop_id=8), 7),
        (a_fulfilled_order(), 7),
        (an_order(status=OrderStatus.CANCELLED), 7),
        (an_order(status=OrderStatus.EXPIRED), 7),
    ):
        with pytest.raises(PickupCodeNotFound) as caught:
            transitions.decide_pickup(order, shop_id=shop_id, now=NOW)
        answers.add((caught.value.message, caught.value.field))
    assert answers == {("no open order with this code at this shop", "code")}


def test_pickup_at_the_deadline_is_too_late() -> None:
    with pytest.raises(OrderNotOpen) as caught:
        transitions.decide_pickup(an_order(expires_at=NOW), shop_id=7, now=NOW)
    assert caught.value.field == "code"


@pytest.mark.parametrize(
    ("action", "closed"), [(OrderAction.CANCEL, OrderStatus.CANCELLED), (OrderAction.EXPIRE, OrderStatus.EXPIRED)]
)
def test_closing_an_open_order_and_asking_again_is_idempotent(action: OrderAction, closed: OrderStatus) -> None:
    assert transitions.decide_close(an_order(expires_at=NOW), action, due_by=NOW) == closed
    assert transitions.decide_close(an_order(status=closed), action, due_by=NOW) is None


@pytest.mark.parametrize("action", [OrderAction.CANCEL, OrderAction.EXPIRE])
def test_a_picked_up_or_otherwise_closed_order_cannot_be_closed(action: OrderAction) -> None:
    other = OrderStatus.EXPIRED if action == OrderAction.CANCEL else OrderStatus.CANCELLED
    for status in (OrderStatus.FULFILLED, OrderStatus.RETURNED, other):
        with pytest.raises(OrderNotOpen) as caught:
            transitions.decide_close(an_order(status=status), action)
        assert caught.value.message == f"order 11 is {status.value}"


def test_expiry_waits_for_the_deadline_and_cancelling_does_not() -> None:
    order = an_order(expires_at=NOW + timedelta(seconds=1))
    with pytest.raises(OrderNotOpen, match="not due"):
        transitions.decide_close(order, OrderAction.EXPIRE, due_by=NOW)
    assert transitions.decide_close(order, OrderAction.CANCEL) == OrderStatus.CANCELLED


def test_only_cancel_and_expire_close_an_unfulfilled_order() -> None:
    for action in (OrderAction.PICK_UP, OrderAction.RETURN):
        with pytest.raises(ValueError, match="does not close"):
            transitions.decide_close(an_order(), action)


def test_a_return_takes_back_a_fulfilled_order_of_this_shop() -> None:
    order = a_fulfilled_order(shop_id=7)
    move = transitions.check_returnable(order, shop_id=7, order_id=order.id)
    assert (move.status, move.entry_id, move.picked_up_at, move.order) == (
        OrderStatus.RETURNED,
        order.entry_id,
        order.fulfilled_at,
        order,
    )


def test_a_missing_order_and_another_shops_answer_alike_at_return() -> None:
    answers = set()
    for order in (None, a_fulfilled_order(shop_id=8)):
        with pytest.raises(OrderNotFound) as caught:
            transitions.check_returnable(order, shop_id=7, order_id=11)
        answers.add((caught.value.message, caught.value.field))
    assert len(answers) == 1


@pytest.mark.parametrize(
    "status", [OrderStatus.PLACED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.RETURNED]
)
def test_only_a_fulfilled_order_can_be_returned(status: OrderStatus) -> None:
    with pytest.raises(OrderNotOpen) as caught:
        transitions.check_returnable(an_order(status=status), shop_id=7, order_id=11)
    assert caught.value.message.endswith(f"this one is {status.value}")


def test_returns_are_taken_in_the_month_of_pickup_china_time() -> None:
    last_minute = NOW.replace(month=11, day=30, hour=15, minute=59)  # 23:59 on 30 Nov in Shanghai
    transitions.check_return_window(picked_up_at=NOW, now=last_minute, period_settled=False)
    next_month = last_minute + timedelta(minutes=1)  # 00:00 on 1 Dec in Shanghai, still 30 Nov in UTC
    assert next_month.astimezone(LOCAL_ZONE).day == 1
    with pytest.raises(ReturnWindowClosed) as caught:
        transitions.check_return_window(picked_up_at=NOW, now=next_month, period_settled=False)
    assert caught.value.field == "order_id"


def test_a_settled_period_takes_no_returns_whatever_the_month() -> None:
    with pytest.raises(PeriodAlreadySettled):
        transitions.check_return_window(picked_up_at=NOW, now=NOW, period_settled=True)


def test_the_qr_is_shown_only_while_the_order_waits_for_pickup() -> None:
    transitions.check_awaiting_pickup(an_order())
    for status in (OrderStatus.FULFILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.RETURNED):
        with pytest.raises(OrderNotOpen):
            transitions.check_awaiting_pickup(an_order(status=status))


def test_a_held_order_cannot_be_picked_up_nor_expired() -> None:
    held = an_order(status=OrderStatus.HELD)
    with pytest.raises(PickupCodeNotFound):
        transitions.decide_pickup(held, shop_id=held.shop_id, now=NOW)
    with pytest.raises(OrderNotOpen):
        transitions.decide_close(held, OrderAction.EXPIRE)
    with pytest.raises(OrderNotOpen):
        transitions.check_awaiting_pickup(held)


def test_a_review_decision_moves_only_a_held_order() -> None:
    held = an_order(status=OrderStatus.HELD)
    assert transitions.decide_review(held, OrderAction.APPROVE) is OrderStatus.PLACED
    assert transitions.decide_review(held, OrderAction.REJECT) is OrderStatus.REJECTED
    assert transitions.decide_close(held, OrderAction.CANCEL) is OrderStatus.CANCELLED
    with pytest.raises(OrderNotOpen):
        transitions.decide_review(an_order(status=OrderStatus.PLACED), OrderAction.APPROVE)
    with pytest.raises(ValueError, match="not a review decision"):
        transitions.decide_review(held, OrderAction.CANCEL)
