"""Shop settlement: what a shop handed out in a month, and paying for it.

A statement lists the month's pickups (+) and returns (−) at one shop. Its
net total equals the ledger's postings into the shop's settlement account
over the same month (settlement entries themselves excluded), because both
come from the same entries: an order's ``fulfilled_at``/``returned_at`` are
the ledger entries' own timestamps.

Settling posts the net total from the shop's settlement account back to the
issuing organisation (points retired; cash is paid outside the system) and
locks the month. Returns are taken only in the month of pickup, so a month's
net (≥ 0) is always still in the shop's account when it is settled.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from piccolo.custom_types import Combinable

from community import audit
from community.access import Principal
from community.accounts import issuance_code
from community.organisations import issuing_organisation_for
from core.clock import utc_now
from core.database import in_write_transaction, lock_row
from core.spreadsheet_cells import number_cell, safe_cell
from ledger.amounts import to_minor
from ledger.posting import transfer
from marketplace import policy, statements
from marketplace.accounts import settlement_code
from marketplace.errors import InvalidCatalogData
from marketplace.models import (
    ORDER_COLUMNS,
    OrderRecord,
    OrderStatus,
    SettlementRecord,
    ShopRecord,
    Statement,
    StatementLineKind,
)
from marketplace.periods import LOCAL_ZONE, month_bounds
from marketplace.policy import ShopAction
from marketplace.shops import get_shop
from marketplace.tables import RedemptionOrder, SettlementStatement, Shop


def _bounds(period: str) -> tuple[datetime, datetime]:
    try:
        return month_bounds(period)
    except ValueError as error:
        raise InvalidCatalogData(str(error), field="period") from error


async def _settlement(shop_id: int, period_start: datetime) -> SettlementRecord | None:
    rows = (
        await SettlementStatement.select()
        .where((SettlementStatement.shop == shop_id) & (SettlementStatement.period_start == period_start))
        .run()
    )
    return SettlementRecord.from_row(rows[0]) if rows else None


async def is_settled_at(shop_id: int, moment: datetime) -> bool:
    """Does a settled period of the shop cover ``moment``?"""
    return bool(
        await SettlementStatement.exists()
        .where(
            (SettlementStatement.shop == shop_id)
            & (SettlementStatement.period_start <= moment)
            & (SettlementStatement.period_end > moment)
        )
        .run()
    )


async def _orders(where: Combinable) -> list[OrderRecord]:
    return [OrderRecord.from_row(row) for row in await RedemptionOrder.select(*ORDER_COLUMNS).where(where).run()]


async def statement_of(shop: ShopRecord, period: str) -> Statement:
    """The statement of ``shop`` for the month ``period`` (``2026-11``):
    loads the month's pickups, returns and settlement, and
    ``statements.compose_statement`` makes the statement of them."""
    start, end = _bounds(period)
    picked_up = await _orders(
        (RedemptionOrder.shop == shop.id)
        & RedemptionOrder.status.is_in([OrderStatus.FULFILLED, OrderStatus.RETURNED])
        & (RedemptionOrder.fulfilled_at >= start)
        & (RedemptionOrder.fulfilled_at < end)
    )
    returned = await _orders(
        (RedemptionOrder.shop == shop.id)
        & (RedemptionOrder.status == OrderStatus.RETURNED)
        & (RedemptionOrder.returned_at >= start)
        & (RedemptionOrder.returned_at < end)
    )
    return statements.compose_statement(
        shop,
        period=period,
        bounds=(start, end),
        picked_up=picked_up,
        returned=returned,
        settlement=await _settlement(shop.id, start),
    )


async def build_statement(shop_id: int, period: str) -> Statement:
    """``statement_of`` by shop id, unscoped (the CLI; callers acting for a
    person go through ``shop_statement``)."""
    return await statement_of(await get_shop(shop_id), period)


async def shop_statement(principal: Principal, shop_id: int, period: str) -> Statement:
    """``statement_of`` for the shop's staff and the managers of its
    organisation (``marketplace.policy``)."""
    return await statement_of(await policy.shop_for(principal, shop_id, ShopAction.READ), period)


def statement_csv(statement: Statement, *, english: bool = False) -> str:
    """CSV with a BOM, so Excel on a community office PC shows the Chinese.
    Item names are people's text: every cell goes through
    ``core.spreadsheet_cells``, so a name like ``=HYPERLINK(...)`` stays text."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    if english:
        writer.writerow(["order", "time (China time)", "type", "item", "quantity", "points"])
    else:
        writer.writerow(["订单号", "时间（北京时间）", "类型", "商品", "数量", "积分"])
    kinds = {StatementLineKind.REDEMPTION: ("兑换", "redemption"), StatementLineKind.RETURN: ("退货", "return")}
    for line in statement.lines:
        writer.writerow(
            [
                number_cell(line.order_id),
                safe_cell(line.at.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M:%S")),
                safe_cell(kinds[line.kind][1 if english else 0]),
                safe_cell(line.item_name_zh),
                number_cell(line.quantity),
                number_cell(line.points),
            ]
        )
    writer.writerow([])
    writer.writerow(["net" if english else "合计", "", "", "", "", number_cell(statement.net)])
    return out.getvalue()


async def settle_period(principal: Principal, *, shop_id: int, period: str, now: datetime | None = None) -> Statement:
    """Retire the month's net points from the shop's settlement account and
    lock the month. Only a finished month can be settled, only once, and
    only by a manager of the shop's organisation (``marketplace.policy``)."""
    _, end = _bounds(period)
    shop = await policy.shop_for(principal, shop_id, ShopAction.MANAGE)
    statements.check_period_over(period, period_end=end, now=now or utc_now())
    issuer = await issuing_organisation_for(shop.organisation_id)
    if issuer is None:
        raise InvalidCatalogData("no organisation above this shop issues points", field="shop_id")
    # A unique violation means a twin settled it first: re-run, and
    # check_not_settled reports PeriodAlreadySettled.
    await in_write_transaction(lambda: _settle(principal, shop, period, issuer.id), retry_unique=True)
    return await statement_of(shop, period)


async def _settle(principal: Principal, shop: ShopRecord, period: str, issuer_id: int) -> None:
    await policy.authorise_shop(principal, shop.id, ShopAction.MANAGE)
    await lock_row(Shop, shop.id, Shop.id)  # one settlement (or return) of this shop at a time
    statement = await statement_of(shop, period)
    statements.check_not_settled(period, settled=statement.settled)
    entry_id = None
    if statement.net > 0:
        entry = await transfer(
            debit_code=settlement_code(shop.id),
            credit_code=issuance_code(issuer_id),
            amount=statement.net,
            kind="settlement",
            reason_zh=f"{shop.name_zh} {period} 兑换结算",
            reason_en=f"Settlement {period}",
            actor_ref=principal.ref,
            cause_ref=f"settlement:{shop.id}:{period}",
            metadata={"shop_id": shop.id, "period": period, "orders": statement.order_count},
            idempotency_key=f"settlement:{shop.id}:{period}",
        )
        entry_id = entry.id
    await SettlementStatement.insert(
        SettlementStatement(
            shop=shop.id,
            period_start=statement.period_start,
            period_end=statement.period_end,
            total_minor=to_minor(statement.net),
            order_count=statement.order_count,
            entry_id=entry_id,
            settled_at=utc_now(),
            settled_by=principal.member_id,
        )
    ).run()
    await audit.record(principal.ref, "shop.settle", f"shop:{shop.id}", period=period, net=str(statement.net))
