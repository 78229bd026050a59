"""What a submission from a phone must satisfy, before anything is read:
times, durations, positions, batches. Pure (no database, no clock: ``now``
is an argument), unit-tested in ``tests/unit/test_submission_rules.py``;
``activities.submissions`` applies them, then does the checks that need
the database (place, team, campaign, overlap, photos).

Each refusal is ``InvalidActivity`` naming the offending field.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from activities.errors import InvalidActivity
from activities.models import Position

# A shift longer than this is a typo or a forgotten check-out.
MAX_SERVICE_MINUTES = 12 * 60
MAX_PATROL_MINUTES = 12 * 60
# A log may be entered up to this long after the fact.
MAX_BACKDATE = timedelta(days=30)
# Phones' clocks drift; a little of the future is tolerated.
CLOCK_SKEW = timedelta(minutes=5)
# A patrol's route: enough for a point a minute over a long patrol; a phone
# batches at most MAX_ROUTE_POINTS_PER_CALL per request.
MAX_ROUTE_POINTS = 500
MAX_ROUTE_POINTS_PER_CALL = 100
# Photos on one report, as on the usual phone picker.
MAX_PHOTOS = 9


def check_position(position: Position, field: str = "position") -> None:
    """WGS-84 bounds, and an accuracy a phone could report (0-10 km)."""
    if not -90 <= position.latitude <= 90:
        raise InvalidActivity("latitude must be between -90 and 90", field=f"{field}.latitude")
    if not -180 <= position.longitude <= 180:
        raise InvalidActivity("longitude must be between -180 and 180", field=f"{field}.longitude")
    if position.accuracy_m is not None and not 0 <= position.accuracy_m <= 10_000:
        raise InvalidActivity("accuracy_m must be between 0 and 10000 metres", field=f"{field}.accuracy_m")


def aware(moment: datetime, field: str) -> datetime:
    """``moment``, which must carry a time zone (a phone's local time
    without one is ambiguous)."""
    if moment.tzinfo is None:
        raise InvalidActivity("times need a time zone, e.g. 2026-11-22T09:00:00+08:00", field=field)
    return moment


def service_minutes(started_at: datetime, ended_at: datetime, *, now: datetime) -> int:
    """Whole minutes of a service log: hours come from the times, never from
    the volunteer. At least one minute, at most ``MAX_SERVICE_MINUTES``, not
    ending in the future (beyond ``CLOCK_SKEW``), not started more than
    ``MAX_BACKDATE`` ago."""
    started = aware(started_at, "started_at")
    ended = aware(ended_at, "ended_at")
    if ended <= started:
        raise InvalidActivity("ended_at must be after started_at", field="ended_at")
    minutes = int((ended - started).total_seconds() // 60)
    if minutes < 1:
        raise InvalidActivity("a service log lasts at least one minute", field="ended_at")
    if minutes > MAX_SERVICE_MINUTES:
        raise InvalidActivity(f"one log covers at most {MAX_SERVICE_MINUTES // 60} hours", field="ended_at")
    if ended > now + CLOCK_SKEW:
        raise InvalidActivity("a service log cannot end in the future", field="ended_at")
    if started < now - MAX_BACKDATE:
        raise InvalidActivity(f"logs older than {MAX_BACKDATE.days} days are not accepted", field="started_at")
    return minutes


def report_time(occurred_at: datetime | None, *, now: datetime) -> datetime:
    """When a report's matter happened: as given (not in the future, not
    older than ``MAX_BACKDATE``), or ``now``."""
    if occurred_at is None:
        return now
    occurred = aware(occurred_at, "occurred_at")
    if occurred > now + CLOCK_SKEW:
        raise InvalidActivity("occurred_at cannot be in the future", field="occurred_at")
    if occurred < now - MAX_BACKDATE:
        raise InvalidActivity(f"reports older than {MAX_BACKDATE.days} days are not accepted", field="occurred_at")
    return occurred


def patrol_minutes(started_at: datetime, *, now: datetime) -> int:
    """A patrol's duration at check-out (``now``: the check-out's time, see
    ``phone_time``), cut at ``MAX_PATROL_MINUTES`` (a forgotten check-out
    earns no more)."""
    return max(0, min(int((now - started_at).total_seconds() // 60), MAX_PATROL_MINUTES))


def new_route_times(times: Sequence[datetime], recorded: Sequence[datetime]) -> list[int]:
    """Which points of a batch are new (their indexes): a point at the very
    instant of one already recorded on the patrol is that point, sent again
    by a phone that never heard the answer. A retried batch is one effect."""
    seen = set(recorded)
    fresh: list[int] = []
    for index, at in enumerate(times):
        if at not in seen:
            seen.add(at)
            fresh.append(index)
    return fresh


def phone_time(recorded_at: datetime | None, *, earliest: datetime, now: datetime) -> datetime:
    """When a patrol step (check-in, check-out) happened, for a phone that
    may have recorded it offline and sent it later: the phone's
    ``recorded_at`` when it lies between ``earliest`` and ``now`` plus
    ``CLOCK_SKEW`` (a little of the future is clock drift and counts as
    ``now``); otherwise the server's ``now``. A phone whose clock is far off
    is timed by the server, never refused: the person did walk. The fraud
    rules see both times (``client_recorded_at`` next to the arrival)."""
    if recorded_at is None:
        return now
    recorded = aware(recorded_at, "recorded_at")
    if not earliest <= recorded <= now + CLOCK_SKEW:
        return now
    return min(recorded, now)


def patrol_start(recorded_at: datetime | None, *, now: datetime) -> datetime:
    """A patrol's start: the phone's check-in time within the last
    ``MAX_PATROL_MINUTES`` (a queued check-in is believed as far back as a
    patrol may last), else ``now``."""
    return phone_time(recorded_at, earliest=now - timedelta(minutes=MAX_PATROL_MINUTES), now=now)


def check_route_batch(points: Sequence[tuple[Position, datetime]]) -> None:
    """One batch of route points: 1 to ``MAX_ROUTE_POINTS_PER_CALL``, each
    with a valid position and a time with a zone."""
    if not 1 <= len(points) <= MAX_ROUTE_POINTS_PER_CALL:
        raise InvalidActivity(f"send 1-{MAX_ROUTE_POINTS_PER_CALL} points at a time", field="points")
    for index, (position, at) in enumerate(points):
        check_position(position, f"points.{index}.position")
        aware(at, f"points.{index}.at")


def check_route_fits(times: Sequence[datetime], *, started_at: datetime, recorded: int, now: datetime) -> None:
    """A batch fits the patrol: each point between its start and now (plus
    ``CLOCK_SKEW``), and no more than ``MAX_ROUTE_POINTS`` in all with the
    ``recorded`` ones."""
    for index, at in enumerate(times):
        if not started_at <= at <= now + CLOCK_SKEW:
            raise InvalidActivity("a route point must fall within the patrol", field=f"points.{index}.at")
    if recorded + len(times) > MAX_ROUTE_POINTS:
        raise InvalidActivity(f"a patrol records at most {MAX_ROUTE_POINTS} points", field="points")


def check_photo_list(hashes: Sequence[str]) -> None:
    """A report lists each photo once."""
    if len(set(hashes)) != len(hashes):
        raise InvalidActivity("the same photo is listed twice", field="photos")
