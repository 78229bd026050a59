"""The order state machine and the guards on each move, without I/O.

::

    held ──approve──▶ placed ──pick_up──▶ fulfilled ──return──▶ returned
      │                 │
      ├──reject──▶ rejected   ├──cancel──▶ cancelled
      └──cancel──▶ cancelled  └──expire──▶ expired

A *held* order (the fraud rules asked for review at placement) keeps its
points hold and its stock until a reviewer decides; it cannot be picked up
and does not expire; the member may cancel it.

Every other (status, action) pair is refused. ``marketplace.orders`` locks
the order row, calls the ``decide_*`` function for its action and writes
the move it allows. The guards:

- **Pickup** (``decide_pickup``): only an open order of *this* shop (anything
  else is ``PickupCodeNotFound``, revealing nothing), and not past its pickup
  deadline.
- **Close** (``decide_close``: cancel or expire): only an open order; asking
  again for the state it is already in is answered with that state
  (idempotent). Expiry only once the deadline has passed.
- **Return** (``check_returnable`` then ``check_return_window``): only a
  fulfilled order of this shop, in a period not yet settled, and only in the
  calendar month of pickup (China time). A month's net pickups stay in the
  shop's settlement account until that month is settled; a return charged to
  a later month would drain points an earlier, unsettled month still needs,
  and that month could never be settled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from marketplace.errors import (
    OrderNotFound,
    OrderNotOpen,
    PeriodAlreadySettled,
    PickupCodeNotFound,
    ReturnWindowClosed,
)
from marketplace.models import OrderRecord, OrderStatus
from marketplace.periods import same_month


class OrderAction(StrEnum):
    APPROVE = "approve"  # a reviewer (or the review deadline) clears a held order
    REJECT = "reject"  # a reviewer rejects a held order
    PICK_UP = "pick_up"  # staff at the counter, with the pickup code
    CANCEL = "cancel"  # the member, before pickup
    EXPIRE = "expire"  # the expiry job, after the pickup deadline
    RETURN = "return"  # staff or managers of the shop, after pickup


TRANSITIONS: dict[tuple[OrderStatus, OrderAction], OrderStatus] = {
    (OrderStatus.HELD, OrderAction.APPROVE): OrderStatus.PLACED,
    (OrderStatus.HELD, OrderAction.REJECT): OrderStatus.REJECTED,
    (OrderStatus.HELD, OrderAction.CANCEL): OrderStatus.CANCELLED,
    (OrderStatus.PLACED, OrderAction.PICK_UP): OrderStatus.FULFILLED,
    (OrderStatus.PLACED, OrderAction.CANCEL): OrderStatus.CANCELLED,
    (OrderStatus.PLACED, OrderAction.EXPIRE): OrderStatus.EXPIRED,
    (OrderStatus.FULFILLED, OrderAction.RETURN): OrderStatus.RETURNED,
}


def next_status(status: OrderStatus, action: OrderAction) -> OrderStatus | None:
    """Where ``action`` takes an order in ``status``; None if it may not."""
    return TRANSITIONS.get((status, action))


def check_awaiting_pickup(order: OrderRecord) -> None:
    """Only an order that can still be picked up has a code worth showing."""
    if next_status(order.status, OrderAction.PICK_UP) is None:
        raise OrderNotOpen(f"order {order.id} is {order.status}", field="order_id")


def decide_pickup(order: OrderRecord, *, shop_id: int, now: datetime) -> OrderStatus:
    """The status a pickup at ``shop_id`` moves ``order`` to."""
    target = next_status(order.status, OrderAction.PICK_UP)
    if target is None or order.shop_id != shop_id:
        raise PickupCodeNotFound("no open order with this code at this shop", field="code")
    if order.expires_at <= now:
        raise OrderNotOpen("this order expired before pickup", field="code")
    return target


def decide_close(order: OrderRecord, action: OrderAction, *, due_by: datetime | None = None) -> OrderStatus | None:
    """The status cancelling or expiring ``order`` moves it to, or None if
    it is already there (nothing to do: the caller answers with the order).
    ``due_by``: expire only an order whose deadline is not after it."""
    if action not in (OrderAction.CANCEL, OrderAction.EXPIRE):
        raise ValueError(f"{action} does not close an unfulfilled order")
    target = next_status(order.status, action)
    if target is None:
        if TRANSITIONS[(OrderStatus.PLACED, action)] == order.status:
            return None
        raise OrderNotOpen(f"order {order.id} is {order.status}", field="order_id")
    if due_by is not None and order.expires_at > due_by:
        raise OrderNotOpen(f"order {order.id} is not due to expire", field="order_id")
    return target


@dataclass(frozen=True, slots=True)
class ReturnMove:
    """A return ``check_returnable`` allows: what it reverses and moves."""

    order: OrderRecord
    status: OrderStatus  # where the order goes
    entry_id: int  # the redemption entry to reverse
    picked_up_at: datetime  # judged by ``check_return_window``


def check_returnable(order: OrderRecord | None, *, shop_id: int, order_id: int) -> ReturnMove:
    """A return of ``order`` at ``shop_id``. A missing order and one of
    another shop answer alike: nothing to learn of other shops."""
    if order is None or order.shop_id != shop_id:
        raise OrderNotFound(f"no order {order_id} at this shop", field="order_id")
    target = next_status(order.status, OrderAction.RETURN)
    if target is None or order.entry_id is None or order.fulfilled_at is None:
        raise OrderNotOpen(f"only a fulfilled order can be returned; this one is {order.status}", field="order_id")
    return ReturnMove(order=order, status=target, entry_id=order.entry_id, picked_up_at=order.fulfilled_at)


def check_return_window(*, picked_up_at: datetime, now: datetime, period_settled: bool) -> None:
    """A return is taken while the pickup's period is unsettled, and only in
    the calendar month of pickup (see the module doc for why)."""
    if period_settled:
        raise PeriodAlreadySettled("this pickup's period is already settled", field="order_id")
    if not same_month(picked_up_at, now):
        raise ReturnWindowClosed(
            "returns are taken in the month of pickup; that month's statement is final. "
            "An organiser can correct the wallet with an adjustment from the issuance account.",
            field="order_id",
        )


def decide_review(order: OrderRecord, action: OrderAction) -> OrderStatus:
    """Where a review's decision (approve or reject) takes a held order."""
    if action not in (OrderAction.APPROVE, OrderAction.REJECT):
        raise ValueError(f"{action} is not a review decision")
    target = next_status(order.status, action)
    if target is None:
        raise OrderNotOpen(f"order {order.id} is {order.status}, not held for review", field="order_id")
    return target
