"""The working-day calendar, for response deadlines: it lives in
``core.calendar`` (review deadlines of held awards and orders count days on
it too); the names stay importable from here for the closed loop."""

from __future__ import annotations

from core.calendar import (
    CHINA_ZONE,
    MAX_NON_WORKING_RUN,
    MAX_WORKING_DAYS,
    CalendarError,
    WorkCalendar,
    add_working_days,
)

__all__ = [
    "CHINA_ZONE",
    "MAX_NON_WORKING_RUN",
    "MAX_WORKING_DAYS",
    "CalendarError",
    "WorkCalendar",
    "add_working_days",
]
