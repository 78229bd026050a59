"""The ledger rollup under load and the redemption figures.

- Several rollup runs at once (as several API workers run the job) count
  every entry exactly once: the cursor row's lock makes them take turns,
  and each run's rows and cursor move in one transaction (PostgreSQL: real
  concurrent connections; SQLite has one writer, so the race cannot happen).
- Redemptions per shop and item, net of a return, equal what the orders and
  the shop's settlement account say.
- ``fengling reporting rebuild`` replays the same figures from the source.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from admin.cli import app as cli
from community.organisations import get_organisation
from core.clock import utc_now
from core.database import pooled_connections
from ledger.chain import seal_pending
from ledger.tables import LedgerPosting
from marketplace import orders
from reporting.aggregation import CHINA
from reporting.figures import dashboard
from reporting.models import Dashboard, Period
from reporting.rollups import catch_up, roll_ledger_once, roll_once
from reporting.tables import LedgerDay
from tests.support.database import on_postgres
from tests.support.marketplace_helpers import acting, build_market, fund_member


def _today() -> Period:
    today = utc_now().astimezone(CHINA).date()
    return Period(today - timedelta(days=1), today)


async def _legs_rolled_up() -> int:
    return sum(int(row["legs"]) for row in await LedgerDay.select(LedgerDay.legs).run())


async def _legs_on_nodes() -> int:
    """Postings on accounts that belong to a node (every account here does)."""
    return int(await LedgerPosting.count().run())


@pytest.mark.skipif(not on_postgres(), reason="SQLite has one writer: two rollup runs cannot overlap there")
async def test_concurrent_rollup_runs_count_every_entry_exactly_once() -> None:
    async with pooled_connections(max_size=6):
        market = await build_market()
        members = await market.members(30)
        await asyncio.gather(*(fund_member(market.org_id, m, "5.00") for m in members))
        await seal_pending(everything=True)

        async def drain() -> None:
            read = 1
            while read:
                read = await roll_ledger_once(blocks_per_run=1)

        await asyncio.gather(*(drain() for _ in range(4)))
        assert await _legs_rolled_up() == await _legs_on_nodes()
        assert await roll_ledger_once() == 0


async def test_redemptions_per_shop_and_item_are_net_of_returns_and_match_the_settlement() -> None:
    async with pooled_connections(max_size=4):
        market = await build_market()
        soap = await market.item(name_zh="肥皂", price=Decimal("3.00"), stock=10)
        towel = await market.item(
            name_zh="毛巾", price=Decimal("5.00"), stock=10, shops=[market.shop_a.id, market.shop_b.id]
        )
        buyer = await market.member("100")
        staff = {market.shop_a.id: market.staff_a, market.shop_b.id: market.staff_b}
        picked = []
        for item, shop, quantity in (
            (soap, market.shop_a.id, 2),
            (towel, market.shop_a.id, 1),
            (towel, market.shop_b.id, 3),
        ):
            order = await orders.place_order(await acting(buyer), item_id=item.id, shop_id=shop, quantity=quantity)
            picked.append(await orders.confirm_pickup(await acting(staff[shop]), shop_id=shop, code=order.pickup_code))
        returned = picked[1]
        await orders.return_order(
            await acting(market.staff_a),
            shop_id=market.shop_a.id,
            order_id=returned.id,
            restock=True,
            reason_zh="尺寸不合",
        )
        await catch_up()
        board = await dashboard(await get_organisation(market.org_id), _today())
        by_shop = {row[0]: row[1:] for row in board.figure("redemptions_by_shop").rows}
        assert by_shop["凤岭便民超市"] == (1, 2, Decimal("6.00"))
        assert by_shop["东门小卖部"] == (1, 3, Decimal("15.00"))
        by_item = {row[0]: row[1:] for row in board.figure("redemptions_by_item").rows}
        assert by_item["肥皂"] == (1, 2, Decimal("6.00")) and by_item["毛巾"] == (1, 3, Decimal("15.00"))
        points = {str(row[0]): row[1] for row in board.figure("points").rows}
        assert points["兑换 redeemed"] == Decimal("21.00")


async def _rolled_up_market() -> tuple[int, Dashboard, int]:
    async with pooled_connections(max_size=4):
        market = await build_market()
        for member in await market.members(3):
            await fund_member(market.org_id, member, "7.50")
        await catch_up()
        board = await dashboard(await get_organisation(market.org_id), _today())
        return market.org_id, board, await _legs_rolled_up()


async def _after_rebuild(organisation_id: int) -> tuple[Dashboard, int]:
    async with pooled_connections(max_size=4):
        return await dashboard(await get_organisation(organisation_id), _today()), await _legs_rolled_up()


def test_the_rebuild_command_replays_the_same_figures() -> None:
    organisation_id, before, legs = asyncio.run(_rolled_up_market())
    result = CliRunner().invoke(cli, ["reporting", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "rebuilt the rollups" in result.output
    assert asyncio.run(_after_rebuild(organisation_id)) == (before, legs)


async def test_one_background_run_works_off_a_backlog_of_several_steps() -> None:
    """The job's run takes as many steps as the backlog needs (up to its
    bound), not one block per tick."""
    async with pooled_connections(max_size=4):
        market = await build_market()
        for member in await market.members(6):
            await fund_member(market.org_id, member, "2.00")
            await seal_pending(everything=True)  # a block per funding: a backlog of several blocks
        read = await roll_once()
        assert read >= 6
        assert await _legs_rolled_up() == await _legs_on_nodes()
