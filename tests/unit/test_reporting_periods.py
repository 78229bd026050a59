"""Periods of the dashboard: presets in China days, a whole month, bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reporting.errors import InvalidPeriod
from reporting.models import Period
from reporting.periods import check_period, china_today, month_period, preset_period, previous_month


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
