"""Redemption orders: two-phase, on ledger holds.

place   → one transaction: lock the item row, load the facts, decide
          (``marketplace.placement``), insert the order, hold the points,
          take the stock. Nothing is written if any rule refuses.
confirm → staff who work at that shop (``marketplace.policy``) enter the
          pickup code: the hold is posted to the shop's settlement account;
          the order is fulfilled once.
cancel / expire → the hold is voided and the stock comes back.
return  → the redemption entry is reversed; stock comes back if the item
          does.

Every move of an order is decided by ``marketplace.transitions`` over the
locked order (load → decide → persist). Each operation a person does takes
their ``Principal``, is authorised by ``marketplace.policy`` and writes its
audit record in its own transaction. Every operation locks in one order —
order row, item row, shop row, then the ledger's account rows — so no two of
them can deadlock each other. On SQLite each is one BEGIN IMMEDIATE
transaction.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from community import audit
from community.access import Principal
from community.accounts import wallet_code
from community.organisations import issuing_organisation_for
from core.clock import utc_now
from core.cursors import decode_cursor, encode_cursor
from core.database import in_write_transaction, lock_row
from core.ids import MAX_ID
from ledger.amounts import to_minor
from ledger.errors import HoldNotActive
from ledger.holds import create_hold, get_hold, post_hold, void_hold
from ledger.reversal import reverse_entry
from marketplace import placement, policy, transitions
from marketplace.accounts import settlement_code
from marketplace.errors import (
    InvalidCatalogData,
    ItemNotFound,
    OrderNotFound,
    OrderNotOpen,
    PickupCodeNotFound,
    PickupThrottled,
)
from marketplace.models import ORDER_COLUMNS, ItemRecord, OrderPage, OrderRecord, OrderStatus
from marketplace.pickup_codes import is_well_formed, new_pickup_code, normalise_pickup_code
from marketplace.placement import PickupShop
from marketplace.policy import ShopAction
from marketplace.settlement import is_settled_at
from marketplace.tables import CatalogItem, CatalogItemShop, RedemptionOrder, Shop
from marketplace.transitions import OrderAction

# Orders listed per page: what a phone screen or a counter list shows.
MAX_PAGE_SIZE = 100
# The tag of order-list cursors (``core.cursors``): newest first, by id.
ORDER_CURSOR = "orders"


async def get_order(order_id: int) -> OrderRecord:
    rows = await RedemptionOrder.select(*ORDER_COLUMNS).where(RedemptionOrder.id == order_id).run()
    if not rows:
        raise OrderNotFound(f"order {order_id} does not exist", field="order_id")
    return OrderRecord.from_row(rows[0])


async def _lock_order(order_id: int) -> OrderRecord:
    """The order, its row locked until the transaction ends. The row is
    locked alone (a lock cannot reach through the joins that bring in the
    names), then read: under READ COMMITTED the read sees the latest commit."""
    if await lock_row(RedemptionOrder, order_id, RedemptionOrder.id) is None:
        raise OrderNotFound(f"order {order_id} does not exist", field="order_id")
    return await get_order(order_id)


async def _lock_item(item_id: int) -> ItemRecord:
    row = await lock_row(CatalogItem, item_id)
    if row is None:
        # Worded like an item of another catalog (policy.check_order_scope).
        raise ItemNotFound(f"no item {item_id} in your catalog", field="item_id")
    return ItemRecord.from_row(row)


async def _pickup_shop(principal: Principal, item_id: int, shop_id: int) -> PickupShop:
    """The facts ``policy.check_pickup_shop`` judges for this order."""
    shop = await policy.find_shop(shop_id)
    carries = (
        await CatalogItemShop.exists()
        .where((CatalogItemShop.item == item_id) & (CatalogItemShop.shop == shop_id))
        .run()
    )
    same_issuer = False
    if shop is not None and carries:
        shop_issuer = await issuing_organisation_for(shop.organisation_id)
        member_issuer = await issuing_organisation_for(principal.home_organisation_id)
        same_issuer = shop_issuer is not None and member_issuer is not None and shop_issuer.id == member_issuer.id
    return PickupShop(carries_item=bool(carries), active=shop is not None and shop.active, same_issuer=same_issuer)


async def _units_taken(member_id: int, item_id: int, window: tuple[datetime, datetime] | None) -> int:
    """Units of the item the member ordered in ``window`` that count
    against its limit (``placement.COUNTED_STATUSES``); 0 without a limit."""
    if window is None:
        return 0
    start, end = window
    quantities: list[int] = (
        await RedemptionOrder.select(RedemptionOrder.quantity)
        .where(
            (RedemptionOrder.member == member_id)
            & (RedemptionOrder.item == item_id)
            & RedemptionOrder.status.is_in(list(placement.COUNTED_STATUSES))
            & (RedemptionOrder.placed_at >= start)
            & (RedemptionOrder.placed_at < end)
        )
        .output(as_list=True)
        .run()
    )
    return sum(quantities)


async def _order_with_key(idempotency_key: str) -> OrderRecord | None:
    rows = await RedemptionOrder.select(*ORDER_COLUMNS).where(RedemptionOrder.idempotency_key == idempotency_key).run()
    return OrderRecord.from_row(rows[0]) if rows else None


async def _restock(item_id: int, quantity: int) -> None:
    await (
        CatalogItem.update({CatalogItem.stock: CatalogItem.stock + quantity})
        .where((CatalogItem.id == item_id) & CatalogItem.stock.is_not_null())
        .run()
    )


def _reasons(item_name_zh: str, item_name_en: str, quantity: int) -> tuple[str, str]:
    """The ledger's wording for a redemption, in Chinese and English."""
    return f"积分兑换：{item_name_zh} ×{quantity}", f"Redeemed: {item_name_en or item_name_zh} x{quantity}"


async def place_order(
    principal: Principal,
    *,
    item_id: int,
    shop_id: int,
    quantity: int = 1,
    pickup_days: int = 7,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> OrderRecord:
    """The principal reserves ``quantity`` of an item for pickup at ``shop_id``.

    Refusals (nothing written) are the rules of ``marketplace.placement``:
    ItemNotFound (also for an item of another catalog), ItemUnavailable
    (also for a shop of another points issuer), OutOfStock,
    MemberLimitReached; and InsufficientFunds from the ledger hold.
    Replaying ``idempotency_key`` returns the original order.
    """
    placement.check_order_request(quantity=quantity, pickup_days=pickup_days)
    place = functools.partial(
        _place,
        principal,
        item_id=item_id,
        shop_id=shop_id,
        quantity=quantity,
        pickup_days=pickup_days,
        idempotency_key=idempotency_key,
        moment=now or utc_now(),
    )
    # Unique violations: a pickup code collision (draw again) or a concurrent
    # twin with the same idempotency key (replay it).
    return await in_write_transaction(place, retry_unique=True)


async def _place(
    principal: Principal,
    *,
    item_id: int,
    shop_id: int,
    quantity: int,
    pickup_days: int,
    idempotency_key: str | None,
    moment: datetime,
) -> OrderRecord:
    # Lock first, then look the key up: concurrent twins of one request
    # queue on the item row and then find the order the first one made,
    # instead of re-checking stock the first one already took.
    item = await _lock_item(item_id)
    member_id = principal.member_id
    if idempotency_key is not None and (earlier := await _order_with_key(idempotency_key)) is not None:
        placement.check_replay(
            earlier,
            idempotency_key=idempotency_key,
            member_id=member_id,
            item_id=item_id,
            shop_id=shop_id,
            quantity=quantity,
        )
        return replace(earlier, replayed=True)

    decided = placement.decide_placement(
        item,
        quantity=quantity,
        pickup_days=pickup_days,
        moment=moment,
        clock_now=utc_now(),
        in_catalog=await policy.in_catalog_of(principal, item.organisation_id),
        pickup_shop=await _pickup_shop(principal, item_id, shop_id),
        taken_in_period=await _units_taken(member_id, item_id, placement.limit_window(item, moment)),
    )

    inserted = await RedemptionOrder.insert(
        RedemptionOrder(
            member=member_id,
            item=item_id,
            shop=shop_id,
            quantity=quantity,
            unit_price_minor=to_minor(decided.unit_price),
            total_minor=to_minor(decided.total),
            status=OrderStatus.PLACED,
            pickup_code=new_pickup_code(),
            idempotency_key=idempotency_key,
            placed_at=moment,
            expires_at=decided.expires_at,
        )
    ).run()
    order_id = int(inserted[0]["id"])
    reason_zh, reason_en = _reasons(item.name_zh, item.name_en, quantity)
    hold = await create_hold(
        account_code=wallet_code(member_id),
        amount=decided.total,
        reason_zh=reason_zh,
        reason_en=reason_en,
        expires_at=decided.hold_expires_at,
        actor_ref=f"member:{member_id}",
        cause_ref=f"order:{order_id}",
        metadata={"order_id": order_id, "item_id": item_id, "shop_id": shop_id, "quantity": quantity},
    )
    await RedemptionOrder.update({RedemptionOrder.hold_id: hold.id}).where(RedemptionOrder.id == order_id).run()
    if decided.stock_after is not None:
        await CatalogItem.update({CatalogItem.stock: decided.stock_after}).where(CatalogItem.id == item_id).run()
    await audit.record(
        principal.ref, "order.place", f"order:{order_id}", item_id=item_id, shop_id=shop_id, quantity=quantity
    )
    return await get_order(order_id)


async def find_open_order_by_code(shop_id: int, code: str) -> int | None:
    """The id of the open order of ``shop_id`` with pickup code ``code``
    (as typed or scanned), if there is one."""
    normalised = normalise_pickup_code(code)
    if not is_well_formed(normalised):
        return None
    ids: list[int] = (
        await RedemptionOrder.select(RedemptionOrder.id)
        .where(
            (RedemptionOrder.pickup_code == normalised)
            & (RedemptionOrder.status == OrderStatus.PLACED)
            & (RedemptionOrder.shop == shop_id)
        )
        .output(as_list=True)
        .run()
    )
    return ids[0] if ids else None


class PickupGuesses(Protocol):
    """Counts wrong pickup codes (``api/marketplace/pickup_throttle.py`` keeps them in
    Redis): ``seconds_locked`` > 0 refuses further tries for that long."""

    async def seconds_locked(self, shop_id: int, code: str) -> int: ...

    async def record_failure(self, shop_id: int, code: str) -> None: ...


async def confirm_pickup(
    principal: Principal, *, shop_id: int, code: str, guesses: PickupGuesses | None = None
) -> OrderRecord:
    """The principal hands over an order at the counter of ``shop_id``: its
    hold is posted to the shop's settlement account.

    Only staff who work at that shop (``policy``: linked *and* holding the
    ``shop_staff`` role over it). A code that is not an open order of this
    shop gives ``PickupCodeNotFound``, reveals nothing else and counts as a
    wrong guess; while ``guesses`` says the shop or code is locked,
    ``PickupThrottled`` answers before any code is looked up."""
    await policy.authorise_shop(principal, shop_id, ShopAction.COUNTER)
    if guesses is not None:
        locked_for = await guesses.seconds_locked(shop_id, code)
        if locked_for:
            raise PickupThrottled(
                f"too many wrong pickup codes; retry in {locked_for} s", retry_after_seconds=locked_for
            )
    try:
        return await in_write_transaction(lambda: _pick_up(principal, shop_id, code))
    except PickupCodeNotFound:
        if guesses is not None:
            await guesses.record_failure(shop_id, code)
        raise


async def _pick_up(principal: Principal, shop_id: int, code: str) -> OrderRecord:
    # Re-checked inside the transaction that posts: a role revoked since
    # the check in confirm_pickup ends counter work before anything is written.
    await policy.authorise_shop(principal, shop_id, ShopAction.COUNTER)
    order_id = await find_open_order_by_code(shop_id, code)
    if order_id is None:
        raise PickupCodeNotFound("no open order with this code at this shop", field="code")
    order = await _lock_order(order_id)
    status = transitions.decide_pickup(order, shop_id=shop_id, now=utc_now())
    reason_zh, reason_en = _reasons(order.item_name_zh, order.item_name_en, order.quantity)
    _, entry = await post_hold(
        order.hold_id,
        destination_code=settlement_code(shop_id),
        kind="redemption",
        reason_zh=reason_zh,
        reason_en=reason_en,
        actor_ref=principal.ref,
        metadata={"order_id": order_id, "item_id": order.item_id, "shop_id": shop_id},
        idempotency_key=f"order:{order_id}:fulfil",
    )
    await (
        RedemptionOrder.update(
            {
                RedemptionOrder.status: status,
                RedemptionOrder.entry_id: entry.id,
                RedemptionOrder.fulfilled_at: entry.created_at,
                RedemptionOrder.fulfilled_by: principal.member_id,
                RedemptionOrder.closed_at: entry.created_at,
            }
        )
        .where(RedemptionOrder.id == order_id)
        .run()
    )
    await audit.record(principal.ref, "order.pickup", f"order:{order_id}", shop_id=shop_id)
    return await get_order(order_id)


async def _close_unfulfilled(
    order_id: int, action: OrderAction, *, due_by: datetime | None = None, actor_ref: str | None = None
) -> OrderRecord:
    """Cancel or expire: void the hold and restock. ``actor_ref`` (a person,
    not the expiry job) is audited in the same transaction."""
    return await in_write_transaction(lambda: _close(order_id, action, due_by=due_by, actor_ref=actor_ref))


async def _close(order_id: int, action: OrderAction, *, due_by: datetime | None, actor_ref: str | None) -> OrderRecord:
    order = await _lock_order(order_id)
    status = transitions.decide_close(order, action, due_by=due_by)
    if status is None:  # already closed this way: the answer is the order as it is
        return order
    await lock_row(CatalogItem, order.item_id, CatalogItem.id)
    try:
        await void_hold(order.hold_id)
    except HoldNotActive:
        # The ledger already released it (its own expiry): nothing to void.
        if (await get_hold(order.hold_id)).status == "posted":
            raise
    await _restock(order.item_id, order.quantity)
    await (
        RedemptionOrder.update(
            {RedemptionOrder.status: status, RedemptionOrder.closed_at: utc_now(), RedemptionOrder.restocked: True}
        )
        .where(RedemptionOrder.id == order_id)
        .run()
    )
    if actor_ref is not None:
        await audit.record(actor_ref, f"order.{status}", f"order:{order_id}")
    return await get_order(order_id)


async def cancel_order(principal: Principal, *, order_id: int) -> OrderRecord:
    """A member cancels their own order before pickup: points and stock
    return. Anyone else's order does not exist for them."""
    await member_order(principal, order_id)
    return await _close_unfulfilled(order_id, OrderAction.CANCEL, actor_ref=principal.ref)


async def expire_orders(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Expire every placed order past its pickup deadline. Returns how many."""
    cutoff = now or utc_now()
    expired = 0
    while True:
        due: list[int] = (
            await RedemptionOrder.select(RedemptionOrder.id)
            .where((RedemptionOrder.status == OrderStatus.PLACED) & (RedemptionOrder.expires_at <= cutoff))
            .order_by(RedemptionOrder.id)
            .limit(batch_size)
            .output(as_list=True)
            .run()
        )
        for order_id in due:
            try:
                await _close_unfulfilled(order_id, OrderAction.EXPIRE, due_by=cutoff)
                expired += 1
            except OrderNotOpen:
                continue
        if len(due) < batch_size:
            return expired


async def return_order(
    principal: Principal, *, shop_id: int, order_id: int, restock: bool, reason_zh: str
) -> OrderRecord:
    """Take an item back at the counter of ``shop_id`` after pickup: reverse
    the redemption entry (points go back to the wallet); restock if the item
    itself came back. Staff who work at the shop and managers of its
    organisation may (``policy``); an order of another shop does not exist
    here. Only in the calendar month of pickup, while that month is
    unsettled (``transitions.check_return_window``); after it, the
    correction is an organiser's adjustment from the issuance account."""
    if not 1 <= len(reason_zh.strip()) <= 300:
        raise InvalidCatalogData("a return needs a reason of 1-300 characters", field="reason_zh")
    return await in_write_transaction(lambda: _take_back(principal, shop_id, order_id, restock, reason_zh))


async def _take_back(principal: Principal, shop_id: int, order_id: int, restock: bool, reason_zh: str) -> OrderRecord:
    await policy.authorise_shop(principal, shop_id, ShopAction.READ)
    try:
        order: OrderRecord | None = await _lock_order(order_id)
    except OrderNotFound:
        order = None
    move = transitions.check_returnable(order, shop_id=shop_id, order_id=order_id)
    await lock_row(CatalogItem, move.order.item_id, CatalogItem.id)
    # The shop row serialises returns with settlement of that shop.
    await lock_row(Shop, shop_id, Shop.id)
    transitions.check_return_window(
        picked_up_at=move.picked_up_at,
        now=utc_now(),
        period_settled=await is_settled_at(shop_id, move.picked_up_at),
    )
    reversal = await reverse_entry(
        move.entry_id,
        reason_zh=f"退货：{reason_zh.strip()}",
        reason_en="Returned",
        actor_ref=principal.ref,
        metadata={"order_id": order_id},
        idempotency_key=f"order:{order_id}:return",
    )
    if restock:
        await _restock(move.order.item_id, move.order.quantity)
    await (
        RedemptionOrder.update(
            {
                RedemptionOrder.status: move.status,
                RedemptionOrder.return_entry_id: reversal.id,
                RedemptionOrder.returned_at: reversal.created_at,
                RedemptionOrder.restocked: restock,
            }
        )
        .where(RedemptionOrder.id == order_id)
        .run()
    )
    await audit.record(
        principal.ref, "order.return", f"order:{order_id}", shop_id=shop_id, restock=restock, reason=reason_zh
    )
    return await get_order(order_id)


async def list_orders(
    *,
    member_id: int | None = None,
    shop_id: int | None = None,
    status: OrderStatus | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> OrderPage:
    """Newest first, unscoped: callers go through ``member_orders`` or
    ``shop_orders`` (or a shop resolved by ``policy.shop_for``), which apply
    ``marketplace.policy``. ``cursor`` is the ``next_cursor`` of the page before."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = RedemptionOrder.select(*ORDER_COLUMNS)
    if member_id is not None:
        query = query.where(RedemptionOrder.member == member_id)
    if shop_id is not None:
        query = query.where(RedemptionOrder.shop == shop_id)
    if status is not None:
        query = query.where(RedemptionOrder.status == status)
    if cursor is not None:
        (before_id,) = decode_cursor(ORDER_CURSOR, cursor, key_min=1, key_max=MAX_ID)
        query = query.where(RedemptionOrder.id < before_id)
    found = [
        OrderRecord.from_row(row)
        for row in await query.order_by(RedemptionOrder.id, ascending=False).limit(limit + 1).run()
    ]
    page = tuple(found[:limit])
    return OrderPage(orders=page, next_cursor=encode_cursor(ORDER_CURSOR, page[-1].id) if len(found) > limit else None)


async def member_orders(
    principal: Principal, *, status: OrderStatus | None = None, cursor: str | None = None, limit: int = 20
) -> OrderPage:
    """The principal's own orders, newest first."""
    return await list_orders(member_id=principal.member_id, status=status, cursor=cursor, limit=limit)


async def member_order(principal: Principal, order_id: int) -> OrderRecord:
    """One of the principal's own orders; anyone else's does not exist."""
    try:
        order = await get_order(order_id)
    except OrderNotFound:
        policy.check_own_order(principal=principal, order_id=order_id, order_member_id=None)
        raise
    policy.check_own_order(principal=principal, order_id=order_id, order_member_id=order.member_id)
    return order


async def pickup_code_of(principal: Principal, order_id: int) -> str:
    """The pickup code of one of the principal's own orders, while it waits
    for pickup (``transitions.check_awaiting_pickup``): what the QR shows."""
    order = await member_order(principal, order_id)
    transitions.check_awaiting_pickup(order)
    return order.pickup_code


async def shop_orders(
    principal: Principal,
    shop_id: int,
    *,
    status: OrderStatus | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> OrderPage:
    """A shop's orders, for its staff and the managers of its organisation."""
    shop = await policy.shop_for(principal, shop_id, ShopAction.READ)
    return await list_orders(shop_id=shop.id, status=status, cursor=cursor, limit=limit)
