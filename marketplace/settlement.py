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
from decimal import Decimal

from pydantic import BaseModel

from community import audit
from community.access import Principal
from community.accounts import issuance_code
from community.organisations import issuing_organisation_for
from core.clock import utc_now
from core.database import in_write_transaction
from core.spreadsheet_cells import number_cell, safe_cell
from ledger.amounts import from_minor, to_minor
from ledger.posting import transfer
from marketplace import policy
from marketplace.accounts import settlement_code
from marketplace.errors import InvalidCatalogData, PeriodAlreadySettled, PeriodNotClosed
from marketplace.orders import FULFILLED, RETURNED, lock_shop
from marketplace.periods import LOCAL_ZONE, month_bounds
from marketplace.policy import ShopAction
from marketplace.shops import get_shop
from marketplace.tables import RedemptionOrder, SettlementStatement


class StatementLine(BaseModel):
    order_id: int
    at: datetime
    kind: str  # "redemption" or "return"
    item_name_zh: str
    quantity: int
    points: Decimal  # signed: a return is negative


class Statement(BaseModel):
    shop_id: int
    shop_name_zh: str
    period: str
    period_start: datetime
    period_end: datetime
    redeemed: Decimal
    returned: Decimal
    net: Decimal
    order_count: int
    lines: list[StatementLine]
    settled: bool
    settled_at: datetime | None
    settlement_entry_id: int | None


def _bounds(period: str) -> tuple[datetime, datetime]:
    try:
        return month_bounds(period)
    except ValueError as error:
        raise InvalidCatalogData(str(error), field="period") from error


async def build_statement(shop_id: int, period: str) -> Statement:
    shop = await get_shop(shop_id)
    start, end = _bounds(period)
    columns = (
        RedemptionOrder.id,
        RedemptionOrder.quantity,
        RedemptionOrder.total_minor,
        RedemptionOrder.fulfilled_at,
        RedemptionOrder.returned_at,
        RedemptionOrder.item.name_zh.as_alias("item_name_zh"),
    )
    picked_up = (
        await RedemptionOrder.select(*columns)
        .where(
            (RedemptionOrder.shop == shop_id)
            & RedemptionOrder.status.is_in([FULFILLED, RETURNED])
            & (RedemptionOrder.fulfilled_at >= start)
            & (RedemptionOrder.fulfilled_at < end)
        )
        .run()
    )
    returned = (
        await RedemptionOrder.select(*columns)
        .where(
            (RedemptionOrder.shop == shop_id)
            & (RedemptionOrder.status == RETURNED)
            & (RedemptionOrder.returned_at >= start)
            & (RedemptionOrder.returned_at < end)
        )
        .run()
    )
    lines = [
        StatementLine(
            order_id=row["id"],
            at=row["fulfilled_at"],
            kind="redemption",
            item_name_zh=row["item_name_zh"],
            quantity=row["quantity"],
            points=from_minor(row["total_minor"]),
        )
        for row in picked_up
    ] + [
        StatementLine(
            order_id=row["id"],
            at=row["returned_at"],
            kind="return",
            item_name_zh=row["item_name_zh"],
            quantity=row["quantity"],
            points=-from_minor(row["total_minor"]),
        )
        for row in returned
    ]
    lines.sort(key=lambda line: (line.at, line.order_id))
    redeemed = sum((line.points for line in lines if line.points > 0), Decimal("0.00"))
    returned_total = -sum((line.points for line in lines if line.points < 0), Decimal("0.00"))
    settled_rows = (
        await SettlementStatement.select()
        .where((SettlementStatement.shop == shop_id) & (SettlementStatement.period_start == start))
        .run()
    )
    settled = settled_rows[0] if settled_rows else None
    return Statement(
        shop_id=shop_id,
        shop_name_zh=shop.name_zh,
        period=period,
        period_start=start,
        period_end=end,
        redeemed=redeemed,
        returned=returned_total,
        net=redeemed - returned_total,
        order_count=len(picked_up),
        lines=lines,
        settled=settled is not None,
        settled_at=settled["settled_at"] if settled else None,
        settlement_entry_id=settled["entry_id"] if settled else None,
    )


async def shop_statement(principal: Principal, shop_id: int, period: str) -> Statement:
    """``build_statement`` for the shop's staff and the managers of its
    organisation (``marketplace.policy``)."""
    await policy.authorise_shop(principal, shop_id, ShopAction.READ)
    return await build_statement(shop_id, period)


def statement_csv(statement: Statement, *, english: bool = False) -> str:
    """CSV with a BOM, so Excel on a community office PC shows the Chinese.
    Item names are people's text: every cell goes through
    ``core.spreadsheet_cells``, so a name like ``=HYPERLINK(...)`` stays text."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    if english:
        writer.writerow(["order", "time", "type", "item", "quantity", "points"])
    else:
        writer.writerow(["订单号", "时间", "类型", "商品", "数量", "积分"])
    kinds = {"redemption": ("兑换", "redemption"), "return": ("退货", "return")}
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
    start, end = _bounds(period)
    await policy.authorise_shop(principal, shop_id, ShopAction.MANAGE)
    if end > (now or utc_now()):
        raise PeriodNotClosed(f"{period} is not over yet", field="period")
    shop = await get_shop(shop_id)
    issuer = await issuing_organisation_for(shop.organisation_id)
    if issuer is None:
        raise InvalidCatalogData("no organisation above this shop issues points", field="shop_id")

    async def work() -> None:
        await policy.authorise_shop(principal, shop_id, ShopAction.MANAGE)
        await lock_shop(shop_id)  # one settlement (or return) of this shop at a time
        if (
            await SettlementStatement.exists()
            .where((SettlementStatement.shop == shop_id) & (SettlementStatement.period_start == start))
            .run()
        ):
            raise PeriodAlreadySettled(f"{period} is already settled for this shop", field="period")
        statement = await build_statement(shop_id, period)
        entry_id = None
        if statement.net > 0:
            entry = await transfer(
                debit_code=settlement_code(shop_id),
                credit_code=issuance_code(issuer.id),
                amount=statement.net,
                kind="settlement",
                reason_zh=f"{shop.name_zh} {period} 兑换结算",
                reason_en=f"Settlement {period}",
                actor_ref=principal.ref,
                cause_ref=f"settlement:{shop_id}:{period}",
                metadata={"shop_id": shop_id, "period": period, "orders": statement.order_count},
                idempotency_key=f"settlement:{shop_id}:{period}",
            )
            entry_id = entry.id
        await SettlementStatement.insert(
            SettlementStatement(
                shop=shop_id,
                period_start=start,
                period_end=end,
                total_minor=to_minor(statement.net),
                order_count=statement.order_count,
                entry_id=entry_id,
                settled_at=utc_now(),
                settled_by=principal.member_id,
            )
        ).run()
        await audit.record(principal.ref, "shop.settle", f"shop:{shop_id}", period=period, net=str(statement.net))

    # A unique violation means a twin settled it first: re-run, and the check
    # above reports PeriodAlreadySettled.
    await in_write_transaction(work, retry_unique=True)
    return await build_statement(shop_id, period)
