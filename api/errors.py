"""Every error leaves as ``application/problem+json`` (RFC 9457).

One table maps domain errors to HTTP statuses. Bodies carry ``code`` (stable,
for programs), ``title`` (Chinese first, English with ``Accept-Language:
en``), ``detail``, the offending ``field`` and, for validation, ``errors``:
one ``{field, message}`` per problem. A dependency that is down (database,
Redis, storage: ``api/outages.py``) is a 503 with ``Retry-After``; JSON too
deep to decode is a 400. Any other unexpected exception is logged and
becomes a 500 without internals.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from activities import errors as activity_errors
from activities.deadlines import InvalidOverdueQuery
from api.i18n import title
from api.outages import RETRY_AFTER_SECONDS, unavailable_dependency
from campaigns import errors as campaign_errors
from community import errors as community_errors
from core import errors as core_errors
from fraud import errors as fraud_errors
from leaderboards import errors as leaderboard_errors
from ledger import errors as ledger_errors
from marketplace import errors as marketplace_errors
from recognition import errors as recognition_errors
from reporting import errors as reporting_errors

logger = logging.getLogger("fengling.api")

PROBLEM_JSON = "application/problem+json"

DOMAIN_STATUS: dict[type[Exception], int] = {
    core_errors.DatabaseBusy: 503,
    core_errors.InvalidCursor: 422,
    reporting_errors.InvalidPeriod: 422,
    ledger_errors.InvalidAmount: 422,
    ledger_errors.UnbalancedEntry: 422,
    ledger_errors.InvalidEntry: 422,
    ledger_errors.AccountNotFound: 404,
    ledger_errors.AccountConflict: 409,
    ledger_errors.InsufficientFunds: 409,
    # draft-ietf-httpapi-idempotency-key-header: key reused with another payload.
    ledger_errors.IdempotencyConflict: 422,
    ledger_errors.EntryNotFound: 404,
    ledger_errors.ReversalRefused: 409,
    ledger_errors.HoldNotFound: 404,
    ledger_errors.HoldNotActive: 409,
    community_errors.InvalidMemberData: 422,
    community_errors.PhoneTaken: 409,
    community_errors.OrganisationNotFound: 404,
    community_errors.MemberNotFound: 404,
    community_errors.InvalidRole: 422,
    community_errors.GrantNotFound: 404,
    community_errors.InvitationInvalid: 400,
    community_errors.TeamNotFound: 404,
    community_errors.InvalidTeamData: 422,
    community_errors.TeamMembershipRefused: 409,
    community_errors.ImportFileInvalid: 422,
    community_errors.ImportFileTooLarge: 413,
    community_errors.ImportConflict: 409,
    community_errors.AccessRefused: 403,
    community_errors.ManagedAccountNotFound: 404,
    community_errors.SettlementAccountProtected: 409,
    community_errors.AdjustmentNotFound: 404,
    community_errors.AdjustmentNotPending: 409,
    community_errors.ReversalOwnedByFlow: 409,
    community_errors.WrongPassword: 422,
    marketplace_errors.InvalidCatalogData: 422,
    marketplace_errors.ShopNotFound: 404,
    marketplace_errors.ItemNotFound: 404,
    marketplace_errors.ItemUnavailable: 409,
    marketplace_errors.OutOfStock: 409,
    marketplace_errors.MemberLimitReached: 409,
    marketplace_errors.OrderNotFound: 404,
    marketplace_errors.OrderNotOpen: 409,
    marketplace_errors.PickupTokenRefused: 422,
    marketplace_errors.PickupCodeNotFound: 404,
    marketplace_errors.OrderKeyConflict: 422,
    marketplace_errors.PeriodNotClosed: 409,
    marketplace_errors.PeriodAlreadySettled: 409,
    marketplace_errors.ReturnWindowClosed: 409,
    marketplace_errors.StaffNotFound: 404,
    marketplace_errors.PickupThrottled: 429,
    campaign_errors.InvalidCampaignData: 422,
    campaign_errors.CampaignNotFound: 404,
    campaign_errors.CampaignClosed: 409,
    campaign_errors.DefaultCampaignExists: 409,
    campaign_errors.CampaignNotApplicable: 422,
    campaign_errors.BudgetExhausted: 409,
    campaign_errors.NoIssuer: 422,
    activity_errors.InvalidActivity: 422,
    activity_errors.ActivityNotFound: 404,
    activity_errors.ActivityOverlap: 409,
    activity_errors.ActivityNotOpen: 409,
    activity_errors.SelfVerificationRefused: 403,
    activity_errors.NotResponsible: 403,
    activity_errors.PhotoNotFound: 422,
    activity_errors.PhotoUnavailable: 404,
    activity_errors.UploadQuotaExceeded: 429,
    activity_errors.ClaimRefused: 409,
    activity_errors.PatrolTaskNotFound: 404,
    activity_errors.ClaimNotFound: 404,
    activity_errors.InvalidRatingPeriod: 422,
    InvalidOverdueQuery: 422,
    leaderboard_errors.BoardNotFound: 404,
    leaderboard_errors.InvalidBoardRequest: 422,
    leaderboard_errors.SeasonNotFound: 404,
    leaderboard_errors.InvalidSeason: 422,
    leaderboard_errors.SeasonStarted: 409,
    recognition_errors.InvalidThresholds: 422,
    fraud_errors.FraudDenied: 409,
    fraud_errors.CaseNotFound: 404,
    fraud_errors.CaseTaken: 409,
    fraud_errors.CaseClosed: 409,
    fraud_errors.ReviewerConflict: 403,
    fraud_errors.InvalidThresholds: 422,
    fraud_errors.InvalidCaseNote: 422,
    fraud_errors.InvalidQueueFilter: 422,
    fraud_errors.ExemptionNotFound: 404,
    fraud_errors.InvalidExemption: 422,
    fraud_errors.SettingsNotFound: 404,
}

_HTTP_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "too_many_requests",
}


def problem(
    request: Request[Any, Any, Any],
    *,
    status: int,
    code: str,
    detail: str,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response[dict[str, Any]]:
    """``extensions``: members beyond the standard ones that a client acts on
    (RFC 9457 §3.2), each declared in ``api/openapi.py``'s ``PROBLEM``."""
    body: dict[str, Any] = {
        "type": f"urn:fengling:problem:{code}",
        "title": title(code, request),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
    }
    if field is not None:
        body["field"] = field
    if errors:
        body["errors"] = errors
    if extensions:
        body.update(extensions)
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _domain_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    status = next((s for cls, s in DOMAIN_STATUS.items() if isinstance(exc, cls)), 400)
    field = getattr(exc, "field", None)
    message = getattr(exc, "message", str(exc))
    retry_after = getattr(exc, "retry_after_seconds", None)
    return problem(
        request,
        status=status,
        code=getattr(exc, "code", "http_error"),
        detail=message,
        field=field,
        errors=[{"field": field, "message": message}] if field else None,
        headers={"Retry-After": str(retry_after)} if retry_after else None,
        extensions=getattr(exc, "problem_extensions", None),
    )


def _field_name(key: object) -> str:
    return str(key) if key not in (None, "") else "body"


# Litestar reports a missing parameter as text only, without a key.
_MISSING_PARAMETER = re.compile(r"Missing required (?:\w+ )?parameter '([^']+)'")


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = [
        {"field": _field_name(item.get("key")), "message": str(item.get("message", ""))}
        for item in extra
        if isinstance(item, dict)
    ]
    if not errors:
        missing = _MISSING_PARAMETER.search(exc.detail)
        errors.append({"field": missing.group(1) if missing else "body", "message": exc.detail})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(
        request,
        status=HTTP_422_UNPROCESSABLE_ENTITY,
        code="validation_error",
        detail=detail,
        field=errors[0]["field"],
        errors=errors,
    )


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    code = getattr(exc, "problem_code", None) or _HTTP_CODES.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    return problem(
        request,
        status=exc.status_code,
        code=code,
        detail=exc.detail,
        field=getattr(exc, "field", None),
        headers=headers or None,
    )


def _too_deep(exc: Exception) -> bool:
    """msgspec refuses JSON nested past its depth limit with a RecursionError
    (not a DecodeError, so Litestar does not turn it into a 400)."""
    return isinstance(exc, RecursionError) and "deserializing" in str(exc)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    dependency = unavailable_dependency(exc)
    if dependency is not None:
        # An outage, not a bug: one line, no traceback per request.
        logger.warning("%s unavailable on %s %s: %s", dependency, request.method, request.url.path, exc)
        return problem(
            request,
            status=HTTP_503_SERVICE_UNAVAILABLE,
            code=f"{dependency}_unavailable",
            detail=f"The {dependency} is unavailable; nothing was changed. Retry in {RETRY_AFTER_SECONDS} s.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if _too_deep(exc):
        return problem(
            request,
            status=HTTP_400_BAD_REQUEST,
            code="malformed_json",
            detail="the JSON body is nested too deeply",
            field="body",
        )
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        request,
        status=HTTP_500_INTERNAL_SERVER_ERROR,
        code="server_error",
        detail="The server could not complete this request; nothing was changed by it.",
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ValidationException: _validation_error,
    HTTPException: _http_error,
    core_errors.CoreError: _domain_error,
    ledger_errors.LedgerError: _domain_error,
    community_errors.CommunityError: _domain_error,
    marketplace_errors.MarketplaceError: _domain_error,
    campaign_errors.CampaignError: _domain_error,
    activity_errors.ActivityError: _domain_error,
    leaderboard_errors.LeaderboardError: _domain_error,
    recognition_errors.RecognitionError: _domain_error,
    fraud_errors.FraudError: _domain_error,
    reporting_errors.ReportingError: _domain_error,
    Exception: _unexpected,
}


class ProblemException(HTTPException):
    """An HTTP error with a stable problem ``code`` and optional ``field``."""

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail=detail, status_code=status_code, headers=headers)
        self.problem_code = code
        self.field = field
