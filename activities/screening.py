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
- the issuing organisation's thresholds (``fraud.thresholds``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from activities.models import ActivityRecord, Kind
from activities.tables import Activity, ActivityPhoto, PatrolPoint
from community.organisations import issuing_organisation_for
from community.tables import Member
from fraud.decisions import record_decision
from fraud.models import Fix, PhotoPrint, ScreeningContext, Subject, Submission, Verdict
from fraud.rules import decide
from fraud.thresholds import thresholds_for

# Neighbouring activities the travel and burst rules look at: a day either
# side covers an offline phone's queue and any plausible journey.
HISTORY_WINDOW = timedelta(hours=24)
HISTORY_LIMIT = 200
# Photos a new photo is compared with: recent ones, bounded (a faster index,
# e.g. multi-index hashing on the 64 bits, is for when this limit bites).
PHOTO_WINDOW = timedelta(days=30)
PHOTO_LIMIT = 5000


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


async def screen_award(activity: ActivityRecord, *, amount: Decimal, verifier_id: int, now: datetime) -> Screened:
    """Judge the award of ``amount`` for ``activity`` and store the decision."""
    issuer = await issuing_organisation_for(activity.organisation_id)
    issuer_id = issuer.id if issuer is not None else None
    thresholds = await thresholds_for(issuer_id)
    fixes, submissions = await _neighbours(activity)
    own_photos, other_photos = await _photos(activity, now)
    context = ScreeningContext(
        subject=Subject.ACTIVITY,
        subject_id=activity.id,
        member_id=activity.member_id,
        member_joined_at=await _joined_at(activity.member_id),
        amount=amount,
        moment=now,
        verifier_id=verifier_id,
        positions=(*fixes, *await _route(activity)),
        submissions=tuple(submissions),
        photos=tuple(own_photos),
        other_photos=tuple(other_photos),
    )
    verdict = decide(context, thresholds)
    decision_id = await record_decision(
        verdict,
        subject=Subject.ACTIVITY,
        subject_id=activity.id,
        member_id=activity.member_id,
        issuer_id=issuer_id,
        now=now,
    )
    return Screened(verdict=verdict, decision_id=decision_id, issuer_id=issuer_id)
