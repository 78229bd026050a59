"""Partner shops: the counter (pickups, returns), staff and settlement.

Handlers parse, call the marketplace service with the acting principal and
shape the answer; who may do what is ``marketplace.policy``. Counter work
needs staff who work at that shop (linked to it *and* holding the
``shop_staff`` role over it); staff of shop A asking about shop B get 404,
as if the shop did not exist for them. Organisers and admins of the shop's
organisation read its orders and statements, take returns, settle, and add
or remove its staff.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.errors import ProblemException
from api.guards import principal_of, requires_manager, requires_member
from api.i18n import wants_english
from api.marketplace.pickup_throttle import PickupThrottle
from api.params import Id
from api.rate_limits import PICKUP_LIMIT
from api.schemas.marketplace import (
    OrderOutModel,
    OrderPageOut,
    PickupIn,
    ReturnIn,
    ShopIn,
    ShopOutModel,
    ShopStaffIn,
    StaffOutModel,
    StatementOut,
    order_out,
    shop_out,
    staff_out,
    statement_out,
)
from marketplace.errors import PickupThrottled
from marketplace.orders import confirm_pickup, return_order, shop_orders
from marketplace.settlement import settle_period, shop_statement, statement_csv
from marketplace.shops import add_staff, create_shop, list_staff, remove_staff, shops_for

Period = Annotated[str, PathParameter(pattern=r"^\d{4}-\d{2}$", description="a month, e.g. 2026-11")]
OrderStatus = Literal["placed", "fulfilled", "cancelled", "expired", "returned"]


class ShopsController(Controller):
    path = "/api/v1/shops"
    tags = ["marketplace"]

    @post("", guards=[requires_manager], operation_id="createShop", summary="Register a partner shop")
    async def create(self, request: Request[Any, Any, Any], data: JSONBody[ShopIn]) -> ShopOutModel:
        shop = await create_shop(
            principal_of(request),
            organisation_id=data.organisation_id,
            name_zh=data.name_zh,
            name_en=data.name_en,
            address=data.address,
        )
        return shop_out(shop)

    @get("", guards=[requires_member], operation_id="listShops", summary="Shops near me (and the ones I manage)")
    async def list_all(self, request: Request[Any, Any, Any]) -> list[ShopOutModel]:
        return [shop_out(shop) for shop in await shops_for(principal_of(request))]

    @post(
        "/{shop_id:int}/staff",
        guards=[requires_manager],
        operation_id="addShopStaff",
        summary="Make a member you manage counter staff of this shop (grants shop_staff)",
        status_code=204,
    )
    async def staff(self, request: Request[Any, Any, Any], shop_id: Id, data: JSONBody[ShopStaffIn]) -> None:
        await add_staff(principal_of(request), shop_id, data.member_id)

    @get("/{shop_id:int}/staff", guards=[requires_manager], operation_id="listShopStaff", summary="The shop's staff")
    async def staff_list(self, request: Request[Any, Any, Any], shop_id: Id) -> list[StaffOutModel]:
        return [staff_out(staff) for staff in await list_staff(principal_of(request), shop_id)]

    @delete(
        "/{shop_id:int}/staff/{member_id:int}",
        guards=[requires_manager],
        operation_id="removeShopStaff",
        summary="Take a member off this shop's counter (revokes shop_staff if no other shop needs it)",
    )
    async def staff_remove(self, request: Request[Any, Any, Any], shop_id: Id, member_id: Id) -> None:
        await remove_staff(principal_of(request), shop_id, member_id)

    @post(
        "/{shop_id:int}/pickups",
        guards=[requires_member],
        operation_id="confirmPickup",
        summary="柜台核销 · Confirm a pickup with its code",
        status_code=200,
        middleware=[PICKUP_LIMIT.middleware],
    )
    async def pickup(self, request: Request[Any, Any, Any], shop_id: Id, data: JSONBody[PickupIn]) -> OrderOutModel:
        throttle: PickupThrottle = request.app.state.pickup_throttle
        try:
            order = await confirm_pickup(principal_of(request), shop_id=shop_id, code=data.code, guesses=throttle)
        except PickupThrottled as throttled:
            raise ProblemException(
                429,
                throttled.code,
                throttled.message,
                field="code",
                headers={"Retry-After": str(throttled.retry_after_seconds)},
            ) from throttled
        return order_out(order, show_code=False)

    @get("/{shop_id:int}/orders", guards=[requires_member], operation_id="listShopOrders", summary="A shop's orders")
    async def orders(
        self,
        request: Request[Any, Any, Any],
        shop_id: Id,
        status: Annotated[OrderStatus | None, QueryParameter()] = None,
        cursor: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> OrderPageOut:
        page = await shop_orders(principal_of(request), shop_id, status=status, before_id=cursor, limit=limit)
        return OrderPageOut(
            orders=[order_out(order, show_code=False) for order in page.orders], next_cursor=page.next_cursor
        )

    @post(
        "/{shop_id:int}/orders/{order_id:int}/return",
        guards=[requires_member],
        operation_id="returnOrder",
        summary="Take back a picked-up item",
        status_code=200,
    )
    async def return_item(
        self, request: Request[Any, Any, Any], shop_id: Id, order_id: Id, data: JSONBody[ReturnIn]
    ) -> OrderOutModel:
        returned = await return_order(
            principal_of(request), shop_id=shop_id, order_id=order_id, restock=data.restock, reason_zh=data.reason_zh
        )
        return order_out(returned, show_code=False)

    @get(
        "/{shop_id:int}/statements/{period:str}",
        guards=[requires_member],
        operation_id="getShopStatement",
        summary="Monthly settlement statement (JSON, or CSV with ?format=csv)",
    )
    async def statement(
        self,
        request: Request[Any, Any, Any],
        shop_id: Id,
        period: Period,
        format: Annotated[Literal["json", "csv"], QueryParameter()] = "json",
    ) -> Response[Any]:
        built = await shop_statement(principal_of(request), shop_id, period)
        if format == "csv":
            return Response(
                statement_csv(built, english=wants_english(request)),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="shop-{shop_id}-{period}.csv"'},
            )
        return Response(statement_out(built))

    @post(
        "/{shop_id:int}/statements/{period:str}/settle",
        guards=[requires_manager],
        operation_id="settleShopPeriod",
        summary="Settle a finished month: retire its points and lock it",
        status_code=200,
    )
    async def settle(self, request: Request[Any, Any, Any], shop_id: Id, period: Period) -> StatementOut:
        return statement_out(await settle_period(principal_of(request), shop_id=shop_id, period=period))
