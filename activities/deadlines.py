"""Response deadlines at work: escalating items that missed theirs, and the
overdue list (超期事项) of an organisation.

The rules (stages, due times, what an escalation does) are
``activities.deadline_rules`` (pure); this module loads, applies them and
writes. The activity steps that move an item into a stage set its
``due_at`` there too (``deadline_rules.deadline_after``).

:func:`escalate_overdue` (a background job and ``fengling activities
escalate``) finds items past ``due_at`` in an open stage and moves each one
level up the organisation tree (``deadline_rules.escalation_step``): an
Escalation row, ``overdue`` set, the parent organisation now responsible,
and a fresh deadline of the same stage length counted from the escalation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from activities.deadline_rules import (
    ACCEPT_STATUSES,
    FINISH_STATUSES,
    DeadlinePolicy,
    Stage,
    deadline_policy,
    escalation_step,
    overdue_stage,
    stage_of,
)
from activities.errors import ActivityError
from activities.models import ActivityRecord, Kind, Status
from activities.policy import check_deadline_watcher
from activities.tables import Activity, Escalation
from community.access import Principal
from community.organisations import subtree_ids
from community.tables import Organisation
from core.clock import utc_now
from core.cursors import decode_cursor, encode_cursor, time_from_key, time_key
from core.database import in_write_transaction, lock_row
from core.errors import InvalidCursor
from core.ids import MAX_ID

# One escalation run works through the backlog in batches of this many ids,
# so a long outage of the job does not load every overdue row at once.
DEFAULT_BATCH_SIZE = 200
MAX_BATCH_SIZE = 1000
# A list page; 100 bounds the work of one request.
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
CURSOR_TAG = "overdue"
# The last microsecond a Python datetime can hold: a forged cursor beyond it
# must not reach ``time_from_key``.
_MAX_TIME_KEY = time_key(datetime.max.replace(tzinfo=UTC))


class InvalidOverdueQuery(ActivityError):
    """A list request this module refuses (bad limit or filter); nothing
    was read. ``field`` names the offending parameter. (A bad cursor is
    ``core.errors.InvalidCursor``, as on every list.)"""

    code = "invalid_overdue_query"


def _open_stage(stage: Stage | None = None) -> Any:
    """WHERE clause: the activity is in ``stage`` (either stage if None);
    the SQL twin of ``deadline_rules.stage_of``."""
    accept = Activity.status.is_in([status.value for status in ACCEPT_STATUSES])
    finish = (Activity.kind == Kind.REPORT.value) & Activity.status.is_in([status.value for status in FINISH_STATUSES])
    if stage is Stage.ACCEPT:
        return accept
    if stage is Stage.FINISH:
        return finish
    return accept | finish


async def _escalate_one(activity_id: int, moment: datetime, policy: DeadlinePolicy) -> bool:
    """Escalate one activity if it is still past due at ``moment``.

    The row is locked (``lock_row``) before it is re-read, so of two runs
    racing for one item the second sees the first one's fresh deadline and
    does nothing.
    """
    row = await lock_row(Activity, activity_id)
    if row is None:
        return False
    item = ActivityRecord.from_row(row)
    stage = overdue_stage(item.kind, item.status, item.due_at, moment)
    if stage is None or item.due_at is None:
        return False
    parents = (
        await Organisation.select(Organisation.parent)
        .where(Organisation.id == item.responsible_organisation_id)
        .output(as_list=True)
        .run()
    )
    step = escalation_step(
        stage,
        responsible_organisation_id=item.responsible_organisation_id,
        parent_id=int(parents[0]) if parents and parents[0] is not None else None,
        missed_due_at=item.due_at,
        moment=moment,
        complex=item.complex,
        policy=policy,
    )
    await Escalation.insert(
        Escalation(
            activity=activity_id,
            stage=step.stage.value,
            from_organisation=step.from_organisation_id,
            to_organisation=step.to_organisation_id,
            due_at=step.missed_due_at,
            escalated_at=moment,
        )
    ).run()
    await (
        Activity.update(
            {
                Activity.overdue: True,
                Activity.responsible_organisation: step.to_organisation_id,
                Activity.escalations: Activity.escalations + 1,
                Activity.due_at: step.new_due_at,
                Activity.updated_at: moment,
            }
        )
        .where(Activity.id == activity_id)
        .run()
    )
    return True


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
    deadline lies after ``now`` (``deadline_rules.escalation_step``), so a
    second run at the same ``now`` — concurrent or later — finds nothing to
    do.
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
        ids = (
            await Activity.select(Activity.id)
            .where((Activity.due_at <= moment) & (Activity.id > after_id))
            .where(_open_stage())
            .order_by(Activity.id)
            .limit(batch_size)
            .output(as_list=True)
            .run()
        )
        for activity_id in ids:
            if await in_write_transaction(partial(_escalate_one, int(activity_id), moment, chosen)):
                escalated += 1
        if len(ids) < batch_size:
            return escalated
        after_id = int(ids[-1])


@dataclass(frozen=True, slots=True)
class OverdueItem:
    """An item on an overdue list: what it is, the stage whose deadline it
    missed (or is missing), and who answers for it now. Sent to clients as
    it is."""

    id: int
    kind: Kind
    report_kind: str
    title: str
    status: Status
    stage: Stage
    organisation_id: int
    responsible_organisation_id: int
    due_at: datetime
    overdue: bool
    escalations: int
    submitted_at: datetime | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> OverdueItem:
        """``row``: an activity in an open stage with a deadline (the list's query)."""
        kind, status = Kind(row["kind"]), Status(row["status"])
        stage = stage_of(kind, status)
        if stage is None:
            raise ValueError(f"activity {row['id']} is in no deadline stage")
        return cls(
            id=int(row["id"]),
            kind=kind,
            report_kind=row["report_kind"],
            title=row["title"],
            status=status,
            stage=stage,
            organisation_id=int(row["organisation"]),
            responsible_organisation_id=int(row["responsible_organisation"]),
            due_at=row["due_at"],
            overdue=bool(row["overdue"]),
            escalations=int(row["escalations"]),
            submitted_at=row["submitted_at"],
        )


@dataclass(frozen=True, slots=True)
class OverduePage:
    items: list[OverdueItem]
    # Opaque (``core.cursors``): (due_at, id) of the last item; None: no more.
    next_cursor: str | None


def _after(cursor: str) -> tuple[datetime, int]:
    """The (due_at, id) a page ended at; ``InvalidCursor`` for anything this
    list did not hand out (or out of the columns' range)."""
    due_key, last_id = decode_cursor(CURSOR_TAG, cursor, arity=2, key_min=0, key_max=_MAX_TIME_KEY)
    if not 1 <= last_id <= MAX_ID:
        raise InvalidCursor()
    return time_from_key(due_key), last_id


def _checked_filters(limit: int, stage: str | None, kind: str | None) -> tuple[Stage | None, Kind | None]:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidOverdueQuery(f"limit must be 1-{MAX_PAGE_SIZE}", field="limit")
    if stage is not None and stage not in set(Stage):
        raise InvalidOverdueQuery(f"stage must be one of {', '.join(Stage)}", field="stage")
    if kind is not None and kind not in set(Kind):
        raise InvalidOverdueQuery(f"kind must be one of {', '.join(Kind)}", field="kind")
    return (Stage(stage) if stage is not None else None), (Kind(kind) if kind is not None else None)


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
    chosen_stage, chosen_kind = _checked_filters(limit, stage, kind)
    after = _after(cursor) if cursor is not None else None
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
        .where(_open_stage(chosen_stage))
        .where(Activity.due_at.is_not_null())
        .where((Activity.overdue == True) | (Activity.due_at <= moment))  # noqa: E712 (Piccolo builds SQL from it)
        .where(Activity.organisation.is_in(scope) | Activity.responsible_organisation.is_in(scope))
    )
    if chosen_kind is not None:
        query = query.where(Activity.kind == chosen_kind.value)
    if after is not None:
        due_at, last_id = after
        query = query.where((Activity.due_at > due_at) | ((Activity.due_at == due_at) & (Activity.id > last_id)))
    rows = await query.order_by(Activity.due_at).order_by(Activity.id).limit(limit + 1).run()
    page = [OverdueItem.from_row(row) for row in rows[:limit]]
    return OverduePage(
        items=page,
        next_cursor=encode_cursor(CURSOR_TAG, time_key(page[-1].due_at), page[-1].id) if len(rows) > limit else None,
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
