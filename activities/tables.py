"""Activity tables: what volunteers did, and its verification loop.

Service logs, patrols and reports share one table (one status machine, one
award path, one list with filters); the kind-specific columns are nullable.
Points amounts are BIGINT hundredths as in the ledger; the points themselves
live in the ledger entries referenced here.
"""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from campaigns.tables import Campaign
from community.tables import Member, Organisation, Team


class PatrolTask(Table, tablename="activities_patrol_task"):
    """A patrol an organiser asks for (route, area); free patrols have none.

    A grab-order task (抢单) also has a time window and a number of slots
    that volunteers claim (``TaskClaim``); ``slots_taken`` counts the live
    claims and only ever moves by a conditional UPDATE, so N slots give
    exactly N claims under any concurrency (``patrol_tasks.claim_task``).
    Without ``slots`` a task is open to anyone, as before."""

    id = Serial(primary_key=True)
    organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    title_zh = Varchar(length=200)
    title_en = Varchar(length=200, default="")
    description = Text(default="")
    active = Boolean(default=True)
    created_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    # Where: an area or a route, in words the volunteers know.
    area = Varchar(length=300, default="")
    starts_at = Timestamptz(null=True, default=None)
    ends_at = Timestamptz(null=True, default=None)
    slots = Integer(null=True, default=None)
    slots_taken = Integer(default=0)
    # Points multiplier in hundredths (100 = x1.00), applied to the patrol award.
    multiplier_pct = Integer(default=100)


class Activity(Table, tablename="activities_activity"):
    id = Serial(primary_key=True)
    kind = Varchar(length=10, index=True)
    status = Varchar(length=12, index=True)
    member = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    # Where it happened (a grid, building or lane); verifiers hold a role here or above.
    organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    campaign = ForeignKey(Campaign, null=True, default=None, index=True, on_delete=OnDelete.restrict)
    team = ForeignKey(Team, null=True, default=None, on_delete=OnDelete.restrict)
    patrol_task = ForeignKey(PatrolTask, null=True, default=None, on_delete=OnDelete.restrict)
    report_kind = Varchar(length=10, default="")
    title = Varchar(length=200)
    description = Text(default="")
    started_at = Timestamptz(index=True)
    ended_at = Timestamptz(null=True, default=None)
    minutes = Integer(null=True, default=None)
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
    accuracy_m = DoublePrecision(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    # When the phone recorded the submission (its own clock; the burst rule
    # counts by it, so a day's offline queue uploaded at once is no burst).
    client_recorded_at = Timestamptz(null=True, default=None)
    # The phone's own id for the submission: a retried upload is one activity.
    client_ref = Varchar(length=100, null=True, default=None)
    # When the server received the submission (a patrol: its check-in), next
    # to the phone's client_recorded_at: an offline phone sends hours later.
    received_at = Timestamptz(null=True, default=None)
    # China-time day and ISO week of started_at: the periods caps count in.
    award_day = Varchar(length=10, default="")
    award_week = Varchar(length=8, default="")
    # Indexed: the verifier–volunteer concentration rule counts a verifier's approvals.
    verifier = ForeignKey(Member, null=True, default=None, index=True, on_delete=OnDelete.restrict)
    verified_at = Timestamptz(null=True, default=None)
    rejected_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    rejected_at = Timestamptz(null=True, default=None)
    rejection_reason = Text(default="")
    points_computed_minor = BigInt(null=True, default=None)
    points_awarded_minor = BigInt(default=0)
    bonus_minor = BigInt(default=0)
    capped = Boolean(default=False)
    award_entry_id = BigInt(null=True, default=None)
    bonus_entry_id = BigInt(null=True, default=None)
    award_reversal_entry_id = BigInt(null=True, default=None)
    bonus_reversal_entry_id = BigInt(null=True, default=None)
    # Reports: handling and the reporter's evaluation (闭环).
    handler = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    assigned_at = Timestamptz(null=True, default=None)
    complex = Boolean(default=False)
    # Indexed: grid-worker ratings read what was handled in a period.
    handled_at = Timestamptz(null=True, default=None, index=True)
    # Handled after the finish deadline (or once escalated for missing it),
    # decided when handling: the deadline is cleared then. None: not handled,
    # or handled before this column existed (grid-worker ratings skip it).
    handled_late = Boolean(null=True, default=None)
    useful = Boolean(null=True, default=None)
    feedback = Text(default="")
    rating = Integer(null=True, default=None)
    rating_comment = Text(default="")
    rated_at = Timestamptz(null=True, default=None)
    # Deadlines: the current stage's due time, who answers for it now.
    due_at = Timestamptz(null=True, default=None, index=True)
    responsible_organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    overdue = Boolean(default=False, index=True)
    escalations = Integer(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())


class TaskClaim(Table, tablename="activities_task_claim"):
    """A volunteer's claim of one slot of a grab-order task. At most one live
    (claimed or checked-in) claim per member and task: a partial unique index
    (migration) backs the service's check."""

    id = Serial(primary_key=True)
    task = ForeignKey(PatrolTask, null=False, index=True, on_delete=OnDelete.restrict)
    member = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    # Indexed: the no-show job looks for claims still unused.
    status = Varchar(length=12, index=True)
    claimed_at = Timestamptz(default=TimestamptzNow())
    resolved_at = Timestamptz(null=True, default=None)
    activity = ForeignKey(Activity, null=True, default=None, on_delete=OnDelete.restrict)


class PatrolPoint(Table, tablename="activities_patrol_point"):
    """Check-in, route and check-out positions of a patrol."""

    id = Serial(primary_key=True)
    activity = ForeignKey(Activity, null=False, index=True, on_delete=OnDelete.restrict)
    kind = Varchar(length=10)
    latitude = DoublePrecision()
    longitude = DoublePrecision()
    accuracy_m = DoublePrecision(null=True, default=None)
    # When it happened by the phone's clock (check-in and check-out: as
    # ``submission_rules.phone_time`` believes it), and when it arrived.
    at = Timestamptz()
    received_at = Timestamptz(null=True, default=None)


class Photo(Table, tablename="activities_photo"):
    """An uploaded photo, stored on disk under its SHA-256."""

    id = Serial(primary_key=True)
    sha256 = Varchar(length=64, unique=True, index=True)
    content_type = Varchar(length=40)
    size_bytes = Integer()
    # 64-bit perceptual hash (16 hex digits) for the near-duplicate photo rule; "" if undecodable.
    phash = Varchar(length=16, default="", index=True)
    uploaded_by = ForeignKey(Member, null=False, on_delete=OnDelete.restrict)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class PhotoBand(Table, tablename="activities_photo_band"):
    """One band of a photo's perceptual hash as a key (``fraud.photo_bands``):
    the index that finds a new photo's near duplicates among all photos. The
    hash and upload time are copied here so that a lookup reads this table's
    covering index alone (``activities_photo_band_lookup``)."""

    id = Serial(primary_key=True)
    photo = ForeignKey(Photo, null=False, index=True, on_delete=OnDelete.cascade)
    key = Integer()
    phash = Varchar(length=16)
    uploaded_at = Timestamptz()


class ActivityPhoto(Table, tablename="activities_activity_photo"):
    id = Serial(primary_key=True)
    activity = ForeignKey(Activity, null=False, index=True, on_delete=OnDelete.restrict)
    photo = ForeignKey(Photo, null=False, index=True, on_delete=OnDelete.restrict)


class Escalation(Table, tablename="activities_escalation"):
    """An overdue item moved one level up the organisation tree."""

    id = Serial(primary_key=True)
    activity = ForeignKey(Activity, null=False, index=True, on_delete=OnDelete.restrict)
    stage = Varchar(length=10)
    from_organisation = ForeignKey(Organisation, null=False, on_delete=OnDelete.restrict)
    to_organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    due_at = Timestamptz()
    escalated_at = Timestamptz(default=TimestamptzNow())
