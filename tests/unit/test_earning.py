"""What a verified activity is owed (``activities.earning``), decided
without a database: the rules × the activity → computed points, then cut
to the daily and weekly caps."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from activities.earning import NOTHING, Earned, Work, computed_points, counts_caps, entry_wording, owed
from activities.models import Kind
from campaigns.rules import EarningRules, ReportKind


def rules(**overrides: Any) -> EarningRules:
    values: dict[str, Any] = {
        "service_per_hour": {"default": "2.00", "patrol": "3.00"},
        "patrol_points": "5.00",
        "patrol_min_minutes": 30,
        "report_points": {"hazard": "3.00", "tip": "2.00"},
        "report_useful_bonus": "4.00",
    }
    return EarningRules.model_validate(values | overrides)


def service(minutes: int, team_kind: str | None = None) -> Work:
    return Work(kind=Kind.SERVICE, minutes=minutes, team_kind=team_kind)


def test_service_earns_minutes_times_the_default_rate() -> None:
    assert computed_points(service(90), rules()) == Decimal("3.00")


def test_service_with_a_team_earns_the_rate_of_the_teams_kind_or_the_default() -> None:
    assert computed_points(service(60, team_kind="patrol"), rules()) == Decimal("3.00")
    assert computed_points(service(60, team_kind="mediation"), rules()) == Decimal("2.00")


def test_service_without_any_rate_earns_nothing() -> None:
    assert computed_points(service(600), rules(service_per_hour={})) == Decimal("0.00")


@pytest.mark.parametrize(
    ("minutes", "rate", "expected"),
    [
        (1, "0.30", "0.00"),  # 0.005 → 0.00 (half to even)
        (3, "0.30", "0.02"),  # 0.015 → 0.02
        (5, "0.30", "0.02"),  # 0.025 → 0.02
        (20, "1.00", "0.33"),
    ],
)
def test_service_points_are_rounded_once_half_to_even(minutes: int, rate: str, expected: str) -> None:
    assert computed_points(service(minutes), rules(service_per_hour={"default": rate})) == Decimal(expected)


def test_a_patrol_earns_its_fixed_points_only_when_long_enough() -> None:
    assert computed_points(Work(kind=Kind.PATROL, minutes=30), rules()) == Decimal("5.00")
    assert computed_points(Work(kind=Kind.PATROL, minutes=29), rules()) == Decimal("0.00")


def test_a_report_earns_the_points_of_its_kind_and_nothing_for_an_unpriced_kind() -> None:
    assert computed_points(Work(kind=Kind.REPORT, minutes=0, report_kind=ReportKind.HAZARD), rules()) == Decimal("3.00")
    assert computed_points(Work(kind=Kind.REPORT, minutes=0, report_kind=ReportKind.SNAP), rules()) == Decimal("0.00")


def test_the_useful_bonus_is_the_rules_bonus_whatever_the_report() -> None:
    work = Work(kind=Kind.REPORT, minutes=0, report_kind=ReportKind.TIP)
    assert computed_points(work, rules(), "bonus") == Decimal("4.00")


def test_without_caps_the_award_is_what_the_rules_compute() -> None:
    decided = owed(service(120), rules(), Earned(today=Decimal("999.00"), this_week=Decimal("999.00")))
    assert (decided.computed, decided.awarded, decided.capped) == (Decimal("4.00"), Decimal("4.00"), False)
    assert not counts_caps(rules())


def test_the_daily_cap_cuts_the_award_to_what_is_left_of_the_day() -> None:
    decided = owed(service(120), rules(daily_cap="5.00"), Earned(today=Decimal("3.50")))
    assert (decided.computed, decided.awarded, decided.capped) == (Decimal("4.00"), Decimal("1.50"), True)


def test_the_weekly_cap_cuts_the_award_to_what_is_left_of_the_week() -> None:
    capped = rules(daily_cap="10.00", weekly_cap="20.00")
    decided = owed(service(120), capped, Earned(today=Decimal("0.00"), this_week=Decimal("19.00")))
    assert decided.awarded == Decimal("1.00") and decided.capped
    assert counts_caps(capped)


def test_a_spent_allowance_gives_nothing_and_never_a_negative_award() -> None:
    decided = owed(service(120), rules(daily_cap="5.00"), Earned(today=Decimal("7.00")))
    assert decided.awarded == Decimal("0.00") and decided.capped


def test_a_bonus_counts_against_the_same_caps() -> None:
    work = Work(kind=Kind.REPORT, minutes=0, report_kind=ReportKind.HAZARD)
    decided = owed(work, rules(daily_cap="5.00"), Earned(today=Decimal("3.00")), "bonus")
    assert (decided.computed, decided.awarded) == (Decimal("4.00"), Decimal("2.00"))


def test_nothing_is_owed_without_a_campaign() -> None:
    assert (NOTHING.computed, NOTHING.awarded, NOTHING.capped) == (Decimal("0.00"), Decimal("0.00"), False)


@pytest.mark.parametrize(
    ("kind", "reason_zh", "reason_en"),
    [
        (Kind.SERVICE, "志愿服务积分：", "Service points: "),
        (Kind.PATROL, "巡逻积分：", "Patrol points: "),
        (Kind.REPORT, "随手报积分：", "Report points: "),
    ],
)
def test_an_awards_reason_names_the_kind_of_work_it_pays_for(kind: Kind, reason_zh: str, reason_en: str) -> None:
    assert entry_wording("award", kind) == ("award", reason_zh, reason_en)


def test_a_useful_report_bonus_says_so() -> None:
    assert entry_wording("bonus", Kind.REPORT) == ("award_bonus", "有效线索奖励：", "Useful report bonus: ")
