"""The fraud rules and the decision: plain functions, no I/O, no clock.

Each rule takes the ``ScreeningContext`` and the organisation's
``Thresholds`` and returns a ``RuleResult``: hit or not, its score, a
reason in Chinese and English, and the evidence it used. ``evaluate`` runs
every rule of ``RULES`` and ``decide`` sums the hit scores:

- at or above ``deny_score``: **deny** (refused, nothing changes);
- at or above ``review_score``: **review** (the points are held);
- otherwise **allow**.

``RULESET_VERSION`` names this set of rules; change it whenever a rule's
logic changes, so a stored decision says which rules made it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from fraud.models import (
    Fix,
    Outcome,
    PhotoPrint,
    RuleResult,
    ScreeningContext,
    Subject,
    Submission,
    Thresholds,
    Verdict,
)

RULESET_VERSION = "2026-11-30.1"

EARTH_RADIUS_M = 6_371_000.0
# A 64-bit perceptual hash is 16 hex digits.
PHASH_HEX_DIGITS = 16

Rule = Callable[[ScreeningContext, Thresholds], RuleResult]


def _no_hit(rule: str, evidence: dict[str, object] | None = None) -> RuleResult:
    return RuleResult(rule=rule, hit=False, score=0, reason_zh="", reason_en="", evidence=evidence or {})


def distance_m(a: Fix, b: Fix) -> float:
    """Great-circle distance between two positions (haversine), in metres."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def travel_speed_kmh(a: Fix, b: Fix) -> tuple[float, float, float]:
    """(speed in km/h, the distance in metres after taking both positions'
    accuracy off it, the seconds between them). The speed is infinite when
    the positions are at the same second but farther apart than their
    accuracy allows."""
    slack = (a.accuracy_m or 0.0) + (b.accuracy_m or 0.0)
    distance = max(0.0, distance_m(a, b) - slack)
    seconds = abs((b.at - a.at).total_seconds())
    if distance == 0.0:
        return 0.0, distance, seconds
    if seconds == 0.0:
        return math.inf, distance, seconds
    return distance / seconds * 3.6, distance, seconds


def _fix_evidence(fix: Fix) -> dict[str, object]:
    return {
        "source": fix.source,
        "latitude": fix.latitude,
        "longitude": fix.longitude,
        "accuracy_m": fix.accuracy_m,
        "at": fix.at.isoformat(),
    }


def impossible_travel(context: ScreeningContext, thresholds: Thresholds) -> RuleResult:
    """Consecutive positions (in time) at least one of which is the
    subject's own, between which the member would have had to travel faster
    than ``travel_max_kmh``; the fastest such pair is the evidence."""
    rule = "impossible_travel"
    fixes = sorted(context.positions, key=lambda fix: fix.at)
    worst: tuple[float, float, float, Fix, Fix] | None = None
    for before, after in itertools.pairwise(fixes):
        if not (before.own or after.own):
            continue
        speed, distance, seconds = travel_speed_kmh(before, after)
        if worst is None or speed > worst[0]:
            worst = (speed, distance, seconds, before, after)
    if worst is None or worst[0] <= thresholds.travel_max_kmh:
        return _no_hit(rule, {"pairs_checked": max(0, len(fixes) - 1)})
    speed, distance, seconds, before, after = worst
    shown = "∞" if math.isinf(speed) else f"{speed:.0f}"
    return RuleResult(
        rule=rule,
        hit=True,
        score=thresholds.travel_score,
        reason_zh=f"两次定位之间的移动速度约为 {shown} 公里/小时，超过 {thresholds.travel_max_kmh} 公里/小时",
        reason_en=f"moved at about {shown} km/h between two positions, above {thresholds.travel_max_kmh} km/h",
        evidence={
            "from": _fix_evidence(before),
            "to": _fix_evidence(after),
            "distance_m": round(distance, 1),
            "seconds": seconds,
            "speed_kmh": None if math.isinf(speed) else round(speed, 1),
            "max_kmh": thresholds.travel_max_kmh,
        },
    )


def believed_time(submission: Submission, skew: timedelta) -> datetime:
    """When a submission happened, by the phone's clock: its recorded time,
    unless the phone sent none or claims a time later than its arrival
    plus the clock-skew bound (a phone cannot record the future); then
    its arrival time."""
    recorded = submission.recorded_at
    if recorded is None or recorded > submission.arrived_at + skew:
        return submission.arrived_at
    return recorded


def burst(context: ScreeningContext, thresholds: Thresholds) -> RuleResult:
    """More than ``burst_count`` submissions within ``burst_minutes`` of
    each other, counted by the time the phone recorded, in a window that
    holds the subject's own submission. A phone that was offline all day
    and uploads its queue at once recorded those times hours apart: no
    burst, however close the arrivals."""
    rule = "burst"
    skew = timedelta(minutes=thresholds.clock_skew_minutes)
    window = timedelta(minutes=thresholds.burst_minutes)
    timed = sorted(((believed_time(item, skew), item) for item in context.submissions), key=lambda pair: pair[0])
    best: list[tuple[datetime, Submission]] = []
    start = 0
    for end in range(len(timed)):
        while timed[end][0] - timed[start][0] > window:
            start += 1
        inside = timed[start : end + 1]
        if any(item.own for _, item in inside) and len(inside) > len(best):
            best = inside
    if len(best) <= thresholds.burst_count:
        return _no_hit(rule, {"most_in_window": len(best)})
    return RuleResult(
        rule=rule,
        hit=True,
        score=thresholds.burst_score,
        reason_zh=f"手机记录的时间显示 {thresholds.burst_minutes} 分钟内提交了 {len(best)} 次",
        reason_en=f"{len(best)} submissions recorded on the phone within {thresholds.burst_minutes} minutes",
        evidence={
            "count": len(best),
            "window_minutes": thresholds.burst_minutes,
            "limit": thresholds.burst_count,
            "submissions": [{"ref": item.ref, "recorded_at": moment.isoformat()} for moment, item in best],
        },
    )


def cooling_off(context: ScreeningContext, thresholds: Thresholds) -> RuleResult:
    """A redemption, or an award of at least ``cooling_award``, within
    ``cooling_days`` of the member joining."""
    rule = "cooling_off"
    age = context.moment - context.member_joined_at
    young = age < timedelta(days=thresholds.cooling_days)
    large = context.subject is Subject.ORDER or context.amount >= thresholds.cooling_award
    evidence: dict[str, object] = {
        "joined_at": context.member_joined_at.isoformat(),
        "days_since_joining": round(age.total_seconds() / 86400, 2),
        "amount": str(context.amount),
    }
    if not (young and large):
        return _no_hit(rule, evidence)
    what_zh = "兑换" if context.subject is Subject.ORDER else f"{context.amount} 积分的奖励"
    what_en = "a redemption" if context.subject is Subject.ORDER else f"an award of {context.amount} points"
    return RuleResult(
        rule=rule,
        hit=True,
        score=thresholds.cooling_score,
        reason_zh=f"加入未满 {thresholds.cooling_days} 天即有{what_zh}",
        reason_en=f"{what_en} within {thresholds.cooling_days} days of joining",
        evidence={**evidence, "cooling_days": thresholds.cooling_days, "large_award": str(thresholds.cooling_award)},
    )


def hamming(a: str, b: str) -> int:
    """Bits that differ between two perceptual hashes (hex text)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _closest(own: Sequence[PhotoPrint], others: Sequence[PhotoPrint]) -> tuple[int, PhotoPrint, PhotoPrint] | None:
    best: tuple[int, PhotoPrint, PhotoPrint] | None = None
    for mine in own:
        for other in others:
            if other.sha256 == mine.sha256:
                continue  # the same file: the exact-hash refusal's business, not a near duplicate
            distance = hamming(mine.phash, other.phash)
            if best is None or distance < best[0]:
                best = (distance, mine, other)
    return best


def near_duplicate_photo(context: ScreeningContext, thresholds: Thresholds) -> RuleResult:
    """One of the subject's photos is within ``photo_max_distance`` bits
    (perceptual hash) of a photo of another activity, whoever sent it."""
    rule = "near_duplicate_photo"
    others = [other for other in context.other_photos if other.activity_id != context.subject_id]
    closest = _closest(context.photos, others)
    if closest is None or closest[0] > thresholds.photo_max_distance:
        return _no_hit(rule, {"compared": len(context.photos) * len(others)})
    distance, mine, other = closest
    return RuleResult(
        rule=rule,
        hit=True,
        score=thresholds.photo_score,
        reason_zh=f"照片与另一条上报（活动 {other.activity_id}）的照片几乎相同",
        reason_en=f"a photo nearly matches one of another report (activity {other.activity_id})",
        evidence={
            "photo": mine.sha256,
            "matching_photo": other.sha256,
            "matching_activity_id": other.activity_id,
            "matching_member_id": other.member_id,
            "distance_bits": distance,
            "max_distance_bits": thresholds.photo_max_distance,
        },
    )


RULES: tuple[Rule, ...] = (impossible_travel, burst, cooling_off, near_duplicate_photo)


def evaluate(
    context: ScreeningContext, thresholds: Thresholds, rules: Sequence[Rule] = RULES
) -> tuple[RuleResult, ...]:
    return tuple(rule(context, thresholds) for rule in rules)


def outcome_for(score: int, thresholds: Thresholds) -> Outcome:
    if score >= thresholds.deny_score:
        return Outcome.DENY
    if score >= thresholds.review_score:
        return Outcome.REVIEW
    return Outcome.ALLOW


def decide(context: ScreeningContext, thresholds: Thresholds, rules: Sequence[Rule] = RULES) -> Verdict:
    """Every rule's result, their summed score and the outcome."""
    results = evaluate(context, thresholds, rules)
    score = sum(result.score for result in results if result.hit)
    return Verdict(
        outcome=outcome_for(score, thresholds),
        score=score,
        results=results,
        ruleset_version=RULESET_VERSION,
        thresholds=thresholds,
    )
