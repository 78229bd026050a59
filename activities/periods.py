"""The periods earning caps count in: the China-time day and ISO week of
when an activity happened (not of when it was verified), so verifying late
never moves points into another day's allowance."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def award_day(moment: datetime) -> str:
    """``2026-11-22``"""
    return moment.astimezone(CHINA).date().isoformat()


def award_week(moment: datetime) -> str:
    """``2026-W47`` (ISO week, Monday first)."""
    year, week, _ = moment.astimezone(CHINA).isocalendar()
    return f"{year}-W{week:02d}"
