"""Fraud errors; mapped to problem+json in ``api/errors.py``."""

from __future__ import annotations


class FraudError(Exception):
    code = "fraud_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class FraudDenied(FraudError):
    """The rules refused the award or redemption; nothing changed. The
    message carries the reasons; ``decision_id`` the stored decision."""

    code = "fraud_denied"

    def __init__(self, message: str, *, decision_id: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.decision_id = decision_id


class CaseNotFound(FraudError):
    """No such case, or one the caller may not see (the same answer)."""

    code = "fraud_case_not_found"


class CaseTaken(FraudError):
    """Another reviewer has taken the case and their lock has not run out."""

    code = "fraud_case_taken"


class CaseClosed(FraudError):
    """The case has already been decided."""

    code = "fraud_case_closed"


class ReviewerConflict(FraudError):
    """The member whose points are held, or who verified the activity, may
    not review it."""

    code = "fraud_reviewer_conflict"


class InvalidThresholds(FraudError):
    code = "fraud_invalid_thresholds"


class InvalidCaseNote(FraudError):
    """A note or objection that is empty or too long."""

    code = "fraud_invalid_note"


class InvalidQueueFilter(FraudError):
    """A queue filter naming no registered rule."""

    code = "fraud_invalid_queue_filter"


class ExemptionNotFound(FraudError):
    """No such snooze, pair or member among those the organiser manages."""

    code = "fraud_exemption_not_found"


class InvalidExemption(FraudError):
    code = "fraud_invalid_exemption"


class SettingsNotFound(FraudError):
    """No issuing organisation of that id among those the caller manages."""

    code = "fraud_settings_not_found"
