"""The shop counter: which shops a clerk serves, looking an order up before
handing it over, today's pickups and returns, and the counter's offline
hand-overs as they sync (with their conflicts).

- **Looking up** a typed code (``preview_pickup``) is a guess like
  confirming one: a wrong code counts against the counter's throttle and
  says how many tries are left; a slowed counter looks one code up every
  few seconds. A right code earns a short *preview pass*
  (``orders.PreviewPasses``) so the "确认交付" tap right after it is not
  slowed again. Nothing is written.
- **Syncing** an offline hand-over (``sync_confirmation``): the counter
  verified the scanned token itself and queued the confirmation with its
  own ``client_ref``. The server checks everything again and confirms the
  order exactly once (``signing_keys.confirm_pickup_by_token``; the ledger
  posts only there). A retry of the same outbox item after a lost answer is
  that same hand-over (its ``client_ref`` is in the pickup's audit row). Any
  other device's, or a token whose order was cancelled or expired
  meanwhile, is a **conflict**: recorded once per ``client_ref`` with the
  clerk, the device and the reason, audited, and answered as
  ``PickupConflictRecorded``. The organisers of the shop's node list them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from community import audit
from community.access import Principal
from community.members import get_member
from community.names import mask_name
from community.organisations import subtree_ids
from community.tables import AuditEvent
from core.clock import utc_now
from core.database import in_write_transaction, is_unique_violation
from core.fixed_sql import write
from marketplace import policy
from marketplace.errors import OrderNotOpen, PickupCodeNotFound, PickupConflictRecorded, PickupTokenRefused
from marketplace.models import ORDER_COLUMNS, OrderRecord, OrderStatus, ShopRecord
from marketplace.orders import (
    PickupGuesses,
    PreviewPasses,
    confirm_pickup,
    counted_wrong_code,
    counter_order_steps,
    get_order,
    pass_throttle,
)
from marketplace.periods import LOCAL_ZONE
from marketplace.pickup_codes import normalise_pickup_code
from marketplace.pickup_tokens import read_token
from marketplace.policy import ShopAction
from marketplace.signing_keys import confirm_pickup_by_token, counter_public_keys
from marketplace.tables import CatalogItem, CatalogItemShop, PickupConflict, RedemptionOrder, Shop, ShopStaff

# What a conflict says happened to the order before the counter's sync.
CONFLICT_REASONS: dict[OrderStatus, str] = {
    OrderStatus.FULFILLED: "picked_up_elsewhere",
    OrderStatus.RETURNED: "picked_up_elsewhere",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.EXPIRED: "expired",
    # Held for fraud review (not pickable until approved), or rejected by a reviewer.
    OrderStatus.HELD: "held_for_review",
    OrderStatus.REJECTED: "rejected",
}
MAX_CLIENT_REF = 64
MAX_DEVICE = 64
# Conflicts listed per request: the newest first.
MAX_CONFLICTS = 200


@dataclass(frozen=True, slots=True)
class CounterOrder:
    """An order as the counter shows it before handing over: never the
    member's full name."""

    order: OrderRecord
    member_masked_name: str


@dataclass(frozen=True, slots=True)
class CounterDay:
    """What a counter handed out and took back on one China-time day."""

    pickups: tuple[OrderRecord, ...]
    returns: tuple[OrderRecord, ...]


@dataclass(frozen=True, slots=True)
class ConflictRecord:
    id: int
    shop_id: int
    order_id: int
    staff_id: int
    device: str
    reason: str
    order_status: str
    client_recorded_at: datetime | None
    recorded_at: datetime


def conflict_reason(status: OrderStatus) -> str:
    """Why a queued hand-over of an order in ``status`` cannot be confirmed
    (an order still ``placed`` has no conflict)."""
    return CONFLICT_REASONS[status]


async def counter_shops(principal: Principal) -> list[ShopRecord]:
    """The shops whose counter the principal works (linked *and* holding the
    staff role there: ``policy``), by id."""
    linked = await ShopStaff.select(ShopStaff.shop).where(ShopStaff.member == principal.member_id).output(as_list=True)
    shops = []
    for shop_id in sorted(set(linked)):
        standing = await policy.shop_standing(principal, shop_id)
        if standing.works_here:
            shops.append(await policy.shop_for(principal, shop_id, ShopAction.COUNTER))
    return shops


async def _counter_order(order: OrderRecord) -> CounterOrder:
    member = await get_member(order.member_id)
    return CounterOrder(order=order, member_masked_name=mask_name(member.name))


async def preview_pickup(
    principal: Principal, *, shop_id: int, code: str, guesses: PickupGuesses | None = None
) -> CounterOrder:
    """The open order of ``code`` at this shop, for its staff to check before
    handing it over; nothing is written. Refused like ``confirm_pickup``:
    ``PickupCodeNotFound`` (counted, with tries left), ``PickupThrottled``,
    and the policy's refusals."""
    normalised = normalise_pickup_code(code)
    await pass_throttle(principal, shop_id, code, guesses)
    try:
        order, _ = await write(lambda _: counter_order_steps(principal, shop_id, normalised))
    except PickupCodeNotFound as wrong:
        raise await counted_wrong_code(wrong, shop_id, code, guesses) from None
    if isinstance(guesses, PreviewPasses):
        await guesses.grant_pass(shop_id, normalised)
    return await _counter_order(order)


async def counter_day(principal: Principal, shop_id: int, *, now: datetime | None = None) -> CounterDay:
    """Today's (China time) pickups and returns at the shop, newest first,
    for whoever may read the shop."""
    shop = await policy.shop_for(principal, shop_id, ShopAction.READ)
    local = (now or utc_now()).astimezone(LOCAL_ZONE)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)
    picked = await (
        RedemptionOrder.select(*ORDER_COLUMNS)
        .where(
            (RedemptionOrder.shop == shop.id)
            & (RedemptionOrder.fulfilled_at >= start)
            & (RedemptionOrder.fulfilled_at < end)
        )
        .order_by(RedemptionOrder.fulfilled_at, ascending=False)
        .limit(200)
    )
    returned = await (
        RedemptionOrder.select(*ORDER_COLUMNS)
        .where(
            (RedemptionOrder.shop == shop.id)
            & (RedemptionOrder.returned_at >= start)
            & (RedemptionOrder.returned_at < end)
        )
        .order_by(RedemptionOrder.returned_at, ascending=False)
        .limit(200)
    )
    return CounterDay(
        pickups=tuple(OrderRecord.from_row(row) for row in picked),
        returns=tuple(OrderRecord.from_row(row) for row in returned),
    )


async def _picked_up_by(order_id: int, client_ref: str) -> bool:
    """Was the order's pickup the hand-over of this outbox item?"""
    rows = await AuditEvent.select(AuditEvent.detail).where(
        (AuditEvent.action == "order.pickup") & (AuditEvent.target_ref == f"order:{order_id}")
    )
    for row in rows:
        detail = row["detail"]
        if isinstance(detail, str):
            detail = json.loads(detail or "{}")
        if isinstance(detail, dict) and detail.get("client_ref") == client_ref:
            return True
    return False


def _check_sync_fields(client_ref: str | None, device: str) -> None:
    if client_ref is not None and not 8 <= len(client_ref) <= MAX_CLIENT_REF:
        raise PickupTokenRefused("client_ref must be 8-64 characters", reason="malformed", field="client_ref")
    if len(device) > MAX_DEVICE:
        raise PickupTokenRefused("device must be at most 64 characters", reason="malformed", field="device")


async def _token_order_id(token: str) -> int:
    """The order a genuine but expired token names (signature checked)."""
    claims = read_token(token, await counter_public_keys(), now=datetime.fromtimestamp(0, UTC))
    return claims.order_id


async def sync_confirmation(
    principal: Principal,
    *,
    shop_id: int,
    token: str,
    client_ref: str | None = None,
    device: str = "",
    client_recorded_at: datetime | None = None,
) -> OrderRecord:
    """Confirm the hand-over a counter queued (offline) for a scanned token:
    exactly once, or a recorded conflict (see the module's docstring)."""
    _check_sync_fields(client_ref, device)
    try:
        return await confirm_pickup_by_token(principal, shop_id=shop_id, token=token, client_ref=client_ref)
    except OrderNotOpen:
        # The token was genuine, for this shop, and the clerk works here.
        order = await get_order(await _token_order_id(token))
    except PickupTokenRefused as refused:
        if refused.reason != "expired":
            raise
        # Genuine (checked first) but expired: the order expired meanwhile.
        order = await get_order(await _token_order_id(token))
        if order.shop_id != shop_id:
            raise
    handed_over = order.status in (OrderStatus.FULFILLED, OrderStatus.RETURNED)
    if client_ref is not None and handed_over and await _picked_up_by(order.id, client_ref):
        return order  # this very outbox item, retried after a lost answer
    if order.status is OrderStatus.PLACED:  # a token expired before its order did: no conflict, just refused
        raise PickupTokenRefused("pickup token has expired", reason="expired")
    conflict = await _record_conflict(
        principal,
        shop_id=shop_id,
        order=order,
        client_ref=client_ref,
        device=device,
        client_recorded_at=client_recorded_at,
    )
    raise PickupConflictRecorded(
        f"order {order.id} was {order.status.value} before this counter synced",
        conflict_id=conflict.id,
        reason=conflict.reason,
        order_id=order.id,
    )


def _conflict_record(row: dict[str, object]) -> ConflictRecord:
    return ConflictRecord(
        id=int(row["id"]),  # type: ignore[call-overload]
        shop_id=int(row["shop"]),  # type: ignore[call-overload]
        order_id=int(row["redemption_order"]),  # type: ignore[call-overload]
        staff_id=int(row["staff"]),  # type: ignore[call-overload]
        device=str(row["device"]),
        reason=str(row["reason"]),
        order_status=str(row["order_status"]),
        client_recorded_at=row["client_recorded_at"],  # type: ignore[arg-type]
        recorded_at=row["recorded_at"],  # type: ignore[arg-type]
    )


async def _record_conflict(
    principal: Principal,
    *,
    shop_id: int,
    order: OrderRecord,
    client_ref: str | None,
    device: str,
    client_recorded_at: datetime | None,
) -> ConflictRecord:
    # An outbox item's ref names this counter's own earlier record only: a
    # ref already used by another shop, clerk or order (replayed, or a
    # collision) is recorded afresh without it, never answered with the
    # other's record.
    ours: str | None = client_ref

    async def existing() -> ConflictRecord | None:
        nonlocal ours
        if client_ref is None:
            return None
        rows = await PickupConflict.select().where(PickupConflict.client_ref == client_ref)
        if not rows:
            return None
        earlier = _conflict_record(rows[0])
        if (earlier.shop_id, earlier.staff_id, earlier.order_id) == (shop_id, principal.member_id, order.id):
            return earlier
        ours = None
        return None

    async def record() -> ConflictRecord:
        await policy.authorise_shop(principal, shop_id, ShopAction.COUNTER)
        earlier = await existing()
        if earlier is not None:
            return earlier
        reason = conflict_reason(order.status)
        row = PickupConflict(
            shop=shop_id,
            redemption_order=order.id,
            staff=principal.member_id,
            device=device,
            client_ref=ours,
            reason=reason,
            order_status=order.status.value,
            client_recorded_at=client_recorded_at,
            recorded_at=utc_now(),
        )
        await row.save()
        await audit.record(
            principal.ref,
            "order.pickup_conflict",
            f"order:{order.id}",
            shop_id=shop_id,
            reason=reason,
            device=device,
            client_ref=client_ref,
        )
        return _conflict_record((await PickupConflict.select().where(PickupConflict.id == row.id))[0])

    try:
        return await in_write_transaction(record)
    except Exception as error:
        # A twin sync of the same outbox item recorded it first.
        found = await existing() if is_unique_violation(error) else None
        if found is None:
            raise
        return found


async def shop_conflicts(shop: ShopRecord) -> list[ConflictRecord]:
    """The shop's pickup conflicts, newest first (for a shop resolved by
    ``policy.shop_for`` with ``ShopAction.MANAGE``: its organisers)."""
    rows = await (
        PickupConflict.select()
        .where(PickupConflict.shop == shop.id)
        .order_by(PickupConflict.id, ascending=False)
        .limit(MAX_CONFLICTS)
    )
    return [_conflict_record(row) for row in rows]


async def counter_items(shop_id: int) -> dict[int, tuple[str, str]]:
    """The names (zh, en) of the items the shop hands out, by id: what an
    offline counter shows for a scanned token's item id. Not secret (the
    catalog lists them), so no policy beyond the page's own."""
    carried = (
        await CatalogItemShop.select(CatalogItemShop.item).where(CatalogItemShop.shop == shop_id).output(as_list=True)
    )
    if not carried:
        return {}
    rows = await CatalogItem.select(CatalogItem.id, CatalogItem.name_zh, CatalogItem.name_en).where(
        CatalogItem.id.is_in(list(carried))
    )
    return {int(row["id"]): (row["name_zh"], row["name_en"]) for row in rows}


async def confirm_looked_up(
    principal: Principal, *, shop_id: int, code: str, order_id: int, guesses: PickupGuesses | None = None
) -> OrderRecord:
    """Hand over the order ``code`` was looked up as (``preview_pickup``):
    ``orders.confirm_pickup`` for that order only. Anything but that order
    still open under that code is ``OrderNotOpen`` and counts as a wrong
    guess, so this path is no way around the counter's throttle (the answer
    is the same for a wrong code and for an order handed over meanwhile)."""
    try:
        return await confirm_pickup(principal, shop_id=shop_id, code=code, guesses=guesses, expect_order_id=order_id)
    except OrderNotOpen:
        if guesses is not None:
            await guesses.record_failure(shop_id, code)
        raise


async def organisation_conflicts(principal: Principal, organisation_id: int) -> list[ConflictRecord]:
    """The pickup conflicts of every shop at ``organisation_id`` or below,
    newest first, for the organisers and admins who manage that node (a node
    they cannot see answers as if it did not exist)."""
    await policy.authorise_organisation_manager(principal, organisation_id, field="organisation_id")
    nodes = await subtree_ids(organisation_id)
    shops = await Shop.select(Shop.id).where(Shop.organisation.is_in(list(nodes))).output(as_list=True)
    if not shops:
        return []
    rows = await (
        PickupConflict.select()
        .where(PickupConflict.shop.is_in(list(shops)))
        .order_by(PickupConflict.id, ascending=False)
        .limit(MAX_CONFLICTS)
    )
    return [_conflict_record(row) for row in rows]
