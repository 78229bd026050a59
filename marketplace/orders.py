"""Redemption orders: two-phase, on ledger holds.

place   → one transaction: lock the item row with every fact the rules
          need, decide (``marketplace.placement``), hold the points, write
          the order, the stock it takes and the audit row. Nothing is
          written if any rule refuses.
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

Placing and confirming are the hot path: their statements are fixed SQL
(``marketplace.sql``), each reading only what the rules need and writing with
RETURNING; the rest stays on Piccolo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from community import audit
from community.access import Principal
from community.accounts import wallet_code
from community.audit import INSERT_AUDIT_ROW, audit_detail
from community.tree_paths import ancestors_nearest_first
from core.clock import utc_now
from core.cursors import decode_cursor, encode_cursor
from core.database import in_write_transaction, lock_row
from core.fixed_sql import Dialect, Row, Script, dialect, fetch, write
from core.ids import MAX_ID
from fraud import sql as fraud_sql
from fraud.errors import FraudDenied
from fraud.models import HistoryNeeded, Outcome
from ledger.amounts import to_minor
from ledger.errors import HoldNotActive, LedgerError
from ledger.holds import capture_steps, get_hold, hold_steps, void_hold
from ledger.reversal import reverse_entry
from marketplace import placement, policy, sql, transitions
from marketplace.accounts import settlement_code
from marketplace.errors import (
    InvalidCatalogData,
    ItemNotFound,
    MarketplaceError,
    OrderNotFound,
    OrderNotOpen,
    PickupCodeNotFound,
    PickupThrottled,
)
from marketplace.held_orders import (
    OrderDenied,
    denied_steps,
    order_decision_values,
    review_terms,
    screened_steps,
    withdraw_held,
)
from marketplace.models import ORDER_COLUMNS, ItemTerms, OrderPage, OrderRecord, OrderStatus
from marketplace.pickup_codes import new_pickup_code, normalise_pickup_code
from marketplace.placement import PickupShop, Placement
from marketplace.policy import STAFF_ROLE, ShopAction, ShopFacts
from marketplace.screening import OrderScreening, load_order_screening, screening_from_facts
from marketplace.settlement import is_settled_at
from marketplace.tables import CatalogItem, RedemptionOrder, Shop
from marketplace.transitions import OrderAction

# Orders listed per page: what a phone screen or a counter list shows.
MAX_PAGE_SIZE = 100
# The tag of order-list cursors (``core.cursors``): newest first, by id.
ORDER_CURSOR = "orders"
# The role ``marketplace.policy`` asks of counter staff.
(_COUNTER_ROLE,) = STAFF_ROLE


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


async def _restock(item_id: int, quantity: int) -> None:
    await (
        CatalogItem.update({CatalogItem.stock: CatalogItem.stock + quantity})
        .where((CatalogItem.id == item_id) & CatalogItem.stock.is_not_null())
        .run()
    )


def _reasons(item_name_zh: str, item_name_en: str, quantity: int) -> tuple[str, str]:
    """The ledger's wording for a redemption, in Chinese and English."""
    return f"积分兑换：{item_name_zh} ×{quantity}", f"Redeemed: {item_name_en or item_name_zh} x{quantity}"


def _order_record(row: Row, *names: Row | dict[str, Any], replayed: bool = False) -> OrderRecord:
    """An order record from its row and the rows that carry its names."""
    merged: dict[str, Any] = {}
    for part in (row, *names):
        merged.update(part if isinstance(part, dict) else dict(part))  # type: ignore[call-overload]
    return OrderRecord.from_row(merged, replayed=replayed)


def _chain(organisation_id: int, path: str | None) -> list[int]:
    """The node and its ancestors, nearest first, read off its path
    (``community.organisations.ancestor_ids`` without the query)."""
    return ancestors_nearest_first(path) if path else [organisation_id]


# -- placing an order -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Placing:
    """One place_order request, as checked on arrival."""

    principal: Principal
    item_id: int
    shop_id: int
    quantity: int
    pickup_days: int
    idempotency_key: str | None
    moment: datetime


@dataclass(frozen=True, slots=True)
class _PlacementFacts:
    """What ``sql.PLACE_FACTS`` read, under the item's lock."""

    item: ItemTerms
    names: dict[str, str]  # item_name_zh, item_name_en, shop_name_zh: what an order record shows
    in_catalog: bool
    pickup_shop: PickupShop
    taken: int  # units the member ordered in the item's limit period (see sql.PLACE_FACTS)
    earlier_id: int | None  # the order the idempotency key already made
    next_order_id: int
    screening: OrderScreening  # without the history (marketplace.screening)


def _placement_facts_steps(request: _Placing) -> Script[_PlacementFacts]:
    member = request.principal
    windows = placement.period_windows(request.moment)
    rows = yield sql.PLACE_FACTS(
        request.item_id,
        request.shop_id,
        member.member_id,
        member.home_organisation_id,
        request.idempotency_key,
        *(start for start, _ in windows),
        *(end for _, end in windows),
        wallet_code(member.member_id),
        request.moment,
    )
    if not rows:
        # Worded like an item of another catalog (policy.check_order_scope).
        raise ItemNotFound(f"no item {request.item_id} in your catalog", field="item_id")
    row = rows[0]
    home_chain = _chain(member.home_organisation_id, row["home_path"])
    issuer = row["member_issuer"]
    return _PlacementFacts(
        item=ItemTerms.from_row(row),
        names={"item_name_zh": row["name_zh"], "item_name_en": row["name_en"], "shop_name_zh": row["shop_name_zh"]},
        in_catalog=int(row["organisation"]) in home_chain,
        pickup_shop=PickupShop(
            carries_item=bool(row["carries"]),
            active=bool(row["shop_active"]),
            same_issuer=issuer is not None and issuer == row["shop_issuer"],
        ),
        taken=int(row["taken"]),
        earlier_id=row["earlier_id"],
        next_order_id=int(row["next_order_id"]),
        screening=screening_from_facts(member_id=member.member_id, shop_id=request.shop_id, facts=row),
    )


def _replay_steps(request: _Placing) -> Script[OrderRecord | None]:
    """The order the request's idempotency key made, if any, as stored now:
    the answer to a replay (``placement.check_replay``: same request, or
    ``OrderKeyConflict``)."""
    if request.idempotency_key is None:
        return None
    rows = yield sql.ORDER_UNDER_KEY(request.idempotency_key)
    if not rows:
        return None
    earlier = _order_record(rows[0], replayed=True)
    placement.check_replay(
        earlier,
        idempotency_key=request.idempotency_key,
        member_id=request.principal.member_id,
        item_id=request.item_id,
        shop_id=request.shop_id,
        quantity=request.quantity,
    )
    return earlier


def _write_order_steps(
    request: _Placing, facts: _PlacementFacts, decided: Placement, hold_id: int, decision: tuple[object, ...]
) -> Script[tuple[OrderRecord, int, int]]:
    """Insert the order, take the stock and write the audit row and the
    fraud decision (``decision``: its row's values); return the order as
    stored, the units of the member's other counted orders in the limit
    window, counted now (0 without a limit), and the decision's id."""
    member_id = request.principal.member_id
    order_id = facts.next_order_id
    window = placement.limit_window(facts.item, request.moment) or (None, None)
    order_values = (
        order_id,
        member_id,
        request.item_id,
        request.shop_id,
        request.quantity,
        to_minor(decided.unit_price),
        to_minor(decided.total),
        new_pickup_code(),
        hold_id,
        request.idempotency_key,
        request.moment,
        decided.expires_at,
    )
    audit_values = (
        request.principal.ref,
        "order.place",
        f"order:{order_id}",
        audit_detail(item_id=request.item_id, shop_id=request.shop_id, quantity=request.quantity),
        utc_now(),
    )
    if dialect() is Dialect.POSTGRES:
        rows = yield sql.PLACE_ORDER(*order_values, decided.stock_after, *window, *audit_values, *decision)
        return _order_record(rows[0], facts.names), int(rows[0]["taken"]), int(rows[0]["decision_id"])
    rows = yield sql.INSERT_ORDER(*order_values)
    if decided.stock_after is not None:
        yield sql.TAKE_STOCK(request.item_id, decided.stock_after)
    yield INSERT_AUDIT_ROW(*audit_values)
    taken = yield sql.TAKEN_BESIDE(order_id, member_id, request.item_id, *window)
    decided_rows = yield fraud_sql.INSERT_DECISION(*decision)
    return _order_record(rows[0], facts.names), int(taken[0]["taken"]), int(decided_rows[0]["id"])


def _decide(request: _Placing, facts: _PlacementFacts) -> Placement:
    return placement.decide_placement(
        facts.item,
        quantity=request.quantity,
        pickup_days=request.pickup_days,
        moment=request.moment,
        clock_now=utc_now(),
        in_catalog=facts.in_catalog,
        pickup_shop=facts.pickup_shop,
        taken_in_period=facts.taken,
    )


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

    The fraud rules then judge the order (``marketplace.screening``; the
    decision is stored with it): *allow* places it; *review* places it
    ``held`` (its points hold and stock kept, a review case opened,
    ``marketplace.held_orders``); *deny* stores only the decision and its
    audit row, then refuses with ``FraudDenied``.
    """
    placement.check_order_request(quantity=quantity, pickup_days=pickup_days)
    moment = now or utc_now()
    request = _Placing(
        principal=principal,
        item_id=item_id,
        shop_id=shop_id,
        quantity=quantity,
        pickup_days=pickup_days,
        idempotency_key=idempotency_key,
        moment=moment,
    )
    try:
        # Most orders leave money in the wallet: screened over the facts
        # sql.PLACE_FACTS reads, without the history.
        placed = await _placed(request, None)
    except HistoryNeeded:
        # This one drains the wallet (rolled back before anything was written).
        placed = await _placed(
            request,
            await load_order_screening(
                member_id=principal.member_id,
                home_organisation_id=principal.home_organisation_id,
                shop_id=shop_id,
                moment=moment,
            ),
        )
    if isinstance(placed, OrderDenied):
        raise FraudDenied(
            f"拒绝：{placed.verdict.reason_zh()} · Refused: {placed.verdict.reason_en()}",
            decision_id=placed.decision_id,
            field="item_id",
        )
    return placed


async def _placed(request: _Placing, screening: OrderScreening | None) -> OrderRecord | OrderDenied:
    """The placement's one writing transaction (``_place_steps``), screened
    over ``screening``, or without the history over what ``sql.PLACE_FACTS``
    reads when None. Unique violations are retried: a pickup code collision
    (the retry draws again) or a concurrent twin with the same idempotency
    key (the retry replays it)."""
    return await write(lambda _: _place_steps(request, screening), retry_unique=True)


def _place_steps(request: _Placing, loaded: OrderScreening | None) -> Script[OrderRecord | OrderDenied]:
    facts = yield from _placement_facts_steps(request)
    screening = loaded if loaded is not None else facts.screening
    if facts.earlier_id is not None:
        replay = yield from _replay_steps(request)
        if replay is not None:
            return replay
    member_id = request.principal.member_id
    try:
        decided = _decide(request, facts)
        verdicts = screening.judge(order_id=facts.next_order_id, amount=decided.total, moment=request.moment)
        verdict = verdicts[0]
        if verdict.outcome is Outcome.DENY:
            return (yield from denied_steps(request.principal, screening, verdicts, facts.next_order_id))
        review = review_terms(verdict, decided, request.moment) if verdict.outcome is Outcome.REVIEW else None
        reason_zh, reason_en = _reasons(facts.item.name_zh, facts.item.name_en, request.quantity)
        hold_id = yield from hold_steps(
            account_code=wallet_code(member_id),
            amount=decided.total,
            reason_zh=reason_zh if review is None else f"待审核 · {reason_zh}",
            reason_en=reason_en if review is None else f"Pending review · {reason_en}",
            expires_at=decided.hold_expires_at if review is None else review.hold_expires_at,
            actor_ref=f"member:{member_id}",
            cause_ref=f"order:{facts.next_order_id}",
            metadata={
                "order_id": facts.next_order_id,
                "item_id": request.item_id,
                "shop_id": request.shop_id,
                "quantity": request.quantity,
            },
            now=utc_now(),
        )
    except (MarketplaceError, LedgerError):
        # A rule refused; if the key's first request committed while this
        # one waited for the item (sql.PLACE_FACTS), the replay wins.
        replay = yield from _replay_steps(request)
        if replay is None:
            raise
        return replay
    now = utc_now()
    decision = order_decision_values(screening, verdict, facts.next_order_id, now)
    order, taken, decision_id = yield from _write_order_steps(request, facts, decided, hold_id, decision)
    # The units again, counted as the order is written (sql.PLACE_FACTS says
    # why they can have changed since the facts were read). No replay here:
    # the key was free, or the insert would have been a unique violation.
    placement.check_member_limit(facts.item, request.quantity, taken_in_period=taken)
    return (yield from screened_steps(request.principal, screening, verdicts, order, review, decision_id, now))


# -- confirming a pickup at the counter -----------------------------------------


@dataclass(frozen=True, slots=True)
class GuessStanding:
    """Where a counter stands with wrong pickup codes: how many more it may
    type before it is slowed down, and for how long it is slowed (0: not)."""

    tries_left: int
    locked_for: int


class PickupGuesses(Protocol):
    """Counts wrong pickup codes per shop and per code value
    (``api/marketplace/pickup_throttle.py`` keeps them in Redis).

    Past the limit the counter is *slowed*, not closed: one code is looked
    up at a time, every few seconds (``take_slow_lookup``). A right code
    still hands over its order, so a shop being guessed at keeps serving
    its customers; guessing drops to a few codes a minute."""

    async def standing(self, shop_id: int, code: str) -> GuessStanding: ...

    async def take_slow_lookup(self, shop_id: int) -> int:
        """0 if a code may be looked up now (and none other for a few
        seconds), else the seconds to wait."""
        ...

    async def record_failure(self, shop_id: int, code: str) -> GuessStanding: ...


def _shop_facts(row: Row) -> ShopFacts:
    organisation_id = int(row["shop_organisation"])
    return ShopFacts(
        organisation_id=organisation_id,
        chain=tuple(_chain(organisation_id, row["shop_path"])),
        linked=bool(row["linked"]),
        staff_role_at=tuple(int(organisation_id) for organisation_id in json.loads(row["staff_grants"])),
    )


def counter_order_steps(
    principal: Principal, shop_id: int, code: str, expect_order_id: int | None = None
) -> Script[tuple[OrderRecord, Row]]:
    """Authorise the clerk at the counter, then find the open order of
    ``code`` at this shop, locked: one statement (``sql.COUNTER_ORDER``),
    decided in that order. With ``expect_order_id`` (a scanned token names
    its order), anything but that order still open is ``OrderNotOpen``: the
    order was handed over, cancelled or expired, and its code may already
    belong to a newer order."""
    rows = yield sql.COUNTER_ORDER(shop_id, principal.member_id, _COUNTER_ROLE.value, code)
    standing = policy.standing_from(principal, shop_id, _shop_facts(rows[0]) if rows else None)
    policy.check_shop_action(standing, ShopAction.COUNTER)
    row = rows[0]
    if expect_order_id is not None and row["id"] != expect_order_id:
        raise OrderNotOpen(f"order {expect_order_id} is no longer waiting for pickup", field="token")
    if row["id"] is None:
        raise PickupCodeNotFound("no open order with this code at this shop", field="code")
    return _order_record(row), row


def _fulfil_steps(
    principal: Principal,
    order: OrderRecord,
    status: OrderStatus,
    entry_id: int,
    at: datetime,
    client_ref: str | None = None,
) -> Script[Row]:
    """The order's move to ``status`` and its audit row; returns what changed.
    A counter outbox's ``client_ref`` is kept in the audit detail: a retried
    sync of the same hand-over is then told from another device's
    (``marketplace.counter``)."""
    move = (order.id, status.value, entry_id, at, principal.member_id)
    detail = (
        audit_detail(shop_id=order.shop_id, client_ref=client_ref)
        if client_ref
        else audit_detail(shop_id=order.shop_id)
    )
    audit_values = (
        principal.ref,
        "order.pickup",
        f"order:{order.id}",
        detail,
        utc_now(),
    )
    if dialect() is Dialect.POSTGRES:
        rows = yield sql.FULFIL_ORDER(*move, *audit_values)
        return rows[0]
    rows = yield sql.UPDATE_FULFILLED(*move)
    yield INSERT_AUDIT_ROW(*audit_values)
    return rows[0]


async def confirm_pickup(
    principal: Principal,
    *,
    shop_id: int,
    code: str,
    guesses: PickupGuesses | None = None,
    expect_order_id: int | None = None,
    client_ref: str | None = None,
) -> OrderRecord:
    """The principal hands over an order at the counter of ``shop_id``: its
    hold is posted to the shop's settlement account.

    Only staff who work at that shop (``policy``: linked *and* holding the
    ``shop_staff`` role over it). A code that is not an open order of this
    shop gives ``PickupCodeNotFound``, reveals nothing else, counts as a
    wrong guess and says how many tries are left. Past the limit the counter
    is slowed (``PickupGuesses``): a code is still looked up, and a right
    one still works, but only one every few seconds; a code typed sooner
    gets ``PickupThrottled`` with the seconds to wait (told to staff of the
    shop only). ``expect_order_id``: see ``counter_order_steps`` (the signed
    token's path, ``signing_keys.confirm_pickup_by_token``), as is
    ``client_ref`` (kept in the audit row: ``_fulfil_steps``)."""
    await pass_throttle(principal, shop_id, code, guesses)
    try:
        return await write(
            lambda _: _pick_up_steps(principal, shop_id, normalise_pickup_code(code), expect_order_id, client_ref)
        )
    except PickupCodeNotFound as wrong:
        raise await counted_wrong_code(wrong, shop_id, code, guesses) from None


@runtime_checkable
class PreviewPasses(Protocol):
    """A counter that lets the code it just showed (``counter.preview_pickup``,
    a right code) be confirmed at once, even while slowed: the staff member
    looked the order up and taps "确认交付" a moment later. A pass is only
    ever granted for a right code, so it gives a guesser nothing."""

    async def grant_pass(self, shop_id: int, code: str) -> None: ...

    async def take_pass(self, shop_id: int, code: str) -> bool: ...


async def pass_throttle(principal: Principal, shop_id: int, code: str, guesses: PickupGuesses | None) -> None:
    """Raise ``PickupThrottled`` if the counter is slowed and its lookup slot
    is taken (told to staff of the shop only), unless the code holds a
    preview pass (``PreviewPasses``)."""
    if guesses is None or not (await guesses.standing(shop_id, code)).locked_for:
        return
    if isinstance(guesses, PreviewPasses) and await guesses.take_pass(shop_id, normalise_pickup_code(code)):
        return
    wait = await guesses.take_slow_lookup(shop_id)
    if wait:
        rows = await fetch(sql.COUNTER_STANDING(shop_id, principal.member_id, _COUNTER_ROLE.value))
        standing = policy.standing_from(principal, shop_id, _shop_facts(rows[0]) if rows else None)
        policy.check_shop_action(standing, ShopAction.COUNTER)
        raise PickupThrottled(f"too many wrong pickup codes; next code in {wait} s", retry_after_seconds=wait)


async def counted_wrong_code(
    wrong: PickupCodeNotFound, shop_id: int, code: str, guesses: PickupGuesses | None
) -> PickupCodeNotFound:
    """A wrong code, counted (if the counter counts), saying the tries left."""
    if guesses is None:
        return wrong
    after = await guesses.record_failure(shop_id, code)
    return PickupCodeNotFound(
        wrong.message, field=wrong.field, tries_left=after.tries_left, locked_for=after.locked_for
    )


def _pick_up_steps(
    principal: Principal, shop_id: int, code: str, expect_order_id: int | None = None, client_ref: str | None = None
) -> Script[OrderRecord]:
    # The clerk's standing is read in the transaction that posts: a role
    # revoked a moment ago ends counter work before anything is written.
    order, row = yield from counter_order_steps(principal, shop_id, code, expect_order_id)
    now = utc_now()
    status = transitions.decide_pickup(order, shop_id=shop_id, now=now)
    reason_zh, reason_en = _reasons(order.item_name_zh, order.item_name_en, order.quantity)
    entry_id, posted_at = yield from capture_steps(
        order.hold_id,
        destination_code=settlement_code(shop_id),
        kind="redemption",
        reason_zh=reason_zh,
        reason_en=reason_en,
        actor_ref=principal.ref,
        metadata={"order_id": order.id, "item_id": order.item_id, "shop_id": shop_id},
        idempotency_key=f"order:{order.id}:fulfil",
    )
    changed = yield from _fulfil_steps(principal, order, status, entry_id, posted_at, client_ref)
    return _order_record(row, changed)


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
    if order.status is OrderStatus.HELD:
        # Cancelled while waiting for review: the case has nothing left to decide.
        await withdraw_held(order.id)
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
