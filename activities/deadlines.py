"""Response deadlines (小红哨: accept in 1 working day, finish in 3, complex
cases in 5) and the escalation of items that miss them.

An activity waiting on someone is in a *stage*:

- ``accept``: submitted, waiting to be verified (every kind);
- ``finish``: a verified or assigned report, waiting to be handled.

Other statuses (a patrol still under way, a handled report waiting for the
reporter's rating, closed, rejected) have no deadline. The activity code
that moves an item into a stage sets ``due_at`` with :func:`accept_due` or
:func:`finish_due`, clears ``overdue`` and sets ``responsible_organisation``
(the activity's own organisation to begin with).

:func:`escalate_overdue` (a background job and ``fengling activities
escalate``) finds items past ``due_at`` in an open stage and moves each one
level up the organisation tree: an Escalation row, ``overdue`` set, the
parent organisation now responsible, and a fresh deadline of the same stage
length counted from the escalation. An item nobody answers keeps climbing
one level per missed deadline, up to the root, where it stays (and is still
recorded each time it misses again).

Days are working days of :mod:`activities.calendar`; lengths and the
holiday lists come from settings (``FENGLING_*_WORKING_DAYS``,
``FENGLING_HOLIDAYS``, ``FENGLING_MAKEUP_WORKDAYS``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from activities.calendar import WorkCalendar, add_working_days
from activities.errors import ActivityError
from activities.policy import check_deadline_watcher
from activities.records import Kind, Status
from activities.tables import Activity, Escalation
from community.access import Principal
from community.organisations import subtree_ids
from community.tables import Organisation
from core.clock import utc_now
from core.database import in_write_transaction, is_sqlite
from fengling_settings import get_settings

ACCEPT = "accept"
FINISH = "finish"
STAGES = (ACCEPT, FINISH)

# Statuses of the activity status machine (activities/records.py) in which
# a deadline runs.
ACCEPT_STATUSES = (Status.SUBMITTED.value,)
FINISH_STATUSES = (Status.VERIFIED.value, Status.ASSIGNED.value)
KINDS = tuple(kind.value for kind in Kind)

# One escalation run works through the backlog in batches of this many ids,
# so a long outage of the job does not load every overdue row at once.
DEFAULT_BATCH_SIZE = 200
MAX_BATCH_SIZE = 1000
# A list page; 100 bounds the work of one request.
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Activity ids are SERIAL (int4); a forged cursor beyond that must not reach the driver.
MAX_ACTIVITY_ID = 2**31 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The last microsecond a Python datetime can hold, as microseconds since 1970.
_MAX_MICROS = (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


class InvalidOverdueQuery(ActivityError):
    """A list request this module refuses (bad cursor, limit or filter);
    nothing was read. ``field`` names the offending parameter."""

    code = "invalid_overdue_query"


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """Stage lengths in working days and the calendar they count on."""

    accept_days: int = 1
    finish_days: int = 3
    complex_days: int = 5
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    def days_for(self, stage: str, *, complex: bool) -> int:
        if stage == ACCEPT:
            return self.accept_days
        if stage == FINISH:
            return self.complex_days if complex else self.finish_days
        raise ValueError(f"unknown stage {stage!r}")


def deadline_policy() -> DeadlinePolicy:
    """The policy the settings describe (read once per process)."""
    settings = get_settings()
    return DeadlinePolicy(
        accept_days=settings.accept_working_days,
        finish_days=settings.finish_working_days,
        complex_days=settings.complex_working_days,
        calendar=WorkCalendar(holidays=settings.holidays, makeup_workdays=settings.makeup_workdays),
    )


def stage_of(kind: str, status: str) -> str | None:
    """``"accept"``, ``"finish"`` or None (no deadline runs in this status)."""
    if status in ACCEPT_STATUSES:
        return ACCEPT
    if kind == Kind.REPORT and status in FINISH_STATUSES:
        return FINISH
    return None


def stage_due(stage: str, start: datetime, *, complex: bool = False, policy: DeadlinePolicy | None = None) -> datetime:
    """The deadline of ``stage`` entered (or re-started) at ``start``."""
    chosen = policy or deadline_policy()
    return add_working_days(start, chosen.days_for(stage, complex=complex), chosen.calendar)


def accept_due(submitted_at: datetime, *, policy: DeadlinePolicy | None = None) -> datetime:
    """When a submission must be accepted (verified or rejected) by:
    ``FENGLING_ACCEPT_WORKING_DAYS`` working days after ``submitted_at``."""
    return stage_due(ACCEPT, submitted_at, policy=policy)


def finish_due(accepted_at: datetime, *, complex: bool, policy: DeadlinePolicy | None = None) -> datetime:
    """When an accepted report must be handled by: ``FENGLING_FINISH_WORKING_DAYS``
    working days after ``accepted_at``, or ``FENGLING_COMPLEX_WORKING_DAYS``
    for a complex one."""
    return stage_due(FINISH, accepted_at, complex=complex, policy=policy)


def _open_stage(stage: str | None = None) -> Any:
    """WHERE clause: the activity is in ``stage`` (either stage if None)."""
    accept = Activity.status.is_in(list(ACCEPT_STATUSES))
    finish = (Activity.kind == Kind.REPORT.value) & Activity.status.is_in(list(FINISH_STATUSES))
    if stage == ACCEPT:
        return accept
    if stage == FINISH:
        return finish
    return accept | finish


async def _escalate_one(activity_id: int, moment: datetime, policy: DeadlinePolicy) -> bool:
    """Escalate one activity if it is still past due at ``moment``.

    The row is locked (PostgreSQL) or the database write-locked (SQLite)
    before it is re-read, so of two runs racing for one item the second sees
    the first one's fresh deadline and does nothing.
    """

    async def work() -> bool:
        query = Activity.select(
            Activity.id,
            Activity.kind,
            Activity.status,
            Activity.complex,
            Activity.due_at,
            Activity.responsible_organisation,
        ).where(Activity.id == activity_id)
        if not is_sqlite():
            query = query.lock_rows()
        rows = await query.run()
        if not rows:
            return False
        row = rows[0]
        stage = stage_of(row["kind"], row["status"])
        if stage is None or row["due_at"] is None or row["due_at"] > moment:
            return False
        from_organisation = int(row["responsible_organisation"])
        parents = await Organisation.select(Organisation.parent).where(Organisation.id == from_organisation).run()
        parent = parents[0]["parent"] if parents else None
        # The root has no one above it: the item stays there, still recorded.
        to_organisation = int(parent) if parent is not None else from_organisation
        new_due = stage_due(stage, moment, complex=bool(row["complex"]), policy=policy)
        await Escalation.insert(
            Escalation(
                activity=activity_id,
                stage=stage,
                from_organisation=from_organisation,
                to_organisation=to_organisation,
                due_at=row["due_at"],
                escalated_at=moment,
            )
        ).run()
        await (
            Activity.update(
                {
                    Activity.overdue: True,
                    Activity.responsible_organisation: to_organisation,
                    Activity.escalations: Activity.escalations + 1,
                    Activity.due_at: new_due,
                    Activity.updated_at: moment,
                }
            )
            .where(Activity.id == activity_id)
            .run()
        )
        return True

    return await in_write_transaction(work)


async def escalate_overdue(
    *,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    policy: DeadlinePolicy | None = None,
) -> int:
    """Escalate every activity in an open stage whose ``due_at`` ≤ ``now``
    one level up the tree. Returns how many were escalated.

    Each item is its own transaction (one slow item holds up no other).
    Idempotent and safe with several workers: an escalated item's new
    deadline lies after ``now`` (every stage is ≥ 1 working day), so a second
    run at the same ``now`` — concurrent or later — finds nothing to do. A job
    that was down for a while escalates each item once, not once per missed
    period: the new deadline counts from ``now``.
    """
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be 1-{MAX_BATCH_SIZE}")
    moment = now or utc_now()
    if moment.tzinfo is None:
        raise ValueError("now must carry a time zone")
    chosen = policy or deadline_policy()
    escalated = 0
    after_id = 0
    while True:
        # Keyset by id: every batch moves forward even if some items turn out
        # not to need escalation after all (a concurrent run took them).
        rows = (
            await Activity.select(Activity.id)
            .where((Activity.due_at <= moment) & (Activity.id > after_id))
            .where(_open_stage())
            .order_by(Activity.id)
            .limit(batch_size)
            .run()
        )
        for row in rows:
            if await _escalate_one(int(row["id"]), moment, chosen):
                escalated += 1
        if len(rows) < batch_size:
            return escalated
        after_id = int(rows[-1]["id"])


class OverdueItem(BaseModel):
    id: int
    kind: str
    report_kind: str
    title: str
    status: str
    stage: str
    organisation_id: int
    responsible_organisation_id: int
    due_at: datetime
    overdue: bool
    escalations: int
    submitted_at: datetime | None


class OverduePage(BaseModel):
    items: list[OverdueItem]
    next_cursor: str | None


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def encode_cursor(due_at: datetime, activity_id: int) -> str:
    return base64.urlsafe_b64encode(f"o:{_micros(due_at)}:{activity_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (due_at, id) a page ended at; anything this module did not
    produce (or out of the columns' range) raises ``InvalidOverdueQuery``."""
    try:
        if len(cursor) > 100:
            raise ValueError(cursor)
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        prefix, micros_text, id_text = text.split(":")
        micros, activity_id = int(micros_text), int(id_text)
        if prefix != "o" or not 0 <= micros <= _MAX_MICROS or not 1 <= activity_id <= MAX_ACTIVITY_ID:
            raise ValueError(cursor)
        return _EPOCH + timedelta(microseconds=micros), activity_id
    except (ValueError, UnicodeDecodeError, binascii.Error) as error:
        raise InvalidOverdueQuery("cursor is not one this list returned", field="cursor") from error


def _item(row: dict[str, Any]) -> OverdueItem:
    return OverdueItem(
        id=row["id"],
        kind=row["kind"],
        report_kind=row["report_kind"],
        title=row["title"],
        status=row["status"],
        stage=stage_of(row["kind"], row["status"]) or "",
        organisation_id=row["organisation"],
        responsible_organisation_id=row["responsible_organisation"],
        due_at=row["due_at"],
        overdue=bool(row["overdue"]),
        escalations=row["escalations"],
        submitted_at=row["submitted_at"],
    )


async def list_overdue(
    organisation_id: int,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    stage: str | None = None,
    kind: str | None = None,
    now: datetime | None = None,
) -> OverduePage:
    """Overdue items an organisation answers for, most urgent (oldest
    deadline) first, ``limit`` at a time.

    An item is listed if it is in an open stage and either marked overdue or
    already past its deadline at ``now`` (so the list is right even between
    two runs of the escalation job), and if it happened in the subtree of
    ``organisation_id`` or is currently the responsibility of a node in that
    subtree. Keyset-paginated on (due_at, id): ``next_cursor`` is opaque.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidOverdueQuery(f"limit must be 1-{MAX_PAGE_SIZE}", field="limit")
    if stage is not None and stage not in STAGES:
        raise InvalidOverdueQuery(f"stage must be one of {', '.join(STAGES)}", field="stage")
    if kind is not None and kind not in KINDS:
        raise InvalidOverdueQuery(f"kind must be one of {', '.join(KINDS)}", field="kind")
    after = decode_cursor(cursor) if cursor is not None else None
    moment = now or utc_now()
    scope = list(await subtree_ids(organisation_id))
    query = (
        Activity.select(
            Activity.id,
            Activity.kind,
            Activity.report_kind,
            Activity.title,
            Activity.status,
            Activity.organisation,
            Activity.responsible_organisation,
            Activity.due_at,
            Activity.overdue,
            Activity.escalations,
            Activity.submitted_at,
        )
        .where(_open_stage(stage))
        .where(Activity.due_at.is_not_null())
        .where((Activity.overdue == True) | (Activity.due_at <= moment))  # noqa: E712 (Piccolo builds SQL from it)
        .where(Activity.organisation.is_in(scope) | Activity.responsible_organisation.is_in(scope))
    )
    if kind is not None:
        query = query.where(Activity.kind == kind)
    if after is not None:
        due_at, last_id = after
        query = query.where((Activity.due_at > due_at) | ((Activity.due_at == due_at) & (Activity.id > last_id)))
    rows = await query.order_by(Activity.due_at).order_by(Activity.id).limit(limit + 1).run()
    page = rows[:limit]
    return OverduePage(
        items=[_item(row) for row in page],
        next_cursor=encode_cursor(page[-1]["due_at"], page[-1]["id"]) if len(rows) > limit else None,
    )


async def list_overdue_for(
    principal: Principal,
    organisation_id: int,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    stage: str | None = None,
    kind: str | None = None,
    now: datetime | None = None,
) -> OverduePage:
    """``list_overdue`` for a principal who watches the node
    (``policy.check_deadline_watcher``); to anyone else it does not exist."""
    await check_deadline_watcher(principal, organisation_id)
    return await list_overdue(organisation_id, cursor=cursor, limit=limit, stage=stage, kind=kind, now=now)
