"""Periods of the dashboard, in China days (pure: no clock, no I/O)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from reporting.aggregation import CHINA
from reporting.errors import InvalidPeriod
from reporting.models import Period

# A year and a day: a yearly report fits; longer ranges are for rebuilds, not pages.
MAX_PERIOD_DAYS = 367
PRESETS = ("week", "month", "quarter")
# Days outside these have no data and overflow date arithmetic at the edges.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


def china_today(now: datetime) -> date:
    return now.astimezone(CHINA).date()


def check_period(from_day: date, to_day: date) -> Period:
    for value, name in ((from_day, "from"), (to_day, "to")):
        if not FIRST_DAY <= value <= LAST_DAY:
            raise InvalidPeriod(f"{name} must lie between {FIRST_DAY} and {LAST_DAY}", field=name)
    if from_day > to_day:
        raise InvalidPeriod("from is after to", field="from")
    if (to_day - from_day).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidPeriod(f"at most {MAX_PERIOD_DAYS} days", field="to")
    return Period(from_day, to_day)


def preset_period(preset: str, today: date) -> Period:
    """This week (from Monday), month or quarter, up to today."""
    if preset == "week":
        return Period(today - timedelta(days=today.weekday()), today)
    if preset == "quarter":
        return Period(date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today)
    return Period(today.replace(day=1), today)


def month_period(month: str) -> Period:
    """The whole China-calendar month ``YYYY-MM`` (the printable report)."""
    try:
        first = date.fromisoformat(f"{month}-01") if len(month) == 7 else None
    except ValueError:
        first = None
    if first is None:
        raise InvalidPeriod("a month looks like 2026-11", field="month")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Period(first, following - timedelta(days=1))


def previous_month(today: date) -> str:
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def calendar_split(period: Period) -> tuple[list[tuple[str, str]], tuple[str, str] | None]:
    """The period as the rollups' grains hold it: ``(day ranges, month
    range)``, the whole calendar months inside it (``YYYY-MM`` to ``YYYY-MM``,
    or ``None``) and the partial months at its edges as inclusive ranges of
    days. Together they cover every day of the period exactly once; a year
    is at most 12 months and two edges of under a month each."""
    first = period.from_day if period.from_day.day == 1 else _next_month(period.from_day)
    after = _next_month(period.to_day)
    last = (
        period.to_day
        if period.to_day + timedelta(days=1) == after
        else period.to_day.replace(day=1) - timedelta(days=1)
    )
    if first > last:
        return [(period.from_day.isoformat(), period.to_day.isoformat())], None
    days = []
    if period.from_day < first:
        days.append((period.from_day.isoformat(), (first - timedelta(days=1)).isoformat()))
    if last < period.to_day:
        days.append(((last + timedelta(days=1)).isoformat(), period.to_day.isoformat()))
    return days, (first.strftime("%Y-%m"), last.strftime("%Y-%m"))


def _next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
