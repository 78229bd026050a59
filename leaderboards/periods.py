"""Which periods an award belongs to, decided in China time (pure).

A board is a scope × a period. The periods are:

- ``week:2026-W48``: the ISO week of the award's date in China time
  (Asia/Shanghai, UTC+8, no daylight saving), Monday to Sunday. An award at
  Sunday 23:59 China time (15:59 UTC) is in the old week; one at Monday
  00:00 China time (Sunday 16:00 UTC) is in the new one.
- ``month:2026-11``: the calendar month of that date.
- ``season:<id>``: every season (organiser-defined, first and last China
  dates inclusive) whose dates contain that date. Seasons are defined by a
  later part of issue #11; until then callers pass none.
- ``all``: all time.

Period ids are short, stable strings: they are part of Redis key names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
ALL_TIME = "all"


class PeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"
    SEASON = "season"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class SeasonDates:
    """A season's id and its first and last day (China dates, inclusive)."""

    season_id: int
    first_day: date
    last_day: date

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


def china_date(at: datetime) -> date:
    """The calendar date in China of an aware instant (naive means UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(CHINA).date()


def week_id(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"week:{year}-W{week:02d}"


def month_id(day: date) -> str:
    return f"month:{day.year}-{day.month:02d}"


def season_id(season: SeasonDates) -> str:
    return f"season:{season.season_id}"


def periods_of(at: datetime, seasons: Sequence[SeasonDates] = ()) -> tuple[str, ...]:
    """Every period an award made at ``at`` counts in."""
    return periods_of_day(china_date(at), seasons)


def periods_of_day(day: date, seasons: Sequence[SeasonDates] = ()) -> tuple[str, ...]:
    """Every period an award made on China ``day`` counts in."""
    in_seasons = tuple(season_id(season) for season in seasons if season.contains(day))
    return (week_id(day), month_id(day), *in_seasons, ALL_TIME)


def current_period(kind: PeriodKind, now: datetime) -> str:
    """The id of the week or month running at ``now`` (China time), or all time."""
    day = china_date(now)
    if kind is PeriodKind.WEEK:
        return week_id(day)
    if kind is PeriodKind.MONTH:
        return month_id(day)
    if kind is PeriodKind.ALL:
        return ALL_TIME
    raise ValueError("a season is named by its id, not by the clock")


def previous_week(now: datetime) -> str:
    """The id of the week before the one running at ``now``."""
    return week_id(china_date(now) - timedelta(days=7))


def week_bounds(week: str) -> tuple[datetime, datetime]:
    """The UTC instants at which ``week:YYYY-Www`` starts (Monday 00:00 China
    time) and the next week starts."""
    year_text, week_text = week.removeprefix("week:").split("-W")
    monday = date.fromisocalendar(int(year_text), int(week_text), 1)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=CHINA).astimezone(UTC)
    return start, start + timedelta(days=7)
