"""Marketplace records made in memory, for the pure tests: a plausible item,
order and shop, with whatever a test changes given as keywords."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from marketplace.models import ItemRecord, OrderRecord, OrderStatus, SettlementRecord, ShopRecord

# A Wednesday in mid-November, 10:00 in Shanghai.
NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


def a_shop(**changes: Any) -> ShopRecord:
    shop = ShopRecord(
        id=7,
        organisation_id=3,
        name_zh="凤岭便民超市",
        name_en="Fengling store",
        address="凤岭路 1 号",
        active=True,
        settlement_account="shop:7:settlement",
    )
    return replace(shop, **changes)


def an_item(**changes: Any) -> ItemRecord:
    item = ItemRecord(
        id=5,
        organisation_id=3,
        name_zh="洗衣液",
        name_en="Laundry liquid",
        description_zh="",
        description_en="",
        category="household",
        image_sha256="",
        price=Decimal("10.00"),
        stock=None,
        limit_count=None,
        limit_period=None,
        available_from=None,
        available_until=None,
        active=True,
    )
    return replace(item, **changes)


def an_order(**changes: Any) -> OrderRecord:
    """A placed order of 2 × 10.00 at shop 7, due in a week."""
    order = OrderRecord(
        id=11,
        member_id=4,
        item_id=5,
        item_name_zh="洗衣液",
        item_name_en="Laundry liquid",
        shop_id=7,
        shop_name_zh="凤岭便民超市",
        quantity=2,
        unit_price=Decimal("10.00"),
        total=Decimal("20.00"),
        status=OrderStatus.PLACED,
        pickup_code="ABCDEFGH",
        hold_id=21,
        entry_id=None,
        return_entry_id=None,
        restocked=False,
        placed_at=NOW,
        expires_at=NOW + timedelta(days=7),
        fulfilled_at=None,
        closed_at=None,
        returned_at=None,
    )
    return replace(order, **changes)


def a_fulfilled_order(at: datetime = NOW, **changes: Any) -> OrderRecord:
    """``an_order`` picked up at ``at`` (redemption entry 31)."""
    picked_up = {"status": OrderStatus.FULFILLED, "entry_id": 31, "fulfilled_at": at, "closed_at": at}
    return an_order(**(picked_up | changes))


def a_settlement(**changes: Any) -> SettlementRecord:
    settlement = SettlementRecord(
        id=1,
        shop_id=7,
        period_start=datetime(2026, 10, 31, 16, 0, tzinfo=UTC),
        period_end=datetime(2026, 11, 30, 16, 0, tzinfo=UTC),
        total=Decimal("20.00"),
        order_count=1,
        entry_id=41,
        settled_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
        settled_by=2,
    )
    return replace(settlement, **changes)
