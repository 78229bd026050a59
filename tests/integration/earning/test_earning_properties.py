"""Properties of earning: rounding, caps, and conservation of points.

For any rules and any set of activities verified (and some rejected) in any
order: total awarded = sum of wallet increases = budget decrease, no award
exceeds what the rules compute, and no person's day or week goes over its
cap.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities.models import Status
from activities.submissions import ReportIn, submit_report
from activities.tables import Activity
from activities.verification import reject_activity, verify_activity
from campaigns.accounts import budget_code
from campaigns.errors import BudgetExhausted
from campaigns.rules import EarningRules, ReportKind, apply_caps, service_points
from community.access import load_principal
from core.clock import utc_now
from fraud.errors import FraudDenied
from ledger.amounts import from_minor
from tests.integration.marketplace.test_orders_property import pooled
from tests.support.database import truncate_all
from tests.support.earning_helpers import build_world, default_rules, service
from tests.support.marketplace_helpers import assert_ledger_ok, balance, wallet

cents = st.integers(min_value=0, max_value=2_000).map(from_minor)


@given(minutes=st.integers(min_value=0, max_value=24 * 60), rate=cents)
@settings(max_examples=300, deadline=None)
def test_service_points_are_exact_minutes_times_rate_rounded_half_even(minutes: int, rate: Decimal) -> None:
    exact = Decimal(minutes) * rate / Decimal(60)
    # With enough precision the exact quotient rounds the same way.
    assert service_points(minutes, rate) == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def test_rounding_half_to_even_examples() -> None:
    assert service_points(1, Decimal("0.30")) == Decimal("0.00")  # 0.005 → 0.00
    assert service_points(3, Decimal("0.30")) == Decimal("0.02")  # 0.015 → 0.02
    assert service_points(5, Decimal("0.30")) == Decimal("0.02")  # 0.025 → 0.02
    assert service_points(90, Decimal("2.00")) == Decimal("3.00")
    assert service_points(20, Decimal("1.00")) == Decimal("0.33")


@given(computed=cents, today=cents, week=cents, daily=st.none() | cents, weekly=st.none() | cents)
@settings(max_examples=300, deadline=None)
def test_caps_never_exceeded_nor_award_increased(
    computed: Decimal, today: Decimal, week: Decimal, daily: Decimal | None, weekly: Decimal | None
) -> None:
    if daily is not None and weekly is not None and weekly < daily:
        daily, weekly = weekly, daily
    rules = EarningRules(daily_cap=daily, weekly_cap=weekly)
    allowed = apply_caps(computed, earned_today=today, earned_this_week=week, rules=rules)
    assert Decimal(0) <= allowed <= computed
    if daily is not None:
        assert allowed <= max(Decimal(0), daily - today)
    if weekly is not None:
        assert allowed <= max(Decimal(0), weekly - week)


@dataclass(frozen=True)
class Planned:
    volunteer: int
    report: ReportKind | None  # None: a service log
    minutes: int
    reject_after: bool


planned = st.builds(
    Planned,
    volunteer=st.integers(min_value=0, max_value=2),
    report=st.none() | st.sampled_from(list(ReportKind)),
    minutes=st.integers(min_value=1, max_value=300),
    reject_after=st.booleans(),
)

rules_strategy = st.builds(
    lambda default, patrol, hazard, snap, daily, weekly: default_rules(
        service_per_hour={"default": str(default)},
        report_points={"hazard": str(hazard), "snap": str(snap), "tip": "1.00", "dispute": "1.50"},
        daily_cap=str(daily) if daily is not None else None,
        weekly_cap=str(max(weekly, daily))
        if weekly is not None and daily is not None
        else (str(weekly) if weekly is not None else None),
    ),
    cents,
    cents,
    cents,
    cents,
    st.none() | st.integers(min_value=0, max_value=3_000).map(from_minor),
    st.none() | st.integers(min_value=0, max_value=8_000).map(from_minor),
)


async def scenario(rules: EarningRules, budget_minor: int, plan: list[Planned], order: list[int]) -> None:
    await truncate_all()
    world = await build_world(volunteers=3)
    budget = from_minor(budget_minor)
    campaign = await world.campaign(budget=budget, rules=rules)
    now = utc_now()
    activity_ids: list[int] = []
    for index, item in enumerate(plan):
        member = world.volunteers[item.volunteer]
        # One slot of 301 minutes each, spread over the last 20 days: no overlaps,
        # several days and weeks, so the caps meet many periods.
        ago = timedelta(days=20) - timedelta(minutes=301 * index)
        if item.report is None:
            activity = await service(member, minutes=item.minutes, ago=ago, now=now)
        else:
            activity = await submit_report(
                await load_principal(member),
                ReportIn(
                    report_kind=item.report,
                    title="隐患",
                    position={"latitude": 35.0, "longitude": 118.0},
                    occurred_at=now - ago,
                ),
                now=now,
            )
        activity_ids.append(activity.id)

    for position in order:
        if position >= len(activity_ids):
            continue
        activity_id = activity_ids[position]
        try:
            verified = await verify_activity(await load_principal(world.grid_worker), activity_id)
        except (BudgetExhausted, FraudDenied):
            continue
        # A large award to these new members is held for fraud review: only its case can reject it.
        if plan[position].reject_after and verified.status != Status.HELD:
            await reject_activity(await load_principal(world.organizer), activity_id, reason="抽查不合格")

    rows = await Activity.select().run()
    live = [row for row in rows if row["status"] != Status.REJECTED]
    # Held awards are owed (the caps count them) but paid nowhere until their review.
    paid = [row for row in live if row["status"] != Status.HELD]
    awarded = sum(row["points_awarded_minor"] + row["bonus_minor"] for row in paid)
    wallets = [await wallet(m) for m in world.volunteers]
    assert from_minor(awarded) == sum(wallets, Decimal(0))
    assert budget - await balance(budget_code(campaign.id)) == from_minor(awarded)
    per_day: dict[tuple[int, str], int] = defaultdict(int)
    per_week: dict[tuple[int, str], int] = defaultdict(int)
    for row in live:
        assert row["points_computed_minor"] is None or row["points_awarded_minor"] <= row["points_computed_minor"]
        per_day[(row["member"], row["award_day"])] += row["points_awarded_minor"]
        per_week[(row["member"], row["award_week"])] += row["points_awarded_minor"]
    if rules.daily_cap is not None:
        assert max(per_day.values(), default=0) <= rules.daily_cap * 100
    if rules.weekly_cap is not None:
        assert max(per_week.values(), default=0) <= rules.weekly_cap * 100
    await assert_ledger_ok()


@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rules=rules_strategy,
    budget_minor=st.integers(min_value=0, max_value=10_000),
    plan=st.lists(planned, min_size=1, max_size=12),
    order=st.permutations(list(range(12))),
)
def test_total_awarded_equals_wallet_increases_equals_budget_decrease(
    rules: EarningRules, budget_minor: int, plan: list[Planned], order: list[int]
) -> None:
    asyncio.run(pooled(scenario(rules, budget_minor, plan, order)))
