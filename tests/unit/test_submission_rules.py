"""activities/submission_rules (and the photo quota rule): what a phone's
submission must satisfy before anything is read, without a database. Each
refusal is InvalidActivity naming the field at fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from activities.errors import InvalidActivity, UploadQuotaExceeded
from activities.models import Position
from activities.periods import award_day, award_week, china_day_bounds
from activities.photos import check_quota
from activities.submission_rules import (
    CLOCK_SKEW,
    MAX_PATROL_MINUTES,
    MAX_ROUTE_POINTS,
    MAX_ROUTE_POINTS_PER_CALL,
    check_photo_list,
    check_position,
    check_route_batch,
    check_route_fits,
    new_route_times,
    patrol_minutes,
    patrol_start,
    phone_time,
    report_time,
    service_minutes,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HERE = Position(latitude=35.06, longitude=118.34, accuracy_m=10.0)


def refused_field(call: object) -> str | None:
    assert callable(call)
    with pytest.raises(InvalidActivity) as refused:
        call()
    return refused.value.field


def test_service_minutes_come_from_the_times() -> None:
    """Two and a half hours ending an hour ago: 150 minutes."""
    assert service_minutes(NOW - timedelta(hours=3, minutes=30), NOW - timedelta(hours=1), now=NOW) == 150


@pytest.mark.parametrize(
    ("started", "ended", "field"),
    [
        (NOW - timedelta(hours=1), NOW - timedelta(hours=2), "ended_at"),  # ends before it starts
        (NOW - timedelta(seconds=90), NOW - timedelta(seconds=45), "ended_at"),  # under a minute
        (NOW - timedelta(hours=13), NOW, "ended_at"),  # longer than 12 hours
        (NOW, NOW + CLOCK_SKEW + timedelta(minutes=1), "ended_at"),  # ends in the future
        (NOW - timedelta(days=31), NOW - timedelta(days=31) + timedelta(hours=1), "started_at"),  # too old
        (datetime(2026, 11, 22, 9), NOW, "started_at"),  # noqa: DTZ001 (no zone: the point of the case)
    ],
)
def test_service_logs_out_of_bounds_are_refused(started: datetime, ended: datetime, field: str) -> None:
    assert refused_field(lambda: service_minutes(started, ended, now=NOW)) == field


def test_a_little_clock_skew_is_tolerated() -> None:
    """A phone a few minutes fast may end a log just 'in the future'."""
    assert service_minutes(NOW - timedelta(hours=1), NOW + CLOCK_SKEW, now=NOW) == 65


def test_report_time_defaults_to_now_and_is_bounded() -> None:
    assert report_time(None, now=NOW) == NOW
    assert report_time(NOW - timedelta(days=2), now=NOW) == NOW - timedelta(days=2)
    assert refused_field(lambda: report_time(NOW + timedelta(hours=1), now=NOW)) == "occurred_at"
    assert refused_field(lambda: report_time(NOW - timedelta(days=31), now=NOW)) == "occurred_at"


def test_patrol_minutes_are_cut_at_twelve_hours() -> None:
    assert patrol_minutes(NOW - timedelta(minutes=45, seconds=59), now=NOW) == 45
    assert patrol_minutes(NOW - timedelta(days=2), now=NOW) == MAX_PATROL_MINUTES


@pytest.mark.parametrize(
    ("position", "field"),
    [
        (Position(latitude=91, longitude=0), "position.latitude"),
        (Position(latitude=0, longitude=-181), "position.longitude"),
        (Position(latitude=0, longitude=0, accuracy_m=-1), "position.accuracy_m"),
        (Position(latitude=0, longitude=0, accuracy_m=10_001), "position.accuracy_m"),
    ],
)
def test_positions_outside_the_globe_are_refused(position: Position, field: str) -> None:
    assert refused_field(lambda: check_position(position)) == field
    check_position(HERE)


def test_route_batches_are_bounded_and_checked_point_by_point() -> None:
    check_route_batch([(HERE, NOW)])
    assert refused_field(lambda: check_route_batch([])) == "points"
    assert refused_field(lambda: check_route_batch([(HERE, NOW)] * (MAX_ROUTE_POINTS_PER_CALL + 1))) == "points"
    far = Position(latitude=95, longitude=0)
    assert refused_field(lambda: check_route_batch([(HERE, NOW), (far, NOW)])) == "points.1.position.latitude"
    naive = datetime(2026, 11, 22, 9)  # noqa: DTZ001 (no zone: the point of the case)
    assert refused_field(lambda: check_route_batch([(HERE, naive)])) == "points.0.at"


def test_route_points_fall_within_the_patrol_and_its_limit() -> None:
    started = NOW - timedelta(hours=1)
    check_route_fits([started, NOW + CLOCK_SKEW], started_at=started, recorded=0, now=NOW)
    early = [started, started - timedelta(seconds=1)]
    assert refused_field(lambda: check_route_fits(early, started_at=started, recorded=0, now=NOW)) == "points.1.at"
    full = [NOW] * 2
    assert (
        refused_field(lambda: check_route_fits(full, started_at=started, recorded=MAX_ROUTE_POINTS - 1, now=NOW))
        == "points"
    )


def test_a_photo_is_listed_once() -> None:
    check_photo_list(["a" * 64, "b" * 64])
    assert refused_field(lambda: check_photo_list(["a" * 64, "a" * 64])) == "photos"


def test_photo_quota_counts_the_china_day_and_says_when_it_resets() -> None:
    """Quota 3: the 4th photo of the day is refused until China-time midnight (16:00 UTC)."""
    check_quota(2, quota=3, now=NOW)
    with pytest.raises(UploadQuotaExceeded) as refused:
        check_quota(3, quota=3, now=NOW)
    assert refused.value.retry_after_seconds == 4 * 3600
    start, end = china_day_bounds(NOW)
    assert (start, end) == (datetime(2026, 11, 21, 16, tzinfo=UTC), datetime(2026, 11, 22, 16, tzinfo=UTC))


def test_award_periods_are_the_china_day_and_iso_week() -> None:
    """23:30 UTC on Sunday 22 Nov is Monday 23 Nov in China: another day and another week."""
    late = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert (award_day(late), award_week(late)) == ("2026-11-23", "2026-W48")
    assert (award_day(NOW), award_week(NOW)) == ("2026-11-22", "2026-W47")


def test_a_phone_time_within_the_bounds_is_believed_and_any_other_gives_way_to_now() -> None:
    start = NOW - timedelta(hours=1)
    assert phone_time(None, earliest=start, now=NOW) == NOW
    assert phone_time(NOW - timedelta(minutes=20), earliest=start, now=NOW) == NOW - timedelta(minutes=20)
    assert phone_time(NOW + timedelta(minutes=3), earliest=start, now=NOW) == NOW  # drift: counts as now
    assert phone_time(NOW + timedelta(hours=2), earliest=start, now=NOW) == NOW  # clock far ahead
    assert phone_time(start - timedelta(minutes=1), earliest=start, now=NOW) == NOW  # before the patrol began
    assert patrol_start(NOW - timedelta(hours=11), now=NOW) == NOW - timedelta(hours=11)
    assert patrol_start(NOW - timedelta(hours=13), now=NOW) == NOW
    with pytest.raises(InvalidActivity):
        phone_time(datetime(2026, 11, 1, 9, 0), earliest=start, now=NOW)  # noqa: DTZ001 - no zone on purpose


def test_a_route_point_sent_again_at_the_same_instant_is_not_new() -> None:
    a, b, c = NOW - timedelta(minutes=3), NOW - timedelta(minutes=2), NOW - timedelta(minutes=1)
    assert new_route_times([a, b, c], []) == [0, 1, 2]
    assert new_route_times([a, b, c], [a, b]) == [2]
    assert new_route_times([c, c], []) == [0]
