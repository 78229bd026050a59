"""Offline counters syncing (marketplace/counter.py) under real concurrency:
the server confirms a token's order exactly once. Several devices syncing
the same token at once: one hand-over, one posting, a conflict recorded for
each other device. One device retrying its own outbox item at once: the
same hand-over every time, no conflict. An order that expired meanwhile is
a conflict that posts nothing."""

from __future__ import annotations

import asyncio
import uuid

from ledger.tables import LedgerEntry
from marketplace import orders
from marketplace.counter import sync_confirmation
from marketplace.errors import PickupConflictRecorded
from marketplace.models import OrderRecord
from marketplace.signing_keys import pickup_token_of
from marketplace.tables import PickupConflict
from tests.integration.marketplace.test_concurrency import split
from tests.support.marketplace_helpers import Market, acting, active_holds, assert_ledger_ok


async def _redemptions() -> int:
    return int(await LedgerEntry.count().where(LedgerEntry.kind == "redemption").run())


async def _token(market: Market) -> tuple[OrderRecord, str]:
    item = await market.item(stock=5)
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    return order, await pickup_token_of(await acting(member), order.id)


async def test_eight_devices_syncing_one_token_at_once_hand_over_once_with_seven_conflicts(market: Market) -> None:
    order, token = await _token(market)
    staff = await acting(market.staff_a)

    results = await asyncio.gather(
        *[
            sync_confirmation(
                staff, shop_id=market.shop_a.id, token=token, client_ref=str(uuid.uuid4()), device=f"device-{n}"
            )
            for n in range(8)
        ],
        return_exceptions=True,
    )

    grouped, unexpected = split(results, OrderRecord, PickupConflictRecorded)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    assert len(grouped[OrderRecord]) == 1 and grouped[OrderRecord][0].id == order.id
    assert {conflict.reason for conflict in grouped[PickupConflictRecorded]} == {"picked_up_elsewhere"}
    assert len(grouped[PickupConflictRecorded]) == 7
    assert await _redemptions() == 1
    assert int(await PickupConflict.count().run()) == 7
    assert await active_holds() == []
    await assert_ledger_ok()


async def test_one_outbox_item_retried_at_once_is_one_hand_over_and_no_conflict(market: Market) -> None:
    order, token = await _token(market)
    staff = await acting(market.staff_a)
    ref = str(uuid.uuid4())

    results = await asyncio.gather(
        *[sync_confirmation(staff, shop_id=market.shop_a.id, token=token, client_ref=ref) for _ in range(5)],
        return_exceptions=True,
    )

    grouped, unexpected = split(results, OrderRecord)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    assert {done.id for done in grouped[OrderRecord]} == {order.id}
    assert await _redemptions() == 1
    assert int(await PickupConflict.count().run()) == 0


async def test_a_hand_over_of_an_order_that_expired_meanwhile_is_a_conflict_and_posts_nothing(market: Market) -> None:
    order, token = await _token(market)
    await orders.expire_orders(now=order.expires_at)

    results = await asyncio.gather(
        sync_confirmation(
            await acting(market.staff_a), shop_id=market.shop_a.id, token=token, client_ref=str(uuid.uuid4())
        ),
        return_exceptions=True,
    )

    [conflict] = results
    assert isinstance(conflict, PickupConflictRecorded) and conflict.reason == "expired"
    assert await _redemptions() == 0
    await assert_ledger_ok()


async def test_a_retry_of_a_hand_over_taken_back_since_is_still_that_hand_over(market: Market) -> None:
    order, token = await _token(market)
    staff = await acting(market.staff_a)
    ref = str(uuid.uuid4())
    await sync_confirmation(staff, shop_id=market.shop_a.id, token=token, client_ref=ref)
    await orders.return_order(staff, shop_id=market.shop_a.id, order_id=order.id, restock=True, reason_zh="不合适")

    again = await sync_confirmation(staff, shop_id=market.shop_a.id, token=token, client_ref=ref)

    assert again.id == order.id and again.status == "returned"
    assert int(await PickupConflict.count().run()) == 0


async def test_another_shops_outbox_ref_gets_its_own_conflict_not_the_first_shops(market: Market) -> None:
    """A counter's outbox ref names its own earlier record only: shop B
    presenting shop A's ref (replayed, or a collision) must neither be told
    shop A's conflict nor lose its own."""
    ref = str(uuid.uuid4())
    shops = ((market.shop_a, market.staff_a), (market.shop_b, market.staff_b))
    conflicts: list[PickupConflictRecorded] = []
    for shop, staff in shops:
        item = await market.item(stock=5, shops=[shop.id])
        member = await market.member("100")
        order = await orders.place_order(await acting(member), item_id=item.id, shop_id=shop.id)
        token = await pickup_token_of(await acting(member), order.id)
        await orders.expire_orders(now=order.expires_at)
        try:
            await sync_confirmation(await acting(staff), shop_id=shop.id, token=token, client_ref=ref)
        except PickupConflictRecorded as conflict:
            conflicts.append(conflict)
    first, second = conflicts
    assert first.conflict_id != second.conflict_id and second.order_id != first.order_id
    rows = await PickupConflict.select(PickupConflict.shop, PickupConflict.client_ref).order_by(PickupConflict.id)
    assert [(row["shop"], row["client_ref"]) for row in rows] == [(market.shop_a.id, ref), (market.shop_b.id, None)]
