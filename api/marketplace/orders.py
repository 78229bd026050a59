"""A member's redemption orders. Only their own: other members' orders
answer 404, exactly like orders that do not exist (``marketplace.policy``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, QueryParameter

from api.guards import principal_of, requires_member
from api.params import Id, IdempotencyKey
from api.schemas.marketplace import OrderIn, OrderOutModel, OrderPageOut, order_out
from fengling_settings import get_settings
from marketplace.errors import OrderNotOpen
from marketplace.orders import cancel_order, member_order, member_orders, place_order
from marketplace.qr import pickup_qr

OrderStatus = Literal["placed", "fulfilled", "cancelled", "expired", "returned"]


class OrdersController(Controller):
    path = "/api/v1/orders"
    tags = ["marketplace"]
    guards = [requires_member]

    @post("", operation_id="placeOrder", summary="兑换 · Redeem an item for pickup")
    async def place(
        self, request: Request[Any, Any, Any], data: JSONBody[OrderIn], idempotency_key: IdempotencyKey
    ) -> Response[OrderOutModel]:
        principal = principal_of(request)
        order = await place_order(
            principal,
            item_id=data.item_id,
            shop_id=data.shop_id,
            quantity=data.quantity,
            pickup_days=get_settings().order_pickup_days,
            idempotency_key=f"api:{principal.member_id}:{idempotency_key}",
        )
        headers = {"Idempotent-Replayed": "true"} if order.replayed else {}
        return Response(order_out(order, show_code=True), status_code=200 if order.replayed else 201, headers=headers)

    @get("", operation_id="listMyOrders", summary="My orders, newest first")
    async def mine(
        self,
        request: Request[Any, Any, Any],
        status: Annotated[OrderStatus | None, QueryParameter()] = None,
        cursor: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> OrderPageOut:
        page = await member_orders(principal_of(request), status=status, before_id=cursor, limit=limit)
        return OrderPageOut(
            orders=[order_out(order, show_code=True) for order in page.orders], next_cursor=page.next_cursor
        )

    @get("/{order_id:int}", operation_id="getMyOrder", summary="One of my orders, with its pickup code")
    async def one(self, request: Request[Any, Any, Any], order_id: Id) -> OrderOutModel:
        return order_out(await member_order(principal_of(request), order_id), show_code=True)

    @get("/{order_id:int}/qr", operation_id="getPickupQr", summary="Pickup code as a QR image")
    async def qr(
        self,
        request: Request[Any, Any, Any],
        order_id: Id,
        format: Annotated[Literal["png", "svg"], QueryParameter()] = "png",
    ) -> Response[bytes]:
        order = await member_order(principal_of(request), order_id)
        if order.status != "placed":
            raise OrderNotOpen(f"order {order_id} is {order.status}", field="order_id")
        media_type = "image/svg+xml" if format == "svg" else "image/png"
        return Response(
            pickup_qr(order.pickup_code, image_format=format),
            media_type=media_type,
            headers={"Cache-Control": "private, no-store"},
        )

    @post("/{order_id:int}/cancel", operation_id="cancelMyOrder", summary="Cancel before pickup", status_code=200)
    async def cancel(self, request: Request[Any, Any, Any], order_id: Id) -> OrderOutModel:
        order = await cancel_order(principal_of(request), order_id=order_id)
        return order_out(order, show_code=False)
