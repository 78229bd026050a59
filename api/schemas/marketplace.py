"""Request and response models of the marketplace routes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import BaseModel, Field

from api.points import Points
from core.ids import MAX_ID, RowId
from marketplace.models import (
    ItemRecord,
    LimitPeriod,
    OrderRecord,
    OrderStatus,
    ShopRecord,
    StaffRecord,
    Statement,
    StatementLineKind,
)
from marketplace.pickup_codes import display
from marketplace.placement import MAX_QUANTITY, affordable


class ShopIn(BaseModel):
    organisation_id: int = Field(ge=1, le=MAX_ID)
    name_zh: str = Field(min_length=1, max_length=200, examples=["平安便利店"])
    name_en: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=300)


class ShopStaffIn(BaseModel):
    member_id: int = Field(ge=1, le=MAX_ID)


class StaffOut(BaseModel):
    member_id: int
    name: str
    home_organisation_id: int
    added_at: datetime
    holds_role: bool = Field(description="false: still linked, but the shop_staff role was revoked (no counter work)")


def staff_out(staff: StaffRecord) -> StaffOut:
    return StaffOut.model_validate(staff, from_attributes=True)


class ShopOut(BaseModel):
    id: int
    organisation_id: int
    name_zh: str
    name_en: str
    address: str
    active: bool
    settlement_account: str


def shop_out(shop: ShopRecord) -> ShopOut:
    return ShopOut.model_validate(shop, from_attributes=True)


class ItemShopOut(BaseModel):
    id: int
    name_zh: str
    name_en: str


class ItemIn(BaseModel):
    organisation_id: int = Field(ge=1, le=MAX_ID)
    name_zh: str = Field(min_length=1, max_length=200, examples=["大米 5kg"])
    name_en: str = Field(default="", max_length=200)
    description_zh: str = Field(default="", max_length=2000)
    description_en: str = Field(default="", max_length=2000)
    category: str = Field(default="other", max_length=40)
    price: Points
    # annotated_types, not Field(ge=0): Litestar drops a zero bound of a
    # nullable field from the OpenAPI document.
    stock: Annotated[int, Ge(0), Le(1_000_000)] | None = None
    limit_count: int | None = Field(default=None, ge=1, le=1000)
    limit_period: str | None = Field(default=None, max_length=8)
    available_from: datetime | None = None
    available_until: datetime | None = None
    active: bool = True
    shop_ids: list[RowId] = Field(min_length=1, max_length=50)


class ItemOut(BaseModel):
    id: int
    organisation_id: int
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    category: str
    image_url: str | None
    price: Points
    stock_left: int | None
    limit_count: int | None
    limit_period: LimitPeriod | None
    available_from: datetime | None
    available_until: datetime | None
    active: bool
    shops: list[ItemShopOut]
    affordable: bool | None = Field(
        default=None, description="whether the caller's available points cover one unit (null: not known here)"
    )


def item_out(item: ItemRecord, *, available: Decimal | None = None) -> ItemOut:
    """``available``: the caller's available points, for ``affordable``."""
    return ItemOut(
        id=item.id,
        organisation_id=item.organisation_id,
        name_zh=item.name_zh,
        name_en=item.name_en,
        description_zh=item.description_zh,
        description_en=item.description_en,
        category=item.category,
        image_url=f"/api/v1/catalog/images/{item.image_sha256}" if item.image_sha256 else None,
        price=item.price,
        stock_left=item.stock,
        limit_count=item.limit_count,
        limit_period=item.limit_period,
        available_from=item.available_from,
        available_until=item.available_until,
        active=item.active,
        shops=[ItemShopOut(id=shop.id, name_zh=shop.name_zh, name_en=shop.name_en) for shop in item.shops],
        affordable=affordable(item.price, available) if available is not None else None,
    )


class CatalogPageOut(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None = Field(description="opaque; pass as ?cursor= for the next page (null: no more)")
    available: Points


class OrderIn(BaseModel):
    item_id: int = Field(ge=1, le=MAX_ID)
    shop_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)


class OrderOut(BaseModel):
    id: int
    item_id: int
    item_name_zh: str
    item_name_en: str
    shop_id: int
    shop_name_zh: str
    quantity: int
    unit_price: Points
    total: Points
    status: OrderStatus
    pickup_code: str | None
    pickup_code_display: str | None
    placed_at: datetime
    expires_at: datetime
    fulfilled_at: datetime | None
    closed_at: datetime | None
    returned_at: datetime | None


def order_out(order: OrderRecord, *, show_code: bool) -> OrderOut:
    """The pickup code is shown to the order's member while it is open, and
    never to shop staff (they type it in; they must not be able to read it)."""
    visible = show_code and order.status == OrderStatus.PLACED
    return OrderOut(
        id=order.id,
        item_id=order.item_id,
        item_name_zh=order.item_name_zh,
        item_name_en=order.item_name_en,
        shop_id=order.shop_id,
        shop_name_zh=order.shop_name_zh,
        quantity=order.quantity,
        unit_price=order.unit_price,
        total=order.total,
        status=order.status,
        pickup_code=order.pickup_code if visible else None,
        pickup_code_display=display(order.pickup_code) if visible else None,
        placed_at=order.placed_at,
        expires_at=order.expires_at,
        fulfilled_at=order.fulfilled_at,
        closed_at=order.closed_at,
        returned_at=order.returned_at,
    )


class OrderPageOut(BaseModel):
    orders: list[OrderOut]
    next_cursor: str | None = Field(description="opaque; pass as ?cursor= for the next page (null: no more)")


class PickupIn(BaseModel):
    code: str = Field(min_length=1, max_length=16, examples=["ABCD-EFGH"])


class PickupTokenIn(BaseModel):
    token: str = Field(
        min_length=1,
        max_length=400,
        description="the signed pickup token read from the member's QR (FL1:…)",
        examples=["FL1:V500003H0000000WA0448000$*0000.D5YD09V1L68V%2JCO"],
    )
    client_ref: str | None = Field(
        default=None,
        min_length=8,
        max_length=64,
        description="the counter outbox item's own id: a retried sync of it is the same hand-over, never a conflict",
    )
    device: str = Field(default="", max_length=64, description="which counter device queued it (shown in conflicts)")
    client_recorded_at: datetime | None = Field(
        default=None, description="when staff tapped 确认交付 on the counter (its own clock)"
    )


class CounterOrderOut(BaseModel):
    """An open order as the counter checks it before handing over."""

    order: OrderOut
    member_masked_name: str = Field(description="the member's name, masked (张*英)")


class PickupConflictOut(BaseModel):
    id: int
    shop_id: int
    order_id: int
    staff_id: int
    device: str
    reason: str = Field(description="picked_up_elsewhere, cancelled, expired, held_for_review or rejected")
    order_status: str
    client_recorded_at: datetime | None
    recorded_at: datetime


class PickupTokenOut(BaseModel):
    token: str = Field(description="what the order's QR carries: signed, checkable offline with the pickup keys")
    key_id: int
    expires_at: datetime


class PickupKeyOut(BaseModel):
    key_id: int
    public_key: str = Field(description="Ed25519 public key, 32 raw bytes, base64url without padding")
    verify_until: datetime | None = Field(description="trust tokens of this key until then; null: it signs now")


class ReturnIn(BaseModel):
    restock: bool = Field(description="true if the item itself came back to the shelf")
    reason_zh: str = Field(min_length=1, max_length=300, examples=["包装破损"])


class StatementLineOut(BaseModel):
    order_id: int
    at: datetime
    kind: StatementLineKind
    item_name_zh: str
    quantity: int
    points: Points


class StatementOut(BaseModel):
    shop_id: int
    shop_name_zh: str
    period: str
    period_start: datetime
    period_end: datetime
    redeemed: Points
    returned: Points
    net: Points
    order_count: int
    lines: list[StatementLineOut]
    settled: bool
    settled_at: datetime | None
    settlement_entry_id: int | None


def statement_out(statement: Statement) -> StatementOut:
    return StatementOut.model_validate(statement, from_attributes=True)
