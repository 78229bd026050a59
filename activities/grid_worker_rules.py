"""Star ratings of grid workers (星级网格员): the rules, pure.

A grid worker is rated per period (an ISO week or a calendar month, China
time) on the reports they handled in it (``handled_at`` in the period):

- **on time**: the share handled before their finish deadline
  (``activities_activity.handled_late`` is false; it is decided when
  handling, ``deadline_rules.handled_late``). Items handled before that
  column existed (``handled_late`` null) count as handled but not in the
  share;
- **reporters' rating**: the average of the 1–5 ratings reporters gave
  those items (unrated items do not count).

The stars are the highest row whose two thresholds are both met:

| stars | on-time share ≥ | average rating ≥ |
|---|---|---|
| 5 | 95 % | 4.5 |
| 4 | 85 % | 4.0 |
| 3 | 70 % | 3.5 |
| 2 | 50 % | 2.5 |
| 1 | anything else | |

Without a single rating the reporters' side is unknown, so on-time handling
alone earns at most ``UNRATED_CAP`` (3) stars: a grid worker is not rated
5 stars on speed while nobody said the work was good. Without a single
item whose timeliness is known there is nothing to rate: ``None``
(未评级, not rated), never 1 star, so a quiet grid does not shame its worker.

Comparisons are made in integers (``on_time * 100 >= pct * timed``), so a
share exactly on a threshold meets it whatever floats would say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from activities.errors import InvalidRatingPeriod
from activities.periods import CHINA


@dataclass(frozen=True, slots=True)
class StarThreshold:
    stars: int
    on_time_pct: int  # whole percent
    rating_tenths: int  # average rating × 10


# Highest first; the first row whose two thresholds are met gives the stars.
STAR_THRESHOLDS: tuple[StarThreshold, ...] = (
    StarThreshold(5, 95, 45),
    StarThreshold(4, 85, 40),
    StarThreshold(3, 70, 35),
    StarThreshold(2, 50, 25),
)
UNRATED_CAP = 3
MIN_STARS = 1


@dataclass(frozen=True, slots=True)
class HandlingFigures:
    """One grid worker's handled reports in a period."""

    handled: int  # reports handled (handled or closed since)
    timed: int  # of which timeliness is known (handled_late not null)
    on_time: int  # of which handled before the deadline
    rated: int  # of which the reporter rated
    rating_sum: int  # the sum of those ratings (1–5 each)

    def __post_init__(self) -> None:
        if not (0 <= self.on_time <= self.timed <= self.handled and 0 <= self.rated <= self.handled):
            raise ValueError(f"inconsistent handling figures: {self}")
        if not self.rated <= self.rating_sum <= 5 * self.rated:
            raise ValueError(f"ratings are 1-5: {self}")

    @property
    def on_time_pct(self) -> Decimal | None:
        """On-time share in percent, one decimal (half to even); None if no item is timed."""
        if self.timed == 0:
            return None
        return (Decimal(100 * self.on_time) / Decimal(self.timed)).quantize(Decimal("0.1"), ROUND_HALF_EVEN)

    @property
    def average_rating(self) -> Decimal | None:
        """Average reporter rating, two decimals (half to even); None if nobody rated."""
        if self.rated == 0:
            return None
        return (Decimal(self.rating_sum) / Decimal(self.rated)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def star_rating(figures: HandlingFigures) -> int | None:
    """1–5 stars from the thresholds above, or None when nothing is timed."""
    if figures.timed == 0:
        return None
    for row in STAR_THRESHOLDS:
        on_time_met = figures.on_time * 100 >= row.on_time_pct * figures.timed
        if figures.rated == 0:
            if row.stars <= UNRATED_CAP and on_time_met:
                return row.stars
            continue
        rating_met = figures.rating_sum * 10 >= row.rating_tenths * figures.rated
        if on_time_met and rating_met:
            return row.stars
    return MIN_STARS


class RatingPeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class RatingPeriod:
    """A period's id (``week:2026-W48``, ``month:2026-11``, the leaderboards'
    spelling) and its bounds in UTC: ``starts_at`` ≤ t < ``ends_at``."""

    period_id: str
    starts_at: datetime
    ends_at: datetime


_WEEK = re.compile(r"week:(\d{4})-W(\d{2})")
_MONTH = re.compile(r"month:(\d{4})-(\d{2})")
MAX_PERIOD_CHARS = 16


def _china_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=CHINA).astimezone(UTC)


def _week(year: int, week: int) -> RatingPeriod:
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InvalidRatingPeriod(f"{year} has no ISO week {week}", field="period") from None
    start, end = _china_midnight(monday), _china_midnight(monday + timedelta(days=7))
    return RatingPeriod(f"week:{year}-W{week:02d}", start, end)


def _month(year: int, month: int) -> RatingPeriod:
    if not 1 <= month <= 12 or year < 1:
        raise InvalidRatingPeriod(f"no month {year}-{month:02d}", field="period")
    first = date(year, month, 1)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return RatingPeriod(f"month:{year}-{month:02d}", _china_midnight(first), _china_midnight(following))


def rating_period(text: str, now: datetime) -> RatingPeriod:
    """``week`` / ``month``: the one running at ``now`` in China time; or a
    named one, ``week:2026-W48`` / ``month:2026-11``."""
    text = text.strip()
    if len(text) > MAX_PERIOD_CHARS:
        raise InvalidRatingPeriod(f"a period has at most {MAX_PERIOD_CHARS} characters", field="period")
    today = now.astimezone(CHINA).date()
    if text == RatingPeriodKind.WEEK:
        year, week, _ = today.isocalendar()
        return _week(year, week)
    if text == RatingPeriodKind.MONTH:
        return _month(today.year, today.month)
    if matched := _WEEK.fullmatch(text):
        return _week(int(matched[1]), int(matched[2]))
    if matched := _MONTH.fullmatch(text):
        return _month(int(matched[1]), int(matched[2]))
    raise InvalidRatingPeriod("period is week, month, week:YYYY-Www or month:YYYY-MM", field="period")
