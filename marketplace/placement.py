"""Placing an order: the preconditions, decided over facts without I/O.

``marketplace.orders.place_order`` loads the facts (the locked item row, the
pickup shop, what the member already took in the limit's period), calls
``decide_placement`` and writes what it returns. The rules, in the order a
refusal is reported:

1. **Request bounds** (``check_order_request``): 1-``MAX_QUANTITY`` units,
   a pickup window of 1-``MAX_PICKUP_DAYS`` days.
   **Replay** (``check_replay``): an idempotency key seen before answers
   with its order if the request is the same, and is refused otherwise;
   the rules below are not applied again.
2. **Own catalog** (``policy.check_order_scope``): an item of another
   community's catalog is refused like a missing one.
3. **On offer** (``check_on_offer``): active and inside its availability window.
4. **Pickup shop** (``policy.check_pickup_shop``): the shop hands the item
   out, is open, and belongs to the member's points issuer.
5. **Stock** (``check_stock``, invariant 6): never below zero.
6. **Member limit** (``check_member_limit``): units of placed and fulfilled
   orders in the item's calendar period (China time), plus this order, stay
   within ``limit_count``.

Affordability is not pre-checked here: the ledger hold decides it under the
wallet's row lock (invariant 2), and refuses with ``InsufficientFunds``.
``affordable`` is the same comparison for the catalog's "can I afford it" hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from marketplace import policy
from marketplace.errors import InvalidCatalogData, ItemUnavailable, MemberLimitReached, OrderKeyConflict, OutOfStock
from marketplace.models import ItemRecord, ItemTerms, LimitPeriod, OrderRecord, OrderStatus
from marketplace.periods import period_bounds

# One order holds at most this many units: a points supermarket, not a wholesaler.
MAX_QUANTITY = 20
# Longest pickup window an order may have; a hold that outlives a season is
# points a member cannot use.
MAX_PICKUP_DAYS = 90
# The ledger hold outlives the order by this margin, so the order's own
# expiry (which restocks) always runs before the ledger's hold expiry.
HOLD_MARGIN = timedelta(days=1)
# Orders that count against a member's per-period limit.
COUNTED_STATUSES = (OrderStatus.HELD, OrderStatus.PLACED, OrderStatus.FULFILLED)

OfferedItem = ItemRecord | ItemTerms
"""An item as the rules judge it: the catalog's record, or the terms
``marketplace.orders`` reads under the item's lock."""


@dataclass(frozen=True, slots=True)
class PickupShop:
    """Facts about the shop an order is to be picked up at."""

    carries_item: bool  # the item lists this shop
    active: bool  # the shop is open (False also for a shop that does not exist)
    same_issuer: bool  # the shop and the member belong to the same points issuer


@dataclass(frozen=True, slots=True)
class Placement:
    """What placing the order writes."""

    unit_price: Decimal
    total: Decimal
    expires_at: datetime  # the order's pickup deadline
    hold_expires_at: datetime  # the ledger hold's, ``HOLD_MARGIN`` later
    stock_after: int | None  # None: unlimited stock, nothing to take


def check_order_request(*, quantity: int, pickup_days: int) -> None:
    """Bounds of the request itself, before anything is read."""
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidCatalogData(f"quantity must be 1-{MAX_QUANTITY}", field="quantity")
    if not 1 <= pickup_days <= MAX_PICKUP_DAYS:
        raise InvalidCatalogData(f"pickup_days must be 1-{MAX_PICKUP_DAYS}", field="pickup_days")


def check_on_offer(item: OfferedItem, moment: datetime) -> None:
    """Active, and ``moment`` inside [available_from, available_until)."""
    if not item.active:
        raise ItemUnavailable("this item is not on offer", field="item_id")
    if item.available_from is not None and moment < item.available_from:
        raise ItemUnavailable(f"this item is on offer from {item.available_from.isoformat()}", field="item_id")
    if item.available_until is not None and moment >= item.available_until:
        raise ItemUnavailable("this item is no longer on offer", field="item_id")


def check_stock(item: OfferedItem, quantity: int) -> None:
    """Invariant 6: an order never takes stock below zero."""
    if item.stock is not None and item.stock < quantity:
        raise OutOfStock(f"only {item.stock} left", field="quantity")


def limit_window(item: OfferedItem, moment: datetime) -> tuple[datetime, datetime] | None:
    """[start, end) of the period whose orders count against the item's
    per-member limit, or None if the item has no limit."""
    if item.limit_count is None or item.limit_period is None:
        return None
    return period_bounds(item.limit_period, moment)


def period_windows(moment: datetime) -> tuple[tuple[datetime, datetime], ...]:
    """[start, end) of each limit period containing ``moment``, in
    ``LimitPeriod`` order: the units taken are read before the item is (in
    one statement), so for every period; ``limit_window`` is the item's."""
    return tuple(period_bounds(period, moment) for period in LimitPeriod)


def check_member_limit(item: OfferedItem, quantity: int, *, taken_in_period: int) -> None:
    """``taken_in_period`` units (of ``COUNTED_STATUSES`` orders placed in
    ``limit_window``) plus ``quantity`` stay within the item's limit."""
    if item.limit_count is None:
        return
    if taken_in_period + quantity > item.limit_count:
        raise MemberLimitReached(
            f"limit is {item.limit_count} per {item.limit_period}; you have {taken_in_period} already",
            field="quantity",
        )


def decide_placement(
    item: OfferedItem,
    *,
    quantity: int,
    pickup_days: int,
    moment: datetime,
    clock_now: datetime,
    in_catalog: bool,
    pickup_shop: PickupShop,
    taken_in_period: int,
) -> Placement:
    """Refuse (rules 2-6 of the module doc) or say what to write.

    ``moment`` is when the order is placed (the availability window and the
    limit's period are judged at it); ``clock_now`` is the real clock, which
    the ledger hold's expiry must lie beyond."""
    policy.check_order_scope(item_id=item.id, item_in_catalog=in_catalog)
    check_on_offer(item, moment)
    policy.check_pickup_shop(
        carries_item=pickup_shop.carries_item, active=pickup_shop.active, same_issuer=pickup_shop.same_issuer
    )
    check_stock(item, quantity)
    check_member_limit(item, quantity, taken_in_period=taken_in_period)
    expires_at = moment + timedelta(days=pickup_days)
    return Placement(
        unit_price=item.price,
        total=item.price * quantity,
        expires_at=expires_at,
        hold_expires_at=max(expires_at, clock_now) + HOLD_MARGIN,
        stock_after=item.stock - quantity if item.stock is not None else None,
    )


def check_replay(
    earlier: OrderRecord, *, idempotency_key: str, member_id: int, item_id: int, shop_id: int, quantity: int
) -> None:
    """A replayed idempotency key must carry the same order (member, item,
    shop, quantity) as the request that first used it; then the earlier
    order is the answer, whatever became of it since."""
    if (earlier.member_id, earlier.item_id, earlier.shop_id, earlier.quantity) != (
        member_id,
        item_id,
        shop_id,
        quantity,
    ):
        raise OrderKeyConflict(
            f"idempotency key {idempotency_key!r} was used for another order", field="idempotency_key"
        )


def affordable(price: Decimal, available: Decimal) -> bool:
    """Whether ``available`` points cover one unit at ``price`` (the
    catalog's hint; the hold at placement is what decides)."""
    return price <= available
