"""The backtest (issue #12): past decisions replayed through the current
rules and settings, listing those that would change; nothing is written."""

from __future__ import annotations

from datetime import timedelta

from admin.fraud_backtest import backtest, summary
from core.clock import utc_now
from fraud.decisions import decisions_for
from fraud.models import Outcome, Subject
from fraud.shadow import update_settings
from marketplace import orders
from marketplace.models import OrderStatus
from tests.integration.marketplace.test_held_orders import _award, _newcomer
from tests.support.marketplace_helpers import Market, acting, snapshot_everything


async def test_a_settings_change_shows_which_past_decisions_would_change(market: Market) -> None:
    since = utc_now() - timedelta(minutes=5)
    item = await market.item(stock=10)
    newcomer = await _newcomer(market, "50.00")
    held = await orders.place_order(await acting(newcomer), item_id=item.id, shop_id=market.shop_a.id)
    old_member = await market.member("50.00")
    placed = await orders.place_order(await acting(old_member), item_id=item.id, shop_id=market.shop_a.id)
    assert (held.status, placed.status) == (OrderStatus.HELD, OrderStatus.PLACED)

    unchanged = await backtest(since)
    assert [replay.stored.subject_id for replay in unchanged] == [held.id, placed.id]
    assert not any(replay.changed for replay in unchanged)

    await update_settings(await acting(market.organiser), market.org_id, overrides={"cooling_days": 0}, shadow={})
    before = await snapshot_everything()
    replays = await backtest(since)
    assert await snapshot_everything() == before  # nothing written
    [changed] = [replay for replay in replays if replay.changed]
    assert changed.stored.subject_id == held.id
    assert (changed.stored.outcome, changed.now.outcome) == (Outcome.REVIEW, Outcome.ALLOW)
    assert summary(replays) == {"replayed": 2, "changed": 1, "now_flagged": 0, "now_allowed": 1}
    [stored] = await decisions_for(Subject.ORDER, held.id)
    assert stored.outcome is Outcome.REVIEW


async def test_an_order_is_judged_with_its_balance_then_not_now(market: Market) -> None:
    """A drain after a burst of awards: replayed later, when the wallet's
    balance has changed, the order is still judged on its balance then."""
    since = utc_now() - timedelta(minutes=5)
    member = await market.member()
    for _ in range(4):
        await _award(market, member, "5.00")
    item = await market.item(stock=10, price="20.00")
    drained = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    assert drained.status is OrderStatus.HELD
    await _award(market, member, "500.00")  # the balance now is no longer drained by it
    [replay] = await backtest(since)
    assert replay.now.outcome is Outcome.REVIEW and not replay.changed
    assert replay.hits_now() == ["cashing_out"]
