"""Redemption orders: two-phase, on ledger holds.

place   → one transaction: lock the item row, check it is on sale at that
          shop, check stock and the member's limit, insert the order, hold
          the points, take the stock. Nothing is written if any check fails.
confirm → staff who work at that shop (``marketplace.policy``) enter the
          pickup code: the hold is posted to the shop's settlement account;
          the order is fulfilled once.
cancel / expire → the hold is voided and the stock comes back.
return  → the redemption entry is reversed; stock comes back if the item
          does.

Each operation a person does takes their ``Principal``, is decided by
``marketplace.policy`` and writes its audit record in its own transaction.
Every operation locks in one order — order row, item row, then the ledger's
account rows — so no two of them can deadlock each other. On SQLite each is
one BEGIN IMMEDIATE transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel

from community import audit
from community.access import Principal
from community.accounts import wallet_code
from community.organisations import issuing_organisation_for
from core.clock import utc_now
from core.database import in_write_transaction, is_sqlite
from ledger.amounts import from_minor
from ledger.errors import HoldNotActive
from ledger.holds import create_hold, get_hold, post_hold, void_hold
from ledger.reversal import reverse_entry
from marketplace import policy
from marketplace.accounts import settlement_code
from marketplace.errors import (
    InvalidCatalogData,
    ItemNotFound,
    ItemUnavailable,
    MemberLimitReached,
    OrderKeyConflict,
    OrderNotFound,
    OrderNotOpen,
    OutOfStock,
    PeriodAlreadySettled,
    PickupCodeNotFound,
    PickupThrottled,
    ReturnWindowClosed,
)
from marketplace.periods import period_bounds
from marketplace.pickup_codes import is_well_formed, new_pickup_code, normalise_pickup_code
from marketplace.policy import ShopAction
from marketplace.tables import CatalogItem, CatalogItemShop, RedemptionOrder, SettlementStatement, Shop

PLACED = "placed"
FULFILLED = "fulfilled"
CANCELLED = "cancelled"
EXPIRED = "expired"
RETURNED = "returned"
OPEN_STATUSES = (PLACED,)
# Orders that count against a member's per-period limit.
COUNTED_STATUSES = (PLACED, FULFILLED)

# One order holds at most this many units: a points supermarket, not a wholesaler.
MAX_QUANTITY = 20
# The ledger hold outlives the order by this margin, so the order's own
# expiry (which restocks) always runs before the ledger's hold expiry.
HOLD_MARGIN = timedelta(days=1)


class OrderOut(BaseModel):
    id: int
    member_id: int
    item_id: int
    item_name_zh: str
    item_name_en: str
    shop_id: int
    shop_name_zh: str
    quantity: int
    unit_price: Decimal
    total: Decimal
    status: str
    pickup_code: str
    hold_id: int | None
    entry_id: int | None
    return_entry_id: int | None
    placed_at: datetime
    expires_at: datetime
    fulfilled_at: datetime | None
    closed_at: datetime | None
    returned_at: datetime | None
    replayed: bool = False


_ORDER_COLUMNS = (
    *RedemptionOrder.all_columns(),
    RedemptionOrder.item.name_zh.as_alias("item_name_zh"),
    RedemptionOrder.item.name_en.as_alias("item_name_en"),
    RedemptionOrder.shop.name_zh.as_alias("shop_name_zh"),
)


def _out(row: dict[str, Any], *, replayed: bool = False) -> OrderOut:
    return OrderOut(
        id=row["id"],
        member_id=row["member"],
        item_id=row["item"],
        item_name_zh=row["item_name_zh"],
        item_name_en=row["item_name_en"],
        shop_id=row["shop"],
        shop_name_zh=row["shop_name_zh"],
        quantity=row["quantity"],
        unit_price=from_minor(row["unit_price_minor"]),
        total=from_minor(row["total_minor"]),
        status=row["status"],
        pickup_code=row["pickup_code"],
        hold_id=row["hold_id"],
        entry_id=row["entry_id"],
        return_entry_id=row["return_entry_id"],
        placed_at=row["placed_at"],
        expires_at=row["expires_at"],
        fulfilled_at=row["fulfilled_at"],
        closed_at=row["closed_at"],
        returned_at=row["returned_at"],
        replayed=replayed,
    )


async def get_order(order_id: int) -> OrderOut:
    rows = await RedemptionOrder.select(*_ORDER_COLUMNS).where(RedemptionOrder.id == order_id).run()
    if not rows:
        raise OrderNotFound(f"order {order_id} does not exist", field="order_id")
    return _out(rows[0])


async def _lock_order(order_id: int) -> dict[str, Any]:
    query = RedemptionOrder.select().where(RedemptionOrder.id == order_id)
    if not is_sqlite():
        query = query.lock_rows()
    rows = await query.run()
    if not rows:
        raise OrderNotFound(f"order {order_id} does not exist", field="order_id")
    return dict(rows[0])


async def _lock_item(item_id: int) -> dict[str, Any]:
    query = CatalogItem.select().where(CatalogItem.id == item_id)
    if not is_sqlite():
        query = query.lock_rows()
    rows = await query.run()
    if not rows:
        # Worded like an item of another catalog (policy.check_order_scope).
        raise ItemNotFound(f"no item {item_id} in your catalog", field="item_id")
    return dict(rows[0])


async def _check_pickup_shop(principal: Principal, item_id: int, shop_id: int) -> None:
    """``policy.check_pickup_shop`` over the facts of this order."""
    shop_rows = await Shop.select(Shop.organisation, Shop.active).where(Shop.id == shop_id).run()
    carries = (
        await CatalogItemShop.exists()
        .where((CatalogItemShop.item == item_id) & (CatalogItemShop.shop == shop_id))
        .run()
    )
    same_issuer = False
    if shop_rows and carries:
        shop_issuer = await issuing_organisation_for(int(shop_rows[0]["organisation"]))
        member_issuer = await issuing_organisation_for(principal.home_organisation_id)
        same_issuer = shop_issuer is not None and member_issuer is not None and shop_issuer.id == member_issuer.id
    policy.check_pickup_shop(
        carries_item=bool(carries), active=bool(shop_rows and shop_rows[0]["active"]), same_issuer=same_issuer
    )


async def lock_shop(shop_id: int) -> None:
    """Row lock on the shop: settlement and returns of one shop take turns."""
    query = Shop.select(Shop.id).where(Shop.id == shop_id)
    if not is_sqlite():
        query = query.lock_rows()
    await query.run()


async def _restock(item_id: int, quantity: int) -> None:
    await (
        CatalogItem.update({CatalogItem.stock: CatalogItem.stock + quantity})
        .where((CatalogItem.id == item_id) & CatalogItem.stock.is_not_null())
        .run()
    )


def _reason(item: dict[str, Any], quantity: int) -> tuple[str, str]:
    return (f"积分兑换：{item['name_zh']} ×{quantity}", f"Redeemed: {item['name_en'] or item['name_zh']} x{quantity}")


async def place_order(  # noqa: C901 -- its nested transaction counts here; to split after #9 merges
    principal: Principal,
    *,
    item_id: int,
    shop_id: int,
    quantity: int = 1,
    pickup_days: int = 7,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> OrderOut:
    """The principal reserves ``quantity`` of an item for pickup at ``shop_id``.

    Refusals (nothing written): ItemNotFound (also for an item of another
    catalog: ``policy.check_order_scope``), ItemUnavailable (also for a shop
    of another points issuer: ``policy.check_pickup_shop``), OutOfStock,
    MemberLimitReached, InsufficientFunds (from the ledger hold). Replaying
    ``idempotency_key`` returns the original order.
    """
    member_id = principal.member_id
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidCatalogData(f"quantity must be 1-{MAX_QUANTITY}", field="quantity")
    if not 1 <= pickup_days <= 90:
        raise InvalidCatalogData("pickup_days must be 1-90", field="pickup_days")
    moment = now or utc_now()

    async def work() -> OrderOut:  # noqa: C901 -- placement preconditions in order; to split after #9 merges
        # Lock first, then look the key up: concurrent twins of one request
        # queue on the item row and then find the order the first one made,
        # instead of re-checking stock the first one already took.
        item = await _lock_item(item_id)
        if idempotency_key is not None:
            existing = (
                await RedemptionOrder.select(*_ORDER_COLUMNS)
                .where(RedemptionOrder.idempotency_key == idempotency_key)
                .run()
            )
            if existing:
                row = existing[0]
                if (row["member"], row["item"], row["shop"], row["quantity"]) != (
                    member_id,
                    item_id,
                    shop_id,
                    quantity,
                ):
                    raise OrderKeyConflict(
                        f"idempotency key {idempotency_key!r} was used for another order", field="idempotency_key"
                    )
                return _out(row, replayed=True)

        policy.check_order_scope(
            item_id=item_id, item_in_catalog=await policy.in_catalog_of(principal, int(item["organisation"]))
        )
        if not item["active"]:
            raise ItemUnavailable("this item is not on offer", field="item_id")
        if item["available_from"] is not None and moment < item["available_from"]:
            raise ItemUnavailable(f"this item is on offer from {item['available_from'].isoformat()}", field="item_id")
        if item["available_until"] is not None and moment >= item["available_until"]:
            raise ItemUnavailable("this item is no longer on offer", field="item_id")
        await _check_pickup_shop(principal, item_id, shop_id)
        if item["stock"] is not None and item["stock"] < quantity:
            raise OutOfStock(f"only {item['stock']} left", field="quantity")
        if item["limit_count"] is not None:
            start, end = period_bounds(item["limit_period"], moment)
            taken_rows = (
                await RedemptionOrder.select(RedemptionOrder.quantity)
                .where(
                    (RedemptionOrder.member == member_id)
                    & (RedemptionOrder.item == item_id)
                    & RedemptionOrder.status.is_in(list(COUNTED_STATUSES))
                    & (RedemptionOrder.placed_at >= start)
                    & (RedemptionOrder.placed_at < end)
                )
                .run()
            )
            taken = sum(int(row["quantity"]) for row in taken_rows)
            if taken + quantity > item["limit_count"]:
                raise MemberLimitReached(
                    f"limit is {item['limit_count']} per {item['limit_period']}; you have {taken} already",
                    field="quantity",
                )

        total_minor = int(item["price_minor"]) * quantity
        expires_at = moment + timedelta(days=pickup_days)
        inserted = await RedemptionOrder.insert(
            RedemptionOrder(
                member=member_id,
                item=item_id,
                shop=shop_id,
                quantity=quantity,
                unit_price_minor=item["price_minor"],
                total_minor=total_minor,
                status=PLACED,
                pickup_code=new_pickup_code(),
                idempotency_key=idempotency_key,
                placed_at=moment,
                expires_at=expires_at,
            )
        ).run()
        order_id = int(inserted[0]["id"])
        reason_zh, reason_en = _reason(item, quantity)
        hold = await create_hold(
            account_code=wallet_code(member_id),
            amount=from_minor(total_minor),
            reason_zh=reason_zh,
            reason_en=reason_en,
            expires_at=max(expires_at, utc_now()) + HOLD_MARGIN,
            actor_ref=f"member:{member_id}",
            cause_ref=f"order:{order_id}",
            metadata={"order_id": order_id, "item_id": item_id, "shop_id": shop_id, "quantity": quantity},
        )
        await RedemptionOrder.update({RedemptionOrder.hold_id: hold.id}).where(RedemptionOrder.id == order_id).run()
        if item["stock"] is not None:
            await (
                CatalogItem.update({CatalogItem.stock: item["stock"] - quantity}).where(CatalogItem.id == item_id).run()
            )
        await audit.record(
            principal.ref, "order.place", f"order:{order_id}", item_id=item_id, shop_id=shop_id, quantity=quantity
        )
        return await get_order(order_id)

    # Unique violations: a pickup code collision (draw again) or a concurrent
    # twin with the same idempotency key (replay it).
    return await in_write_transaction(work, retry_unique=True)


async def find_open_order_by_code(shop_id: int, code: str) -> int | None:
    normalised = normalise_pickup_code(code)
    if not is_well_formed(normalised):
        return None
    rows = (
        await RedemptionOrder.select(RedemptionOrder.id)
        .where(
            (RedemptionOrder.pickup_code == normalised)
            & (RedemptionOrder.status == PLACED)
            & (RedemptionOrder.shop == shop_id)
        )
        .run()
    )
    return int(rows[0]["id"]) if rows else None


class PickupGuesses(Protocol):
    """Counts wrong pickup codes (``api/marketplace/pickup_throttle.py`` keeps them in
    Redis): ``seconds_locked`` > 0 refuses further tries for that long."""

    async def seconds_locked(self, shop_id: int, code: str) -> int: ...

    async def record_failure(self, shop_id: int, code: str) -> None: ...


async def confirm_pickup(
    principal: Principal, *, shop_id: int, code: str, guesses: PickupGuesses | None = None
) -> OrderOut:
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

    async def work() -> OrderOut:
        # Re-checked inside the transaction that posts: a role revoked since
        # the check above ends counter work before anything is written.
        await policy.authorise_shop(principal, shop_id, ShopAction.COUNTER)
        order_id = await find_open_order_by_code(shop_id, code)
        if order_id is None:
            raise PickupCodeNotFound("no open order with this code at this shop", field="code")
        order = await _lock_order(order_id)
        if order["status"] != PLACED or order["shop"] != shop_id:
            raise PickupCodeNotFound("no open order with this code at this shop", field="code")
        if order["expires_at"] <= utc_now():
            raise OrderNotOpen("this order expired before pickup", field="code")
        item = (await CatalogItem.select().where(CatalogItem.id == order["item"]).run())[0]
        reason_zh, reason_en = _reason(item, order["quantity"])
        _, entry = await post_hold(
            order["hold_id"],
            destination_code=settlement_code(shop_id),
            kind="redemption",
            reason_zh=reason_zh,
            reason_en=reason_en,
            actor_ref=principal.ref,
            metadata={"order_id": order_id, "item_id": order["item"], "shop_id": shop_id},
            idempotency_key=f"order:{order_id}:fulfil",
        )
        await (
            RedemptionOrder.update(
                {
                    RedemptionOrder.status: FULFILLED,
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

    try:
        return await in_write_transaction(work)
    except PickupCodeNotFound:
        if guesses is not None:
            await guesses.record_failure(shop_id, code)
        raise


async def _close_unfulfilled(
    order_id: int, new_status: str, *, only_if_due: datetime | None, actor_ref: str | None = None
) -> OrderOut:
    """Void the hold and restock. ``actor_ref`` (a person, not the expiry
    job) is audited in the same transaction."""

    async def work() -> OrderOut:
        order = await _lock_order(order_id)
        if order["status"] != PLACED:
            if order["status"] == new_status:
                return await get_order(order_id)
            raise OrderNotOpen(f"order {order_id} is {order['status']}", field="order_id")
        if only_if_due is not None and order["expires_at"] > only_if_due:
            raise OrderNotOpen(f"order {order_id} is not due to expire", field="order_id")
        await _lock_item(order["item"])
        try:
            await void_hold(order["hold_id"])
        except HoldNotActive:
            # The ledger already released it (its own expiry): nothing to void.
            if (await get_hold(order["hold_id"])).status == "posted":
                raise
        await _restock(order["item"], order["quantity"])
        await (
            RedemptionOrder.update(
                {
                    RedemptionOrder.status: new_status,
                    RedemptionOrder.closed_at: utc_now(),
                    RedemptionOrder.restocked: True,
                }
            )
            .where(RedemptionOrder.id == order_id)
            .run()
        )
        if actor_ref is not None:
            await audit.record(actor_ref, f"order.{new_status}", f"order:{order_id}")
        return await get_order(order_id)

    return await in_write_transaction(work)


async def cancel_order(principal: Principal, *, order_id: int) -> OrderOut:
    """A member cancels their own order before pickup: points and stock
    return. Anyone else's order does not exist for them."""
    await member_order(principal, order_id)
    return await _close_unfulfilled(order_id, CANCELLED, only_if_due=None, actor_ref=principal.ref)


async def expire_orders(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Expire every placed order past its pickup deadline. Returns how many."""
    cutoff = now or utc_now()
    expired = 0
    while True:
        rows = (
            await RedemptionOrder.select(RedemptionOrder.id)
            .where((RedemptionOrder.status == PLACED) & (RedemptionOrder.expires_at <= cutoff))
            .order_by(RedemptionOrder.id)
            .limit(batch_size)
            .run()
        )
        for row in rows:
            try:
                await _close_unfulfilled(int(row["id"]), EXPIRED, only_if_due=cutoff)
                expired += 1
            except OrderNotOpen:
                continue
        if len(rows) < batch_size:
            return expired


async def _settled_period_covers(shop_id: int, moment: datetime) -> bool:
    return bool(
        await SettlementStatement.exists()
        .where(
            (SettlementStatement.shop == shop_id)
            & (SettlementStatement.period_start <= moment)
            & (SettlementStatement.period_end > moment)
        )
        .run()
    )


async def return_order(principal: Principal, *, shop_id: int, order_id: int, restock: bool, reason_zh: str) -> OrderOut:
    """Take an item back at the counter of ``shop_id`` after pickup: reverse
    the redemption entry (points go back to the wallet); restock if the item
    itself came back. Staff who work at the shop and managers of its
    organisation may (``policy``); an order of another shop does not exist
    here.

    Only in the calendar month of the pickup (China time). A month's net
    pickups stay in the shop's settlement account until that month is
    settled; a return charged to a later month would drain points an earlier,
    unsettled month still needs, and that month could never be settled.
    After the month, the correction is an organiser's adjustment from the
    issuance account."""
    if not 1 <= len(reason_zh.strip()) <= 300:
        raise InvalidCatalogData("a return needs a reason of 1-300 characters", field="reason_zh")

    async def work() -> OrderOut:
        await policy.authorise_shop(principal, shop_id, ShopAction.READ)
        try:
            order: dict[str, Any] | None = await _lock_order(order_id)
        except OrderNotFound:
            order = None
        if order is None or order["shop"] != shop_id:  # one answer: nothing to learn of other shops
            raise OrderNotFound(f"no order {order_id} at this shop", field="order_id")
        if order["status"] != FULFILLED:
            raise OrderNotOpen(
                f"only a fulfilled order can be returned; this one is {order['status']}", field="order_id"
            )
        await _lock_item(order["item"])
        # The shop row serialises returns with settlement of that shop.
        await lock_shop(order["shop"])
        if await _settled_period_covers(order["shop"], order["fulfilled_at"]):
            raise PeriodAlreadySettled("this pickup's period is already settled", field="order_id")
        picked_up_in, _ = period_bounds("month", order["fulfilled_at"])
        if period_bounds("month", utc_now())[0] != picked_up_in:
            raise ReturnWindowClosed(
                "returns are taken in the month of pickup; that month's statement is final. "
                "An organiser can correct the wallet with an adjustment from the issuance account.",
                field="order_id",
            )
        reversal = await reverse_entry(
            order["entry_id"],
            reason_zh=f"退货：{reason_zh.strip()}",
            reason_en="Returned",
            actor_ref=principal.ref,
            metadata={"order_id": order_id},
            idempotency_key=f"order:{order_id}:return",
        )
        if restock:
            await _restock(order["item"], order["quantity"])
        await (
            RedemptionOrder.update(
                {
                    RedemptionOrder.status: RETURNED,
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

    return await in_write_transaction(work)


class OrderPage(BaseModel):
    orders: list[OrderOut]
    next_cursor: int | None


async def list_orders(
    *,
    member_id: int | None = None,
    shop_id: int | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> OrderPage:
    """Newest first, unscoped: callers go through ``member_orders`` or
    ``shop_orders``, which apply ``marketplace.policy``."""
    limit = max(1, min(limit, 100))
    query = RedemptionOrder.select(*_ORDER_COLUMNS)
    if member_id is not None:
        query = query.where(RedemptionOrder.member == member_id)
    if shop_id is not None:
        query = query.where(RedemptionOrder.shop == shop_id)
    if status is not None:
        query = query.where(RedemptionOrder.status == status)
    if before_id is not None:
        query = query.where(RedemptionOrder.id < before_id)
    rows = await query.order_by(RedemptionOrder.id, ascending=False).limit(limit + 1).run()
    page = rows[:limit]
    return OrderPage(
        orders=[_out(row) for row in page],
        next_cursor=int(page[-1]["id"]) if len(rows) > limit else None,
    )


async def member_orders(
    principal: Principal, *, status: str | None = None, before_id: int | None = None, limit: int = 20
) -> OrderPage:
    """The principal's own orders, newest first."""
    return await list_orders(member_id=principal.member_id, status=status, before_id=before_id, limit=limit)


async def member_order(principal: Principal, order_id: int) -> OrderOut:
    """One of the principal's own orders; anyone else's does not exist."""
    try:
        order = await get_order(order_id)
    except OrderNotFound:
        policy.check_own_order(principal=principal, order_id=order_id, order_member_id=None)
        raise
    policy.check_own_order(principal=principal, order_id=order_id, order_member_id=order.member_id)
    return order


async def shop_orders(
    principal: Principal,
    shop_id: int,
    *,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> OrderPage:
    """A shop's orders, for its staff and the managers of its organisation."""
    await policy.authorise_shop(principal, shop_id, ShopAction.READ)
    return await list_orders(shop_id=shop_id, status=status, before_id=before_id, limit=limit)
