"""China-time periods. Earning caps count in the day and ISO week of when
an activity happened (not of when it was verified), so verifying late never
moves points into another day's allowance; the photo quota counts in the
China-time day of the upload. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def award_day(moment: datetime) -> str:
    """``2026-11-22``"""
    return moment.astimezone(CHINA).date().isoformat()


def award_week(moment: datetime) -> str:
    """``2026-W47`` (ISO week, Monday first)."""
    year, week, _ = moment.astimezone(CHINA).isocalendar()
    return f"{year}-W{week:02d}"


def china_day_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the China-time day containing ``moment``
    (the day a member's photo quota counts in)."""
    local = moment.astimezone(CHINA)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    return start, start + timedelta(days=1)
