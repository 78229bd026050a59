"""fraud/rules: each shipped rule hits its planted case and not an honest
neighbour; the decision sums scores against the thresholds; thresholds
overrides are checked. No database."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from PIL import Image, ImageDraw

from fraud.errors import InvalidThresholds
from fraud.models import DEFAULT_THRESHOLDS, Fix, Outcome, PhotoPrint, ScreeningContext, Subject, Submission
from fraud.photo_prints import perceptual_hash
from fraud.rules import (
    RULES,
    RULESET_VERSION,
    believed_time,
    burst,
    cooling_off,
    decide,
    hamming,
    impossible_travel,
    near_duplicate_photo,
    travel_speed_kmh,
)
from fraud.thresholds import apply_overrides

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
T = DEFAULT_THRESHOLDS
# 临沂 city centre and a point 1 km north of it (1° latitude ≈ 111.2 km).
LAT, LON = 35.1041, 118.3564
KM_NORTH = 1 / 111.2


def context(**fields: Any) -> ScreeningContext:
    base = ScreeningContext(
        subject=Subject.ACTIVITY,
        subject_id=10,
        member_id=4,
        member_joined_at=NOW - timedelta(days=400),
        amount=Decimal("3.00"),
        moment=NOW,
    )
    return replace(base, **fields)


def fix(km_north: float, minutes: float, *, own: bool = False, accuracy_m: float | None = 10.0) -> Fix:
    return Fix(LAT + km_north * KM_NORTH, LON, accuracy_m, NOW + timedelta(minutes=minutes), f"p{minutes}", own)


# Impossible travel ------------------------------------------------------------


def test_travel_at_600_kmh_between_check_ins_is_impossible() -> None:
    planted = context(positions=(fix(0, 0), fix(50, 5, own=True)))  # 50 km in 5 minutes
    result = impossible_travel(planted, T)
    assert result.hit and result.score == T.travel_score
    assert result.evidence["speed_kmh"] == pytest.approx(600, rel=0.01)
    assert result.evidence["from"]["source"] == "p0"
    assert "公里/小时" in result.reason_zh and "km/h" in result.reason_en


def test_a_cyclist_at_20_kmh_is_not_flagged() -> None:
    honest = context(positions=(fix(0, 0), fix(5, 15, own=True), fix(10, 30)))
    assert not impossible_travel(honest, T).hit


def test_gps_jitter_within_accuracy_is_not_travel() -> None:
    """Two fixes a second apart, 300 m apart, each ±200 m: no movement proven."""
    jitter = context(positions=(fix(0, 0, accuracy_m=200), fix(0.3, 1 / 60, own=True, accuracy_m=200)))
    assert not impossible_travel(jitter, T).hit
    speed, distance, _ = travel_speed_kmh(*jitter.positions)
    assert speed == 0.0 and distance == 0.0


def test_only_pairs_touching_the_screened_activity_count() -> None:
    """An old impossible jump between two other activities is not this award's fault."""
    old = context(positions=(fix(0, 0), fix(50, 1), fix(50.1, 60, own=True)))
    assert not impossible_travel(old, T).hit


def test_travel_limit_is_the_organisations_threshold() -> None:
    drive = context(positions=(fix(0, 0), fix(10, 10, own=True)))  # ~60 km/h
    assert not impossible_travel(drive, T).hit
    assert impossible_travel(drive, replace(T, travel_max_kmh=40)).hit


# Bursts ---------------------------------------------------------------------------


def submission(recorded_minutes: float | None, arrived_minutes: float, *, own: bool = False) -> Submission:
    recorded = None if recorded_minutes is None else NOW + timedelta(minutes=recorded_minutes)
    return Submission(f"s{recorded_minutes}-{arrived_minutes}", recorded, NOW + timedelta(minutes=arrived_minutes), own)


def test_seven_submissions_recorded_within_ten_minutes_are_a_burst() -> None:
    planted = context(submissions=tuple(submission(m, m, own=m == 6) for m in range(7)))
    result = burst(planted, T)
    assert result.hit and result.evidence["count"] == 7


def test_a_days_offline_queue_uploaded_at_once_is_not_a_burst() -> None:
    """Twelve check-ins recorded an hour apart, all arriving in the same minute."""
    queue = tuple(submission(-60 * hour, 0.01 * hour, own=hour == 0) for hour in range(12))
    result = burst(context(submissions=queue), T)
    assert not result.hit
    assert result.evidence["most_in_window"] == 1


def test_a_phone_clock_set_in_the_future_is_not_believed() -> None:
    """Recorded times an hour after arrival (beyond the skew) count as arrivals."""
    forged = Submission("x", NOW + timedelta(hours=1), NOW)
    assert believed_time(forged, timedelta(minutes=T.clock_skew_minutes)) == NOW
    spread_by_forgery = tuple(
        Submission(f"f{n}", NOW + timedelta(hours=n + 1), NOW + timedelta(seconds=n), own=n == 0) for n in range(7)
    )
    assert burst(context(submissions=spread_by_forgery), T).hit


def test_submissions_without_a_phone_time_count_by_arrival() -> None:
    none_recorded = tuple(submission(None, m, own=m == 0) for m in range(7))
    assert burst(context(submissions=none_recorded), T).hit
    spread = tuple(submission(None, m * 30, own=m == 0) for m in range(7))
    assert not burst(context(submissions=spread), T).hit


# New-account cooling-off ---------------------------------------------------


def test_a_large_award_three_days_after_joining_is_flagged() -> None:
    planted = context(member_joined_at=NOW - timedelta(days=3), amount=Decimal("80.00"))
    result = cooling_off(planted, T)
    assert result.hit and "加入未满" in result.reason_zh


def test_a_small_award_to_a_new_member_and_a_large_one_to_an_old_member_pass() -> None:
    assert not cooling_off(context(member_joined_at=NOW - timedelta(days=3), amount=Decimal("3.00")), T).hit
    assert not cooling_off(context(member_joined_at=NOW - timedelta(days=30), amount=Decimal("80.00")), T).hit


def test_any_redemption_by_a_new_member_is_flagged() -> None:
    order = context(subject=Subject.ORDER, member_joined_at=NOW - timedelta(days=1), amount=Decimal("1.00"))
    assert cooling_off(order, T).hit


# Near-duplicate photos ------------------------------------------------------


def _picture(resize_to: int | None = None) -> bytes:
    """A street scene stand-in; ``resize_to``: the same picture scaled and re-compressed."""
    image = Image.new("RGB", (256, 256), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 50, 140, 200), fill="black")
    draw.ellipse((150, 30, 230, 110), fill="red")
    quality = 90
    if resize_to is not None:
        image = image.resize((resize_to, resize_to))
        quality = 60
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _other_picture() -> bytes:
    image = Image.new("RGB", (256, 256), "black")
    draw = ImageDraw.Draw(image)
    for x in range(0, 256, 32):
        draw.rectangle((x, 0, x + 12, 256), fill="yellow")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_a_resized_recompressed_photo_keeps_its_perceptual_hash_nearby() -> None:
    original = perceptual_hash(_picture())
    resized = perceptual_hash(_picture(resize_to=200))
    assert len(original) == 16
    assert hamming(original, resized) <= T.photo_max_distance
    assert hamming(original, perceptual_hash(_other_picture())) > T.photo_max_distance


def test_undecodable_bytes_have_no_perceptual_hash() -> None:
    assert perceptual_hash(b"not an image") == ""


def test_a_near_copy_of_another_reports_photo_is_flagged() -> None:
    mine = PhotoPrint("a" * 64, perceptual_hash(_picture(resize_to=200)), 10, 4)
    theirs = PhotoPrint("b" * 64, perceptual_hash(_picture()), 3, 9)
    honest = PhotoPrint("c" * 64, perceptual_hash(_other_picture()), 5, 8)
    result = near_duplicate_photo(context(photos=(mine,), other_photos=(honest, theirs)), T)
    assert result.hit
    assert result.evidence["matching_activity_id"] == 3
    assert not near_duplicate_photo(context(photos=(mine,), other_photos=(honest,)), T).hit


def test_the_same_file_and_the_same_activitys_own_photos_are_not_near_duplicates() -> None:
    """The exact-hash refusal handles the same file; an activity never matches itself."""
    mine = PhotoPrint("a" * 64, "ffff0000ffff0000", 10, 4)
    same_file = PhotoPrint("a" * 64, "ffff0000ffff0000", 3, 9)
    own_other = PhotoPrint("d" * 64, "ffff0000ffff0001", 10, 4)
    assert not near_duplicate_photo(context(photos=(mine,), other_photos=(same_file, own_other)), T).hit


# The decision ---------------------------------------------------------------


def test_no_hit_allows_one_hit_reviews_two_hits_deny() -> None:
    travel = (fix(0, 0), fix(50, 5, own=True))
    young = NOW - timedelta(days=2)
    allowed = decide(context(), T)
    assert allowed.outcome is Outcome.ALLOW and allowed.score == 0 and allowed.hits == ()
    held = decide(context(positions=travel), T)
    assert held.outcome is Outcome.REVIEW and held.score == T.travel_score
    denied = decide(context(positions=travel, member_joined_at=young, amount=Decimal("60.00")), T)
    assert denied.outcome is Outcome.DENY
    assert {hit.rule for hit in denied.hits} == {"impossible_travel", "cooling_off"}
    assert denied.ruleset_version == RULESET_VERSION
    assert len(denied.results) == len(RULES)  # every rule's result is kept, hit or not
    assert "；" in denied.reason_zh()


def test_a_decision_is_judged_with_the_thresholds_it_was_given() -> None:
    travel = context(positions=(fix(0, 0), fix(50, 5, own=True)))
    lenient = replace(T, review_score=200, deny_score=300)
    assert decide(travel, lenient).outcome is Outcome.ALLOW
    assert json.loads(decide(travel, lenient).thresholds.to_json())["review_score"] == 200


def test_overrides_apply_and_bad_ones_are_refused() -> None:
    assert apply_overrides(T, {"travel_max_kmh": 80}).travel_max_kmh == 80
    with pytest.raises(InvalidThresholds):
        apply_overrides(T, {"no_such_rule": 1})
    with pytest.raises(InvalidThresholds):
        apply_overrides(T, {"burst_count": -1})
    with pytest.raises(InvalidThresholds):
        apply_overrides(T, {"burst_count": 2.5})
    with pytest.raises(InvalidThresholds):
        apply_overrides(T, {"review_score": 90, "deny_score": 80})


def test_a_photo_distance_beyond_what_the_photo_index_finds_is_refused_by_name() -> None:
    assert apply_overrides(T, {"photo_max_distance": 4}).photo_max_distance == 4
    with pytest.raises(InvalidThresholds) as refused:
        apply_overrides(T, {"photo_max_distance": 8})
    assert refused.value.field == "photo_max_distance"


def test_submissions_recorded_at_the_same_instant_are_counted_together() -> None:
    same = tuple(Submission(f"s{n}", NOW, NOW, own=n == 0) for n in range(6))
    result = burst(context(submissions=same), T)
    assert result.hit and result.evidence["count"] == 6
