"""Random sequences of place / cancel / confirm / expire / return over two
items and three members, against a Python model.

Each step's outcome (success or which refusal) must be the one the model
predicts. Afterwards, straight from the tables:
- stock + units in orders that still have them (placed, fulfilled, returned
  without restock) == initial stock, per item (invariant 6: nothing lost or
  invented, never negative);
- the active ledger holds sum to the totals of placed orders;
- each wallet == initial − totals of fulfilled orders;
- ``verify_ledger`` is ok (invariants 1, 2, 4 and the chain).

The test is synchronous and runs each example on its own event loop
(hypothesis drives it outside pytest-asyncio); every example starts from
empty tables.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from community.accounts import wallet_code
from core.clock import utc_now
from core.database import pooled_connections
from ledger.errors import InsufficientFunds
from ledger.tables import LedgerAccount, LedgerHold
from marketplace import orders
from marketplace.errors import (
    MemberLimitReached,
    OrderNotFound,
    OrderNotOpen,
    OutOfStock,
    PickupCodeNotFound,
)
from marketplace.tables import CatalogItem, RedemptionOrder
from tests.support.database import truncate_all
from tests.support.marketplace_helpers import acting, assert_ledger_ok, build_market

# (initial stock, price in hundredths, per-member monthly limit)
ITEMS = ((5, 1000, None), (4, 750, 2))
WALLETS = (5000, 3000, 2000)  # hundredths

Op = tuple[object, ...]
place_op = st.tuples(st.just("place"), st.integers(0, 2), st.integers(0, 1), st.integers(1, 3), st.integers(1, 3))
# Orders are picked by index modulo the number placed so far.
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 30), st.booleans())
confirm_op = st.tuples(st.just("confirm"), st.integers(0, 30))
expire_op = st.tuples(st.just("expire"), st.integers(0, 4))
return_op = st.tuples(st.just("return"), st.integers(0, 30), st.booleans())
# Placing is weighted up so that stock, limits and wallets actually run out.
ops_strategy = st.lists(
    st.one_of(place_op, place_op, place_op, cancel_op, confirm_op, confirm_op, expire_op, return_op, return_op),
    min_size=10,
    max_size=30,
)

T = TypeVar("T")


async def attempt(call: Awaitable[T], *refusals: type[Exception]) -> tuple[T | None, Exception | None]:
    """(result, None) or (None, the refusal); anything else propagates."""
    try:
        return await call, None
    except refusals as refused:
        return None, refused


@dataclass
class ModelOrder:
    id: int
    member: int  # index
    item: int  # index
    quantity: int
    total: int
    pickup_days: int
    code: str
    status: str = "placed"
    restocked: bool = False


@dataclass
class Model:
    stock: list[int] = field(default_factory=lambda: [s for s, _, _ in ITEMS])
    balance: list[int] = field(default_factory=lambda: list(WALLETS))
    orders: list[ModelOrder] = field(default_factory=list)

    def held(self, member: int) -> int:
        return sum(o.total for o in self.orders if o.member == member and o.status == "placed")

    def taken(self, member: int, item: int) -> int:
        return sum(
            o.quantity
            for o in self.orders
            if o.member == member and o.item == item and o.status in ("placed", "fulfilled")
        )

    def expected_place(self, member: int, item: int, quantity: int) -> type[Exception] | None:
        _, price, limit = ITEMS[item]
        if self.stock[item] < quantity:
            return OutOfStock
        if limit is not None and self.taken(member, item) + quantity > limit:
            return MemberLimitReached
        if self.balance[member] - self.held(member) < price * quantity:
            return InsufficientFunds
        return None


async def scenario(ops: list[Op]) -> None:  # noqa: C901, PLR0912, PLR0915 -- interprets a generated scenario: one branch per operation and its model check
    await truncate_all()
    market = await build_market()
    item_ids = [
        (
            await market.item(
                stock=s, price=Decimal(p) / 100, limit_count=limit, limit_period="month" if limit else None
            )
        ).id
        for s, p, limit in ITEMS
    ]
    members = [await market.member(Decimal(w) / 100) for w in WALLETS]
    shop, staff = market.shop_a.id, market.staff_a
    model = Model()

    for op in ops:
        kind = op[0]
        if kind == "place":
            _, member, item, quantity, days = op
            assert isinstance(member, int) and isinstance(item, int)
            assert isinstance(quantity, int) and isinstance(days, int)
            expected = model.expected_place(member, item, quantity)
            order, refused = await attempt(
                orders.place_order(
                    await acting(members[member]),
                    item_id=item_ids[item],
                    shop_id=shop,
                    quantity=quantity,
                    pickup_days=days,
                ),
                OutOfStock,
                MemberLimitReached,
                InsufficientFunds,
            )
            event(f"place: {type(refused).__name__ if refused else 'ok'}")
            assert type(refused) is (expected or type(None)), f"place gave {refused!r}, model expected {expected}"
            if order is None:
                continue
            assert order.total == Decimal(ITEMS[item][1] * quantity) / 100
            model.stock[item] -= quantity
            model.orders.append(
                ModelOrder(order.id, member, item, quantity, ITEMS[item][1] * quantity, days, order.pickup_code)
            )
        elif kind == "expire":
            (_, days) = op
            assert isinstance(days, int)
            due = [o for o in model.orders if o.status == "placed" and o.pickup_days <= days]
            count = await orders.expire_orders(now=utc_now() + timedelta(days=days))
            event(f"expire: {'some' if due else 'none'}")
            assert count == len(due)
            for o in due:
                o.status, o.restocked = "expired", True
                model.stock[o.item] += o.quantity
        else:
            if not model.orders:
                continue
            pick = op[1]
            assert isinstance(pick, int)
            o = model.orders[pick % len(model.orders)]
            if kind == "cancel":
                by_owner = op[2]
                member_id = members[o.member] if by_owner else members[(o.member + 1) % len(members)]
                result, refused = await attempt(
                    orders.cancel_order(await acting(member_id), order_id=o.id), OrderNotFound, OrderNotOpen
                )
                event(f"cancel: {type(refused).__name__ if refused else 'ok'} ({o.status})")
                if not by_owner:  # someone else's order does not exist for them
                    assert isinstance(refused, OrderNotFound)
                elif o.status in ("placed", "cancelled"):  # cancelling twice is idempotent
                    assert result is not None and result.status == "cancelled"
                else:
                    assert isinstance(refused, OrderNotOpen)
                if result is not None and o.status == "placed":
                    o.status, o.restocked = "cancelled", True
                    model.stock[o.item] += o.quantity
            elif kind == "confirm":
                result, refused = await attempt(
                    orders.confirm_pickup(await acting(staff), shop_id=shop, code=o.code), PickupCodeNotFound
                )
                event(f"confirm: {type(refused).__name__ if refused else 'ok'}")
                if o.status != "placed":
                    assert isinstance(refused, PickupCodeNotFound)
                    continue
                assert result is not None and result.id == o.id and result.status == "fulfilled"
                o.status = "fulfilled"
                model.balance[o.member] -= o.total
            elif kind == "return":
                restock = op[2]
                assert isinstance(restock, bool)
                result, refused = await attempt(
                    orders.return_order(
                        await acting(staff), shop_id=market.shop_a.id, order_id=o.id, restock=restock, reason_zh="退货"
                    ),
                    OrderNotOpen,
                )
                event(f"return: {type(refused).__name__ if refused else 'ok'}")
                if o.status != "fulfilled":
                    assert isinstance(refused, OrderNotOpen)
                    continue
                assert result is not None and result.status == "returned"
                o.status, o.restocked = "returned", restock
                model.balance[o.member] += o.total
                if restock:
                    model.stock[o.item] += o.quantity

    # --- afterwards, from the tables ---------------------------------------------
    item_rows = await CatalogItem.select(CatalogItem.id, CatalogItem.stock).run()
    stock = {r["id"]: r["stock"] for r in item_rows}
    order_rows = await RedemptionOrder.select().run()
    for index, item_id in enumerate(item_ids):
        still_out = sum(
            r["quantity"]
            for r in order_rows
            if r["item"] == item_id
            and (r["status"] in ("placed", "fulfilled") or (r["status"] == "returned" and not r["restocked"]))
        )
        assert stock[item_id] + still_out == ITEMS[index][0], f"item {index}: units lost or invented"
        assert stock[item_id] == model.stock[index] >= 0
    hold_rows = await LedgerHold.select(LedgerHold.amount_minor).where(LedgerHold.status == "active").run()
    assert sum(r["amount_minor"] for r in hold_rows) == sum(
        r["total_minor"] for r in order_rows if r["status"] == "placed"
    )
    assert len(hold_rows) == sum(1 for r in order_rows if r["status"] == "placed")
    balances = {
        r["code"]: r["balance_minor"]
        for r in await LedgerAccount.select(LedgerAccount.code, LedgerAccount.balance_minor).run()
    }
    fulfilled: dict[int, int] = defaultdict(int)
    for r in order_rows:
        if r["status"] == "fulfilled":
            fulfilled[r["member"]] += r["total_minor"]
    for index, member_id in enumerate(members):
        assert balances[wallet_code(member_id)] == WALLETS[index] - fulfilled[member_id] == model.balance[index]
    assert {r["id"]: r["status"] for r in order_rows} == {o.id: o.status for o in model.orders}
    await assert_ledger_ok()


async def pooled(work: Awaitable[None]) -> None:
    """On PostgreSQL, run the example on a small connection pool, as the API
    does (the test engine otherwise opens a connection per query, which
    would make this test several times slower). Opened and closed on the
    example's own event loop."""
    async with pooled_connections(max_size=4):
        await work


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=ops_strategy)
def test_random_order_histories_conserve_stock_and_points(ops: list[Op]) -> None:
    """Any history of place/cancel/confirm/expire/return keeps stock, holds and
    wallets consistent with the orders, and the ledger verifies."""
    asyncio.run(pooled(scenario(ops)))
