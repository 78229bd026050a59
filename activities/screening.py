"""Screening an award with the fraud rules, inside the verify step.

Loads only what the rules need, then asks ``fraud.rules.decide`` (pure)
and stores the decision (``fraud.decisions.record_decision``) in the verify
step's transaction. The loads are one fixed-SQL
script (``activities.sql``; on SQLite one call on the writer), each
statement bounded and on an index:

- the member's joining time, the nearest issuing organisation and its
  stored settings (``fraud.shadow``: thresholds, and shadow mode, whose
  verdict is stored beside the enforced one), in one row;
- the member's activities that happened or arrived within
  ``HISTORY_WINDOW`` of this one's recorded time (at most ``HISTORY_LIMIT``): their positions and
  the times their phones recorded them, for impossible travel and bursts;
- a patrol's own route points (the thin-or-fake-patrol rule);
- who approved the volunteer's activities within the concentration window,
  and the verifier's own activities the volunteer approved (the member
  index), then the verifier's approvals counted only as far as decides the
  verifier–volunteer concentration rule (the verifier index;
  ``fraud.rules.verifier_approvals_worth_counting``);
- the member's snoozed rules and allow-listed partners (``fraud.exemptions``).

For a report, the same script also reads its photos, then the photos
uploaded in the last ``PHOTO_WINDOW`` stored under a band key near theirs
(``fraud.photo_bands``, from one covering index: every photo within the
near-duplicate distance and a few chance matches, at most ``PHOTO_LIMIT``),
then the activities of those really within the distance (usually none),
and other members' reports of the same kind
within the duplicate radius (a bounding box on latitude and longitude) and
window before it, not rejected, at most ``NEARBY_LIMIT`` (the
duplicate-report rule: a later one is a confirmation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from activities import sql
from activities.models import ActivityRecord, Kind
from core.fixed_sql import Dialect, Row, Script, ScriptFactory, Step, read
from fraud import sql as fraud_sql
from fraud.decisions import record_decision
from fraud.exemptions import Exemptions, exemptions_from_rows
from fraud.models import (
    Fix,
    PatrolFacts,
    PhotoPrint,
    PriorReport,
    ReportFacts,
    ScreeningContext,
    Subject,
    Submission,
    Thresholds,
    Verdict,
    VerifierFacts,
)
from fraud.photo_bands import HASH_BITS, MAX_FINDABLE_DISTANCE, lookup_keys
from fraud.rules import EARTH_RADIUS_M, verifier_approvals_worth_counting
from fraud.shadow import RuleSettings, judge, stored_settings

# Neighbouring activities the travel and burst rules look at: a day either
# side covers an offline phone's queue and any plausible journey.
HISTORY_WINDOW = timedelta(hours=24)
HISTORY_LIMIT = 200
# Photos a new photo is compared with: those uploaded within the window that
# share a band of its perceptual hash (``fraud.photo_bands``): every one
# within the rule's distance, and a bound on chance matches.
PHOTO_WINDOW = timedelta(days=30)
PHOTO_LIMIT = 5000
# Reports of the same kind near a new one: a confirmation needs only the first.
NEARBY_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Screened:
    verdict: Verdict
    decision_id: int
    issuer_id: int | None


def _when(activity: ActivityRecord) -> datetime:
    return activity.client_recorded_at or activity.submitted_at or activity.started_at


@dataclass(frozen=True, slots=True)
class _Loaded:
    """What the loading script read: everything but a report's neighbours
    and photos."""

    settings: RuleSettings
    joined_at: datetime
    fixes: list[Fix]
    submissions: list[Submission]
    route: list[Fix]
    verifications: VerifierFacts | None
    exemptions: Exemptions
    own_photos: list[PhotoPrint]
    other_photos: list[PhotoPrint]
    report: ReportFacts | None


def _neighbourhood(activity: ActivityRecord, rows: list[Row]) -> tuple[list[Fix], list[Submission]]:
    """Positions and submissions of the member's activities around this one (pure)."""
    fixes: list[Fix] = []
    submissions: list[Submission] = []
    for row in rows:
        own = row["id"] == activity.id
        ref = f"activity:{row['id']}"
        if row["latitude"] is not None and row["longitude"] is not None:
            fixes.append(Fix(row["latitude"], row["longitude"], row["accuracy_m"], row["started_at"], ref, own))
        arrived = row["submitted_at"] or row["started_at"]
        # Without the phone's recording time, the time it gave for the
        # activity itself (a report's occurred_at, a service's start) is the
        # phone's clock too; a patrol's start is the server's arrival time.
        recorded = row["client_recorded_at"] or row["started_at"]
        submissions.append(Submission(ref=ref, recorded_at=recorded, arrived_at=arrived, own=own))
    return fixes, submissions


def _route(activity: ActivityRecord, rows: list[Row]) -> list[Fix]:
    ref = f"activity:{activity.id}"
    return [
        Fix(row["latitude"], row["longitude"], row["accuracy_m"], row["at"], f"{ref}:{row['kind']}", True)
        for row in rows
    ]


def _loading(
    activity: ActivityRecord, *, verifier_id: int | None, now: datetime, settings: RuleSettings | None
) -> ScriptFactory[_Loaded]:
    """The screening context's loads as one fixed-SQL script: a handful of
    statements on primary keys and the member, verifier and path indexes,
    each bounded, sent inside the verify step's transaction (on SQLite as
    one call on the writer). ``settings`` given (the backtest) are used
    instead of the issuer's stored ones."""
    member = activity.member_id

    def script(_: Dialect) -> Script[_Loaded]:
        head = (yield sql.SCREENING_HEAD(member, activity.organisation_id))[0]
        chosen = settings or stored_settings(head["issuer_id"], head["overrides"], head["shadow"])
        thresholds = chosen.thresholds
        around = _when(activity)
        fixes, submissions = _neighbourhood(
            activity, (yield sql.NEIGHBOURS(member, around - HISTORY_WINDOW, around + HISTORY_WINDOW, HISTORY_LIMIT))
        )
        route = _route(activity, (yield sql.ROUTE(activity.id))) if activity.kind is Kind.PATROL else []
        verifications = None
        if verifier_id is not None:
            since = now - timedelta(days=thresholds.concentration_days)
            pair = (yield sql.PAIR_APPROVALS(member, verifier_id, since, now, activity.award_day))[0]
            pcts = [thresholds.concentration_verifier_pct]
            if chosen.shadow is not None:
                pcts.append(chosen.shadow.thresholds.concentration_verifier_pct)
            enough = verifier_approvals_worth_counting(int(pair["pair_approvals"]), pcts)
            counted = (yield sql.VERIFIER_APPROVALS_UP_TO(verifier_id, since, now, enough))[0]
            verifier_approvals = int(counted["approvals"])
            verifications = VerifierFacts(
                pair_approvals=int(pair["pair_approvals"]),
                member_approvals=int(pair["member_approvals"]),
                verifier_approvals=verifier_approvals,
                reverse_approvals=int(pair["reverse_approvals"]),
                pair_days=int(pair["other_days"]) + 1,
                verifier_approvals_capped=verifier_approvals >= enough,
            )
        exemptions = exemptions_from_rows(member, (yield fraud_sql.EXEMPTIONS_OF_MEMBER(member, now)))
        own_photos: list[PhotoPrint] = []
        other_photos: list[PhotoPrint] = []
        if activity.kind is Kind.REPORT:
            own_photos = [
                PhotoPrint(row["sha256"], row["phash"], activity.id, int(row["uploaded_by"]))
                for row in (yield sql.OWN_PHOTOS(activity.id))
                if row["phash"]
            ]
            keys = sorted({key for photo in own_photos for key in lookup_keys(photo.phash)})
            if keys:
                candidates = yield sql.PHOTO_BAND_MATCHES(keys, now - PHOTO_WINDOW, PHOTO_LIMIT)
                near = within_findable_distance(own_photos, candidates)
                if near:
                    other_photos = [
                        PhotoPrint(row["sha256"], row["phash"], int(row["activity"]), int(row["uploaded_by"]))
                        for row in (yield sql.PHOTOS_OF_OTHER_ACTIVITIES(near, activity.id))
                    ]
        nearby = _nearby_query(activity, thresholds)
        report = _report(activity, (yield nearby)) if nearby is not None else None
        joined_at = head["joined_at"] or datetime.min.replace(tzinfo=UTC)
        return _Loaded(
            chosen, joined_at, fixes, submissions, route, verifications, exemptions, own_photos, other_photos, report
        )

    return script


def within_findable_distance(own: Sequence[PhotoPrint], candidates: Sequence[Row]) -> list[int]:
    """The candidate photos (``sql.PHOTO_BAND_MATCHES`` rows) within the
    band index's distance of one of ``own`` (pure): the chance matches are
    dropped before any of their details are read. The rule then judges with
    the organisation's own (never larger) distance."""
    hashes = [int(photo.phash, 16) for photo in own]
    return sorted(
        {
            int(row["photo"])
            for row in candidates
            if row["phash"]
            and min(((int(row["phash"], 16) ^ mine).bit_count() for mine in hashes), default=HASH_BITS)
            <= MAX_FINDABLE_DISTANCE
        }
    )


def _patrol(activity: ActivityRecord, route: list[Fix]) -> PatrolFacts | None:
    if activity.kind is not Kind.PATROL:
        return None
    return PatrolFacts(minutes=activity.minutes or 0, route=tuple(route))


def _nearby_query(activity: ActivityRecord, thresholds: Thresholds) -> Step | None:
    """The statement for other members' reports of the same kind around this
    one, within the duplicate radius (a bounding box) and window; None for
    anything but a placed report."""
    position = activity.position
    if activity.kind is not Kind.REPORT or position is None:
        return None
    kind = activity.report_kind.value if activity.report_kind is not None else ""
    radius = float(thresholds.duplicate_radius_m)
    dlat = math.degrees(radius / EARTH_RADIUS_M)
    dlon = dlat / max(0.01, math.cos(math.radians(position.latitude)))
    at = activity.started_at
    return sql.NEARBY_REPORTS(
        kind,
        at - timedelta(minutes=thresholds.duplicate_minutes),
        at,
        activity.member_id,
        position.latitude - dlat,
        position.latitude + dlat,
        position.longitude - dlon,
        position.longitude + dlon,
        NEARBY_LIMIT,
    )


def _report(activity: ActivityRecord, rows: list[Row]) -> ReportFacts:
    """The report's facts with the reports found around it (pure)."""
    position = activity.position
    assert position is not None  # only placed reports are looked around
    kind = activity.report_kind.value if activity.report_kind is not None else ""
    nearby = tuple(
        PriorReport(int(row["id"]), int(row["member"]), row["latitude"], row["longitude"], row["started_at"])
        for row in rows
    )
    return ReportFacts(kind, position.latitude, position.longitude, activity.started_at, nearby)


def _context(
    activity: ActivityRecord,
    loaded: _Loaded,
    *,
    amount: Decimal,
    verifier_id: int | None,
    now: datetime,
) -> ScreeningContext:
    return ScreeningContext(
        subject=Subject.ACTIVITY,
        subject_id=activity.id,
        member_id=activity.member_id,
        member_joined_at=loaded.joined_at,
        amount=amount,
        moment=now,
        verifier_id=verifier_id,
        positions=(*loaded.fixes, *loaded.route),
        submissions=tuple(loaded.submissions),
        photos=tuple(loaded.own_photos),
        other_photos=tuple(loaded.other_photos),
        patrol=_patrol(activity, loaded.route),
        report=loaded.report,
        verifications=loaded.verifications,
        snoozed_rules=loaded.exemptions.snoozed_rules,
        allowed_members=loaded.exemptions.allowed_members,
    )


async def _screening(
    activity: ActivityRecord,
    *,
    amount: Decimal,
    verifier_id: int | None,
    now: datetime,
    settings: RuleSettings | None,
) -> tuple[RuleSettings, ScreeningContext]:
    loaded = await read(_loading(activity, verifier_id=verifier_id, now=now, settings=settings))
    context = _context(activity, loaded, amount=amount, verifier_id=verifier_id, now=now)
    return loaded.settings, context


async def award_context(
    activity: ActivityRecord, *, amount: Decimal, verifier_id: int | None, now: datetime, thresholds: Thresholds
) -> ScreeningContext:
    """What the rules look at for the award of ``amount`` for ``activity``
    verified at ``now`` (the backtest replays past awards through it, with
    the thresholds it tries)."""
    given = RuleSettings(None, {}, thresholds, None)
    _, context = await _screening(activity, amount=amount, verifier_id=verifier_id, now=now, settings=given)
    return context


async def screen_award(activity: ActivityRecord, *, amount: Decimal, verifier_id: int, now: datetime) -> Screened:
    """Judge the award of ``amount`` for ``activity`` and store the decision
    (and, in shadow mode, the shadow decision beside it)."""
    settings, context = await _screening(activity, amount=amount, verifier_id=verifier_id, now=now, settings=None)
    issuer_id = settings.organisation_id
    verdict, shadow = judge(context, settings)
    decision_id = await record_decision(
        verdict,
        subject=Subject.ACTIVITY,
        subject_id=activity.id,
        member_id=activity.member_id,
        issuer_id=issuer_id,
        now=now,
    )
    if shadow is not None:
        await record_decision(
            shadow,
            subject=Subject.ACTIVITY,
            subject_id=activity.id,
            member_id=activity.member_id,
            issuer_id=issuer_id,
            now=now,
            shadow=True,
        )
    return Screened(verdict=verdict, decision_id=decision_id, issuer_id=issuer_id)
