"""Periods of the dashboard: presets in China days, a whole month, bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporting.errors import InvalidPeriod
from reporting.models import Period
from reporting.periods import (
    MAX_PERIOD_DAYS,
    calendar_split,
    check_period,
    china_today,
    month_period,
    preset_period,
    previous_month,
)


def test_presets_run_from_monday_the_first_of_the_month_and_of_the_quarter_to_today() -> None:
    today = date(2026, 11, 26)  # a Thursday
    assert preset_period("week", today) == Period(date(2026, 11, 23), today)
    assert preset_period("month", today) == Period(date(2026, 11, 1), today)
    assert preset_period("quarter", today) == Period(date(2026, 10, 1), today)


def test_a_month_is_every_day_of_it_february_included() -> None:
    assert month_period("2028-02") == Period(date(2028, 2, 1), date(2028, 2, 29))
    assert month_period("2026-12") == Period(date(2026, 12, 1), date(2026, 12, 31))
    assert previous_month(date(2027, 1, 15)) == "2026-12"


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "abcd-ef", "2026-11-01"])
def test_a_month_that_is_not_one_is_refused_naming_month(month: str) -> None:
    with pytest.raises(InvalidPeriod) as refused:
        month_period(month)
    assert refused.value.field == "month"


def test_from_after_to_too_long_or_out_of_range_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidPeriod) as backwards:
        check_period(date(2026, 11, 2), date(2026, 11, 1))
    assert backwards.value.field == "from"
    with pytest.raises(InvalidPeriod) as too_long:
        check_period(date(2024, 1, 1), date(2026, 1, 1))
    assert too_long.value.field == "to"
    with pytest.raises(InvalidPeriod) as ancient:
        check_period(date(1, 1, 1), date(1, 1, 1))
    assert ancient.value.field == "from"
    assert check_period(date(2026, 1, 1), date(2026, 12, 31)) == Period(date(2026, 1, 1), date(2026, 12, 31))


def test_today_is_the_china_day() -> None:
    assert china_today(datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == date(2026, 12, 1)


def _days_covered(period: Period) -> list[date]:
    days, months = calendar_split(period)
    covered = []
    for low, high in days:
        day = date.fromisoformat(low)
        while day <= date.fromisoformat(high):
            covered.append(day)
            day += timedelta(days=1)
    if months is not None:
        day = date.fromisoformat(f"{months[0]}-01")
        while day.strftime("%Y-%m") <= months[1]:
            covered.append(day)
            day += timedelta(days=1)
    return sorted(covered)


@given(
    from_day=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    length=st.integers(min_value=1, max_value=MAX_PERIOD_DAYS),
)
def test_the_calendar_split_covers_every_day_of_the_period_exactly_once(from_day: date, length: int) -> None:
    period = Period(from_day, from_day + timedelta(days=length - 1))
    expected = [period.from_day + timedelta(days=n) for n in range(length)]
    assert _days_covered(period) == expected
    days, months = calendar_split(period)
    month_count = (
        0
        if months is None
        else (int(months[1][:4]) * 12 + int(months[1][5:])) - (int(months[0][:4]) * 12 + int(months[0][5:])) + 1
    )
    assert len(days) <= 2 and month_count <= 13
    assert sum((date.fromisoformat(high) - date.fromisoformat(low)).days + 1 for low, high in days) < 62


def test_a_year_reads_whole_months_and_two_edges_and_a_month_reads_its_month() -> None:
    assert calendar_split(Period(date(2026, 1, 15), date(2026, 12, 10))) == (
        [("2026-01-15", "2026-01-31"), ("2026-12-01", "2026-12-10")],
        ("2026-02", "2026-11"),
    )
    assert calendar_split(Period(date(2026, 2, 1), date(2026, 2, 28))) == ([], ("2026-02", "2026-02"))
    assert calendar_split(Period(date(2026, 2, 3), date(2026, 2, 20))) == ([("2026-02-03", "2026-02-20")], None)
    assert calendar_split(Period(date(2026, 12, 1), date(2026, 12, 1))) == ([("2026-12-01", "2026-12-01")], None)
