"""Invariant 6 (stock never below zero, one pickup code redeems at most once)
and invariant 3 (one effect per idempotency key) under real concurrency.

As in ``tests/integration/ledger/test_concurrency.py``: every coroutine runs its own
transaction on its own connection (on PostgreSQL from a pool larger than
the number of concurrent callers, see ``conftest.py``).
PostgreSQL serialises them with row locks (order row, item row, then
account rows), SQLite with BEGIN IMMEDIATE and the busy timeout. Callers
only ever see a result or a domain refusal: never a deadlock, a
serialization failure, "database is locked", a raw unique violation or
LedgerBusy.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from ledger.errors import InsufficientFunds
from ledger.tables import LedgerEntry
from marketplace import orders, settlement
from marketplace.errors import (
    MemberLimitReached,
    OrderNotOpen,
    OutOfStock,
    PeriodAlreadySettled,
    PickupCodeNotFound,
)
from marketplace.models import OrderRecord, Statement
from marketplace.periods import period_bounds
from marketplace.settlement import build_statement, settle_period
from marketplace.tables import RedemptionOrder, SettlementStatement
from tests.support.marketplace_helpers import (
    Market,
    acting,
    active_holds,
    assert_ledger_ok,
    balance,
    stock,
    wallet,
    wallet_available,
)


def rendezvous(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, parties: int) -> None:
    """Make concurrent callers meet at ``owner.name`` before any goes on.

    Forces the interleaving READ COMMITTED allows and a race only sometimes
    hits: every caller has passed the checks before the gate, then they
    proceed one by one (row locks). Where writers are serialised anyway
    (SQLite's BEGIN IMMEDIATE) the others cannot arrive: the first waits at
    most half a second, then the gate opens for good.
    """
    real = getattr(owner, name)
    arrived = 0
    everyone = asyncio.Event()

    async def gate(*args: Any, **kwargs: Any) -> Any:
        nonlocal arrived
        if not everyone.is_set():
            arrived += 1
            if arrived >= parties:
                everyone.set()
            else:
                try:
                    await asyncio.wait_for(everyone.wait(), 0.5)
                except TimeoutError:
                    everyone.set()
        return await real(*args, **kwargs)

    monkeypatch.setattr(owner, name, gate)


def split(results: list[Any], *expected: type) -> tuple[dict[type, list[Any]], list[BaseException]]:
    """Group gather() results by type; anything unexpected is returned separately."""
    grouped: dict[type, list[Any]] = {kind: [] for kind in expected}
    unexpected: list[BaseException] = []
    for result in results:
        for kind in expected:
            if isinstance(result, kind):
                grouped[kind].append(result)
                break
        else:
            unexpected.append(result)
    return grouped, unexpected


async def test_last_unit_under_race(market: Market) -> None:
    """50 members race for the last unit: exactly one order and one active hold,
    49 OutOfStock and nothing else, stock 0 (never negative), ledger verifies."""
    item = await market.item(stock=1, price=Decimal("30.00"))
    members = await market.members(50, points="100")
    results = await asyncio.gather(
        *[orders.place_order(await acting(m), item_id=item.id, shop_id=market.shop_a.id) for m in members],
        return_exceptions=True,
    )
    grouped, unexpected = split(results, OrderRecord, OutOfStock)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    assert len(grouped[OrderRecord]) == 1 and len(grouped[OutOfStock]) == 49
    (order,) = grouped[OrderRecord]
    assert await stock(item.id) == 0
    assert int(await RedemptionOrder.count().run()) == 1
    holds = await active_holds()
    assert [(h["id"], h["amount_minor"]) for h in holds] == [(order.hold_id, 3000)]
    # Only the winner's points are reserved; the 49 others are untouched.
    for member_id in members:
        expected = Decimal("70.00") if member_id == order.member_id else Decimal("100.00")
        assert await wallet_available(member_id) == expected
        assert await wallet(member_id) == Decimal("100.00")
    await assert_ledger_ok()


async def test_double_confirmation_race(market: Market) -> None:
    """One pickup code entered 10 times at once: one fulfilment, one 'redemption'
    entry, 9 refusals (PickupCodeNotFound or OrderNotOpen only), the shop's
    settlement account holds exactly the order total."""
    item = await market.item(stock=5, price=Decimal("12.50"))
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, quantity=2)
    results = await asyncio.gather(
        *[
            orders.confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=order.pickup_code)
            for _ in range(10)
        ],
        return_exceptions=True,
    )
    grouped, unexpected = split(results, OrderRecord, PickupCodeNotFound, OrderNotOpen)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    assert len(grouped[OrderRecord]) == 1
    assert len(grouped[PickupCodeNotFound]) + len(grouped[OrderNotOpen]) == 9
    (fulfilled,) = grouped[OrderRecord]
    assert fulfilled.status == "fulfilled" and fulfilled.entry_id is not None
    assert int(await LedgerEntry.count().where(LedgerEntry.kind == "redemption").run()) == 1
    assert await balance(market.shop_a.settlement_account) == Decimal("25.00") == order.total
    assert await wallet(member) == Decimal("75.00")
    assert await active_holds() == []
    assert await stock(item.id) == 3
    await assert_ledger_ok()


async def test_concurrent_replays_of_one_key_make_one_order(market: Market, monkeypatch: pytest.MonkeyPatch) -> None:
    """10 concurrent place_order calls with one idempotency key: one order, one hold,
    all 10 results carry its id, exactly one of them not replayed."""
    item = await market.item(stock=10)
    member = await market.member("100")
    # All 10 start their transaction before the first inserts: they queue on
    # the item row, and those whose facts predate the first's commit hit the
    # unique key (retry, replay).
    rendezvous(monkeypatch, orders, "_placed", 10)
    results = await asyncio.gather(
        *[
            orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, idempotency_key="tap-1")
            for _ in range(10)
        ],
        return_exceptions=True,
    )
    grouped, unexpected = split(results, OrderRecord)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    assert len({o.id for o in grouped[OrderRecord]}) == 1
    assert Counter(o.replayed for o in grouped[OrderRecord]) == {False: 1, True: 9}
    assert int(await RedemptionOrder.count().run()) == 1
    assert len(await active_holds()) == 1
    assert await stock(item.id) == 9
    assert await wallet_available(member) == Decimal("90.00")
    await assert_ledger_ok()


@pytest.mark.parametrize(
    "scarce",
    [
        "stock",
        "limit",
        "points",
    ],
)
async def test_concurrent_replays_replay_even_when_the_first_took_the_last_unit(
    market: Market, monkeypatch: pytest.MonkeyPatch, scarce: str
) -> None:
    """A double-tapped order for the last unit (or the last allowed unit, or with
    points for one): every replay returns the one order, none is refused."""
    fields: dict[str, Any] = {"stock": 1} if scarce == "stock" else {"stock": 10}
    if scarce == "limit":
        fields.update(limit_count=1, limit_period="month")
    item = await market.item(**fields)
    member = await market.member("10" if scarce == "points" else "100")
    rendezvous(monkeypatch, orders, "_placed", 10)
    results = await asyncio.gather(
        *[
            orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, idempotency_key="tap-2")
            for _ in range(10)
        ],
        return_exceptions=True,
    )
    grouped, unexpected = split(results, OrderRecord, OutOfStock, MemberLimitReached, InsufficientFunds)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    refused = {kind.__name__: len(found) for kind, found in grouped.items() if kind is not OrderRecord and found}
    assert refused == {}, f"replays refused instead of replayed: {refused}"
    assert len({o.id for o in grouped[OrderRecord]}) == 1
    assert int(await RedemptionOrder.count().run()) == 1
    assert len(await active_holds()) == 1
    await assert_ledger_ok()


async def test_a_member_limit_holds_when_one_members_orders_race(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """10 different orders of one member for an item limited to 2 a month, at
    once (unlimited stock, so nothing else about the item changes): exactly 2
    are placed, 8 refused with MemberLimitReached, 2 holds, ledger verifies.
    The callers that waited for the item row read the units taken before the
    winners committed; the count taken as the order is written refuses them."""
    item = await market.item(stock=None, limit_count=2, limit_period="month")
    member = await market.member("100")
    rendezvous(monkeypatch, orders, "_placed", 10)
    results = await asyncio.gather(
        *[
            orders.place_order(
                await acting(member), item_id=item.id, shop_id=market.shop_a.id, idempotency_key=f"limit-{n}"
            )
            for n in range(10)
        ],
        return_exceptions=True,
    )
    grouped, unexpected = split(results, OrderRecord, MemberLimitReached)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    assert len(grouped[OrderRecord]) == 2 and len(grouped[MemberLimitReached]) == 8
    assert int(await RedemptionOrder.count().run()) == 2
    assert len(await active_holds()) == 2
    assert await wallet_available(member) == Decimal("80.00")
    await assert_ledger_ok()


async def test_concurrent_cancel_and_confirm_resolve_one_way(market: Market) -> None:
    """Cancel and pickup of one order at once, 10 times over: each order ends either
    fulfilled (points at the shop) or cancelled (points and stock back), never both."""
    item = await market.item(stock=10)
    member = await market.member("200")
    placed = [
        await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id) for _ in range(10)
    ]
    calls = []
    for order in placed:
        calls.append(orders.cancel_order(await acting(member), order_id=order.id))
        calls.append(
            orders.confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=order.pickup_code)
        )
    results = await asyncio.gather(*calls, return_exceptions=True)
    grouped, unexpected = split(results, OrderRecord, OrderNotOpen, PickupCodeNotFound)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    assert len(grouped[OrderRecord]) == 10  # one winner per order
    final = {o.id: o.status for o in [await orders.get_order(p.id) for p in placed]}
    fulfilled = sum(1 for s in final.values() if s == "fulfilled")
    assert fulfilled + sum(1 for s in final.values() if s == "cancelled") == 10
    assert await wallet(member) == Decimal(200 - 10 * fulfilled)
    assert await balance(market.shop_a.settlement_account) == Decimal(10 * fulfilled)
    assert await stock(item.id) == 10 - fulfilled
    assert await active_holds() == []
    await assert_ledger_ok()


async def test_concurrent_settlements_of_one_month_settle_once(market: Market, monkeypatch: pytest.MonkeyPatch) -> None:
    """5 concurrent settle_period calls for one finished month: one settles, the
    others get PeriodAlreadySettled, exactly one settlement entry moves the net."""
    item = await market.item(stock=10)
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, quantity=3)
    done = await orders.confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=order.pickup_code)
    assert done.fulfilled_at is not None
    start, end = period_bounds("month", done.fulfilled_at)
    period = f"{start.year}-{start.month:02d}"
    # All 5 pass the "already settled?" check before the first records its settlement.
    rendezvous(monkeypatch, settlement, "build_statement", 5)
    results = await asyncio.gather(
        *[
            settle_period(await acting(market.organiser), shop_id=market.shop_a.id, period=period, now=end)
            for _ in range(5)
        ],
        return_exceptions=True,
    )
    grouped, unexpected = split(results, Statement, PeriodAlreadySettled)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    assert len(grouped[Statement]) == 1 and len(grouped[PeriodAlreadySettled]) == 4
    assert int(await SettlementStatement.count().run()) == 1
    assert int(await LedgerEntry.count().where(LedgerEntry.kind == "settlement").run()) == 1
    assert await balance(market.shop_a.settlement_account) == Decimal("0.00")
    assert (await build_statement(market.shop_a.id, period)).settled
    await assert_ledger_ok()
