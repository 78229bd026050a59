"""Rule settings and shadow mode (issue #12): settings validated and
audited; shadow rules and thresholds evaluated and recorded, never
enforced, and listed as what they would have flagged; a settings change
never rewrites a past decision."""

from __future__ import annotations

import pytest

from community.tables import AuditEvent
from fraud.decisions import decisions_for, get_decision
from fraud.errors import InvalidThresholds, SettingsNotFound
from fraud.models import Outcome, Subject
from fraud.shadow import read_settings, shadow_flags, update_settings
from marketplace import orders
from marketplace.models import OrderStatus
from tests.integration.marketplace.test_held_orders import _newcomer
from tests.support.marketplace_helpers import Market, acting


async def test_a_settings_change_never_rewrites_a_past_decision(market: Market) -> None:
    organiser = await acting(market.organiser)
    assert (await read_settings(organiser, market.org_id)).overrides == {}
    item = await market.item(stock=5)
    first = await _newcomer(market, "50.00")
    held = await orders.place_order(await acting(first), item_id=item.id, shop_id=market.shop_a.id)
    assert held.status is OrderStatus.HELD
    [before] = await decisions_for(Subject.ORDER, held.id)

    changed = await update_settings(organiser, market.org_id, overrides={"cooling_days": 0}, shadow={})
    assert changed.thresholds.cooling_days == 0
    assert (await read_settings(organiser, market.org_id)).overrides == {"cooling_days": 0}
    after = await get_decision(before.id)
    assert after == before and after is not None
    assert after.outcome is Outcome.REVIEW and after.thresholds["cooling_days"] == 7

    second = await _newcomer(market, "50.00")
    placed = await orders.place_order(await acting(second), item_id=item.id, shop_id=market.shop_a.id)
    assert placed.status is OrderStatus.PLACED
    [now_judged] = await decisions_for(Subject.ORDER, placed.id)
    assert now_judged.thresholds["cooling_days"] == 0
    [event] = await AuditEvent.select().where(AuditEvent.action == "fraud.settings.update").run()
    assert '"cooling_days": 0' in event["detail"]


async def test_bad_settings_and_strangers_are_refused(market: Market) -> None:
    organiser = await acting(market.organiser)
    with pytest.raises(InvalidThresholds):
        await update_settings(organiser, market.org_id, overrides={"no_such": 1}, shadow={})
    with pytest.raises(InvalidThresholds):
        await update_settings(organiser, market.org_id, overrides={}, shadow={"rules": ["no_such_rule"]})
    with pytest.raises(InvalidThresholds):
        await update_settings(organiser, market.org_id, overrides={"review_score": 200}, shadow={})
    volunteer = await acting(await market.member())
    with pytest.raises(SettingsNotFound):
        await read_settings(volunteer, market.org_id)
    with pytest.raises(SettingsNotFound):
        await read_settings(organiser, 999_999)


async def test_a_rule_in_shadow_is_recorded_and_listed_but_not_enforced(market: Market) -> None:
    organiser = await acting(market.organiser)
    await update_settings(organiser, market.org_id, overrides={}, shadow={"rules": ["cooling_off"]})
    item = await market.item(stock=5)
    member = await _newcomer(market, "50.00")
    placed = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    assert placed.status is OrderStatus.PLACED
    [enforced] = await decisions_for(Subject.ORDER, placed.id)
    assert enforced.outcome is Outcome.ALLOW
    assert "cooling_off" not in {result["rule"] for result in enforced.results}
    [shadow] = await decisions_for(Subject.ORDER, placed.id, shadow=True)
    assert shadow.outcome is Outcome.REVIEW and shadow.shadow
    [flag] = await shadow_flags(organiser)
    assert (flag.subject_id, flag.shadow_outcome, flag.enforced_outcome) == (placed.id, Outcome.REVIEW, Outcome.ALLOW)
    assert flag.shadow_rules == ("cooling_off",)
    assert await shadow_flags(await acting(member)) == []


async def test_shadow_thresholds_that_would_allow_are_not_listed(market: Market) -> None:
    organiser = await acting(market.organiser)
    await update_settings(organiser, market.org_id, overrides={}, shadow={"overrides": {"cooling_days": 0}})
    item = await market.item(stock=5)
    member = await _newcomer(market, "50.00")
    held = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    assert held.status is OrderStatus.HELD
    [shadow] = await decisions_for(Subject.ORDER, held.id, shadow=True)
    assert shadow.outcome is Outcome.ALLOW
    assert await shadow_flags(organiser) == []
