"""Star levels and badge rules, pure: no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from recognition.badge_rules import RULES, SEASON_TOP3, Event, EventKind, earned_badges, run_through, week_number
from recognition.levels import DEFAULT_THRESHOLDS, Threshold, ThresholdsRefused, check_thresholds, star_level

pytestmark = pytest.mark.unit

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # a Monday, 10:00 China time


def test_the_level_is_the_highest_star_whose_points_and_hours_are_both_met() -> None:
    assert star_level(0, 0).stars == 1
    assert star_level(3_000, 5 * 60).stars == 2
    assert star_level(1_000_000, 4 * 60).stars == 1  # points without the hours
    assert star_level(2_999, 1_000 * 60).stars == 1  # hours without the points
    top = star_level(80_000, 100 * 60)
    assert (top.stars, top.next, top.points_needed_minor, top.minutes_needed) == (5, None, 0, 0)


def test_the_level_says_what_the_next_star_still_needs() -> None:
    level = star_level(12_000, 10 * 60)  # 3★ needs 100 points (met) and 20 hours
    assert level.stars == 2 and level.next == DEFAULT_THRESHOLDS[2]
    assert (level.points_needed_minor, level.minutes_needed) == (0, 10 * 60)


def test_thresholds_rise_from_nothing_to_five_stars() -> None:
    assert check_thresholds(DEFAULT_THRESHOLDS) == DEFAULT_THRESHOLDS
    with pytest.raises(ThresholdsRefused) as four:
        check_thresholds(DEFAULT_THRESHOLDS[:4])
    assert four.value.field == "levels"
    with pytest.raises(ThresholdsRefused) as start:
        check_thresholds([Threshold(1, 100, 0), *DEFAULT_THRESHOLDS[1:]])
    assert start.value.field == "levels[0]"
    with pytest.raises(ThresholdsRefused) as flat:
        check_thresholds([*DEFAULT_THRESHOLDS[:2], Threshold(3, 3_000, 5), *DEFAULT_THRESHOLDS[3:]])
    assert flat.value.field == "levels[2]"
    with pytest.raises(ThresholdsRefused) as falling:
        check_thresholds([*DEFAULT_THRESHOLDS[:3], Threshold(4, 30_000, 10), DEFAULT_THRESHOLDS[4]])
    assert falling.value.field == "levels[3]"


def _events(kind: EventKind, count: int, *, minutes: int = 0, every: timedelta = timedelta(hours=1)) -> list[Event]:
    return [
        Event(at=T0 + n * every, activity_id=100 + n, kind=kind, minutes=minutes, done_on=(T0 + n * every).date())
        for n in range(count)
    ]


def test_each_badge_is_earned_at_the_event_that_first_meets_its_rule() -> None:
    patrols = _events(EventKind.PATROL, 50, minutes=60)
    earned = {badge.code: badge.activity_id for badge in earned_badges(patrols)}
    assert earned == {"patrols_10": 109, "patrols_50": 149}
    hundred_hours = _events(EventKind.SERVICE, 25, minutes=240)
    assert {b.code: b.activity_id for b in earned_badges(hundred_hours)} == {"service_100h": 124}


def test_events_count_in_time_order_whatever_order_they_come_in() -> None:
    reports = _events(EventKind.REPORT, 3)
    useful = Event(at=T0 + timedelta(days=1), activity_id=101, kind=EventKind.USEFUL)
    earned = earned_badges([useful, *reversed(reports)])
    assert [(b.code, b.activity_id) for b in earned] == [("first_report", 100), ("first_useful_report", 101)]


def test_seven_active_weeks_in_a_row_and_a_gap_restarts_the_run() -> None:
    weekly = _events(EventKind.SERVICE, 7, minutes=30, every=timedelta(days=7))
    assert [b.code for b in earned_badges(weekly)] == ["seven_weeks"]
    gap = [*weekly[:3], *[_shift(e, timedelta(days=7)) for e in weekly[3:]]]
    assert earned_badges(gap) == []
    sunday, monday = date(2026, 9, 13), date(2026, 9, 14)
    assert week_number(monday) == week_number(sunday) + 1
    assert run_through({1, 2, 3, 5}, 2) == 3


def _shift(event: Event, by: timedelta) -> Event:
    assert event.done_on is not None
    return Event(event.at + by, event.activity_id, event.kind, event.minutes, event.done_on + by)


def test_season_top_three_is_never_earned_by_counts_and_every_rule_speaks_both_languages() -> None:
    many = _events(EventKind.REPORT, 200) + _events(EventKind.PATROL, 200, minutes=60)
    assert SEASON_TOP3 not in {b.code for b in earned_badges(many)}
    assert all(rule.name_zh and rule.name_en and rule.description_zh and rule.description_en for rule in RULES)
    assert len({rule.code for rule in RULES}) == len(RULES)
