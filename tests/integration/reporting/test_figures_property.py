"""The dashboard's figures, read from the rollups, equal independent SQL over
the source tables (ledger and activities) for random seeded data, at every
node of the tree: the rollups add nothing, lose nothing and count nothing
twice, whatever mix of logs, reports, verifications and rejections, and
whichever order the rollup runs see them in."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities.errors import ActivityOverlap
from activities.submissions import ReportIn, submit_report
from activities.verification import reject_activity, verify_activity
from campaigns.errors import BudgetExhausted
from community.access import load_principal
from community.organisations import get_organisation
from core.clock import utc_now
from fraud.errors import FraudDenied
from ledger.amounts import from_minor
from reporting.aggregation import CHINA, EARNED_STATUSES, china_day
from reporting.figures import dashboard
from reporting.models import Dashboard, Period
from reporting.rollups import catch_up, rebuild
from tests.integration.marketplace.test_orders_property import pooled
from tests.support.database import truncate_all
from tests.support.earning_helpers import World, build_world, default_rules, service
from tests.support.ledger_helpers import raw
from tests.support.marketplace_helpers import fast_member


@dataclass(frozen=True)
class Planned:
    volunteer: int
    report: str | None
    minutes: int
    days_ago: int
    verify: bool
    reject_after: bool
    catch_up_after: bool


planned = st.builds(
    Planned,
    volunteer=st.integers(min_value=0, max_value=3),
    report=st.none() | st.sampled_from(["hazard", "tip"]),
    minutes=st.integers(min_value=10, max_value=240),
    days_ago=st.integers(min_value=0, max_value=25),
    verify=st.booleans(),
    reject_after=st.booleans(),
    catch_up_after=st.booleans(),
)


def _subtree(path: str) -> tuple[str, str]:
    return path, path + "9999999999"


async def _wallet_legs(path: str) -> list[dict[str, Any]]:
    low, high = _subtree(path)
    return await raw(
        "SELECT p.amount_minor AS amount, e.kind AS kind, r.kind AS reversed_kind"
        " FROM ledger_posting p JOIN ledger_entry e ON e.id = p.entry"
        " LEFT JOIN ledger_entry r ON r.id = e.reverses"
        " JOIN ledger_account a ON a.id = p.account"
        " JOIN community_member m ON a.code = 'volunteer:' || m.id || ':wallet'"
        " JOIN community_organisation o ON o.id = m.home_organisation"
        " WHERE o.path >= {} AND o.path < {}",
        low,
        high,
    )


async def _funded(path: str) -> int:
    """Campaign funding credited to budgets of campaigns in the subtree."""
    low, high = _subtree(path)
    rows = await raw(
        "SELECT COALESCE(SUM(p.amount_minor), 0) AS total"
        " FROM ledger_posting p JOIN ledger_entry e ON e.id = p.entry"
        " JOIN ledger_account a ON a.id = p.account"
        " JOIN campaigns_campaign c ON a.code = 'campaign:' || c.id || ':budget'"
        " JOIN community_organisation o ON o.id = c.organisation"
        " WHERE e.kind = 'campaign_fund' AND o.path >= {} AND o.path < {}",
        low,
        high,
    )
    return int(rows[0]["total"])


async def _activities(path: str) -> list[dict[str, Any]]:
    low, high = _subtree(path)
    return await raw(
        "SELECT a.kind AS kind, a.status AS status, a.started_at AS started_at, a.minutes AS minutes,"
        " a.member AS member, a.report_kind AS report_kind"
        " FROM activities_activity a JOIN community_organisation o ON o.id = a.organisation"
        " WHERE o.path >= {} AND o.path < {}",
        low,
        high,
    )


def _moment(value: Any) -> datetime:
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _words(cell: object) -> str:
    """The English word of a bilingual label (``服务 service`` → ``service``)."""
    return str(cell).split()[-1]


async def _check(board: Dashboard, path: str, period: Period) -> None:
    legs = await _wallet_legs(path)
    awards = {"award", "award_bonus"}
    awarded = sum(
        int(r["amount"])
        for r in legs
        if r["kind"] in awards or (r["kind"] == "reversal" and r["reversed_kind"] in awards)
    )
    assert {str(r[0]): r[1] for r in board.figure("points").rows}["奖励 awarded"] == from_minor(awarded)
    assert {str(r[0]): r[1] for r in board.figure("points").rows}["拨入活动项目预算 issued"] == from_minor(
        await _funded(path)
    )
    assert board.figure("liability").rows[0][1] == from_minor(sum(int(r["amount"]) for r in legs))

    rows = [
        r
        for r in await _activities(path)
        if period.from_day.isoformat() <= china_day(_moment(r["started_at"])) <= period.to_day.isoformat()
    ]
    statuses = Counter((r["kind"], r["status"]) for r in rows)
    shown = {(_words(kind), _words(status)): n for kind, status, n in board.figure("activities").rows}
    assert shown == dict(statuses)
    hours: Counter[str] = Counter()
    for r in rows:
        if r["kind"] == "service" and r["status"] in EARNED_STATUSES:
            hours[china_day(_moment(r["started_at"]))] += int(r["minutes"] or 0)
    shown_hours = {day: h for day, h in board.figure("service_hours").rows if h}
    assert shown_hours == {day: (Decimal(m) / 60).quantize(Decimal("0.01")) for day, m in hours.items() if m}
    reports = Counter(r["report_kind"] for r in rows if r["kind"] == "report")
    assert {_words(k): n for k, n in board.figure("reports_by_kind").rows} == dict(reports)

    window_start = (period.to_day - timedelta(days=29)).isoformat()
    active = {
        int(r["member"])
        for r in await _activities(path)
        if window_start <= china_day(_moment(r["started_at"])) <= period.to_day.isoformat()
    }
    assert board.figure("active_volunteers").rows[0][1] == len(active)


async def scenario(plan: list[Planned], span_days: int, rebuild_first: bool) -> None:
    await truncate_all()
    world: World = await build_world(volunteers=3)
    world.volunteers.append(await fast_member(world.other_grid, "第二网格志愿者"))
    await world.campaign(budget="300.00", rules=default_rules())
    now = utc_now()
    for index, item in enumerate(plan):
        member = world.volunteers[item.volunteer]
        ago = timedelta(days=item.days_ago, minutes=300 + 7 * index)
        if item.report is None:
            try:
                activity = await service(member, minutes=item.minutes, ago=ago, now=now)
            except ActivityOverlap:  # the same person twice at once: refused, as it should be
                continue
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
        if item.verify:
            verifier = world.organizer
            try:
                verified = await verify_activity(await load_principal(verifier), activity.id)
            except (BudgetExhausted, FraudDenied):
                verified = None
            if verified is not None and item.reject_after and verified.status != "held":
                await reject_activity(await load_principal(world.organizer), activity.id, reason="抽查不合格")
        if item.catch_up_after:
            await catch_up()
    if rebuild_first:
        await rebuild()
    await catch_up()
    today = now.astimezone(CHINA).date()
    period = Period(today - timedelta(days=span_days), today)
    for node in (world.community, world.grid, world.building, world.other_grid):
        organisation = await get_organisation(node)
        await _check(await dashboard(organisation, period), organisation.path, period)


@pytest.mark.slow
@settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    plan=st.lists(planned, min_size=1, max_size=8),
    span_days=st.integers(min_value=0, max_value=30),
    rebuild_first=st.booleans(),
)
def test_figures_equal_independent_sql_over_the_sources(
    plan: list[Planned], span_days: int, rebuild_first: bool
) -> None:
    asyncio.run(pooled(scenario(plan, span_days, rebuild_first)))


def test_figures_for_a_fixed_mix_equal_independent_sql() -> None:
    plan = [
        Planned(0, None, 90, 0, True, False, True),
        Planned(1, "hazard", 30, 3, True, True, False),
        Planned(3, None, 60, 28, True, False, False),
        Planned(2, "tip", 30, 40 % 26, False, False, True),
        Planned(0, None, 120, 1, True, True, False),
    ]
    asyncio.run(pooled(scenario(plan, 7, False)))


def test_china_day_is_the_day_in_china_not_utc() -> None:
    assert china_day(datetime(2026, 3, 1, 17, 0, tzinfo=UTC)) == "2026-03-02"
    assert date.fromisoformat(china_day(datetime(2026, 3, 1, 15, 59, tzinfo=UTC))) == date(2026, 3, 1)
