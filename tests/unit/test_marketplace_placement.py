"""marketplace/placement: the preconditions of placing an order, decided
over facts without a database. Each refusal names the field it is about;
an allowed order says what to write (totals, deadlines, stock left)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from marketplace import placement
from marketplace.errors import (
    InvalidCatalogData,
    ItemNotFound,
    ItemUnavailable,
    MemberLimitReached,
    OrderKeyConflict,
    OutOfStock,
)
from marketplace.models import ItemRecord, LimitPeriod
from marketplace.periods import LOCAL_ZONE
from marketplace.placement import HOLD_MARGIN, MAX_PICKUP_DAYS, MAX_QUANTITY, PickupShop
from tests.support.marketplace_records import NOW, an_item, an_order

GOOD_SHOP = PickupShop(carries_item=True, active=True, same_issuer=True)


def decide(
    item: ItemRecord | None = None,
    *,
    quantity: int = 1,
    pickup_days: int = 7,
    moment: datetime = NOW,
    in_catalog: bool = True,
    pickup_shop: PickupShop = GOOD_SHOP,
    taken_in_period: int = 0,
) -> placement.Placement:
    return placement.decide_placement(
        item or an_item(),
        quantity=quantity,
        pickup_days=pickup_days,
        moment=moment,
        clock_now=moment,
        in_catalog=in_catalog,
        pickup_shop=pickup_shop,
        taken_in_period=taken_in_period,
    )


@pytest.mark.parametrize(
    ("quantity", "pickup_days", "field"),
    [
        (0, 7, "quantity"),
        (MAX_QUANTITY + 1, 7, "quantity"),
        (1, 0, "pickup_days"),
        (1, MAX_PICKUP_DAYS + 1, "pickup_days"),
    ],
)
def test_request_bounds_refuse_before_anything_is_read(quantity: int, pickup_days: int, field: str) -> None:
    with pytest.raises(InvalidCatalogData) as caught:
        placement.check_order_request(quantity=quantity, pickup_days=pickup_days)
    assert caught.value.field == field


def test_request_bounds_are_inclusive() -> None:
    placement.check_order_request(quantity=1, pickup_days=1)
    placement.check_order_request(quantity=MAX_QUANTITY, pickup_days=MAX_PICKUP_DAYS)


def test_an_allowed_order_says_what_to_write() -> None:
    decided = decide(an_item(price=Decimal("12.50"), stock=5), quantity=3, pickup_days=7)
    assert decided.unit_price == Decimal("12.50")
    assert decided.total == Decimal("37.50")
    assert decided.expires_at == NOW + timedelta(days=7)
    assert decided.hold_expires_at == decided.expires_at + HOLD_MARGIN
    assert decided.stock_after == 2


def test_unlimited_stock_takes_nothing() -> None:
    assert decide(an_item(stock=None), quantity=MAX_QUANTITY).stock_after is None


def test_the_hold_outlives_an_order_placed_in_the_past() -> None:
    """An order back-dated past its own deadline still gets a hold that
    expires after the real clock (the ledger refuses past expiries)."""
    long_ago = NOW - timedelta(days=30)
    decided = placement.decide_placement(
        an_item(),
        quantity=1,
        pickup_days=1,
        moment=long_ago,
        clock_now=NOW,
        in_catalog=True,
        pickup_shop=GOOD_SHOP,
        taken_in_period=0,
    )
    assert decided.expires_at < NOW < decided.hold_expires_at == NOW + HOLD_MARGIN


def test_an_item_of_another_catalog_is_refused_like_a_missing_one() -> None:
    with pytest.raises(ItemNotFound) as caught:
        decide(in_catalog=False)
    assert caught.value.field == "item_id"


def test_inactive_items_are_not_on_offer() -> None:
    with pytest.raises(ItemUnavailable) as caught:
        decide(an_item(active=False))
    assert caught.value.field == "item_id"


def test_availability_window_is_from_inclusive_until_exclusive() -> None:
    item = an_item(available_from=NOW, available_until=NOW + timedelta(days=1))
    decide(item, moment=NOW)
    decide(item, moment=NOW + timedelta(days=1) - timedelta(microseconds=1))
    for outside in (NOW - timedelta(microseconds=1), NOW + timedelta(days=1)):
        with pytest.raises(ItemUnavailable):
            decide(item, moment=outside)


@pytest.mark.parametrize(
    "shop",
    [
        PickupShop(carries_item=False, active=True, same_issuer=True),
        PickupShop(carries_item=True, active=False, same_issuer=True),
        PickupShop(carries_item=True, active=True, same_issuer=False),
    ],
)
def test_the_pickup_shop_must_carry_the_item_be_open_and_share_the_issuer(shop: PickupShop) -> None:
    with pytest.raises(ItemUnavailable) as caught:
        decide(pickup_shop=shop)
    assert caught.value.field == "shop_id"


def test_stock_never_goes_below_zero() -> None:
    assert decide(an_item(stock=3), quantity=3).stock_after == 0
    with pytest.raises(OutOfStock) as caught:
        decide(an_item(stock=2), quantity=3)
    assert caught.value.field == "quantity"
    with pytest.raises(OutOfStock):
        decide(an_item(stock=0))


def test_member_limit_counts_what_was_taken_plus_this_order() -> None:
    item = an_item(limit_count=2, limit_period=LimitPeriod.MONTH)
    decide(item, quantity=2, taken_in_period=0)
    decide(item, quantity=1, taken_in_period=1)
    with pytest.raises(MemberLimitReached) as caught:
        decide(item, quantity=1, taken_in_period=2)
    assert caught.value.field == "quantity" and "2 per month" in caught.value.message
    with pytest.raises(MemberLimitReached):
        decide(item, quantity=3, taken_in_period=0)


def test_refusals_come_in_rule_order() -> None:
    """Several rules broken at once: the first in the module's order answers."""
    broken = an_item(active=False, stock=0, limit_count=1, limit_period=LimitPeriod.DAY)
    with pytest.raises(ItemNotFound):
        decide(broken, in_catalog=False, pickup_shop=PickupShop(False, False, False), taken_in_period=1)
    with pytest.raises(ItemUnavailable) as on_offer:
        decide(broken, pickup_shop=PickupShop(False, False, False), taken_in_period=1)
    assert on_offer.value.field == "item_id"
    with pytest.raises(ItemUnavailable) as at_shop:
        decide(an_item(stock=0), pickup_shop=PickupShop(False, False, False))
    assert at_shop.value.field == "shop_id"
    with pytest.raises(OutOfStock):
        decide(an_item(stock=0, limit_count=1, limit_period=LimitPeriod.DAY), taken_in_period=1)


def test_limit_window_is_the_items_calendar_period_in_china_time() -> None:
    assert placement.limit_window(an_item(), NOW) is None
    start, end = placement.limit_window(an_item(limit_count=1, limit_period=LimitPeriod.WEEK), NOW) or (NOW, NOW)
    assert start == datetime(2026, 11, 16, tzinfo=LOCAL_ZONE) and end == datetime(2026, 11, 23, tzinfo=LOCAL_ZONE)


def test_a_replayed_key_must_carry_the_same_order() -> None:
    earlier = an_order(member_id=4, item_id=5, shop_id=7, quantity=2)
    same = {"member_id": 4, "item_id": 5, "shop_id": 7, "quantity": 2}
    placement.check_replay(earlier, idempotency_key="k-1", **same)
    for changed in ({"member_id": 8}, {"item_id": 6}, {"shop_id": 9}, {"quantity": 1}):
        with pytest.raises(OrderKeyConflict) as caught:
            placement.check_replay(earlier, idempotency_key="k-1", **(same | changed))
        assert caught.value.field == "idempotency_key"


def test_affordable_means_available_points_cover_one_unit() -> None:
    assert placement.affordable(Decimal("10.00"), Decimal("10.00"))
    assert not placement.affordable(Decimal("10.00"), Decimal("9.99"))
    assert placement.affordable(Decimal("0.01"), Decimal("0.01"))


def test_decisions_take_no_time_zone_shortcuts() -> None:
    """A window given in Shanghai time compares correctly with a UTC moment."""
    opens = datetime(2026, 11, 18, 10, 0, tzinfo=LOCAL_ZONE)  # == NOW
    decide(an_item(available_from=opens), moment=NOW)
    with pytest.raises(ItemUnavailable):
        decide(an_item(available_from=opens), moment=datetime(2026, 11, 18, 1, 59, tzinfo=UTC))
