"""Snoozes and allow-listed pairs at work on order screening (issue #12):
organisers only, audited; the rules honour them while they last."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from community.organisations import create_organisation
from community.roles import Level
from community.tables import AuditEvent
from core.clock import utc_now
from fraud.decisions import decisions_for
from fraud.errors import ExemptionNotFound, InvalidExemption
from fraud.exemptions import (
    allow_pair,
    delete_allow_pair,
    delete_snooze,
    list_allow_pairs,
    list_snoozes,
    snooze_rule,
)
from fraud.models import Subject
from marketplace import orders
from marketplace.models import OrderStatus
from tests.integration.marketplace.test_held_orders import _award, _newcomer
from tests.support.marketplace_helpers import Market, acting, fast_member


async def test_a_snoozed_rule_lets_a_newcomers_order_through_until_the_snooze_ends(market: Market) -> None:
    member = await _newcomer(market, "50.00")
    item = await market.item(stock=5)
    organiser = await acting(market.organiser)
    snooze = await snooze_rule(
        organiser,
        member_id=member,
        rule="cooling_off",
        reason="老居民换了新手机号",
        expires_at=utc_now() + timedelta(days=3),
    )
    assert [listed.id for listed in await list_snoozes(organiser)] == [snooze.id]
    placed = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    assert placed.status is OrderStatus.PLACED
    [decision] = await decisions_for(Subject.ORDER, placed.id)
    [cooling] = [result for result in decision.results if result["rule"] == "cooling_off"]
    assert not cooling["hit"] and cooling["evidence"]["would_hit"] is True
    await delete_snooze(organiser, snooze.id)
    assert await list_snoozes(organiser) == []
    held = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    assert held.status is OrderStatus.HELD
    actions = await AuditEvent.select(AuditEvent.action).output(as_list=True).run()
    assert {"fraud.snooze.create", "fraud.snooze.delete"} <= set(actions)


async def test_an_allow_listed_partner_is_no_part_of_a_ring(market: Market) -> None:
    verifier = await market.member()
    ring = await market.members(5)
    item = await market.item(price=Decimal("30.00"))
    organiser = await acting(market.organiser)
    pair = await allow_pair(organiser, member_a=ring[4], member_b=ring[0], reason="母女，同住一户")
    assert [listed.id for listed in await list_allow_pairs(organiser)] == [pair.id]
    statuses = []
    for member in ring:
        await _award(market, member, "30.00", approver=verifier)
        statuses.append(
            (await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)).status
        )
    # Without the pair the fifth wallet would be held (test_held_orders): with it, four are no ring.
    assert statuses == [OrderStatus.PLACED] * 5
    await delete_allow_pair(organiser, pair.id)
    assert await list_allow_pairs(organiser) == []


async def test_only_organisers_of_the_members_home_exempt_and_bad_requests_are_refused(market: Market) -> None:
    member = await market.member()
    elsewhere = await create_organisation(name_zh="别处社区", level=Level.COMMUNITY, issues_points=True)
    stranger = await fast_member(elsewhere.id, "外人")
    organiser = await acting(market.organiser)
    soon = utc_now() + timedelta(days=3)
    with pytest.raises(ExemptionNotFound):
        await snooze_rule(organiser, member_id=stranger, rule="burst", reason="x", expires_at=soon)
    with pytest.raises(ExemptionNotFound):
        await snooze_rule(await acting(member), member_id=member, rule="burst", reason="自己", expires_at=soon)
    with pytest.raises(InvalidExemption):
        await snooze_rule(organiser, member_id=member, rule="nothing", reason="x", expires_at=soon)
    with pytest.raises(ExemptionNotFound):
        await allow_pair(organiser, member_a=member, member_b=stranger, reason="不认识")
    assert await list_snoozes(await acting(member)) == []
