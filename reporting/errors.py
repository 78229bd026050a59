"""Reporting errors; mapped to problem+json in ``api/errors.py``."""

from __future__ import annotations


class ReportingError(Exception):
    code = "reporting_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidPeriod(ReportingError):
    """``from`` after ``to``, or a range longer than ``MAX_PERIOD_DAYS``."""

    code = "invalid_period"
