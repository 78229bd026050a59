"""What one redemption sends to the database (issue #10, target 4).

Placing an order and handing it over at the counter were brought from 46
round trips to 12 on PostgreSQL. The fraud screening added later (#12)
pushed them back to 23 without anyone noticing until a benchmark ran. These
tests hold the budget: a change that adds a statement to either half fails
here, with the statements listed.
"""

from __future__ import annotations

from decimal import Decimal

from marketplace import orders
from tests.support.database import on_postgres
from tests.support.marketplace_helpers import Market, acting
from tests.support.round_trips import DriverLog, driver_log

# Placing: BEGIN, PLACE_FACTS, the wallet lock, the hold, PLACE_ORDER, COMMIT.
POSTGRES_PLACE_ROUND_TRIPS = 6
# Handing over: BEGIN, the order and its hold under lock, the posting's
# statements, the order's update with its audit row, COMMIT.
POSTGRES_CONFIRM_ROUND_TRIPS = 6
# Issue #10's target: place + confirm in at most 12 round trips.
POSTGRES_REDEMPTION_BUDGET = 12
# SQLite has no round trips, but each statement is a trip through sqlite3:
# placing is BEGIN IMMEDIATE, the item and shop facts, the wallet lock, the
# hold and its balance, the order, the stock, the audit row, the member's
# limit, the fraud decision, COMMIT (PostgreSQL's CTEs are one statement
# there); handing over is BEGIN IMMEDIATE, the counter's facts, the order's
# accounts and hold, the entry, its 2 postings and 2 balances, the hold,
# the order, the audit row, COMMIT.
SQLITE_PLACE_STATEMENTS = 11
SQLITE_CONFIRM_STATEMENTS = 12


async def test_placing_and_handing_over_an_order_stay_within_the_round_trip_budget(
    market: Market,
) -> None:
    item = await market.item(stock=10, price=Decimal("5.00"))
    member = await acting(await market.member("100"))
    staff = await acting(market.staff_a)

    async def redeem(key: str, log: DriverLog) -> tuple[list[str], list[str]]:
        with log.counting() as placing:
            order = await orders.place_order(member, item_id=item.id, shop_id=market.shop_a.id, idempotency_key=key)
        assert order.status == "placed"
        with log.counting() as confirming:
            done = await orders.confirm_pickup(staff, shop_id=market.shop_a.id, code=order.pickup_code)
        assert done.status == "fulfilled"
        return placing, confirming

    with driver_log() as log:
        await redeem("warm-up", log)  # the first use of each statement on a connection prepares it
        placing, confirming = await redeem("counted", log)
    if on_postgres():
        assert len(placing) == POSTGRES_PLACE_ROUND_TRIPS, placing
        assert len(confirming) == POSTGRES_CONFIRM_ROUND_TRIPS, confirming
        assert len(placing) + len(confirming) <= POSTGRES_REDEMPTION_BUDGET
    else:
        assert len(placing) == SQLITE_PLACE_STATEMENTS, placing
        assert len(confirming) == SQLITE_CONFIRM_STATEMENTS, confirming
        # One writer transaction each, nothing read before or after it.
        for sent in (placing, confirming):
            assert (sent[0], sent[-1], sent.count("BEGIN IMMEDIATE")) == ("BEGIN IMMEDIATE", "COMMIT", 1), sent
