"""Calendar periods in China Standard Time, for limits and settlement.

A volunteer's "2 per month" and a shop's November statement both mean the
month as people in the community see it, not UTC.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from marketplace.models import LimitPeriod

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
LIMIT_PERIODS: tuple[str, ...] = tuple(period.value for period in LimitPeriod)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def period_bounds(period: str, moment: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the calendar ``period`` containing ``moment``."""
    local = moment.astimezone(LOCAL_ZONE)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == LimitPeriod.DAY:
        start = day
        end = start + timedelta(days=1)
    elif period == LimitPeriod.WEEK:  # Monday to Sunday
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    elif period == LimitPeriod.MONTH:
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    elif period == LimitPeriod.YEAR:
        start = day.replace(month=1, day=1)
        end = start.replace(year=start.year + 1)
    else:
        raise ValueError(f"unknown period {period!r}")
    return start, end


def same_month(first: datetime, second: datetime) -> bool:
    """Do both moments fall in one calendar month, China time?"""
    return period_bounds(LimitPeriod.MONTH, first)[0] == period_bounds(LimitPeriod.MONTH, second)[0]


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``"2026-11"`` → [2026-11-01 00:00, 2026-12-01 00:00) China Standard Time."""
    match = _MONTH.match(month)
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2999:
        raise ValueError("period must look like 2026-11")
    start = datetime(int(match.group(1)), int(match.group(2)), 1, tzinfo=LOCAL_ZONE)
    return period_bounds(LimitPeriod.MONTH, start)
