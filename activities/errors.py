"""Activity errors; mapped to problem+json in ``api/errors.py``."""

from __future__ import annotations


class ActivityError(Exception):
    code = "activity_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidActivity(ActivityError):
    code = "invalid_activity"


class ActivityNotFound(ActivityError):
    code = "activity_not_found"


class ActivityOverlap(ActivityError):
    """One person cannot be in two places: timed activities may not overlap."""

    code = "activity_overlap"


class ActivityNotOpen(ActivityError):
    """The activity is not in a state that allows this step."""

    code = "activity_wrong_status"


class SelfVerificationRefused(ActivityError):
    """Invariant 7: a person never approves their own activity or report."""

    code = "self_verification"


class NotResponsible(ActivityError):
    """The caller holds no post over the organisation where it happened."""

    code = "not_responsible"


class PhotoNotFound(ActivityError):
    code = "photo_not_found"


class PhotoUnavailable(ActivityError):
    """A photo the caller may not look at, answered exactly as a missing one."""

    code = "not_found"


class UploadQuotaExceeded(ActivityError):
    """A member uploaded their daily number of photos (China-time day)."""

    code = "upload_quota_exceeded"

    def __init__(self, message: str, *, retry_after_seconds: int, field: str | None = "data") -> None:
        super().__init__(message, field=field)
        self.retry_after_seconds = retry_after_seconds


class ClaimRefused(ActivityError):
    """A grab-order claim, release or check-in the task's state does not
    allow; ``code`` names which (``task_full``, ``task_closed``,
    ``task_already_claimed``, ``claim_not_releasable``, ``task_not_claimed``,
    ``task_not_started``, ``task_not_grab_order``)."""

    code = "claim_refused"

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.code = code


class PatrolTaskNotFound(ActivityError):
    """A task that does not exist or that the caller may not see (one answer)."""

    code = "patrol_task_not_found"


class ClaimNotFound(ActivityError):
    """The caller holds no live claim of this task."""

    code = "claim_not_found"


class InvalidRatingPeriod(ActivityError):
    """A grid-worker rating's ``period`` is not ``week``, ``month``,
    ``week:YYYY-Www`` or ``month:YYYY-MM``."""

    code = "invalid_rating_period"
