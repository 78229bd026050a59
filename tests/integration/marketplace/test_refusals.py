"""place_order refusals write nothing (orders.py: "Nothing is written if any
check fails"). Each test takes a snapshot of every table (ledger accounts,
entries, postings, holds, items and their stock, orders, settlements…)
before the refused call and compares it after."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from community.members import grant_role
from community.organisations import create_organisation
from community.roles import Level, Role
from community.tables import Organisation
from core.clock import utc_now
from ledger.errors import InsufficientFunds
from marketplace import orders
from marketplace.catalog import ItemDraft, create_item, update_item
from marketplace.errors import InvalidCatalogData, ItemNotFound, ItemUnavailable, MemberLimitReached, OutOfStock
from marketplace.periods import period_bounds
from marketplace.shops import create_shop
from tests.support.marketplace_helpers import (
    Market,
    acting,
    assert_ledger_ok,
    assert_same,
    fast_member,
    fund_member,
    snapshot_everything,
    stock,
    wallet_available,
)


async def refused(error: type[Exception], *, member_id: int, **call: Any) -> Any:
    """``member_id`` calls place_order, expect ``error``, and prove nothing was written."""
    member = await acting(member_id)
    before = await snapshot_everything()
    with pytest.raises(error) as caught:
        await orders.place_order(member, **call)
    assert_same(before, await snapshot_everything())
    return caught.value


async def test_insufficient_balance_is_refused_by_the_ledger_and_writes_nothing(market: Market) -> None:
    """Price 3 × 10.00 against 29.99 available: InsufficientFunds from the hold;
    the order row inserted before the hold is rolled back with it."""
    item = await market.item(stock=5)
    member = await market.member("29.99")
    error = await refused(InsufficientFunds, member_id=member, item_id=item.id, shop_id=market.shop_a.id, quantity=3)
    assert isinstance(error, InsufficientFunds) and error.requested == Decimal("30.00")
    # Points already on hold count too: 20 held leaves 9.99 for a 10.00 item.
    await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, quantity=2)
    await refused(InsufficientFunds, member_id=member, item_id=item.id, shop_id=market.shop_a.id)
    assert await stock(item.id) == 3
    await assert_ledger_ok()


async def test_out_of_stock_writes_nothing(market: Market) -> None:
    """Stock 2, quantity 3: OutOfStock; stock 0 refuses a single unit."""
    item = await market.item(stock=2)
    member = await market.member("100")
    await refused(OutOfStock, member_id=member, item_id=item.id, shop_id=market.shop_a.id, quantity=3)
    await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, quantity=2)
    await refused(OutOfStock, member_id=member, item_id=item.id, shop_id=market.shop_a.id)
    assert await stock(item.id) == 0


async def test_member_limit_writes_nothing(market: Market) -> None:
    """Limit 2 a month: 1 + 1 ok, a third refused; 1 + 2 refused too (units, not orders)."""
    item = await market.item(stock=10, limit_count=2, limit_period="month")
    member = await market.member("100")
    await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    await refused(MemberLimitReached, member_id=member, item_id=item.id, shop_id=market.shop_a.id, quantity=2)
    await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    await refused(MemberLimitReached, member_id=member, item_id=item.id, shop_id=market.shop_a.id)
    # Another member has their own allowance.
    other = await market.member("100")
    await orders.place_order(await acting(other), item_id=item.id, shop_id=market.shop_a.id, quantity=2)


async def test_fulfilled_orders_count_against_the_limit_cancelled_and_expired_do_not(market: Market) -> None:
    """Limit 1 a month: a cancelled order and an expired order free the allowance,
    a fulfilled one keeps it taken."""
    item = await market.item(stock=10, limit_count=1, limit_period="month")
    member = await market.member("100")
    shop = market.shop_a.id

    first = await orders.place_order(await acting(member), item_id=item.id, shop_id=shop)
    await orders.cancel_order(await acting(member), order_id=first.id)
    second = await orders.place_order(await acting(member), item_id=item.id, shop_id=shop, pickup_days=1)
    assert await orders.expire_orders(now=utc_now() + timedelta(days=2)) == 1
    assert (await orders.get_order(second.id)).status == "expired"
    third = await orders.place_order(await acting(member), item_id=item.id, shop_id=shop)
    await orders.confirm_pickup(await acting(market.staff_a), shop_id=shop, code=third.pickup_code)
    await refused(MemberLimitReached, member_id=member, item_id=item.id, shop_id=shop)
    assert await stock(item.id) == 9
    await assert_ledger_ok()


async def test_a_new_month_resets_the_limit_at_local_midnight(market: Market) -> None:
    """Limit 1 a month (China Standard Time): one second before the local month
    ends the allowance is still taken; at local midnight it is free again."""
    item = await market.item(stock=10, limit_count=1, limit_period="month")
    member = await market.member("100")
    now = utc_now()
    _, month_end = period_bounds("month", now)
    await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, now=now)
    await refused(
        MemberLimitReached,
        member_id=member,
        item_id=item.id,
        shop_id=market.shop_a.id,
        now=month_end - timedelta(seconds=1),
    )
    next_month = await orders.place_order(
        await acting(member), item_id=item.id, shop_id=market.shop_a.id, now=month_end
    )
    assert next_month.placed_at == month_end
    # ...and that new month is now taken in its turn.
    await refused(
        MemberLimitReached,
        member_id=member,
        item_id=item.id,
        shop_id=market.shop_a.id,
        now=month_end + timedelta(days=3),
    )


@pytest.mark.parametrize("period", ["day", "week", "year"])
async def test_other_limit_periods_hold_within_their_period(market: Market, period: str) -> None:
    """Limit 1 per day / week / year: a second unit in the same period is refused,
    the same call at the start of the next period is accepted."""
    item = await market.item(stock=10, limit_count=1, limit_period=period)
    member = await market.member("100")
    now = utc_now()
    _, end = period_bounds(period, now)
    await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, now=now)
    await refused(MemberLimitReached, member_id=member, item_id=item.id, shop_id=market.shop_a.id, now=now)
    if end - now < timedelta(days=300):  # place_order's hold must stay within the ledger's one-year bound
        await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, now=end)


async def test_inactive_item_writes_nothing(market: Market) -> None:
    """An inactive item is ItemUnavailable; nothing written."""
    item = await market.item(stock=5, active=False)
    member = await market.member("100")
    await refused(ItemUnavailable, member_id=member, item_id=item.id, shop_id=market.shop_a.id)


async def test_item_taken_off_offer_after_creation_is_refused(market: Market) -> None:
    """Deactivating an item through update_item stops new orders."""
    item = await market.item(stock=5)
    member = await market.member("100")
    settings = {name: getattr(item, name) for name in set(ItemDraft.model_fields) - {"shop_ids", "active"}}
    draft = ItemDraft(**settings, active=False, shop_ids=[market.shop_a.id])
    await update_item(await acting(market.organiser), item.id, draft)
    await refused(ItemUnavailable, member_id=member, item_id=item.id, shop_id=market.shop_a.id)


async def test_availability_window_writes_nothing_outside_it(market: Market) -> None:
    """available_from is inclusive, available_until exclusive."""
    now = utc_now().replace(microsecond=0)
    opens, closes = now + timedelta(days=1), now + timedelta(days=8)
    item = await market.item(stock=5, available_from=opens, available_until=closes)
    member = await market.member("100")
    shop = market.shop_a.id
    error = await refused(
        ItemUnavailable, member_id=member, item_id=item.id, shop_id=shop, now=opens - timedelta(seconds=1)
    )
    assert error.field == "item_id"
    await refused(ItemUnavailable, member_id=member, item_id=item.id, shop_id=shop, now=closes)
    await refused(ItemUnavailable, member_id=member, item_id=item.id, shop_id=shop, now=closes + timedelta(days=1))
    await refused(ItemUnavailable, member_id=member, item_id=item.id, shop_id=shop)  # today: not yet
    await orders.place_order(await acting(member), item_id=item.id, shop_id=shop, now=opens)
    await orders.place_order(await acting(member), item_id=item.id, shop_id=shop, now=closes - timedelta(seconds=1))
    assert await stock(item.id) == 3


async def test_shop_that_does_not_carry_the_item_writes_nothing(market: Market) -> None:
    """Ordering for pickup at a shop that does not hand the item out is ItemUnavailable (field shop_id)."""
    item = await market.item(stock=5, shops=[market.shop_a.id])
    member = await market.member("100")
    error = await refused(ItemUnavailable, member_id=member, item_id=item.id, shop_id=market.shop_b.id)
    assert error.field == "shop_id"
    # A shop id that does not exist at all gets the same answer.
    await refused(ItemUnavailable, member_id=member, item_id=item.id, shop_id=market.shop_b.id + 1000)


@pytest.mark.parametrize("quantity", [0, -1, 21])
async def test_quantity_outside_1_to_20_writes_nothing(market: Market, quantity: int) -> None:
    """Quantities 0, -1 and 21 are refused before any transaction (field quantity)."""
    item = await market.item(stock=100)
    member = await market.member("1000")
    error = await refused(
        InvalidCatalogData, member_id=member, item_id=item.id, shop_id=market.shop_a.id, quantity=quantity
    )
    assert error.field == "quantity"


@pytest.mark.parametrize("days", [0, 91])
async def test_pickup_days_outside_1_to_90_writes_nothing(market: Market, days: int) -> None:
    """A pickup window of 0 or 91 days is refused (field pickup_days)."""
    item = await market.item(stock=5)
    member = await market.member("100")
    error = await refused(
        InvalidCatalogData, member_id=member, item_id=item.id, shop_id=market.shop_a.id, pickup_days=days
    )
    assert error.field == "pickup_days"


async def test_quantity_20_is_accepted(market: Market) -> None:
    """The bound itself is allowed: 20 units at 10.00 hold 200.00."""
    item = await market.item(stock=100)
    member = await market.member("200")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, quantity=20)
    assert order.total == Decimal("200.00")
    assert await wallet_available(member) == Decimal("0.00")
    assert await stock(item.id) == 80


async def test_an_item_of_another_communitys_catalog_is_refused_like_a_missing_one(market: Market) -> None:
    """A funded member of another points-issuing community orders an item of
    this community's catalog: ItemNotFound with the very words a missing item
    id gets (the id aside), and nothing is written."""
    item = await market.item(stock=5)
    elsewhere = await create_organisation(name_zh="别的社区", level=Level.COMMUNITY, issues_points=True)
    stranger = await fast_member(elsewhere.id, "外人")
    await fund_member(elsewhere.id, stranger, "100")
    foreign = await refused(ItemNotFound, member_id=stranger, item_id=item.id, shop_id=market.shop_a.id)
    missing = await refused(ItemNotFound, member_id=stranger, item_id=item.id + 1000, shop_id=market.shop_a.id)
    assert foreign.message.replace(str(item.id), "N") == missing.message.replace(str(item.id + 1000), "N")
    assert foreign.field == missing.field == "item_id"
    assert await stock(item.id) == 5


async def test_a_city_item_is_picked_up_only_at_shops_of_the_members_own_issuer(market: Market) -> None:
    """A city-wide item handed out in two communities, each issuing its own
    points: a member of the first cannot have it at the second's shop (their
    points would be settled into the other issuer), but can at their own."""
    (city_id,) = [row["parent"] for row in await Organisation.select().where(Organisation.id == market.org_id).run()]
    admin_id = await fast_member(city_id, "市管理员")
    await grant_role(admin_id, city_id, Role.ADMIN)
    admin = await acting(admin_id)
    east = await create_organisation(name_zh="东区社区", level=Level.COMMUNITY, parent_id=city_id, issues_points=True)
    east_shop = await create_shop(admin, organisation_id=east.id, name_zh="东区超市")
    item = await create_item(
        admin,
        city_id,
        ItemDraft(name_zh="城市礼包", price=Decimal("5.00"), stock=5, shop_ids=[market.shop_a.id, east_shop.id]),
    )
    member = await market.member("100")
    error = await refused(ItemUnavailable, member_id=member, item_id=item.id, shop_id=east_shop.id)
    assert error.field == "shop_id"
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    assert order.status == "placed"
