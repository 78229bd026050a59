"""The working-day calendar of mainland China, for response and review deadlines.

"Accepted within 1 working day, finished within 3" (小红哨, shared/context
004) counts days the way a community office does: Monday to Friday in China
Standard Time, minus the public holidays the State Council announces each
year, plus the make-up working days (调休) it moves onto weekends. Those
lists change yearly, so they come from settings, not from code.

Everything here is pure (no clock, no database): the deadline service and
the property tests call the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHINA_ZONE = ZoneInfo("Asia/Shanghai")

# Deadlines are a few working days long; a bound keeps a typo in the settings
# (or an absurd argument) from turning into a loop over years of days.
MAX_WORKING_DAYS = 60
# The longest run of consecutive non-working days a calendar may contain.
# The longest real one (Spring Festival or National Day plus a weekend) is
# about 9 days; more means the holiday list is wrong.
MAX_NON_WORKING_RUN = 31


class CalendarError(ValueError):
    """A calendar or an argument that cannot give a deadline."""


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Which days are working days.

    A day is a working day if it is a make-up working day, else if it is not
    a public holiday and falls on Monday to Friday. A day listed as both is
    refused: the settings would contradict themselves.
    """

    holidays: frozenset[date] = frozenset()
    makeup_workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        both = self.holidays & self.makeup_workdays
        if both:
            listed = ", ".join(sorted(day.isoformat() for day in both))
            raise CalendarError(f"a day cannot be both a holiday and a make-up working day: {listed}")

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        candidate = day
        for _ in range(MAX_NON_WORKING_RUN + 1):
            candidate += timedelta(days=1)
            if self.is_working_day(candidate):
                return candidate
        raise CalendarError(f"no working day within {MAX_NON_WORKING_RUN} days after {day.isoformat()}")


def add_working_days(start: datetime, days: int, calendar: WorkCalendar) -> datetime:
    """The deadline ``days`` working days after ``start``.

    The rule, in China Standard Time (Asia/Shanghai):

    1. The clock starts at ``start`` if that is on a working day; otherwise
       at 00:00 of the next working day (a report sent on Saturday is
       "received" on Monday morning).
    2. The deadline is the same clock time on the ``days``-th working day
       after the day the clock started. Friday 17:00 + 1 → Monday 17:00;
       Saturday 10:00 + 1 → Tuesday 00:00 (all of Monday to answer).
    3. ``days == 0`` gives the moment the clock starts.

    Guarantees (checked by property tests): the result's local date is a
    working day; the result is ≥ ``start`` and > ``start`` when ``days ≥ 1``;
    it is monotonic in ``start`` and strictly increasing in ``days``; and
    ``add(add(s, a), b) == add(s, a + b)``. The result is in the zone of
    ``start``; ``start`` must carry a time zone.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise CalendarError("start must carry a time zone")
    if not 0 <= days <= MAX_WORKING_DAYS:
        raise CalendarError(f"days must be 0-{MAX_WORKING_DAYS}")
    local = start.astimezone(CHINA_ZONE)
    day = local.date()
    clock = local.time()
    if not calendar.is_working_day(day):
        day = calendar.next_working_day(day)
        clock = time(0, 0)
    for _ in range(days):
        day = calendar.next_working_day(day)
    return datetime.combine(day, clock, tzinfo=CHINA_ZONE).astimezone(start.tzinfo)
