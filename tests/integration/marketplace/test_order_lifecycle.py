"""An order's life: place → confirm (→ return) | cancel | expire.

Each transition is checked on both sides of the two-phase design: the
ledger (hold active / posted / voided, wallet and shop balances, entries)
and the shelf (stock), and the ledger verifies after each.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from community.accounts import wallet_code
from core.clock import utc_now
from ledger.holds import get_hold
from ledger.posting import load_entry
from ledger.tables import LedgerEntry
from marketplace import orders
from marketplace.errors import (
    InvalidCatalogData,
    OrderKeyConflict,
    OrderNotFound,
    OrderNotOpen,
    PeriodAlreadySettled,
    PickupCodeNotFound,
)
from marketplace.models import OrderRecord
from marketplace.periods import period_bounds
from marketplace.pickup_codes import display
from marketplace.settlement import settle_period
from marketplace.tables import RedemptionOrder
from tests.support.marketplace_helpers import (
    Market,
    acting,
    active_holds,
    assert_ledger_ok,
    assert_same,
    balance,
    snapshot_everything,
    stock,
    wallet,
    wallet_available,
)

# --- place and confirm -----------------------------------------------------------


async def test_place_holds_points_and_takes_stock_confirm_posts_to_the_shop(market: Market) -> None:
    """Place: hold of the total, stock down, balance untouched. Confirm: one
    'redemption' entry wallet → shop settlement, hold posted, stock unchanged."""
    item = await market.item(stock=5, price=Decimal("7.50"))
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, quantity=2)
    assert (order.status, order.total, order.unit_price, order.quantity) == (
        "placed",
        Decimal("15.00"),
        Decimal("7.50"),
        2,
    )
    assert order.expires_at - order.placed_at == timedelta(days=7)
    assert order.hold_id is not None
    hold = await get_hold(order.hold_id)
    assert (hold.status, hold.amount, hold.account_code) == ("active", Decimal("15.00"), wallet_code(member))
    assert hold.expires_at > order.expires_at  # the order's own expiry (which restocks) runs first
    assert await stock(item.id) == 3
    assert (await wallet(member), await wallet_available(member)) == (Decimal("100.00"), Decimal("85.00"))

    done = await orders.confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=order.pickup_code)
    assert done.status == "fulfilled" and done.fulfilled_at is not None and done.entry_id is not None
    entry = await load_entry(done.entry_id)
    assert entry.kind == "redemption"
    assert {p.account_code: p.amount for p in entry.postings} == {
        wallet_code(member): Decimal("-15.00"),
        market.shop_a.settlement_account: Decimal("15.00"),
    }
    assert done.fulfilled_at == entry.created_at
    assert (await get_hold(order.hold_id)).status == "posted"
    row = (await RedemptionOrder.select(RedemptionOrder.fulfilled_by).where(RedemptionOrder.id == order.id).run())[0]
    assert row["fulfilled_by"] == market.staff_a
    assert (await wallet(member), await wallet_available(member)) == (Decimal("85.00"), Decimal("85.00"))
    assert await balance(market.shop_a.settlement_account) == Decimal("15.00")
    assert await stock(item.id) == 3
    await assert_ledger_ok()


async def test_confirm_accepts_the_code_as_staff_type_it(market: Market) -> None:
    """Lower case, with the display dash, with spaces: the same order."""
    item = await market.item(stock=5)
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    typed = f"  {display(order.pickup_code).lower()} "
    done = await orders.confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=typed)
    assert done.id == order.id and done.status == "fulfilled"


async def test_unlimited_stock_stays_unlimited(market: Market) -> None:
    """An item with stock NULL is never counted down or up: orders and cancels leave it unlimited."""
    item = await market.item(stock=None)
    member = await market.member("200")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, quantity=20)
    assert await stock(item.id) is None
    await orders.cancel_order(await acting(member), order_id=order.id)
    assert await stock(item.id) is None


# --- cancel ------------------------------------------------------------------------


async def test_cancel_by_the_owner_restores_points_and_stock(market: Market) -> None:
    """The owner cancels before pickup: hold voided, available points and stock back, no entry written."""
    item = await market.item(stock=5)
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, quantity=3)
    assert (await stock(item.id), await wallet_available(member)) == (2, Decimal("70.00"))
    cancelled = await orders.cancel_order(await acting(member), order_id=order.id)
    assert cancelled.status == "cancelled" and cancelled.closed_at is not None
    assert order.hold_id is not None
    assert (await get_hold(order.hold_id)).status == "voided"
    assert (await stock(item.id), await wallet_available(member), await wallet(member)) == (
        5,
        Decimal("100.00"),
        Decimal("100.00"),
    )
    assert await active_holds() == []
    assert int(await LedgerEntry.count().where(LedgerEntry.kind == "redemption").run()) == 0
    await assert_ledger_ok()


async def test_cancel_by_another_member_is_order_not_found_and_writes_nothing(market: Market) -> None:
    """Another member's order (or an unknown id) does not exist for the caller; nothing changes."""
    item = await market.item(stock=5)
    owner, stranger = await market.member("100"), await market.member("100")
    order = await orders.place_order(await acting(owner), item_id=item.id, shop_id=market.shop_a.id)
    before = await snapshot_everything()
    with pytest.raises(OrderNotFound):
        await orders.cancel_order(await acting(stranger), order_id=order.id)
    with pytest.raises(OrderNotFound):
        await orders.cancel_order(await acting(owner), order_id=order.id + 1000)
    assert_same(before, await snapshot_everything())


async def test_cancel_twice_is_idempotent(market: Market) -> None:
    """The second cancel returns the cancelled order and changes nothing."""
    item = await market.item(stock=5)
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, quantity=2)
    first = await orders.cancel_order(await acting(member), order_id=order.id)
    before = await snapshot_everything()
    second = await orders.cancel_order(await acting(member), order_id=order.id)
    assert second.status == "cancelled" and second.closed_at == first.closed_at
    assert_same(before, await snapshot_everything())
    assert await stock(item.id) == 5  # restocked once, not twice
    await assert_ledger_ok()


async def test_cancel_after_pickup_is_refused(market: Market) -> None:
    """A fulfilled order cannot be cancelled (OrderNotOpen); nothing changes."""
    item = await market.item(stock=5)
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    await orders.confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=order.pickup_code)
    before = await snapshot_everything()
    with pytest.raises(OrderNotOpen):
        await orders.cancel_order(await acting(member), order_id=order.id)
    assert_same(before, await snapshot_everything())


async def test_cancelled_code_no_longer_confirms(market: Market) -> None:
    """Once cancelled, the pickup code is no open order any more."""
    item = await market.item(stock=5)
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    await orders.cancel_order(await acting(member), order_id=order.id)
    with pytest.raises(PickupCodeNotFound):
        await orders.confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=order.pickup_code)


# --- expire ------------------------------------------------------------------------


async def test_expire_orders_expires_only_due_placed_orders(market: Market) -> None:
    """Due & placed → expired (points, stock back); not yet due, fulfilled and
    cancelled orders untouched; the return value counts the expired ones."""
    item = await market.item(stock=20)
    member = await market.member("1000")
    shop = market.shop_a.id

    async def place(days: int, quantity: int = 1) -> OrderRecord:
        return await orders.place_order(
            await acting(member), item_id=item.id, shop_id=shop, pickup_days=days, quantity=quantity
        )

    due_1, due_2 = await place(1, 2), await place(2, 3)
    later = await place(10)
    fulfilled = await place(1)
    await orders.confirm_pickup(await acting(market.staff_a), shop_id=shop, code=fulfilled.pickup_code)
    cancelled = await place(1)
    await orders.cancel_order(await acting(member), order_id=cancelled.id)
    assert await stock(item.id) == 20 - 2 - 3 - 1 - 1

    assert await orders.expire_orders(now=utc_now() + timedelta(days=3)) == 2
    statuses = [(await orders.get_order(o.id)).status for o in (due_1, due_2, later, fulfilled, cancelled)]
    assert statuses == ["expired", "expired", "placed", "fulfilled", "cancelled"]
    assert due_1.hold_id is not None and later.hold_id is not None
    assert (await get_hold(due_1.hold_id)).status == "voided"
    assert (await get_hold(later.hold_id)).status == "active"
    assert await stock(item.id) == 20 - 1 - 1
    assert await wallet(member) == Decimal("990.00")  # only the pickup spent
    assert await wallet_available(member) == Decimal("980.00")  # `later` still holds 10
    assert [h["id"] for h in await active_holds()] == [later.hold_id]
    # Running again finds nothing more; at +11 days `later` goes too.
    assert await orders.expire_orders(now=utc_now() + timedelta(days=3)) == 0
    assert await orders.expire_orders(now=utc_now() + timedelta(days=11)) == 1
    assert await stock(item.id) == 19
    await assert_ledger_ok()


async def test_expire_orders_works_through_every_batch(market: Market) -> None:
    """More due orders than one batch: expire_orders keeps going until every one is expired."""
    item = await market.item(stock=20)
    member = await market.member("1000")
    for _ in range(5):
        await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, pickup_days=1)
    assert await orders.expire_orders(now=utc_now() + timedelta(days=2), batch_size=2) == 5
    assert await stock(item.id) == 20
    assert await active_holds() == []
    await assert_ledger_ok()


async def test_confirm_after_the_pickup_deadline_is_order_not_open(market: Market) -> None:
    """An order whose deadline has passed but that the expiry job has not
    closed yet cannot be picked up; the job then expires it."""
    item = await market.item(stock=5)
    member = await market.member("100")
    order = await orders.place_order(
        await acting(member),
        item_id=item.id,
        shop_id=market.shop_a.id,
        now=utc_now() - timedelta(days=8),
        pickup_days=7,
    )
    before = await snapshot_everything()
    with pytest.raises(OrderNotOpen):
        await orders.confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=order.pickup_code)
    assert_same(before, await snapshot_everything())
    assert await orders.expire_orders() == 1
    assert (await orders.get_order(order.id)).status == "expired"
    assert (await stock(item.id), await wallet_available(member)) == (5, Decimal("100.00"))
    with pytest.raises(PickupCodeNotFound):
        await orders.confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=order.pickup_code)
    await assert_ledger_ok()


# --- staff scope -------------------------------------------------------------------


async def test_confirm_at_another_shop_is_pickup_code_not_found(market: Market) -> None:
    """Staff of shop B entering a code of shop A's order learn nothing and change nothing."""
    item = await market.item(stock=5, shops=[market.shop_a.id, market.shop_b.id])
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    before = await snapshot_everything()
    with pytest.raises(PickupCodeNotFound):
        await orders.confirm_pickup(await acting(market.staff_b), shop_id=market.shop_b.id, code=order.pickup_code)
    assert_same(before, await snapshot_everything())
    assert (await orders.get_order(order.id)).status == "placed"
    # At its own shop it still works.
    done = await orders.confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=order.pickup_code)
    assert done.status == "fulfilled"
    assert await balance(market.shop_b.settlement_account) == Decimal("0.00")


@pytest.mark.parametrize("code", ["", "ABC", "ABCDEFGHJ", "0OIL0OIL", "ABCD EFG!"])
async def test_malformed_codes_are_pickup_code_not_found(market: Market, code: str) -> None:
    """Codes of the wrong length or with letters outside the alphabet are simply not found."""
    with pytest.raises(PickupCodeNotFound):
        await orders.confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=code)


# --- return after pickup -----------------------------------------------------------


async def picked_up(market: Market, *, quantity: int = 2, stock_on_shelf: int = 5) -> tuple[int, int, OrderRecord]:
    item = await market.item(stock=stock_on_shelf)
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, quantity=quantity)
    done = await orders.confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=order.pickup_code)
    return item.id, member, done


@pytest.mark.parametrize("restock", [True, False])
async def test_return_reverses_the_redemption_and_restocks_only_if_asked(market: Market, restock: bool) -> None:
    """A return reverses the redemption entry (wallet back, shop account back
    to 0); stock returns only with restock=True."""
    item_id, member, done = await picked_up(market)
    assert (await wallet(member), await stock(item_id)) == (Decimal("80.00"), 3)
    returned = await orders.return_order(
        await acting(market.staff_a), shop_id=market.shop_a.id, order_id=done.id, restock=restock, reason_zh="质量问题"
    )
    assert returned.status == "returned" and returned.return_entry_id is not None
    reversal = await load_entry(returned.return_entry_id)
    assert reversal.reverses_id == done.entry_id and reversal.kind == "reversal"
    assert returned.returned_at == reversal.created_at
    assert await wallet(member) == Decimal("100.00")
    assert await wallet_available(member) == Decimal("100.00")
    assert await balance(market.shop_a.settlement_account) == Decimal("0.00")
    assert await stock(item_id) == (5 if restock else 3)
    await assert_ledger_ok()


async def test_return_twice_is_refused(market: Market) -> None:
    """A returned order is not fulfilled any more: a second return is OrderNotOpen and writes nothing."""
    _, _, done = await picked_up(market)
    await orders.return_order(
        await acting(market.staff_a), shop_id=market.shop_a.id, order_id=done.id, restock=True, reason_zh="退货"
    )
    before = await snapshot_everything()
    with pytest.raises(OrderNotOpen):
        await orders.return_order(
            await acting(market.staff_a), shop_id=market.shop_a.id, order_id=done.id, restock=True, reason_zh="退货"
        )
    assert_same(before, await snapshot_everything())


async def test_only_picked_up_orders_can_be_returned(market: Market) -> None:
    """Placed and cancelled orders cannot be returned (OrderNotOpen), unknown ids are OrderNotFound; nothing changes."""
    item = await market.item(stock=5)
    member = await market.member("100")
    placed = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    cancelled = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    await orders.cancel_order(await acting(member), order_id=cancelled.id)
    before = await snapshot_everything()
    for order in (placed, cancelled):
        with pytest.raises(OrderNotOpen):
            await orders.return_order(
                await acting(market.staff_a),
                shop_id=market.shop_a.id,
                order_id=order.id,
                restock=True,
                reason_zh="退货",
            )
    with pytest.raises(OrderNotFound):
        await orders.return_order(
            await acting(market.staff_a),
            shop_id=market.shop_a.id,
            order_id=cancelled.id + 100,
            restock=True,
            reason_zh="退货",
        )
    assert_same(before, await snapshot_everything())


@pytest.mark.parametrize("reason", ["", "   ", "长" * 301])
async def test_return_needs_a_reason(market: Market, reason: str) -> None:
    """Empty, blank or over-long reasons are refused before anything is written."""
    _, _, done = await picked_up(market)
    before = await snapshot_everything()
    with pytest.raises(InvalidCatalogData) as caught:
        await orders.return_order(
            await acting(market.staff_a), shop_id=market.shop_a.id, order_id=done.id, restock=True, reason_zh=reason
        )
    assert caught.value.field == "reason_zh"
    assert_same(before, await snapshot_everything())


async def test_return_after_its_month_is_settled_is_refused(market: Market) -> None:
    """Once the pickup's month is settled the points have left the shop's
    account: a return is PeriodAlreadySettled and writes nothing."""
    _, member, done = await picked_up(market)
    assert done.fulfilled_at is not None
    start, end = period_bounds("month", done.fulfilled_at)
    await settle_period(
        await acting(market.organiser), shop_id=market.shop_a.id, period=f"{start.year}-{start.month:02d}", now=end
    )
    before = await snapshot_everything()
    with pytest.raises(PeriodAlreadySettled):
        await orders.return_order(
            await acting(market.staff_a), shop_id=market.shop_a.id, order_id=done.id, restock=True, reason_zh="退货"
        )
    assert_same(before, await snapshot_everything())
    assert (await orders.get_order(done.id)).status == "fulfilled"
    assert await wallet(member) == Decimal("80.00")
    await assert_ledger_ok()


# --- idempotent place_order --------------------------------------------------------


async def test_same_key_returns_the_same_order(market: Market) -> None:
    """Replaying a key returns the original order (replayed=True) and writes nothing, even after it was cancelled."""
    item = await market.item(stock=5)
    member = await market.member("100")
    shop = market.shop_a.id
    first = await orders.place_order(
        await acting(member), item_id=item.id, shop_id=shop, quantity=2, idempotency_key="k-1"
    )
    assert not first.replayed
    before = await snapshot_everything()
    again = await orders.place_order(
        await acting(member), item_id=item.id, shop_id=shop, quantity=2, idempotency_key="k-1"
    )
    assert again.replayed and replace(again, replayed=False) == first
    assert_same(before, await snapshot_everything())
    # Whatever happened to the order since, the key still names it (one effect per key).
    await orders.cancel_order(await acting(member), order_id=first.id)
    late = await orders.place_order(
        await acting(member), item_id=item.id, shop_id=shop, quantity=2, idempotency_key="k-1"
    )
    assert late.replayed and late.id == first.id and late.status == "cancelled"
    # Without a key, the same request is a new order.
    fresh = await orders.place_order(await acting(member), item_id=item.id, shop_id=shop, quantity=2)
    assert fresh.id != first.id


@pytest.mark.parametrize("change", ["quantity", "item", "shop", "member"])
async def test_same_key_other_payload_is_a_conflict(market: Market, change: str) -> None:
    """A key reused with another quantity, item, shop or member is OrderKeyConflict and writes nothing."""
    item = await market.item(stock=5, shops=[market.shop_a.id, market.shop_b.id])
    other_item = await market.item(stock=5, name_zh="香皂")
    member, other_member = await market.member("100"), await market.member("100")
    request: dict[str, Any] = {"item_id": item.id, "shop_id": market.shop_a.id, "quantity": 1}
    await orders.place_order(await acting(member), **request, idempotency_key="k-2")
    changed: dict[str, Any] = {
        "quantity": {"quantity": 2},
        "item": {"item_id": other_item.id},
        "shop": {"shop_id": market.shop_b.id},
        "member": {},
    }[change]
    caller = await acting(other_member if change == "member" else member)
    before = await snapshot_everything()
    with pytest.raises(OrderKeyConflict):
        await orders.place_order(caller, **{**request, **changed}, idempotency_key="k-2")
    assert_same(before, await snapshot_everything())
