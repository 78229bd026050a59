"""The fraud rules and the decision: plain functions, no I/O, no clock.

Each rule takes the ``ScreeningContext`` and the organisation's
``Thresholds`` and returns a ``RuleResult``: hit or not, its score, a
reason in Chinese and English, and the evidence it used. ``evaluate`` runs
every rule registered for the subject (``RULES_BY_SUBJECT``: awards and
orders) and ``decide`` sums the hit scores:

- at or above ``deny_score``: **deny** (refused, nothing changes);
- at or above ``review_score``: **review** (the points are held);
- otherwise **allow**.

``RULESET_VERSION`` names this set of rules; change it whenever a rule's
logic changes, so a stored decision says which rules made it.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from fraud.models import (
    Fix,
    Funding,
    HistoryNeeded,
    Outcome,
    PhotoPrint,
    PriorReport,
    RuleResult,
    ScreeningContext,
    Subject,
    Submission,
    Thresholds,
    Verdict,
)

RULESET_VERSION = "2026-12-01.1"

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


def _local_m(origin: Fix, point: Fix) -> tuple[float, float]:
    """(east, north) metres of ``point`` from ``origin``: a flat projection,
    exact enough over a patrol's few kilometres."""
    north = math.radians(point.latitude - origin.latitude) * EARTH_RADIUS_M
    east = math.radians(point.longitude - origin.longitude) * EARTH_RADIUS_M * math.cos(math.radians(origin.latitude))
    return east, north


def line_deviation_m(route: Sequence[Fix]) -> tuple[float, float]:
    """(the largest distance of any position from the straight line through
    the first position and the one farthest from it, that farthest
    distance) in metres."""
    origin = route[0]
    points = [_local_m(origin, fix) for fix in route]
    far = max(points, key=lambda point: math.hypot(*point))
    span = math.hypot(*far)
    if span == 0.0:
        return 0.0, 0.0
    ux, uy = far[0] / span, far[1] / span
    return max(abs(x * uy - y * ux) for x, y in points), span


def is_grid_walk(route: Sequence[Fix], tolerance_m: float) -> bool:
    """Every step moves along one axis only, and every step is the same
    length (within ``tolerance_m``): a route drawn on graph paper, which no
    phone walking real streets produces."""
    steps = [_local_m(a, b) for a, b in itertools.pairwise(route)]
    lengths = [math.hypot(*step) for step in steps]
    if not lengths or min(lengths) <= tolerance_m:
        return False
    axis_aligned = all(min(abs(dx), abs(dy)) <= tolerance_m for dx, dy in steps)
    return axis_aligned and max(lengths) - min(lengths) <= tolerance_m


# A patrol whose ends are nearer than this has no line to follow: a
# straight-line check on it would judge GPS jitter around one spot.
LINE_MIN_SPAN_M = 30.0


def patrol_signatures(minutes: int, route: Sequence[Fix], thresholds: Thresholds) -> list[str]:
    """Which signs of a thin or fake patrol ``route`` shows (pure):
    ``too_few_points``, ``frozen`` (every position identical),
    ``straight_line``, ``grid`` and ``repeated_accuracy``."""
    found: list[str] = []
    if minutes < thresholds.patrol_check_minutes:
        return found
    per_point = max(1, thresholds.patrol_minutes_per_point)
    if len(route) < minutes // per_point:
        found.append("too_few_points")
    if len(route) < max(3, thresholds.patrol_shape_points):
        return found
    deviation, span = line_deviation_m(route)
    if span == 0.0:
        found.append("frozen")
    elif span >= LINE_MIN_SPAN_M and deviation <= thresholds.patrol_line_m:
        found.append("straight_line")
    if is_grid_walk(route, thresholds.patrol_grid_m):
        found.append("grid")
    accuracies = {fix.accuracy_m for fix in route}
    if len(accuracies) == 1 and None not in accuracies:
        found.append("repeated_accuracy")
    return found


_SIGNATURE_WORDS: Mapping[str, tuple[str, str]] = {
    "too_few_points": ("轨迹点过少", "too few route points for its length"),
    "frozen": ("所有定位完全相同", "every position identical"),
    "straight_line": ("轨迹点排成一条完美直线", "route points on a perfect straight line"),
    "grid": ("轨迹呈等距方格", "route points on an even grid"),
    "repeated_accuracy": ("每个定位精度值完全相同（模拟定位特征）", "every accuracy value identical (mock location)"),
}


def thin_patrol(context: ScreeningContext, thresholds: Thresholds) -> RuleResult:
    """A patrol of at least ``patrol_check_minutes`` whose route is too thin
    for its length, or looks generated: a perfect line, a perfect grid,
    every position the same, or every accuracy value the same."""
    rule = "thin_patrol"
    patrol = context.patrol
    if patrol is None:
        return _no_hit(rule)
    route = sorted(patrol.route, key=lambda fix: fix.at)
    evidence: dict[str, object] = {
        "minutes": patrol.minutes,
        "points": len(route),
        "points_expected": patrol.minutes // max(1, thresholds.patrol_minutes_per_point),
    }
    found = patrol_signatures(patrol.minutes, route, thresholds)
    if not found:
        return _no_hit(rule, evidence)
    if len(route) >= 2:
        deviation, span = line_deviation_m(route)
        evidence |= {"line_deviation_m": round(deviation, 2), "span_m": round(span, 1)}
    if route:
        evidence["accuracies_m"] = sorted({fix.accuracy_m for fix in route if fix.accuracy_m is not None})[:5]
    return RuleResult(
        rule=rule,
        hit=True,
        score=thresholds.patrol_score,
        reason_zh=f"{patrol.minutes} 分钟的巡逻：" + "、".join(_SIGNATURE_WORDS[name][0] for name in found),
        reason_en=f"a {patrol.minutes}-minute patrol: " + ", ".join(_SIGNATURE_WORDS[name][1] for name in found),
        evidence={**evidence, "signatures": found},
    )


def first_report(context: ScreeningContext, thresholds: Thresholds) -> tuple[PriorReport, float] | None:
    """The earliest report by another member of the same kind within
    ``duplicate_radius_m`` and ``duplicate_minutes`` before this one (a tie
    in time goes to the lower id), with its distance; None if this report
    is the first."""
    report = context.report
    if report is None:
        return None
    here = Fix(report.latitude, report.longitude, None, report.at, "report")
    window = timedelta(minutes=thresholds.duplicate_minutes)
    earlier: list[tuple[datetime, int, PriorReport, float]] = []
    for prior in report.nearby:
        if prior.member_id == context.member_id or prior.activity_id == context.subject_id:
            continue
        before = prior.at < report.at or (prior.at == report.at and prior.activity_id < context.subject_id)
        if not before or report.at - prior.at > window:
            continue
        distance = distance_m(here, Fix(prior.latitude, prior.longitude, None, prior.at, "prior"))
        if distance <= thresholds.duplicate_radius_m:
            earlier.append((prior.at, prior.activity_id, prior, distance))
    if not earlier:
        return None
    _, _, prior, distance = min(earlier, key=lambda item: (item[0], item[1]))
    return prior, distance


def duplicate_report(context: ScreeningContext, thresholds: Thresholds) -> RuleResult:
    """Another member reported the same kind of problem here first: this
    report is a *confirmation*, paid ``confirmation_pct`` percent of the
    points, so the first reporter keeps the full credit. Not fraud: the hit
    scores nothing (``confirmation_pct_of`` reads it for the award)."""
    rule = "duplicate_report"
    found = first_report(context, thresholds)
    if found is None or context.report is None:
        return _no_hit(rule, {"nearby": 0 if context.report is None else len(context.report.nearby)})
    prior, distance = found
    minutes = (context.report.at - prior.at).total_seconds() / 60
    pct = thresholds.confirmation_pct
    return RuleResult(
        rule=rule,
        hit=True,
        score=0,
        reason_zh=f"他人已先上报同类问题（活动 {prior.activity_id}），本条作为确认，按 {pct}% 计分",
        reason_en=f"confirms activity {prior.activity_id}, reported earlier by another member: {pct}% of the points",
        evidence={
            "first_activity_id": prior.activity_id,
            "first_member_id": prior.member_id,
            "distance_m": round(distance, 1),
            "minutes_after_first": round(minutes, 1),
            "radius_m": thresholds.duplicate_radius_m,
            "window_minutes": thresholds.duplicate_minutes,
            "confirmation_pct": pct,
        },
    )


def confirmation_pct_of(verdict: Verdict) -> int | None:
    """The percentage of its points a report earns as a confirmation of an
    earlier one (the duplicate-report rule's hit), or None if it is first."""
    for result in verdict.hits:
        if result.rule == "duplicate_report":
            return int(result.evidence["confirmation_pct"])
    return None


def verifier_approvals_worth_counting(pair_approvals: int, verifier_pcts: Iterable[int]) -> int:
    """How many of the verifier's approvals are worth counting (pure).

    The rule needs the verifier's share, ``pair * 100 / (V + 1)`` with
    ``pair`` the pair's approvals this one included, only to compare it with
    ``concentration_verifier_pct``. Once ``V`` reaches
    ``floor(pair * 100 / pct)``, the share is below the threshold whatever
    ``V`` is beyond it, so counting stops there: a grid worker who approved
    fifty thousand activities costs the screening as little as one who
    approved fifty (the bound that keeps the verify path within its target,
    ``bench/RESULTS.md``). With several thresholds (enforced and shadow)
    the lowest decides. A threshold of 0 % is met by any count: one is enough.
    """
    pair = pair_approvals + 1
    positive = [pct for pct in verifier_pcts if pct > 0]
    if not positive:
        return 1
    return max(1, (pair * 100) // min(positive))


def verifier_concentration(context: ScreeningContext, thresholds: Thresholds) -> RuleResult:
    """One verifier approves this volunteer at an unusual share: at least
    ``concentration_min`` approvals (this one included), on activities of
    at least ``concentration_min_days`` days, that make
    ``concentration_share_pct`` of the volunteer's approvals *and*
    ``concentration_verifier_pct`` of the verifier's (a grid worker
    approving the whole grid is normal); or the two approve each other,
    at least ``mutual_min`` times each way."""
    rule = "verifier_concentration"
    facts = context.verifications
    if facts is None or context.verifier_id is None:
        return _no_hit(rule)
    pair = facts.pair_approvals + 1
    pair_days = facts.pair_days
    member_share = pair * 100 / (facts.member_approvals + 1)
    verifier_share = pair * 100 / (facts.verifier_approvals + 1)
    # Counted only up to what decides the rule, the verifier's share is then
    # an upper bound, and the evidence says so.
    share_key = "verifier_share_pct_at_most" if facts.verifier_approvals_capped else "verifier_share_pct"
    evidence: dict[str, object] = {
        "verifier_id": context.verifier_id,
        "pair_approvals": pair,
        "pair_days": pair_days,
        "member_share_pct": round(member_share, 1),
        share_key: round(verifier_share, 1),
        "reverse_approvals": facts.reverse_approvals,
        "days": thresholds.concentration_days,
    }
    concentrated = (
        pair >= thresholds.concentration_min
        and pair_days >= thresholds.concentration_min_days
        and member_share >= thresholds.concentration_share_pct
        and verifier_share >= thresholds.concentration_verifier_pct
    )
    mutual = pair >= thresholds.mutual_min and facts.reverse_approvals >= thresholds.mutual_min
    if not (concentrated or mutual):
        return _no_hit(rule, evidence)
    days = thresholds.concentration_days
    if mutual:
        reason_zh = f"核实人与志愿者 {days} 天内互相核实（{pair} 次 / {facts.reverse_approvals} 次）"
        reason_en = (
            f"verifier and volunteer approved each other within {days} days ({pair} / {facts.reverse_approvals})"
        )
    else:
        reason_zh = f"{days} 天内该志愿者 {member_share:.0f}% 的核实出自同一核实人（{pair} 次）"
        reason_en = f"one verifier made {member_share:.0f}% of the volunteer's approvals in {days} days ({pair})"
    return RuleResult(
        rule=rule,
        hit=True,
        score=thresholds.concentration_score,
        reason_zh=reason_zh,
        reason_en=reason_en,
        evidence={**evidence, "mutual": mutual, "concentrated": concentrated},
    )


def _funding_by(awards: Sequence[Funding]) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for funding in awards:
        totals[funding.verifier_id] += funding.amount
    return dict(totals)


def main_funders(funding: Sequence[Funding], thresholds: Thresholds) -> frozenset[int] | None:
    """The ``cashout_funders`` verifiers (or fewer) whose approvals gave the
    wallet ``cashout_funded_pct`` of its award points; None if no so few do."""
    totals = _funding_by(funding)
    whole = sum(totals.values(), Decimal(0))
    if whole <= 0:
        return None
    chosen: list[int] = []
    covered = Decimal(0)
    for verifier, amount in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
        if covered * 100 >= whole * thresholds.cashout_funded_pct or len(chosen) >= thresholds.cashout_funders:
            break
        chosen.append(verifier)
        covered += amount
    return frozenset(chosen) if covered * 100 >= whole * thresholds.cashout_funded_pct else None


def _funded_by(funding: Sequence[Funding], funders: frozenset[int], pct: int) -> bool:
    totals = _funding_by(funding)
    whole = sum(totals.values(), Decimal(0))
    within = sum((amount for verifier, amount in totals.items() if verifier in funders), Decimal(0))
    return whole > 0 and within * 100 >= whole * pct


def _drains(amount: Decimal, balance: Decimal, pct: int) -> bool:
    return balance > 0 and amount * 100 >= balance * pct


def cashing_out(context: ScreeningContext, thresholds: Thresholds) -> RuleResult:
    """积分套现, on a redemption: (ring) within ``cashout_days``, this and
    other wallets, ``cashout_wallets`` at least, each emptying
    ``drain_balance_pct`` of its balance at this shop, all funded by the
    same few verifiers; or (drain) this order empties the wallet right
    after a burst of ``drain_awards`` awards within ``drain_hours``."""
    rule = "cashing_out"
    order = context.order
    if order is None:
        return _no_hit(rule)
    drains = _drains(context.amount, order.balance_before, thresholds.drain_balance_pct)
    if not order.history_loaded:
        if drains:
            raise HistoryNeeded(f"order {context.subject_id} drains the wallet: its history is needed")
        # Neither a drain after a burst nor a ring without draining the wallet.
        return _no_hit(
            rule,
            {
                "shop_id": order.shop_id,
                "amount": str(context.amount),
                "balance_before": str(order.balance_before),
                "history": "not read: the order does not drain the wallet",
            },
        )
    since_burst = context.moment - timedelta(hours=thresholds.drain_hours)
    burst_awards = [award for award in order.recent_awards if since_burst <= award.at <= context.moment]
    drained = drains and len(burst_awards) >= thresholds.drain_awards
    since = context.moment - timedelta(days=thresholds.cashout_days)
    own_funding = [
        Funding(award.verifier_id, award.amount)
        for award in order.recent_awards
        if award.verifier_id is not None and award.at >= since
    ]
    funders = main_funders(own_funding, thresholds) if drains else None
    ring: set[int] = set()
    if funders is not None:
        ring = {
            other.member_id
            for other in order.shop_redemptions
            if other.member_id != context.member_id
            and other.at >= since
            and _drains(other.amount, other.balance_before, thresholds.drain_balance_pct)
            and _funded_by(other.funded_by, funders, thresholds.cashout_funded_pct)
        }
    ringed = funders is not None and len(ring) + 1 >= thresholds.cashout_wallets
    evidence: dict[str, object] = {
        "shop_id": order.shop_id,
        "amount": str(context.amount),
        "balance_before": str(order.balance_before),
        "awards_within_drain_hours": len(burst_awards),
        "funders": sorted(funders) if funders is not None else [],
        "ring_wallets": sorted(ring),
    }
    if not (drained or ringed):
        return _no_hit(rule, evidence)
    if ringed:
        reason_zh = f"{len(ring) + 1} 个钱包在同一商户清空积分，积分多来自相同的 {len(funders or ())} 位核实人"
        reason_en = (
            f"{len(ring) + 1} wallets emptied at one shop, funded mostly by the same {len(funders or ())} verifiers"
        )
    else:
        reason_zh = f"{thresholds.drain_hours} 小时内获得 {len(burst_awards)} 笔奖励后立即兑换几乎全部积分"
        reason_en = (
            f"the whole balance redeemed right after {len(burst_awards)} awards within {thresholds.drain_hours} hours"
        )
    return RuleResult(
        rule=rule,
        hit=True,
        score=thresholds.cashout_score,
        reason_zh=reason_zh,
        reason_en=reason_en,
        evidence={**evidence, "ring": ringed, "drain": drained},
    )


# Which rules judge which subject. Whatever screens a subject calls
# ``decide`` (or ``rules_for``), so a rule registered here runs there.
RULES_BY_SUBJECT: Mapping[Subject, tuple[Rule, ...]] = {
    Subject.ACTIVITY: (
        impossible_travel,
        burst,
        cooling_off,
        near_duplicate_photo,
        thin_patrol,
        duplicate_report,
        verifier_concentration,
    ),
    Subject.ORDER: (cooling_off, cashing_out),
}
# The award rules (kept under their old name).
RULES: tuple[Rule, ...] = RULES_BY_SUBJECT[Subject.ACTIVITY]


def rules_for(subject: Subject) -> tuple[Rule, ...]:
    """Every rule registered for a subject, in order."""
    return RULES_BY_SUBJECT[subject]


def all_rules() -> tuple[Rule, ...]:
    """Every rule of every subject, once each."""
    return tuple(dict.fromkeys(rule for rules in RULES_BY_SUBJECT.values() for rule in rules))


def honoured(context: ScreeningContext) -> ScreeningContext:
    """The context with the allow-listed members' traces taken out: their
    photos, their approvals of this member (the verifier), their
    redemptions at the shop. A family sharing a phone is not a ring."""
    allowed = context.allowed_members
    if not allowed:
        return context
    order = context.order
    if order is not None:
        order = replace(order, shop_redemptions=tuple(r for r in order.shop_redemptions if r.member_id not in allowed))
    return replace(
        context,
        other_photos=tuple(photo for photo in context.other_photos if photo.member_id not in allowed),
        verifications=None if context.verifier_id in allowed else context.verifications,
        order=order,
    )


def snoozed(result: RuleResult) -> RuleResult:
    """A snoozed rule's result: no hit, with what it would have said."""
    return RuleResult(
        rule=result.rule,
        hit=False,
        score=0,
        reason_zh="该规则对此成员已暂停",
        reason_en="this rule is snoozed for the member",
        evidence={"snoozed": True, "would_hit": result.hit, "would_score": result.score},
    )


def evaluate(
    context: ScreeningContext, thresholds: Thresholds, rules: Sequence[Rule] | None = None
) -> tuple[RuleResult, ...]:
    """Every rule's result; the rules registered for the context's subject
    unless ``rules`` names others. Allow-listed members are taken out of the
    context first (``honoured``); a rule snoozed for the member never hits
    (``snoozed``)."""
    chosen = rules_for(context.subject) if rules is None else rules
    judged = honoured(context)
    results = (rule(judged, thresholds) for rule in chosen)
    return tuple(snoozed(result) if result.rule in context.snoozed_rules else result for result in results)


def outcome_for(score: int, thresholds: Thresholds) -> Outcome:
    if score >= thresholds.deny_score:
        return Outcome.DENY
    if score >= thresholds.review_score:
        return Outcome.REVIEW
    return Outcome.ALLOW


def decide(context: ScreeningContext, thresholds: Thresholds, rules: Sequence[Rule] | None = None) -> Verdict:
    """Every rule's result, their summed score and the outcome (the rules
    registered for the context's subject unless ``rules`` names others)."""
    results = evaluate(context, thresholds, rules)
    score = sum(result.score for result in results if result.hit)
    return Verdict(
        outcome=outcome_for(score, thresholds),
        score=score,
        results=results,
        ruleset_version=RULESET_VERSION,
        thresholds=thresholds,
    )
