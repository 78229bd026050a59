"""The marketplace's typed records and statuses.

Services take and return these, never table rows. Each record is built from
its table's row in exactly one place (its ``from_row``), which is also the
only place that converts hundredths to points (through ``ledger.amounts``)
and text to a status. Records are frozen: a changed order is a new record,
read back after the write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ledger.amounts import from_minor
from marketplace.accounts import settlement_code
from marketplace.tables import RedemptionOrder

if TYPE_CHECKING:
    from core.fixed_sql import Row as FixedRow

Row = Mapping[str, Any]


class OrderStatus(StrEnum):
    """Where a redemption order stands (``marketplace.transitions`` says
    which action leads where)."""

    HELD = "held"  # 待审核: sent to review by the fraud rules; points held, stock reserved, not pickable
    PLACED = "placed"  # points held, stock reserved, waiting at the counter
    FULFILLED = "fulfilled"  # handed over: the hold was posted to the shop
    CANCELLED = "cancelled"  # by the member before pickup: hold voided, restocked
    EXPIRED = "expired"  # not picked up in time: hold voided, restocked
    RETURNED = "returned"  # taken back after pickup: the redemption reversed
    REJECTED = "rejected"  # a reviewer rejected the held order: hold voided, restocked


class LimitPeriod(StrEnum):
    """The calendar period of a per-member limit (China time: ``periods``)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class StatementLineKind(StrEnum):
    REDEMPTION = "redemption"  # a pickup: points into the shop's account (+)
    RETURN = "return"  # a return: points back out of it (−)


@dataclass(frozen=True, slots=True)
class ShopRecord:
    """A partner shop; its redeemed points wait in ``settlement_account``."""

    id: int
    organisation_id: int
    name_zh: str
    name_en: str
    address: str
    active: bool
    settlement_account: str

    @classmethod
    def from_row(cls, row: Row) -> ShopRecord:
        shop_id = int(row["id"])
        return cls(
            id=shop_id,
            organisation_id=int(row["organisation"]),
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            address=row["address"],
            active=bool(row["active"]),
            settlement_account=settlement_code(shop_id),
        )


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """A member linked to a shop's counter (``ShopStaff`` joined with the member)."""

    member_id: int
    name: str
    home_organisation_id: int
    added_at: datetime
    # False when the member is still linked but the shop_staff role was
    # revoked: they can no longer work the counter.
    holds_role: bool

    @classmethod
    def from_row(cls, row: Row, *, holds_role: bool) -> StaffRecord:
        """``row``: a ``ShopStaff`` row with the member's ``name`` and
        ``home_organisation`` joined in."""
        return cls(
            member_id=int(row["member"]),
            name=row["name"],
            home_organisation_id=int(row["home_organisation"]),
            added_at=row["added_at"],
            holds_role=holds_role,
        )


@dataclass(frozen=True, slots=True)
class ItemShop:
    """A shop that hands an item out, as the item lists it."""

    item_id: int
    id: int  # the shop's
    name_zh: str
    name_en: str

    @classmethod
    def from_row(cls, row: Row) -> ItemShop:
        """``row``: a ``CatalogItemShop`` row with ``shop_id``/``shop_name_*`` joined in."""
        return cls(
            item_id=int(row["item"]), id=int(row["shop_id"]), name_zh=row["shop_name_zh"], name_en=row["shop_name_en"]
        )


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """A catalog item. ``stock`` None is unlimited; ``limit_count`` per
    ``limit_period`` bounds what one member may order."""

    id: int
    organisation_id: int
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    category: str
    image_sha256: str
    price: Decimal
    stock: int | None
    limit_count: int | None
    limit_period: LimitPeriod | None
    available_from: datetime | None
    available_until: datetime | None
    active: bool
    shops: tuple[ItemShop, ...] = ()

    @classmethod
    def from_row(cls, row: Row, shops: tuple[ItemShop, ...] = ()) -> ItemRecord:
        return cls(
            id=int(row["id"]),
            organisation_id=int(row["organisation"]),
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            description_zh=row["description_zh"],
            description_en=row["description_en"],
            category=row["category"],
            image_sha256=row["image_sha256"],
            price=from_minor(row["price_minor"]),
            stock=row["stock"],
            limit_count=row["limit_count"],
            limit_period=LimitPeriod(row["limit_period"]) if row["limit_period"] is not None else None,
            available_from=row["available_from"],
            available_until=row["available_until"],
            active=bool(row["active"]),
            shops=shops,
        )


@dataclass(frozen=True, slots=True)
class ItemTerms:
    """What placing an order reads of a catalog item: ``ItemRecord`` without
    its descriptions, image and shops (the placement rules judge the terms;
    the names word the ledger's reason)."""

    id: int
    organisation_id: int
    name_zh: str
    name_en: str
    price: Decimal
    stock: int | None
    limit_count: int | None
    limit_period: LimitPeriod | None
    available_from: datetime | None
    available_until: datetime | None
    active: bool

    @classmethod
    def from_row(cls, row: FixedRow) -> ItemTerms:
        return cls(
            id=int(row["id"]),
            organisation_id=int(row["organisation"]),
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            price=from_minor(row["price_minor"]),
            stock=row["stock"],
            limit_count=row["limit_count"],
            limit_period=LimitPeriod(row["limit_period"]) if row["limit_period"] is not None else None,
            available_from=row["available_from"],
            available_until=row["available_until"],
            active=bool(row["active"]),
        )


# What ``OrderRecord.from_row`` reads: the order and the names people see.
ORDER_COLUMNS = (
    *RedemptionOrder.all_columns(),
    RedemptionOrder.item.name_zh.as_alias("item_name_zh"),
    RedemptionOrder.item.name_en.as_alias("item_name_en"),
    RedemptionOrder.shop.name_zh.as_alias("shop_name_zh"),
)


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """A redemption order (``RedemptionOrder`` with its item's and shop's names)."""

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
    status: OrderStatus
    pickup_code: str
    # The ledger hold carrying the points. Written in the transaction that
    # inserts the order, before anything can read it: never null once visible.
    hold_id: int
    entry_id: int | None
    return_entry_id: int | None
    restocked: bool
    placed_at: datetime
    expires_at: datetime
    fulfilled_at: datetime | None
    closed_at: datetime | None
    returned_at: datetime | None
    # True when ``place_order`` answered a replayed idempotency key with the
    # order the first request made (nothing was written this time).
    replayed: bool = False

    @classmethod
    def from_row(cls, row: Row, *, replayed: bool = False) -> OrderRecord:
        """``row``: selected with ``ORDER_COLUMNS``."""
        return cls(
            id=int(row["id"]),
            member_id=int(row["member"]),
            item_id=int(row["item"]),
            item_name_zh=row["item_name_zh"],
            item_name_en=row["item_name_en"],
            shop_id=int(row["shop"]),
            shop_name_zh=row["shop_name_zh"],
            quantity=int(row["quantity"]),
            unit_price=from_minor(row["unit_price_minor"]),
            total=from_minor(row["total_minor"]),
            status=OrderStatus(row["status"]),
            pickup_code=row["pickup_code"],
            hold_id=int(row["hold_id"]),
            entry_id=row["entry_id"],
            return_entry_id=row["return_entry_id"],
            restocked=bool(row["restocked"]),
            placed_at=row["placed_at"],
            expires_at=row["expires_at"],
            fulfilled_at=row["fulfilled_at"],
            closed_at=row["closed_at"],
            returned_at=row["returned_at"],
            replayed=replayed,
        )


@dataclass(frozen=True, slots=True)
class SettlementRecord:
    """A settled (and so locked) month of one shop."""

    id: int
    shop_id: int
    period_start: datetime
    period_end: datetime
    total: Decimal
    order_count: int
    entry_id: int | None
    settled_at: datetime
    settled_by: int

    @classmethod
    def from_row(cls, row: Row) -> SettlementRecord:
        return cls(
            id=int(row["id"]),
            shop_id=int(row["shop"]),
            period_start=row["period_start"],
            period_end=row["period_end"],
            total=from_minor(row["total_minor"]),
            order_count=int(row["order_count"]),
            entry_id=row["entry_id"],
            settled_at=row["settled_at"],
            settled_by=int(row["settled_by"]),
        )


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One pickup (+) or return (−) on a shop's statement."""

    order_id: int
    at: datetime
    kind: StatementLineKind
    item_name_zh: str
    quantity: int
    points: Decimal  # signed: a return is negative


@dataclass(frozen=True, slots=True)
class Statement:
    """What a shop handed out in one month, and whether it is settled
    (composed by ``marketplace.statements.compose_statement``)."""

    shop_id: int
    shop_name_zh: str
    period: str
    period_start: datetime
    period_end: datetime
    redeemed: Decimal
    returned: Decimal
    net: Decimal
    order_count: int
    lines: tuple[StatementLine, ...]
    settled: bool
    settled_at: datetime | None
    settlement_entry_id: int | None


@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: tuple[OrderRecord, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class CatalogPage:
    items: tuple[ItemRecord, ...]
    next_cursor: str | None
