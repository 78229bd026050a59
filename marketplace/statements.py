"""A shop's monthly statement and when it may be settled, without I/O.

``marketplace.settlement`` loads the month's orders and any settlement row,
and these functions compose and judge them:

- **Statement lines** (``compose_statement``): each order picked up in the
  month is a redemption line (+ its total); each order returned in the month
  is a return line (− its total), in time order. An order picked up and
  returned in the same month is on both lines. ``order_count`` counts the
  pickups. The net equals the ledger's postings into the shop's settlement
  account over the month, because an order's ``fulfilled_at``/``returned_at``
  are the ledger entries' own timestamps.
- **Settle only a finished month** (``check_period_over``), **once**
  (``check_not_settled``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from marketplace.errors import PeriodAlreadySettled, PeriodNotClosed
from marketplace.models import (
    OrderRecord,
    SettlementRecord,
    ShopRecord,
    Statement,
    StatementLine,
    StatementLineKind,
)

ZERO = Decimal("0.00")


def statement_lines(picked_up: Sequence[OrderRecord], returned: Sequence[OrderRecord]) -> tuple[StatementLine, ...]:
    """Redemption lines for ``picked_up``, return lines for ``returned``,
    by time then order id."""
    lines = [
        StatementLine(
            order_id=order.id,
            at=order.fulfilled_at,
            kind=StatementLineKind.REDEMPTION,
            item_name_zh=order.item_name_zh,
            quantity=order.quantity,
            points=order.total,
        )
        for order in picked_up
        if order.fulfilled_at is not None
    ] + [
        StatementLine(
            order_id=order.id,
            at=order.returned_at,
            kind=StatementLineKind.RETURN,
            item_name_zh=order.item_name_zh,
            quantity=order.quantity,
            points=-order.total,
        )
        for order in returned
        if order.returned_at is not None
    ]
    return tuple(sorted(lines, key=lambda line: (line.at, line.order_id)))


def compose_statement(
    shop: ShopRecord,
    *,
    period: str,
    bounds: tuple[datetime, datetime],
    picked_up: Sequence[OrderRecord],
    returned: Sequence[OrderRecord],
    settlement: SettlementRecord | None,
) -> Statement:
    """The statement of ``shop`` for ``period`` ([start, end) = ``bounds``)."""
    lines = statement_lines(picked_up, returned)
    redeemed = sum((line.points for line in lines if line.kind == StatementLineKind.REDEMPTION), ZERO)
    returned_total = -sum((line.points for line in lines if line.kind == StatementLineKind.RETURN), ZERO)
    return Statement(
        shop_id=shop.id,
        shop_name_zh=shop.name_zh,
        period=period,
        period_start=bounds[0],
        period_end=bounds[1],
        redeemed=redeemed,
        returned=returned_total,
        net=redeemed - returned_total,
        order_count=len(picked_up),
        lines=lines,
        settled=settlement is not None,
        settled_at=settlement.settled_at if settlement else None,
        settlement_entry_id=settlement.entry_id if settlement else None,
    )


def check_period_over(period: str, *, period_end: datetime, now: datetime) -> None:
    """Only a month that has ended can be settled: later pickups would
    otherwise land in a locked month."""
    if period_end > now:
        raise PeriodNotClosed(f"{period} is not over yet", field="period")


def check_not_settled(period: str, *, settled: bool) -> None:
    """A month is settled once, then locked."""
    if settled:
        raise PeriodAlreadySettled(f"{period} is already settled for this shop", field="period")
