"""Partner shops: the counter (pickups, returns) and settlement.

Counter actions need staff *of that shop*: staff of shop A asking about
shop B get 404, as if the shop did not exist for them. Organisers and admins
of the shop's organisation may read its orders and statements, take
returns, and settle.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.errors import ProblemException
from api.guards import principal_of, requires_manager, requires_member
from api.i18n import wants_english
from api.marketplace_schemas import (
    OrderOutModel,
    OrderPageOut,
    PickupIn,
    ReturnIn,
    ShopIn,
    ShopOutModel,
    ShopStaffIn,
    StatementOut,
    order_out,
    shop_out,
    statement_out,
)
from api.params import Id
from api.pickup_throttle import PickupThrottle
from api.rate_limits import PICKUP_LIMIT
from community import audit
from community.access import Principal, can_manage_organisation, managed_organisations
from community.organisations import ancestor_ids
from marketplace.errors import OrderNotFound, PickupCodeNotFound, ShopNotFound
from marketplace.orders import confirm_pickup, get_order, list_orders, return_order
from marketplace.settlement import build_statement, settle_period, statement_csv
from marketplace.shops import ShopOut, add_staff, create_shop, get_shop, is_staff_of, list_shops

Period = Annotated[str, PathParameter(pattern=r"^\d{4}-\d{2}$", description="a month, e.g. 2026-11")]
OrderStatus = Literal["placed", "fulfilled", "cancelled", "expired", "returned"]


async def _shop_for(principal: Principal, shop_id: int, *, staff_only: bool = False) -> ShopOut:
    try:
        shop = await get_shop(shop_id)
    except ShopNotFound:
        shop = None
    if shop is not None:
        if await is_staff_of(principal.member_id, shop_id):
            return shop
        if not staff_only and await can_manage_organisation(principal, shop.organisation_id):
            return shop
    raise ProblemException(404, "shop_not_found", f"no shop {shop_id} that you work at or manage", field="shop_id")


class ShopsController(Controller):
    path = "/api/v1/shops"
    tags = ["marketplace"]

    @post("", guards=[requires_manager], operation_id="createShop", summary="Register a partner shop")
    async def create(self, request: Request[Any, Any, Any], data: JSONBody[ShopIn]) -> ShopOutModel:
        principal = principal_of(request)
        if not await can_manage_organisation(principal, data.organisation_id):
            raise ProblemException(403, "forbidden", "you do not manage this organisation", field="organisation_id")
        shop = await create_shop(
            organisation_id=data.organisation_id, name_zh=data.name_zh, name_en=data.name_en, address=data.address
        )
        await audit.record(principal.ref, "shop.create", f"shop:{shop.id}", name=shop.name_zh)
        return shop_out(shop)

    @get("", guards=[requires_member], operation_id="listShops", summary="Shops near me (and the ones I manage)")
    async def list_all(self, request: Request[Any, Any, Any]) -> list[ShopOutModel]:
        principal = principal_of(request)
        organisations = set(await ancestor_ids(principal.home_organisation_id)) | await managed_organisations(principal)
        return [shop_out(shop) for shop in await list_shops(organisations)]

    @post("/{shop_id:int}/staff", guards=[requires_manager], operation_id="addShopStaff", status_code=204)
    async def staff(self, request: Request[Any, Any, Any], shop_id: Id, data: JSONBody[ShopStaffIn]) -> None:
        principal = principal_of(request)
        shop = await get_shop(shop_id)
        if not await can_manage_organisation(principal, shop.organisation_id):
            raise ProblemException(404, "shop_not_found", f"no shop {shop_id} that you manage", field="shop_id")
        await add_staff(shop_id, data.member_id)
        await audit.record(principal.ref, "shop.staff.add", f"shop:{shop_id}", member_id=data.member_id)

    @post(
        "/{shop_id:int}/pickups",
        guards=[requires_member],
        operation_id="confirmPickup",
        summary="柜台核销 · Confirm a pickup with its code",
        status_code=200,
        middleware=[PICKUP_LIMIT.middleware],
    )
    async def pickup(self, request: Request[Any, Any, Any], shop_id: Id, data: JSONBody[PickupIn]) -> OrderOutModel:
        principal = principal_of(request)
        await _shop_for(principal, shop_id, staff_only=True)
        throttle: PickupThrottle = request.app.state.pickup_throttle
        locked_for = await throttle.seconds_locked(shop_id, data.code)
        if locked_for:
            raise ProblemException(
                429,
                "pickup_throttled",
                f"too many wrong pickup codes; retry in {locked_for} s",
                field="code",
                headers={"Retry-After": str(locked_for)},
            )
        try:
            order = await confirm_pickup(shop_id=shop_id, code=data.code, staff_member_id=principal.member_id)
        except PickupCodeNotFound:
            await throttle.record_failure(shop_id, data.code)
            raise
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
        await _shop_for(principal_of(request), shop_id)
        page = await list_orders(shop_id=shop_id, status=status, before_id=cursor, limit=limit)
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
        principal = principal_of(request)
        await _shop_for(principal, shop_id)
        try:
            order = await get_order(order_id)
        except OrderNotFound:
            order = None
        if order is None or order.shop_id != shop_id:
            raise ProblemException(404, "order_not_found", f"no order {order_id} at this shop", field="order_id")
        returned = await return_order(
            order_id=order_id, actor_member_id=principal.member_id, restock=data.restock, reason_zh=data.reason_zh
        )
        await audit.record(principal.ref, "order.return", f"order:{order_id}", restock=data.restock)
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
        await _shop_for(principal_of(request), shop_id)
        built = await build_statement(shop_id, period)
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
        principal = principal_of(request)
        shop = await _shop_for(principal, shop_id)
        if not await can_manage_organisation(principal, shop.organisation_id):
            raise ProblemException(403, "forbidden", "only organisers of this shop's organisation settle it")
        settled = await settle_period(shop_id=shop_id, period=period, actor_member_id=principal.member_id)
        await audit.record(principal.ref, "shop.settle", f"shop:{shop_id}", period=period, net=str(settled.net))
        return statement_out(settled)
