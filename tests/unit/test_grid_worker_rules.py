"""Grid-worker star ratings (星级网格员) and their periods: the pure rules
of ``activities.grid_worker_rules`` and ``deadline_rules.handled_late``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activities.deadline_rules import handled_late
from activities.errors import InvalidRatingPeriod
from activities.grid_worker_rules import HandlingFigures, rating_period, star_rating


def figures(
    *, timed: int, on_time: int, rated: int = 0, rating_sum: int = 0, handled: int | None = None
) -> HandlingFigures:
    return HandlingFigures(
        handled=timed if handled is None else handled, timed=timed, on_time=on_time, rated=rated, rating_sum=rating_sum
    )


@pytest.mark.parametrize(
    ("on_time", "timed", "rated", "rating_sum", "stars"),
    [
        (19, 20, 2, 9, 5),  # exactly 95 % and 4.5: both thresholds met
        (18, 20, 2, 9, 4),  # 90 %: not 95
        (19, 20, 2, 8, 4),  # 4.0: not 4.5
        (17, 20, 1, 4, 4),  # exactly 85 % and 4.0
        (14, 20, 2, 7, 3),  # exactly 70 % and 3.5
        (10, 20, 2, 5, 2),  # exactly 50 % and 2.5
        (9, 20, 1, 5, 1),  # 45 %: below every row, whatever the rating
        (20, 20, 1, 1, 1),  # always on time, rated 1: the rating holds it down
        (20, 20, 4, 13, 2),  # always on time, 3.25: below 3.5, so row 2 (2.5) holds
    ],
)
def test_stars_are_the_highest_row_whose_two_thresholds_are_met(
    on_time: int, timed: int, rated: int, rating_sum: int, stars: int
) -> None:
    assert star_rating(figures(timed=timed, on_time=on_time, rated=rated, rating_sum=rating_sum)) == stars


def test_without_ratings_on_time_handling_alone_earns_at_most_three_stars() -> None:
    assert star_rating(figures(timed=10, on_time=10)) == 3
    assert star_rating(figures(timed=10, on_time=7)) == 3
    assert star_rating(figures(timed=10, on_time=6)) == 2
    assert star_rating(figures(timed=10, on_time=4)) == 1


def test_nothing_timed_is_not_rated_rather_than_one_star() -> None:
    assert star_rating(figures(timed=0, on_time=0)) is None
    # Handled before the handled_late column existed: counted, not timed.
    assert star_rating(figures(handled=4, timed=0, on_time=0, rated=2, rating_sum=10)) is None


def test_shares_and_averages_are_decimals_rounded_half_to_even() -> None:
    one_third = figures(timed=3, on_time=1, rated=3, rating_sum=13)
    assert one_third.on_time_pct == Decimal("33.3")
    assert one_third.average_rating == Decimal("4.33")
    assert figures(timed=8, on_time=7, rated=8, rating_sum=37).average_rating == Decimal("4.62")  # 4.625 → even
    assert figures(timed=0, on_time=0).on_time_pct is None
    assert figures(timed=2, on_time=2).average_rating is None


@pytest.mark.parametrize(
    "bad",
    [
        {"handled": 1, "timed": 2, "on_time": 1, "rated": 0, "rating_sum": 0},
        {"handled": 2, "timed": 1, "on_time": 2, "rated": 0, "rating_sum": 0},
        {"handled": 1, "timed": 1, "on_time": 1, "rated": 2, "rating_sum": 2},
        {"handled": 2, "timed": 2, "on_time": 1, "rated": 1, "rating_sum": 6},
        {"handled": 2, "timed": 2, "on_time": 1, "rated": 2, "rating_sum": 1},
    ],
)
def test_inconsistent_figures_are_refused(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=r"figures|ratings"):
        HandlingFigures(**bad)


@given(
    timed=st.integers(1, 200),
    data=st.data(),
)
def test_more_on_time_or_better_ratings_never_lower_the_stars(timed: int, data: st.DataObject) -> None:
    on_time = data.draw(st.integers(0, timed - 1))
    rated = data.draw(st.integers(0, timed))
    rating_sum = data.draw(st.integers(rated, 5 * rated))
    base = star_rating(figures(timed=timed, on_time=on_time, rated=rated, rating_sum=rating_sum))
    faster = star_rating(figures(timed=timed, on_time=on_time + 1, rated=rated, rating_sum=rating_sum))
    assert base is not None and faster is not None and 1 <= base <= faster <= 5
    if rated and rating_sum < 5 * rated:
        better = star_rating(figures(timed=timed, on_time=on_time, rated=rated, rating_sum=rating_sum + 1))
        assert better is not None and base <= better


def test_late_means_deadline_come_or_already_escalated() -> None:
    noon = datetime(2026, 11, 30, 4, tzinfo=UTC)
    assert not handled_late(due_at=noon + timedelta(seconds=1), overdue=False, moment=noon)
    assert handled_late(due_at=noon, overdue=False, moment=noon)
    assert handled_late(due_at=noon - timedelta(days=1), overdue=False, moment=noon)
    # Escalation gave a fresh deadline in the future: still late.
    assert handled_late(due_at=noon + timedelta(days=3), overdue=True, moment=noon)
    assert not handled_late(due_at=None, overdue=False, moment=noon)


def test_week_periods_roll_over_at_china_midnight_sunday_to_monday() -> None:
    sunday_2359 = datetime(2026, 11, 29, 15, 59, tzinfo=UTC)  # Sun 23:59 China time
    monday_0000 = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)  # Mon 00:00 China time
    assert rating_period("week", sunday_2359).period_id == "week:2026-W48"
    week = rating_period("week", monday_0000)
    assert week.period_id == "week:2026-W49"
    assert week.starts_at == monday_0000 and week.ends_at == monday_0000 + timedelta(days=7)
    assert rating_period("week:2026-W49", sunday_2359) == week


def test_month_periods_are_china_calendar_months() -> None:
    # 2026-11-30 16:00 UTC is 1 December 00:00 in China.
    assert rating_period("month", datetime(2026, 11, 30, 15, 59, tzinfo=UTC)).period_id == "month:2026-11"
    december = rating_period("month", datetime(2026, 11, 30, 16, 0, tzinfo=UTC))
    assert december.period_id == "month:2026-12"
    assert december.starts_at == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert december.ends_at == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert rating_period(" month:2027-02 ", december.starts_at).ends_at == datetime(2027, 2, 28, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["", "year", "week:2026-W54", "week:2026-W00", "month:2026-13", "month:0000-01", "month:2026-1", "x" * 17]
)
def test_a_period_that_is_not_one_names_the_field(text: str) -> None:
    with pytest.raises(InvalidRatingPeriod) as raised:
        rating_period(text, datetime(2026, 11, 30, tzinfo=UTC))
    assert raised.value.field == "period"
