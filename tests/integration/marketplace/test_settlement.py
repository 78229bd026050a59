"""Shop statements and settlement.

A statement's totals are checked against the ledger itself: the postings
into the shop's settlement account over the month (settlement entries
excluded), read straight from ``ledger_posting`` joined to ``ledger_entry``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

import ledger.posting
from community.accounts import issuance_code
from core.clock import utc_now
from ledger.posting import load_entry
from ledger.tables import LedgerEntry
from marketplace import orders
from marketplace.errors import InvalidCatalogData, PeriodAlreadySettled, PeriodNotClosed, ReturnWindowClosed
from marketplace.models import OrderRecord, Statement
from marketplace.periods import LOCAL_ZONE, period_bounds
from marketplace.settlement import build_statement, settle_period, statement_csv
from marketplace.tables import SettlementStatement
from tests.support.marketplace_helpers import (
    Market,
    acting,
    assert_ledger_ok,
    assert_same,
    balance,
    ledger_into_shop,
    snapshot_everything,
)


def month_of(moment: datetime) -> tuple[str, datetime, datetime]:
    start, end = period_bounds("month", moment)
    return f"{start.year}-{start.month:02d}", start, end


async def assert_statement_matches_ledger(statement: Statement) -> None:
    credits, debits = await ledger_into_shop(statement.shop_id, statement.period_start, statement.period_end)
    assert statement.redeemed == Decimal(credits) / 100
    assert statement.returned == Decimal(debits) / 100
    assert statement.net == Decimal(credits - debits) / 100
    assert sum((line.points for line in statement.lines), Decimal("0")) == statement.net


async def busy_month(market: Market) -> dict[str, OrderRecord]:
    """Shop A: two pickups, one pickup returned, one cancelled, one expired,
    one still open. Shop B: one pickup (must not show on A's statement)."""
    soap = await market.item(
        stock=50, price=Decimal("10.00"), name_zh="香皂", shops=[market.shop_a.id, market.shop_b.id]
    )
    rice = await market.item(
        stock=50, price=Decimal("3.50"), name_zh="大米", shops=[market.shop_a.id, market.shop_b.id]
    )
    alice, bob = await market.member("500"), await market.member("500")
    a, b = market.shop_a.id, market.shop_b.id

    async def place(member: int, item: int, shop: int, quantity: int, **kw: object) -> OrderRecord:
        return await orders.place_order(await acting(member), item_id=item, shop_id=shop, quantity=quantity, **kw)  # type: ignore[arg-type]

    async def pick(order: OrderRecord, staff: int) -> OrderRecord:
        return await orders.confirm_pickup(await acting(staff), shop_id=order.shop_id, code=order.pickup_code)

    found = {
        "soap x2": await pick(await place(alice, soap.id, a, 2), market.staff_a),
        "rice x1": await pick(await place(bob, rice.id, a, 1), market.staff_a),
        "returned": await pick(await place(alice, soap.id, a, 1), market.staff_a),
        "cancelled": await place(bob, rice.id, a, 3),
        "expired": await place(alice, rice.id, a, 2, pickup_days=1),
        "open": await place(bob, soap.id, a, 1),
        "shop b": await pick(await place(bob, rice.id, b, 1), market.staff_b),
    }
    found["returned"] = await orders.return_order(
        await acting(market.staff_a),
        shop_id=market.shop_a.id,
        order_id=found["returned"].id,
        restock=True,
        reason_zh="包装破损",
    )
    await orders.cancel_order(await acting(bob), order_id=found["cancelled"].id)
    assert await orders.expire_orders(now=utc_now() + timedelta(days=2)) == 1
    return found


async def test_statement_totals_equal_the_ledger_postings_into_the_shop(market: Market) -> None:
    """Pickups (+), a return (−); cancelled, expired, open orders and another
    shop's pickups are absent; the totals equal the ledger's own postings."""
    found = await busy_month(market)
    period, start, end = month_of(found["soap x2"].fulfilled_at)  # type: ignore[arg-type]
    statement = await build_statement(market.shop_a.id, period)
    assert (statement.period_start, statement.period_end) == (start, end)
    assert (statement.redeemed, statement.returned, statement.net) == (
        Decimal("33.50"),
        Decimal("10.00"),
        Decimal("23.50"),
    )
    assert statement.order_count == 3
    assert sorted((line.order_id, line.kind, line.points) for line in statement.lines) == sorted(
        [
            (found["soap x2"].id, "redemption", Decimal("20.00")),
            (found["rice x1"].id, "redemption", Decimal("3.50")),
            (found["returned"].id, "redemption", Decimal("10.00")),
            (found["returned"].id, "return", Decimal("-10.00")),
        ]
    )
    assert [line.at for line in statement.lines] == sorted(line.at for line in statement.lines)
    assert not statement.settled and statement.settlement_entry_id is None
    await assert_statement_matches_ledger(statement)
    # The shop's account holds exactly the month's net (nothing settled yet).
    assert await balance(market.shop_a.settlement_account) == statement.net
    # Shop B's statement is its own.
    other = await build_statement(market.shop_b.id, period)
    assert (other.redeemed, other.returned, other.order_count) == (Decimal("3.50"), Decimal("0.00"), 1)
    await assert_statement_matches_ledger(other)
    # The next month has had no activity: empty, and its ledger view agrees.
    quiet = await build_statement(market.shop_a.id, month_of(end + timedelta(days=1))[0])
    assert (quiet.net, quiet.lines, quiet.order_count) == (Decimal("0.00"), (), 0)
    await assert_statement_matches_ledger(quiet)


async def test_settle_period_refuses_an_unfinished_month(market: Market) -> None:
    """The current month, or one second before its end, is PeriodNotClosed; nothing written."""
    found = await busy_month(market)
    period, _, end = month_of(found["soap x2"].fulfilled_at)  # type: ignore[arg-type]
    before = await snapshot_everything()
    for now in (None, end - timedelta(seconds=1)):
        with pytest.raises(PeriodNotClosed):
            await settle_period(await acting(market.organiser), shop_id=market.shop_a.id, period=period, now=now)
    assert_same(before, await snapshot_everything())


async def test_settle_period_moves_exactly_the_net_to_issuance_once(market: Market) -> None:
    """Settling a finished month moves exactly the net from the shop's account
    to issuance, records it, and refuses a second time."""
    found = await busy_month(market)
    period, start, end = month_of(found["soap x2"].fulfilled_at)  # type: ignore[arg-type]
    shop_code, issuance = market.shop_a.settlement_account, issuance_code(market.org_id)
    shop_before, issuance_before = await balance(shop_code), await balance(issuance)

    settled = await settle_period(await acting(market.organiser), shop_id=market.shop_a.id, period=period, now=end)
    assert settled.settled and settled.settled_at is not None and settled.settlement_entry_id is not None
    assert settled.net == Decimal("23.50")
    assert shop_before - await balance(shop_code) == settled.net
    assert await balance(issuance) - issuance_before == settled.net
    assert await balance(shop_code) == Decimal("0.00")
    entry = await load_entry(settled.settlement_entry_id)
    assert entry.kind == "settlement"
    assert {p.account_code: p.amount for p in entry.postings} == {shop_code: -settled.net, issuance: settled.net}
    (row,) = await SettlementStatement.select().run()
    assert (row["shop"], row["total_minor"], row["order_count"], row["settled_by"]) == (
        market.shop_a.id,
        2350,
        3,
        market.organiser,
    )
    assert row["period_start"] == start and row["period_end"] == end
    # The settlement entry itself is not part of the month's statement.
    await assert_statement_matches_ledger(await build_statement(market.shop_a.id, period))

    before = await snapshot_everything()
    with pytest.raises(PeriodAlreadySettled):
        await settle_period(await acting(market.organiser), shop_id=market.shop_a.id, period=period, now=end)
    assert_same(before, await snapshot_everything())
    assert int(await LedgerEntry.count().where(LedgerEntry.kind == "settlement").run()) == 1

    # Shop B settles its own month independently.
    other = await settle_period(await acting(market.organiser), shop_id=market.shop_b.id, period=period, now=end)
    assert other.net == Decimal("3.50") and await balance(market.shop_b.settlement_account) == Decimal("0.00")
    await assert_ledger_ok()


async def test_settling_an_empty_month_locks_it_without_an_entry(market: Market) -> None:
    """A month without pickups settles at 0.00 with no ledger entry, and is then locked."""
    period, _, end = month_of(utc_now() - timedelta(days=40))
    settled = await settle_period(await acting(market.organiser), shop_id=market.shop_a.id, period=period)
    assert settled.settled and settled.net == Decimal("0.00") and settled.settlement_entry_id is None
    assert int(await LedgerEntry.count().run()) == 0
    with pytest.raises(PeriodAlreadySettled):
        await settle_period(await acting(market.organiser), shop_id=market.shop_a.id, period=period, now=end)


@pytest.mark.parametrize("period", ["2026-13", "2026-00", "26-11", "2026-1", "1999-12", "november"])
async def test_malformed_periods_are_refused(market: Market, period: str) -> None:
    """build_statement and settle_period refuse malformed periods with InvalidCatalogData."""
    with pytest.raises(InvalidCatalogData):
        await build_statement(market.shop_a.id, period)
    with pytest.raises(InvalidCatalogData):
        await settle_period(await acting(market.organiser), shop_id=market.shop_a.id, period=period)


async def test_statement_csv_has_a_bom_the_header_one_row_per_line_and_the_total(market: Market) -> None:
    """The CSV starts with a BOM, then the zh header, one row per statement line, a blank row and the total."""
    found = await busy_month(market)
    period, _, _ = month_of(found["soap x2"].fulfilled_at)  # type: ignore[arg-type]
    statement = await build_statement(market.shop_a.id, period)
    text = statement_csv(statement)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == ["订单号", "时间（北京时间）", "类型", "商品", "数量", "积分"]
    body, blank, total = rows[1:-2], rows[-2], rows[-1]
    assert len(body) == len(statement.lines) == 4
    for row, line in zip(body, statement.lines, strict=True):
        assert row == [
            str(line.order_id),
            line.at.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M:%S"),
            {"redemption": "兑换", "return": "退货"}[line.kind],
            line.item_name_zh,
            str(line.quantity),
            str(line.points),
        ]
    assert {row[3] for row in body} == {"香皂", "大米"}
    assert blank == []
    assert total == ["合计", "", "", "", "", "23.50"]
    english = list(csv.reader(io.StringIO(statement_csv(statement, english=True).removeprefix("\ufeff"))))
    assert english[0] == ["order", "time (China time)", "type", "item", "quantity", "points"]
    assert english[-1] == ["net", "", "", "", "", "23.50"]
    assert {row[2] for row in english[1:-2]} == {"redemption", "return"}


# --- across a month boundary -------------------------------------------------------


@contextmanager
def ledger_clock(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> Iterator[None]:
    """Entries written inside take ``moment`` as their created_at (the ledger's
    clock, ``ledger.posting.utc_now``); hold deadlines and order checks keep
    the real clock. Used to put a pickup in last month."""
    with monkeypatch.context() as patch:
        patch.setattr(ledger.posting, "utc_now", lambda: moment)
        yield


async def picked_up_last_month(market: Market, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, int]:
    """An order placed and picked up in the previous calendar month."""
    this_month, this_start, _ = month_of(utc_now())
    last_month_moment = this_start - timedelta(days=2)
    last_month, _, _ = month_of(last_month_moment)
    item = await market.item(stock=5)
    member = await market.member("100")
    order = await orders.place_order(
        await acting(member), item_id=item.id, shop_id=market.shop_a.id, now=last_month_moment, pickup_days=60
    )
    with ledger_clock(monkeypatch, last_month_moment + timedelta(hours=1)):
        done = await orders.confirm_pickup(
            await acting(market.staff_a), shop_id=market.shop_a.id, code=order.pickup_code
        )
    assert month_of(done.fulfilled_at)[0] == last_month  # type: ignore[arg-type]
    return last_month, this_month, done.id


async def test_a_return_after_the_month_of_pickup_is_refused_and_writes_nothing(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Returns are taken in the month of pickup only: a later one would take
    points the unsettled pickup month still owes the shop (it could then never
    be settled). Refused with ReturnWindowClosed; statements still equal the
    ledger month by month."""
    last_month, this_month, order_id = await picked_up_last_month(market, monkeypatch)
    before = await snapshot_everything()
    with pytest.raises(ReturnWindowClosed):
        await orders.return_order(
            await acting(market.staff_a),
            shop_id=market.shop_a.id,
            order_id=order_id,
            restock=True,
            reason_zh="尺码不对",
        )
    assert_same(before, await snapshot_everything())
    previous = await build_statement(market.shop_a.id, last_month)
    current = await build_statement(market.shop_a.id, this_month)
    assert (previous.redeemed, previous.returned, previous.net) == (Decimal("10.00"), Decimal("0.00"), Decimal("10.00"))
    assert (current.redeemed, current.returned, current.net) == (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    await assert_statement_matches_ledger(previous)
    await assert_statement_matches_ledger(current)
    await assert_ledger_ok()


async def test_the_pickup_month_stays_settleable_whatever_happens_next_month(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a refused late return the finished month settles: exactly its net
    leaves the shop's settlement account, and no ledger error leaks."""
    last_month, _, order_id = await picked_up_last_month(market, monkeypatch)
    with pytest.raises(ReturnWindowClosed):
        await orders.return_order(
            await acting(market.staff_a), shop_id=market.shop_a.id, order_id=order_id, restock=False, reason_zh="晚了"
        )
    settled = await settle_period(await acting(market.organiser), shop_id=market.shop_a.id, period=last_month)
    assert settled.settled and settled.net == Decimal("10.00")
    assert await balance(market.shop_a.settlement_account) == Decimal("0.00")
    await assert_ledger_ok()
