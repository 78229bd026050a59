"""The points supermarket on the phone: the catalog, an item, redeeming it,
my orders with their pickup code and QR, cancelling.

Every handler calls the marketplace services the API calls
(``marketplace.catalog.member_catalog`` / ``visible_item``,
``marketplace.orders.place_order`` / ``member_orders`` / ``member_order`` /
``cancel_order``), which apply ``marketplace.policy``: an item of another
catalog and another member's order answer 404, like missing ones.

Redeeming is idempotent: the item page draws an idempotency key into its
form, so a double tap or a browser retry of the same form places one order
(``place_order`` replays the key), and the answer for both is that order.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from api.dependencies import ActingPrincipal
from api.guards import requires_member
from api.ledger.wallet import own_wallet
from api.params import Id
from api.routing import get, post
from community.members import get_member
from core.clock import utc_now
from core.cursors import MAX_CURSOR_LENGTH
from core.errors import InvalidCursor
from fengling_settings import Settings, get_settings
from ledger.errors import InsufficientFunds
from marketplace.catalog import CATEGORIES, member_catalog, visible_item
from marketplace.errors import (
    InvalidCatalogData,
    ItemNotFound,
    ItemUnavailable,
    MemberLimitReached,
    OrderKeyConflict,
    OrderNotFound,
    OrderNotOpen,
    OutOfStock,
)
from marketplace.models import ItemRecord, OrderStatus
from marketplace.orders import cancel_order, member_order, member_orders, place_order
from marketplace.placement import MAX_QUANTITY, affordable
from marketplace.qr import pickup_qr_inline_svg
from marketplace.signing_keys import pickup_token_of
from web.form_body import FormBody
from web.page_errors import PAGE_EXCEPTION_HANDLERS
from web.rendering import render

CATALOG_PAGE = 50
ORDERS_PAGE = 20
# The page's idempotency key: what ``secrets.token_urlsafe`` draws, within
# what the API accepts as a key.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
KEY_BYTES = 18
ORDER_NOTICES = frozenset({"order_placed", "order_cancelled_notice"})
# What a refused redemption tells the member (catalog keys).
REDEEM_REFUSALS: dict[type[Exception], str] = {
    InsufficientFunds: "redeem_insufficient",
    ItemUnavailable: "redeem_unavailable",
    OutOfStock: "redeem_out_of_stock",
    MemberLimitReached: "redeem_limit",
    InvalidCatalogData: "redeem_bad_request",
    OrderKeyConflict: "redeem_retry",
}


@dataclass(frozen=True, slots=True)
class ShownItem:
    """An item on the catalog page: can the member redeem one now, and if
    not, how many points short they are."""

    item: ItemRecord
    affordable: bool
    short_by: Decimal


def shown_items(items: tuple[ItemRecord, ...], available: Decimal) -> list[ShownItem]:
    """Affordable items first, each group in the order given (cheapest first)."""
    rows = [
        ShownItem(item, affordable(item.price, available), max(item.price - available, Decimal("0.00")))
        for item in items
    ]
    return [row for row in rows if row.affordable] + [row for row in rows if not row.affordable]


def refusal_message(refusal: Exception) -> str:
    """The catalog key telling the member why a redemption was refused."""
    return next(message for kind, message in REDEEM_REFUSALS.items() if isinstance(refusal, kind))


def new_order_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def page_order_key(member_id: int, key: str) -> str:
    """The key ``place_order`` stores: the page's own, per member, apart from the API's."""
    return f"page:{member_id}:{key}"


@dataclass
class RedeemForm:
    shop_id: str = ""
    quantity: str = "1"
    order_key: str = ""


def _positive(text: str) -> int | None:
    text = text.strip()
    if not text.isdigit() or len(text) > 9:
        return None
    value = int(text)
    return value if value >= 1 else None


async def _available(principal: ActingPrincipal) -> Decimal:
    wallet = await own_wallet(principal)
    return wallet.available if wallet is not None else Decimal("0.00")


class ShopPages(Controller):
    path = ""
    include_in_schema = False
    guards = [requires_member]
    exception_handlers = PAGE_EXCEPTION_HANDLERS

    @get("/shop", name="shop")
    async def catalog(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        category: Annotated[str | None, QueryParameter(max_length=20)] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=MAX_CURSOR_LENGTH)] = None,
    ) -> Template:
        """By category (an unknown one shows everything), cheapest first, what
        the member can afford before what they cannot."""
        member = await get_member(principal.member_id)
        chosen = category if category in CATEGORIES else None
        try:
            page = await member_catalog(
                principal, now=utc_now(), category=chosen, cursor=cursor, limit=CATALOG_PAGE, sort="price_asc"
            )
        except InvalidCursor:
            page = await member_catalog(principal, now=utc_now(), category=chosen, limit=CATALOG_PAGE)
        available = await _available(principal)
        return render(
            request,
            "shop.html",
            member=member,
            items=shown_items(page.items, available),
            available=available,
            categories=CATEGORIES,
            category=chosen,
            next_cursor=page.next_cursor,
        )

    @get("/shop/items/{item_id:int}", name="shop_item")
    async def item(self, request: Request[Any, Any, Any], principal: ActingPrincipal, item_id: Id) -> Template:
        return await self._item_page(request, principal, item_id)

    async def _item_page(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        item_id: int,
        *,
        error: str | None = None,
        status_code: int = 200,
        order_key: str | None = None,
        chosen_shop: int | None = None,
    ) -> Template:
        member = await get_member(principal.member_id)
        try:
            item = await visible_item(principal, item_id)
        except ItemNotFound:
            raise NotFoundException() from None
        available = await _available(principal)
        return render(
            request,
            "shop_item.html",
            member=member,
            item=item,
            available=available,
            can_afford=affordable(item.price, available),
            order_key=order_key or new_order_key(),
            max_quantity=min(MAX_QUANTITY, item.limit_count or MAX_QUANTITY, item.stock or MAX_QUANTITY),
            chosen_shop=chosen_shop or (item.shops[0].id if item.shops else None),
            pickup_days=get_settings().order_pickup_days,
            error=error,
            error_values={"max": MAX_QUANTITY},
            status_code=status_code,
        )

    @post("/shop/items/{item_id:int}/redeem", status_code=303, name="shop_redeem")
    async def redeem(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        item_id: Id,
        settings: NamedDependency[Settings],
        data: FormBody[RedeemForm],
    ) -> Response[Any]:
        """One order per form (its key), then that order's page with the code."""
        shop_id, quantity = _positive(data.shop_id), _positive(data.quantity)
        key = data.order_key.strip()
        if not KEY_PATTERN.fullmatch(key):
            return await self._item_page(request, principal, item_id, error="redeem_retry", status_code=422)
        if shop_id is None or quantity is None or quantity > MAX_QUANTITY:
            return await self._item_page(
                request, principal, item_id, error="redeem_bad_request", status_code=422, order_key=key
            )
        try:
            order = await place_order(
                principal,
                item_id=item_id,
                shop_id=shop_id,
                quantity=quantity,
                pickup_days=settings.order_pickup_days,
                idempotency_key=page_order_key(principal.member_id, key),
            )
        except ItemNotFound:
            raise NotFoundException() from None
        except tuple(REDEEM_REFUSALS) as refusal:
            # Nothing was written. The same key may be sent again once the
            # member changes something, except after a key conflict.
            conflict = isinstance(refusal, OrderKeyConflict)
            return await self._item_page(
                request,
                principal,
                item_id,
                error=refusal_message(refusal),
                status_code=409 if conflict else 422,
                order_key=None if conflict else key,
                chosen_shop=shop_id,
            )
        return Redirect(f"/orders/{order.id}?n=order_placed", status_code=303)

    @get("/orders", name="orders")
    async def orders(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        cursor: Annotated[str | None, QueryParameter(max_length=MAX_CURSOR_LENGTH)] = None,
    ) -> Template:
        """My orders, newest first; the open ones with their code in large type."""
        member = await get_member(principal.member_id)
        try:
            page = await member_orders(principal, cursor=cursor, limit=ORDERS_PAGE)
        except InvalidCursor:
            page = await member_orders(principal, limit=ORDERS_PAGE)
        return render(request, "orders.html", member=member, orders=page.orders, next_cursor=page.next_cursor)

    @get("/orders/{order_id:int}", name="order")
    async def order(self, request: Request[Any, Any, Any], principal: ActingPrincipal, order_id: Id) -> Template:
        return await self._order_page(request, principal, order_id)

    async def _order_page(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        order_id: int,
        *,
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        """The code and its QR while the order waits for pickup (as the
        API's QR: ``transitions.check_awaiting_pickup``); afterwards its history."""
        member = await get_member(principal.member_id)
        try:
            order = await member_order(principal, order_id)
        except OrderNotFound:
            raise NotFoundException() from None
        waiting = order.status is OrderStatus.PLACED
        notice = request.query_params.get("n")
        return render(
            request,
            "order.html",
            member=member,
            order=order,
            waiting=waiting,
            # The QR carries the signed pickup token (checkable offline at the
            # counter); the code above it stays for typing.
            qr_svg=pickup_qr_inline_svg(await pickup_token_of(principal, order.id)) if waiting else None,
            notice=notice if notice in ORDER_NOTICES else None,
            error=error,
            status_code=status_code,
        )

    @post("/orders/{order_id:int}/cancel", status_code=303, name="order_cancel")
    async def cancel(self, request: Request[Any, Any, Any], principal: ActingPrincipal, order_id: Id) -> Response[Any]:
        try:
            await cancel_order(principal, order_id=order_id)
        except OrderNotFound:
            raise NotFoundException() from None
        except OrderNotOpen:
            return await self._order_page(request, principal, order_id, error="order_not_open", status_code=409)
        return Redirect(f"/orders/{order_id}?n=order_cancelled_notice", status_code=303)
