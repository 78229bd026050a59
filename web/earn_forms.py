"""What the earn forms send, turned into the domain's inputs (pure: no
database, no clock).

The same fields come from a plain form post (no script) and from the
phone's outbox (``static/outbox.js`` sends the form's own fields, plus
``client_ref`` and ``client_recorded_at``). Times typed into the page are
China time (``datetime-local`` has no zone; the pages show China time);
the outbox's ``client_recorded_at`` is an ISO time with its zone. A value
that cannot be read is ``FormProblem`` naming the field and the catalog key
of its message; the domain's own rules (durations, bounds) stay in
``activities.submission_rules``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from activities.models import Position
from campaigns.rules import ReportKind
from web.i18n import CHINA

MAX_REF_CHARS = 100
MAX_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class FormProblem(Exception):
    """A form field that cannot be read: ``field`` and the catalog ``key``."""

    field: str
    key: str


def text(value: str, field: str, *, max_chars: int, required: bool = True) -> str:
    cleaned = value.strip()
    if required and not cleaned:
        raise FormProblem(field, "form_required")
    if len(cleaned) > max_chars:
        raise FormProblem(field, "form_too_long")
    return cleaned


def china_local_time(value: str, field: str) -> datetime:
    """A ``datetime-local`` value (``2026-11-30T09:00``), read as China time."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise FormProblem(field, "form_bad_time") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    return moment


def phone_time(value: str, field: str = "client_recorded_at") -> datetime | None:
    """The phone's own clock (ISO with a zone), or ``None`` when not sent."""
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise FormProblem(field, "form_bad_time") from error
    if moment.tzinfo is None:
        raise FormProblem(field, "form_bad_time")
    return moment


def _number(value: str, field: str) -> float:
    try:
        number = float(value.strip())
    except ValueError as error:
        raise FormProblem(field, "form_no_position") from error
    if not math.isfinite(number):
        raise FormProblem(field, "form_no_position")
    return number


def position(latitude: str, longitude: str, accuracy_m: str) -> Position:
    """The phone's position; missing when the page could not locate it."""
    if not latitude.strip() or not longitude.strip():
        raise FormProblem("position", "form_no_position")
    accuracy = _number(accuracy_m, "position.accuracy_m") if accuracy_m.strip() else None
    return Position(
        latitude=_number(latitude, "position.latitude"),
        longitude=_number(longitude, "position.longitude"),
        accuracy_m=accuracy,
    )


def optional_id(value: str, field: str) -> int | None:
    if not value.strip():
        return None
    if not value.strip().isdigit() or not 1 <= int(value) <= MAX_ID:
        raise FormProblem(field, "form_bad_choice")
    return int(value)


def client_ref(value: str, field: str = "client_ref") -> str | None:
    if not value.strip():
        return None
    return text(value, field, max_chars=MAX_REF_CHARS)


def report_kind(value: str) -> ReportKind:
    try:
        return ReportKind(value)
    except ValueError as error:
        raise FormProblem("report_kind", "form_pick_kind") from error


def rating(value: str) -> int:
    if value.strip() not in {"1", "2", "3", "4", "5"}:
        raise FormProblem("rating", "form_pick_rating")
    return int(value)
