"""A member's redemption orders. Only their own: other members' orders
answer 404, exactly like orders that do not exist (``marketplace.policy``)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from api.dependencies import ActingPrincipal
from api.guards import requires_member
from api.params import Id, IdempotencyKey
from api.routing import get, post
from api.schemas.marketplace import OrderIn, OrderOut, OrderPageOut, PickupKeyOut, PickupTokenOut, order_out
from core.cursors import MAX_CURSOR_LENGTH
from fengling_settings import Settings
from marketplace.models import OrderStatus
from marketplace.orders import MAX_PAGE_SIZE, cancel_order, member_order, member_orders, place_order
from marketplace.pickup_tokens import key_id_of
from marketplace.qr import pickup_qr
from marketplace.signing_keys import pickup_token_of, verification_keys

Cursor = Annotated[
    str | None, QueryParameter(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")
]
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)]


class OrdersController(Controller):
    path = "/api/v1/orders"
    tags = ["marketplace"]
    guards = [requires_member]

    @post("", operation_id="placeOrder", summary="兑换 · Redeem an item for pickup")
    async def place(
        self,
        principal: ActingPrincipal,
        settings: NamedDependency[Settings],
        data: JSONBody[OrderIn],
        idempotency_key: IdempotencyKey,
    ) -> Response[OrderOut]:
        order = await place_order(
            principal,
            item_id=data.item_id,
            shop_id=data.shop_id,
            quantity=data.quantity,
            pickup_days=settings.order_pickup_days,
            idempotency_key=f"api:{principal.member_id}:{idempotency_key}",
        )
        headers = {"Idempotent-Replayed": "true"} if order.replayed else {}
        return Response(order_out(order, show_code=True), status_code=200 if order.replayed else 201, headers=headers)

    @get("", operation_id="listMyOrders", summary="My orders, newest first")
    async def mine(
        self,
        principal: ActingPrincipal,
        status: Annotated[OrderStatus | None, QueryParameter()] = None,
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> OrderPageOut:
        page = await member_orders(principal, status=status, cursor=cursor, limit=limit)
        return OrderPageOut(
            orders=[order_out(order, show_code=True) for order in page.orders], next_cursor=page.next_cursor
        )

    @get("/{order_id:int}", operation_id="getMyOrder", summary="One of my orders, with its pickup code")
    async def one(self, principal: ActingPrincipal, order_id: Id) -> OrderOut:
        return order_out(await member_order(principal, order_id), show_code=True)

    @get(
        "/{order_id:int}/qr",
        operation_id="getPickupQr",
        summary="The order's QR image: its signed pickup token (the 8-character code stays for typing)",
    )
    async def qr(
        self,
        principal: ActingPrincipal,
        order_id: Id,
        format: Annotated[Literal["png", "svg"], QueryParameter()] = "png",
    ) -> Response[bytes]:
        token = await pickup_token_of(principal, order_id)
        media_type = "image/svg+xml" if format == "svg" else "image/png"
        return Response(
            pickup_qr(token, image_format=format), media_type=media_type, headers={"Cache-Control": "private, no-store"}
        )

    @get(
        "/{order_id:int}/pickup-token",
        operation_id="getPickupToken",
        summary="The order's signed pickup token, as its QR carries it",
    )
    async def pickup_token(self, principal: ActingPrincipal, order_id: Id) -> PickupTokenOut:
        order = await member_order(principal, order_id)
        token = await pickup_token_of(principal, order_id)
        return PickupTokenOut(token=token, key_id=key_id_of(token), expires_at=order.expires_at)

    @post("/{order_id:int}/cancel", operation_id="cancelMyOrder", summary="Cancel before pickup", status_code=200)
    async def cancel(self, principal: ActingPrincipal, order_id: Id) -> OrderOut:
        return order_out(await cancel_order(principal, order_id=order_id), show_code=False)


@get(
    "/api/v1/pickup-keys",
    guards=[requires_member],
    operation_id="listPickupKeys",
    summary="The public keys a counter checks pickup tokens with, offline",
    tags=["marketplace"],
)
async def pickup_keys() -> list[PickupKeyOut]:
    """Public by nature (they only check signatures); served to signed-in
    members, as counters are."""
    return [
        PickupKeyOut(key_id=key.key_id, public_key=key.public_key, verify_until=key.verify_until)
        for key in await verification_keys()
    ]
