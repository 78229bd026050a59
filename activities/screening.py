"""Screening an award with the fraud rules, inside the verify step.

Loads only what the rules need, in a few bounded queries on indexed
columns, then asks ``fraud.rules.decide`` (pure) and stores the decision
(``fraud.decisions.record_decision``) in the verify step's transaction:

- the member's joining time (one row by primary key);
- the member's activities that happened or arrived within
  ``HISTORY_WINDOW`` of this one's recorded time (at most ``HISTORY_LIMIT``): their positions and
  the times their phones recorded them, for impossible travel and bursts;
- a patrol's own route points;
- the photos of this activity and, for reports with photos, the
  perceptual hashes of photos uploaded in the last ``PHOTO_WINDOW``
  (at most ``PHOTO_LIMIT``), for near duplicates;
- a patrol's duration with its route (the thin-or-fake-patrol rule);
- for a report, other members' reports of the same kind within the
  duplicate radius (a bounding box on latitude and longitude) and window
  before it, not rejected, at most ``NEARBY_LIMIT`` (the duplicate-report
  rule: a later one is a confirmation);
- who approved the volunteer's activities within the concentration window
  (one grouped query on the member's rows), the verifier's approvals (the
  ``verifier`` index) and the verifier's own activities the volunteer
  approved (the verifier–volunteer concentration rule);
- the issuing organisation's settings (``fraud.shadow``: thresholds, and
  shadow mode, whose verdict is stored beside the enforced one);
- the member's snoozed rules and allow-listed partners (``fraud.exemptions``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from activities.models import ActivityRecord, Kind, Status
from activities.sql import VERIFICATIONS_SQL
from activities.tables import Activity, ActivityPhoto, PatrolPoint
from community.organisations import issuing_organisation_for
from community.tables import Member
from fraud.decisions import record_decision
from fraud.exemptions import exemptions_for
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
from fraud.rules import EARTH_RADIUS_M
from fraud.shadow import judge, settings_for

# Neighbouring activities the travel and burst rules look at: a day either
# side covers an offline phone's queue and any plausible journey.
HISTORY_WINDOW = timedelta(hours=24)
HISTORY_LIMIT = 200
# Photos a new photo is compared with: recent ones, bounded (a faster index,
# e.g. multi-index hashing on the 64 bits, is for when this limit bites).
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


async def _joined_at(member_id: int) -> datetime:
    rows = await Member.select(Member.created_at).where(Member.id == member_id).run()
    return rows[0]["created_at"] if rows else datetime.min.replace(tzinfo=UTC)


async def _neighbours(activity: ActivityRecord) -> tuple[list[Fix], list[Submission]]:
    around = _when(activity)
    rows = await (
        Activity.select(
            Activity.id,
            Activity.latitude,
            Activity.longitude,
            Activity.accuracy_m,
            Activity.started_at,
            Activity.submitted_at,
            Activity.client_recorded_at,
        )
        .where(
            (Activity.member == activity.member_id)
            & (
                ((Activity.started_at >= around - HISTORY_WINDOW) & (Activity.started_at <= around + HISTORY_WINDOW))
                | (
                    (Activity.submitted_at >= around - HISTORY_WINDOW)
                    & (Activity.submitted_at <= around + HISTORY_WINDOW)
                )
            )
        )
        .order_by(Activity.started_at)
        .limit(HISTORY_LIMIT)
        .run()
    )
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


async def _route(activity: ActivityRecord) -> list[Fix]:
    if activity.kind is not Kind.PATROL:
        return []
    rows = await PatrolPoint.select().where(PatrolPoint.activity == activity.id).order_by(PatrolPoint.at).run()
    ref = f"activity:{activity.id}"
    return [
        Fix(row["latitude"], row["longitude"], row["accuracy_m"], row["at"], f"{ref}:{row['kind']}", True)
        for row in rows
    ]


def _patrol(activity: ActivityRecord, route: list[Fix]) -> PatrolFacts | None:
    if activity.kind is not Kind.PATROL:
        return None
    return PatrolFacts(minutes=activity.minutes or 0, route=tuple(route))


async def _report(activity: ActivityRecord, thresholds: Thresholds) -> ReportFacts | None:
    """Other members' reports of the same kind around this one, not rejected."""
    position = activity.position
    if activity.kind is not Kind.REPORT or position is None:
        return None
    kind = activity.report_kind.value if activity.report_kind is not None else ""
    latitude, longitude = position.latitude, position.longitude
    radius = float(thresholds.duplicate_radius_m)
    dlat = math.degrees(radius / EARTH_RADIUS_M)
    dlon = dlat / max(0.01, math.cos(math.radians(latitude)))
    at = activity.started_at
    rows = await (
        Activity.select(Activity.id, Activity.member, Activity.latitude, Activity.longitude, Activity.started_at)
        .where(
            (Activity.kind == Kind.REPORT.value)
            & (Activity.report_kind == kind)
            & (Activity.started_at >= at - timedelta(minutes=thresholds.duplicate_minutes))
            & (Activity.started_at <= at)
            & (Activity.member != activity.member_id)
            & (Activity.status != Status.REJECTED.value)
            & (Activity.latitude >= latitude - dlat)
            & (Activity.latitude <= latitude + dlat)
            & (Activity.longitude >= longitude - dlon)
            & (Activity.longitude <= longitude + dlon)
        )
        .order_by(Activity.started_at)
        .limit(NEARBY_LIMIT)
        .run()
    )
    nearby = tuple(
        PriorReport(int(row["id"]), int(row["member"]), row["latitude"], row["longitude"], row["started_at"])
        for row in rows
    )
    return ReportFacts(kind, latitude, longitude, at, nearby)


async def _verifications(
    activity: ActivityRecord, verifier_id: int, thresholds: Thresholds, now: datetime
) -> VerifierFacts:
    """Approvals within the concentration window, before this one (one
    statement)."""
    since = now - timedelta(days=thresholds.concentration_days)
    member = activity.member_id
    rows = await Activity.raw(
        VERIFICATIONS_SQL,
        member,
        since,
        now,
        member,
        verifier_id,
        since,
        now,
        verifier_id,
        since,
        now,
        verifier_id,
        member,
        since,
        now,
        member,
        verifier_id,
        since,
        now,
        activity.award_day,
    ).run()
    row = rows[0]
    return VerifierFacts(
        pair_approvals=int(row["pair_approvals"]),
        member_approvals=int(row["member_approvals"]),
        verifier_approvals=int(row["verifier_approvals"]),
        reverse_approvals=int(row["reverse_approvals"]),
        pair_days=int(row["other_days"]) + 1,
    )


async def _photos(activity: ActivityRecord, now: datetime) -> tuple[list[PhotoPrint], list[PhotoPrint]]:
    if activity.kind is not Kind.REPORT:
        return [], []
    own_rows = await (
        ActivityPhoto.select(ActivityPhoto.photo.sha256, ActivityPhoto.photo.phash, ActivityPhoto.photo.uploaded_by)
        .where(ActivityPhoto.activity == activity.id)
        .run()
    )
    own = [
        PhotoPrint(row["photo.sha256"], row["photo.phash"], activity.id, int(row["photo.uploaded_by"]))
        for row in own_rows
        if row["photo.phash"]
    ]
    if not own:
        return [], []
    other_rows = await (
        ActivityPhoto.select(
            ActivityPhoto.activity,
            ActivityPhoto.photo.sha256,
            ActivityPhoto.photo.phash,
            ActivityPhoto.photo.uploaded_by,
        )
        .where(
            (ActivityPhoto.activity != activity.id)
            & (ActivityPhoto.photo.phash != "")
            & (ActivityPhoto.photo.uploaded_at >= now - PHOTO_WINDOW)
        )
        .limit(PHOTO_LIMIT)
        .run()
    )
    others = [
        PhotoPrint(row["photo.sha256"], row["photo.phash"], int(row["activity"]), int(row["photo.uploaded_by"]))
        for row in other_rows
    ]
    return own, others


async def award_context(
    activity: ActivityRecord, *, amount: Decimal, verifier_id: int | None, now: datetime, thresholds: Thresholds
) -> ScreeningContext:
    """What the rules look at for the award of ``amount`` for ``activity``
    verified at ``now`` (the backtest replays past awards through it)."""
    fixes, submissions = await _neighbours(activity)
    own_photos, other_photos = await _photos(activity, now)
    route = await _route(activity)
    exempt = await exemptions_for(activity.member_id, now)
    verifications = await _verifications(activity, verifier_id, thresholds, now) if verifier_id is not None else None
    return ScreeningContext(
        subject=Subject.ACTIVITY,
        subject_id=activity.id,
        member_id=activity.member_id,
        member_joined_at=await _joined_at(activity.member_id),
        amount=amount,
        moment=now,
        verifier_id=verifier_id,
        positions=(*fixes, *route),
        submissions=tuple(submissions),
        photos=tuple(own_photos),
        other_photos=tuple(other_photos),
        patrol=_patrol(activity, route),
        report=await _report(activity, thresholds),
        verifications=verifications,
        snoozed_rules=exempt.snoozed_rules,
        allowed_members=exempt.allowed_members,
    )


async def screen_award(activity: ActivityRecord, *, amount: Decimal, verifier_id: int, now: datetime) -> Screened:
    """Judge the award of ``amount`` for ``activity`` and store the decision
    (and, in shadow mode, the shadow decision beside it)."""
    issuer = await issuing_organisation_for(activity.organisation_id)
    issuer_id = issuer.id if issuer is not None else None
    settings = await settings_for(issuer_id)
    context = await award_context(
        activity, amount=amount, verifier_id=verifier_id, now=now, thresholds=settings.thresholds
    )
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
