"""Calendar periods in China Standard Time (UTC+8, no daylight saving)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.periods import LOCAL_ZONE, month_bounds, period_bounds


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=LOCAL_ZONE)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_week_starts_monday_in_shanghai() -> None:
    """Sunday 17:00 UTC is already Monday 01:00 in Shanghai: a new week."""
    monday_early = utc(2026, 11, 22, 17, 0)  # Sun 22 Nov UTC = Mon 23 Nov 01:00 CST
    assert period_bounds("week", monday_early) == (cst(2026, 11, 23), cst(2026, 11, 30))
    sunday_late = utc(2026, 11, 22, 15, 59, 59)  # Sun 23:59:59 CST
    assert period_bounds("week", sunday_late) == (cst(2026, 11, 16), cst(2026, 11, 23))
    start, end = period_bounds("week", cst(2026, 11, 25, 12))
    assert start.weekday() == 0 and end - start == timedelta(days=7)


def test_month_rolls_over_at_local_midnight() -> None:
    """30 Nov 15:59:59 UTC is still November in Shanghai; 16:00 UTC is already December."""
    assert period_bounds("month", utc(2026, 11, 30, 15, 59, 59)) == (cst(2026, 11, 1), cst(2026, 12, 1))
    assert period_bounds("month", utc(2026, 11, 30, 16, 0)) == (cst(2026, 12, 1), cst(2027, 1, 1))
    # The bounds are instants: November starts at 16:00 UTC on 31 October.
    start, _ = period_bounds("month", cst(2026, 11, 15))
    assert start == utc(2026, 10, 31, 16, 0)


def test_day_and_year() -> None:
    """Days and years also turn over at midnight China Standard Time."""
    assert period_bounds("day", utc(2026, 12, 31, 16, 30)) == (cst(2027, 1, 1), cst(2027, 1, 2))
    assert period_bounds("year", utc(2026, 12, 31, 15, 0)) == (cst(2026, 1, 1), cst(2027, 1, 1))
    assert period_bounds("year", utc(2026, 12, 31, 16, 0)) == (cst(2027, 1, 1), cst(2028, 1, 1))


@pytest.mark.parametrize("moment", [cst(2026, 1, 31, 23), cst(2026, 2, 28, 12), cst(2024, 2, 29), cst(2026, 12, 31)])
def test_month_bounds_of_any_day_are_first_to_first(moment: datetime) -> None:
    """Any moment's month runs from the 1st 00:00 to the next 1st 00:00 (28-31 days) and contains it."""
    start, end = period_bounds("month", moment)
    assert start.day == 1 and end.day == 1 and start <= moment < end
    assert start.hour == end.hour == 0 and 28 <= (end - start).days <= 31


def test_month_bounds() -> None:
    """'YYYY-MM' names [1st 00:00, next 1st 00:00) China Standard Time, rolling over the year."""
    assert month_bounds("2026-11") == (cst(2026, 11, 1), cst(2026, 12, 1))
    assert month_bounds("2026-12") == (cst(2026, 12, 1), cst(2027, 1, 1))
    assert month_bounds("2024-02") == (cst(2024, 2, 1), cst(2024, 3, 1))


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "2026-1", "26-11", "1999-12", "3000-01", "2026/11", ""])
def test_month_bounds_refuses_malformed_months(month: str) -> None:
    """Month 13 or 00, one-digit months, two-digit years, years outside 2000-2999 are ValueError."""
    with pytest.raises(ValueError, match="period must look like 2026-11"):
        month_bounds(month)


def test_unknown_period_is_refused() -> None:
    """Only day / week / month / year are periods."""
    with pytest.raises(ValueError, match="unknown period"):
        period_bounds("fortnight", utc(2026, 11, 1))
