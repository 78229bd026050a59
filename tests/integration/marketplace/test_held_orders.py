"""Redemptions screened at placement (issue #12): allow places, review holds
(points and stock kept, a case opened), deny refuses and changes nothing
but the stored decision; a reviewer's approval makes a held order
pickable, a rejection voids the hold and restocks; the member may cancel."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from community.accounts import issuance_code, wallet_code
from community.tables import AuditEvent, Member
from core.clock import utc_now
from fraud.cases import case_for
from fraud.decisions import decisions_for, get_decision
from fraud.errors import FraudDenied, ReviewerConflict
from fraud.models import CaseStatus, Label, Outcome, Subject
from jobs.review_deadlines import expire_reviews
from ledger import posting
from marketplace import orders, screening
from marketplace.models import OrderStatus
from marketplace.order_reviews import approve_held_order, reject_held_order
from tests.support.marketplace_helpers import (
    Market,
    acting,
    assert_ledger_ok,
    stock,
    wallet,
    wallet_available,
)
from tests.support.marketplace_helpers import (
    orders as order_rows,
)


async def _newcomer(market: Market, points: str) -> int:
    """A member who joined today (the cooling-off rule sees them)."""
    member_id = await market.member(points)
    await Member.update({Member.created_at: utc_now()}).where(Member.id == member_id).run()
    return member_id


async def _award(market: Market, member_id: int, amount: str, approver: int | None = None) -> None:
    await posting.transfer(
        debit_code=issuance_code(market.org_id),
        credit_code=wallet_code(member_id),
        amount=amount,
        kind="award",
        reason_zh="志愿服务奖励",
        metadata={"approver_member_id": approver} if approver is not None else None,
    )


async def test_an_old_members_order_is_allowed_and_its_decision_stored(market: Market) -> None:
    member = await market.member("50.00")
    item = await market.item(stock=5)
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    assert order.status is OrderStatus.PLACED
    [decision] = await decisions_for(Subject.ORDER, order.id)
    assert decision.outcome is Outcome.ALLOW
    assert {result["rule"] for result in decision.results} == {"cooling_off", "cashing_out"}
    assert await case_for(Subject.ORDER, order.id) is None


async def test_an_order_leaving_money_in_the_wallet_is_screened_without_reading_the_wallets_history(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The history (the wallet's awards, the shop's redemptions) is read only
    for an order that drains the wallet: the busy shop's common order is
    screened over the facts its first statement reads, and a draining one
    is still judged over the history."""
    loads: list[int] = []
    load = screening.load_order_screening

    async def recorded(**kwargs: Any) -> screening.OrderScreening:
        loads.append(kwargs["member_id"])
        return await load(**kwargs)

    monkeypatch.setattr(orders, "load_order_screening", recorded)
    member = await market.member("50.00")
    item = await market.item(stock=5, price=Decimal("10.00"))
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    assert order.status is OrderStatus.PLACED and loads == []
    [decision] = await decisions_for(Subject.ORDER, order.id)
    [cashing] = [result for result in decision.results if result["rule"] == "cashing_out"]
    assert not cashing["hit"] and cashing["evidence"]["history"] == "not read: the order does not drain the wallet"
    assert cashing["evidence"]["balance_before"] == "50.00"

    whole = await market.item(stock=5, price=Decimal("40.00"))
    drained = await orders.place_order(await acting(member), item_id=whole.id, shop_id=market.shop_a.id)
    assert drained.status is OrderStatus.PLACED and loads == [member]
    [decision] = await decisions_for(Subject.ORDER, drained.id)
    [cashing] = [result for result in decision.results if result["rule"] == "cashing_out"]
    # Judged over the history: the award that funded the wallet is in it.
    assert "history" not in cashing["evidence"] and cashing["evidence"]["awards_within_drain_hours"] == 1
    assert len(await order_rows()) == 2
    await assert_ledger_ok()


async def test_a_newcomers_order_is_held_with_its_points_and_stock_until_approved(market: Market) -> None:
    member = await _newcomer(market, "50.00")
    item = await market.item(stock=5)
    held = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    assert held.status is OrderStatus.HELD
    assert await stock(item.id) == 4
    assert await wallet(member) == Decimal("50.00")
    assert await wallet_available(member) == Decimal("40.00")
    case = await case_for(Subject.ORDER, held.id)
    assert case is not None and case.status is CaseStatus.OPEN
    assert case.hold_id == held.hold_id and case.amount == Decimal("10.00")
    assert case.due_at > utc_now()
    assert "加入未满" in case.reason_zh
    [decision] = await decisions_for(Subject.ORDER, held.id)
    assert decision.outcome is Outcome.REVIEW and decision.id == case.decision_id
    # Not pickable while held.
    with pytest.raises(Exception, match="no open order"):
        await orders.confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=held.pickup_code)
    # The member never reviews their own order.
    with pytest.raises(ReviewerConflict):
        await approve_held_order(await acting(member), case.id, label=Label.LEGITIMATE, note="我自己")
    approved = await approve_held_order(
        await acting(market.organiser), case.id, label=Label.LEGITIMATE, note="家人代领"
    )
    assert approved.status is OrderStatus.PLACED
    assert approved.expires_at >= held.expires_at and approved.pickup_code
    after = await case_for(Subject.ORDER, held.id)
    assert after is not None and after.status is CaseStatus.APPROVED and after.label is Label.LEGITIMATE
    fulfilled = await orders.confirm_pickup(
        await acting(market.staff_a), shop_id=market.shop_a.id, code=approved.pickup_code
    )
    assert fulfilled.status is OrderStatus.FULFILLED
    assert await wallet(member) == Decimal("40.00")
    await assert_ledger_ok()


async def test_an_approval_whose_new_pickup_code_is_taken_draws_again(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The approval draws a new pickup code; one an open order already has
    is refused by the unique index, and the approval runs again with a
    fresh draw instead of failing."""
    taken = await orders.place_order(
        await acting(await market.member("50.00")), item_id=(await market.item(stock=5)).id, shop_id=market.shop_a.id
    )
    member = await _newcomer(market, "50.00")
    held = await orders.place_order(
        await acting(member), item_id=(await market.item(stock=5)).id, shop_id=market.shop_a.id
    )
    case = await case_for(Subject.ORDER, held.id)
    assert case is not None
    draws = iter([taken.pickup_code, "FRESH234"])
    monkeypatch.setattr("marketplace.order_reviews.new_pickup_code", lambda: next(draws))
    approved = await approve_held_order(
        await acting(market.organiser), case.id, label=Label.LEGITIMATE, note="核实无误"
    )
    assert approved.status is OrderStatus.PLACED and approved.pickup_code == "FRESH234"
    await assert_ledger_ok()


async def test_a_rejected_held_order_voids_its_hold_and_restocks(market: Market) -> None:
    member = await _newcomer(market, "50.00")
    item = await market.item(stock=5)
    held = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, quantity=2)
    case = await case_for(Subject.ORDER, held.id)
    assert case is not None
    rejected = await reject_held_order(await acting(market.organiser), case.id, label=Label.FRAUD, note="代刷积分")
    assert rejected.status is OrderStatus.REJECTED
    assert await stock(item.id) == 5
    assert await wallet_available(member) == Decimal("50.00")
    after = await case_for(Subject.ORDER, held.id)
    assert after is not None and after.status is CaseStatus.REJECTED and after.note == "代刷积分"
    actions = await AuditEvent.select(AuditEvent.action).output(as_list=True).run()
    assert {"order.hold", "fraud.case.reject"} <= set(actions)
    await assert_ledger_ok()


async def test_a_member_cancels_a_held_order_and_its_case_is_withdrawn(market: Market) -> None:
    member = await _newcomer(market, "50.00")
    item = await market.item(stock=5)
    held = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    cancelled = await orders.cancel_order(await acting(member), order_id=held.id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert await stock(item.id) == 5
    assert await wallet_available(member) == Decimal("50.00")
    case = await case_for(Subject.ORDER, held.id)
    assert case is not None and case.status is CaseStatus.WITHDRAWN
    await assert_ledger_ok()


async def test_a_newcomer_emptying_the_wallet_after_a_burst_of_awards_is_denied_and_nothing_changes(
    market: Market,
) -> None:
    member = await _newcomer(market, "0")
    for _ in range(4):
        await _award(market, member, "5.00")
    item = await market.item(stock=5, price=Decimal("20.00"))
    before_orders = await order_rows()
    with pytest.raises(FraudDenied) as denied:
        await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    assert "清空" in denied.value.message or "兑换几乎全部积分" in denied.value.message
    assert await order_rows() == before_orders
    assert await stock(item.id) == 5
    assert await wallet_available(member) == Decimal("20.00")
    decision = await get_decision(denied.value.decision_id)
    assert decision is not None and decision.subject is Subject.ORDER and decision.outcome is Outcome.DENY
    assert decision.subject_id not in {row["id"] for row in await order_rows()}
    assert {result["rule"] for result in decision.results if result["hit"]} == {"cooling_off", "cashing_out"}
    await assert_ledger_ok()


async def test_wallets_funded_by_one_verifier_emptied_at_one_shop_are_held_as_a_ring(market: Market) -> None:
    """Five wallets, each funded by the same verifier, each redeeming its
    whole balance at one shop: the fifth is held (cashing out), the first
    four were too few to see."""
    verifier = await market.member()
    ring = await market.members(5)
    item = await market.item(price=Decimal("30.00"))
    placed = []
    for member in ring:
        await _award(market, member, "30.00", approver=verifier)
        placed.append(await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id))
    assert [order.status for order in placed] == [OrderStatus.PLACED] * 4 + [OrderStatus.HELD]
    [decision] = await decisions_for(Subject.ORDER, placed[-1].id)
    [cashing] = [result for result in decision.results if result["rule"] == "cashing_out"]
    assert cashing["hit"] and cashing["evidence"]["funders"] == [verifier]
    assert sorted(cashing["evidence"]["ring_wallets"]) == sorted(ring[:4])
    # An honest wallet at the same shop, funded by others, is not part of it.
    honest = await market.member()
    await _award(market, honest, "30.00", approver=market.organiser)
    order = await orders.place_order(await acting(honest), item_id=item.id, shop_id=market.shop_a.id)
    assert order.status is OrderStatus.PLACED
    await assert_ledger_ok()


async def test_an_overdue_small_held_order_is_released_and_becomes_pickable(market: Market) -> None:
    member = await _newcomer(market, "50.00")
    item = await market.item(stock=5)
    held = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    case = await case_for(Subject.ORDER, held.id)
    assert case is not None
    assert await expire_reviews(now=case.due_at - timedelta(minutes=1)) == 0
    assert await expire_reviews(now=case.due_at + timedelta(minutes=1)) == 1
    released = await orders.get_order(held.id)
    assert released.status is OrderStatus.PLACED
    after = await case_for(Subject.ORDER, held.id)
    assert after is not None and after.status is CaseStatus.APPROVED and after.decided_by is None
    await assert_ledger_ok()
