"""Partner shops: the counter (pickups, returns), staff and settlement.

Handlers parse, call the marketplace service with the acting principal and
shape the answer; who may do what is ``marketplace.policy``. Counter work
needs staff who work at that shop (linked to it *and* holding the
``shop_staff`` role over it); staff of shop A asking about shop B get 404,
as if the shop did not exist for them. Organisers and admins of the shop's
organisation read its orders and statements, take returns, settle, and add
or remove its staff.

Reads receive the shop already resolved through ``policy.shop_for``
(``readable_shop``, ``managed_shop``). Changes pass the shop id to their
service, which authorises inside the transaction that writes, so a role
revoked meanwhile stops the change.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, PathParameter, QueryParameter
from redis.asyncio import Redis

from api.dependencies import ActingPrincipal
from api.guards import requires_manager, requires_member
from api.i18n import wants_english
from api.marketplace.orders import Cursor, Limit
from api.marketplace.pickup_throttle import PickupThrottle
from api.params import Id
from api.rate_limits import PICKUP_LIMIT
from api.routing import delete, get, post
from api.schemas.marketplace import (
    CounterOrderOut,
    OrderOut,
    OrderPageOut,
    PickupConflictOut,
    PickupIn,
    PickupTokenIn,
    ReturnIn,
    ShopIn,
    ShopOut,
    ShopStaffIn,
    StaffOut,
    StatementOut,
    order_out,
    shop_out,
    staff_out,
    statement_out,
)
from fengling_settings import Settings
from marketplace import policy
from marketplace.counter import (
    ConflictRecord,
    organisation_conflicts,
    preview_pickup,
    shop_conflicts,
    sync_confirmation,
)
from marketplace.models import OrderStatus, ShopRecord
from marketplace.orders import confirm_pickup, list_orders, return_order
from marketplace.policy import ShopAction
from marketplace.settlement import settle_period, statement_csv, statement_of
from marketplace.shops import add_staff, create_shop, remove_staff, shops_for, staff_of

Period = Annotated[str, PathParameter(pattern=r"^\d{4}-\d{2}$", description="a month, e.g. 2026-11")]


async def readable_shop(principal: ActingPrincipal, shop_id: Id) -> ShopRecord:
    """The shop, for its staff and the managers of its organisation."""
    return await policy.shop_for(principal, shop_id, ShopAction.READ)


async def managed_shop(principal: ActingPrincipal, shop_id: Id) -> ShopRecord:
    """The shop, for the managers of its organisation."""
    return await policy.shop_for(principal, shop_id, ShopAction.MANAGE)


def pickup_guesses(redis: NamedDependency[Redis], settings: NamedDependency[Settings]) -> PickupThrottle:
    """Wrong pickup codes, counted in Redis (``pickup_throttle``)."""
    return PickupThrottle(redis, max_failures=settings.pickup_max_failures, window_minutes=settings.pickup_lock_minutes)


class ShopsController(Controller):
    path = "/api/v1/shops"
    tags = ["marketplace"]
    dependencies = {
        "readable_shop": Provide(readable_shop),
        "managed_shop": Provide(managed_shop),
        "guesses": Provide(pickup_guesses, sync_to_thread=False),
    }

    @post("", guards=[requires_manager], operation_id="createShop", summary="Register a partner shop")
    async def create(self, principal: ActingPrincipal, data: JSONBody[ShopIn]) -> ShopOut:
        shop = await create_shop(
            principal,
            organisation_id=data.organisation_id,
            name_zh=data.name_zh,
            name_en=data.name_en,
            address=data.address,
        )
        return shop_out(shop)

    @get("", guards=[requires_member], operation_id="listShops", summary="Shops near me (and the ones I manage)")
    async def list_all(self, principal: ActingPrincipal) -> list[ShopOut]:
        return [shop_out(shop) for shop in await shops_for(principal)]

    @post(
        "/{shop_id:int}/staff",
        guards=[requires_manager],
        operation_id="addShopStaff",
        summary="Make a member you manage counter staff of this shop (grants shop_staff)",
        status_code=204,
    )
    async def staff(self, principal: ActingPrincipal, shop_id: Id, data: JSONBody[ShopStaffIn]) -> None:
        await add_staff(principal, shop_id, data.member_id)

    @get("/{shop_id:int}/staff", guards=[requires_manager], operation_id="listShopStaff", summary="The shop's staff")
    async def staff_list(self, managed_shop: NamedDependency[ShopRecord]) -> list[StaffOut]:
        return [staff_out(staff) for staff in await staff_of(managed_shop)]

    @delete(
        "/{shop_id:int}/staff/{member_id:int}",
        guards=[requires_manager],
        operation_id="removeShopStaff",
        summary="Take a member off this shop's counter (revokes shop_staff if no other shop needs it)",
    )
    async def staff_remove(self, principal: ActingPrincipal, shop_id: Id, member_id: Id) -> None:
        await remove_staff(principal, shop_id, member_id)

    @post(
        "/{shop_id:int}/pickups",
        guards=[requires_member],
        operation_id="confirmPickup",
        summary="柜台核销 · Confirm a pickup with its code",
        status_code=200,
        middleware=[PICKUP_LIMIT.middleware],
    )
    async def pickup(
        self,
        principal: ActingPrincipal,
        guesses: NamedDependency[PickupThrottle],
        shop_id: Id,
        data: JSONBody[PickupIn],
    ) -> OrderOut:
        # PickupThrottled leaves as 429 with Retry-After (api/errors.py).
        order = await confirm_pickup(principal, shop_id=shop_id, code=data.code, guesses=guesses)
        return order_out(order, show_code=False)

    @post(
        "/{shop_id:int}/pickups/by-token",
        guards=[requires_member],
        operation_id="confirmPickupByToken",
        summary="柜台扫码核销 · Confirm a pickup with the token scanned from the member's QR",
        status_code=200,
        middleware=[PICKUP_LIMIT.middleware],
    )
    async def pickup_by_token(self, principal: ActingPrincipal, shop_id: Id, data: JSONBody[PickupTokenIn]) -> OrderOut:
        # A genuine token for an order no longer waiting is 409 order_not_open:
        # the counter's conflict (picked up on another device, cancelled, expired).
        # With client_ref (a counter outbox's sync) the conflict is also
        # recorded for the organisers and the problem says which and why.
        order = await sync_confirmation(
            principal,
            shop_id=shop_id,
            token=data.token,
            client_ref=data.client_ref,
            device=data.device,
            client_recorded_at=data.client_recorded_at,
        )
        return order_out(order, show_code=False)

    @post(
        "/{shop_id:int}/pickups/preview",
        guards=[requires_member],
        operation_id="previewPickup",
        summary="柜台查单 · Look up the open order of a code before handing it over (writes nothing)",
        status_code=200,
        middleware=[PICKUP_LIMIT.middleware],
    )
    async def pickup_preview(
        self,
        principal: ActingPrincipal,
        guesses: NamedDependency[PickupThrottle],
        shop_id: Id,
        data: JSONBody[PickupIn],
    ) -> CounterOrderOut:
        # A wrong code counts like a wrong confirmation (tries_left in the problem).
        found = await preview_pickup(principal, shop_id=shop_id, code=data.code, guesses=guesses)
        return CounterOrderOut(
            order=order_out(found.order, show_code=False), member_masked_name=found.member_masked_name
        )

    @get(
        "/{shop_id:int}/pickup-conflicts",
        guards=[requires_manager],
        operation_id="listPickupConflicts",
        summary="Counter hand-overs that synced after their order was picked up, cancelled or expired",
    )
    async def conflicts(self, managed_shop: NamedDependency[ShopRecord]) -> list[PickupConflictOut]:
        return [conflict_out(c) for c in await shop_conflicts(managed_shop)]

    @get("/{shop_id:int}/orders", guards=[requires_member], operation_id="listShopOrders", summary="A shop's orders")
    async def orders(
        self,
        readable_shop: NamedDependency[ShopRecord],
        status: Annotated[OrderStatus | None, QueryParameter()] = None,
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> OrderPageOut:
        page = await list_orders(shop_id=readable_shop.id, status=status, cursor=cursor, limit=limit)
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
        self, principal: ActingPrincipal, shop_id: Id, order_id: Id, data: JSONBody[ReturnIn]
    ) -> OrderOut:
        returned = await return_order(
            principal, shop_id=shop_id, order_id=order_id, restock=data.restock, reason_zh=data.reason_zh
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
        readable_shop: NamedDependency[ShopRecord],
        period: Period,
        format: Annotated[Literal["json", "csv"], QueryParameter()] = "json",
    ) -> Response[Any]:
        built = await statement_of(readable_shop, period)
        if format == "csv":
            return Response(
                statement_csv(built, english=wants_english(request)),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="shop-{readable_shop.id}-{period}.csv"'},
            )
        return Response(statement_out(built))

    @post(
        "/{shop_id:int}/statements/{period:str}/settle",
        guards=[requires_manager],
        operation_id="settleShopPeriod",
        summary="Settle a finished month: retire its points and lock it",
        status_code=200,
    )
    async def settle(self, principal: ActingPrincipal, shop_id: Id, period: Period) -> StatementOut:
        return statement_out(await settle_period(principal, shop_id=shop_id, period=period))


def conflict_out(c: ConflictRecord) -> PickupConflictOut:
    return PickupConflictOut(
        id=c.id,
        shop_id=c.shop_id,
        order_id=c.order_id,
        staff_id=c.staff_id,
        device=c.device,
        reason=c.reason,
        order_status=c.order_status,
        client_recorded_at=c.client_recorded_at,
        recorded_at=c.recorded_at,
    )


@get(
    "/api/v1/organisations/{organisation_id:int}/pickup-conflicts",
    guards=[requires_manager],
    operation_id="listOrganisationPickupConflicts",
    summary="Counter hand-overs that conflicted at the shops of this node and below",
    tags=["marketplace"],
)
async def organisation_pickup_conflicts(principal: ActingPrincipal, organisation_id: Id) -> list[PickupConflictOut]:
    return [conflict_out(c) for c in await organisation_conflicts(principal, organisation_id)]
