"""The rules of response deadlines (小红哨: accept in 1 working day, finish
in 3, complex cases in 5) and of escalating items that miss them.

Everything here is pure: no clock, no database. The services
(``activities.deadlines``, the activity steps) load, call these, and write
what they answer; ``tests/unit/test_deadline_rules.py`` checks each rule on
its own.

An activity waiting on someone is in a *stage* (``stage_of``):

- ``accept``: submitted, waiting to be verified or rejected (every kind);
- ``finish``: a verified or assigned report, waiting to be handled.

Other statuses (a patrol under way, a handled report waiting for the
reporter's rating, closed, rejected) have no deadline.

- **Due time** (``stage_due``): the stage's length in working days
  (``DeadlinePolicy``) after the moment the stage was entered, counted on
  the calendar of ``activities.calendar``.
- **Deadline on a move** (``deadline_after``): a step that moves an activity
  into another stage starts that stage's clock; a step that leaves it in its
  stage (assigning a report) keeps the running deadline; a step out of every
  stage clears it.
- **Escalation** (``overdue_stage``, ``escalation_step``): an item in an open
  stage whose deadline has come moves one level up the organisation tree,
  with a fresh deadline of the same stage length counted from the
  escalation. At the root it stays where it is (and is still recorded each
  time it misses again).

Lengths and the holiday lists come from settings (``FENGLING_*_WORKING_DAYS``,
``FENGLING_HOLIDAYS``, ``FENGLING_MAKEUP_WORKDAYS``) through
``deadline_policy``; every rule also takes a policy explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from activities.calendar import WorkCalendar, add_working_days
from activities.models import Kind, Status
from fengling_settings import get_settings


class Stage(StrEnum):
    ACCEPT = "accept"
    FINISH = "finish"


# Statuses of the activity status machine (``activities.transitions``) in
# which a deadline runs.
ACCEPT_STATUSES = frozenset({Status.SUBMITTED})
FINISH_STATUSES = frozenset({Status.VERIFIED, Status.ASSIGNED})  # reports only


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """Stage lengths in working days and the calendar they count on."""

    accept_days: int = 1
    finish_days: int = 3
    complex_days: int = 5
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    def days_for(self, stage: Stage, *, complex: bool) -> int:
        if stage is Stage.ACCEPT:
            return self.accept_days
        return self.complex_days if complex else self.finish_days


def deadline_policy() -> DeadlinePolicy:
    """The policy the settings describe (read once per process)."""
    settings = get_settings()
    return DeadlinePolicy(
        accept_days=settings.accept_working_days,
        finish_days=settings.finish_working_days,
        complex_days=settings.complex_working_days,
        calendar=WorkCalendar(holidays=settings.holidays, makeup_workdays=settings.makeup_workdays),
    )


def stage_of(kind: Kind | str, status: Status | str) -> Stage | None:
    """``accept``, ``finish`` or None (no deadline runs in this status)."""
    if status in ACCEPT_STATUSES:
        return Stage.ACCEPT
    if kind == Kind.REPORT and status in FINISH_STATUSES:
        return Stage.FINISH
    return None


def stage_due(
    stage: Stage, start: datetime, *, complex: bool = False, policy: DeadlinePolicy | None = None
) -> datetime:
    """The deadline of ``stage`` entered (or re-started) at ``start``
    (``policy`` None: the settings' policy)."""
    chosen = policy or deadline_policy()
    return add_working_days(start, chosen.days_for(stage, complex=complex), chosen.calendar)


def accept_due(submitted_at: datetime, *, policy: DeadlinePolicy | None = None) -> datetime:
    """When a submission must be accepted (verified or rejected) by:
    ``FENGLING_ACCEPT_WORKING_DAYS`` working days after ``submitted_at``."""
    return stage_due(Stage.ACCEPT, submitted_at, policy=policy)


def finish_due(accepted_at: datetime, *, complex: bool, policy: DeadlinePolicy | None = None) -> datetime:
    """When an accepted report must be handled by: ``FENGLING_FINISH_WORKING_DAYS``
    working days after ``accepted_at``, or ``FENGLING_COMPLEX_WORKING_DAYS``
    for a complex one."""
    return stage_due(Stage.FINISH, accepted_at, complex=complex, policy=policy)


@dataclass(frozen=True, slots=True)
class DeadlineChange:
    """What a step does to an activity's deadline.

    ``keep``: the running deadline, its overdue flag and who answers for it
    all stay. Otherwise ``due_at`` replaces the deadline (None: no stage, no
    deadline) and the item is no longer overdue; when a new stage starts
    (``restarts``) the activity's own organisation answers for it again."""

    keep: bool
    due_at: datetime | None = None

    @property
    def restarts(self) -> bool:
        return not self.keep and self.due_at is not None


KEEP_DEADLINE = DeadlineChange(keep=True)
NO_DEADLINE = DeadlineChange(keep=False, due_at=None)


def deadline_after(
    kind: Kind,
    before: Status,
    after: Status,
    *,
    moment: datetime,
    complex: bool = False,
    policy: DeadlinePolicy | None = None,
) -> DeadlineChange:
    """The deadline once a step at ``moment`` has moved an activity from
    ``before`` to ``after``: staying in its stage (or its status) keeps the
    deadline, entering a stage starts that stage's clock at ``moment``, and
    leaving every stage clears it."""
    stage_before, stage_after = stage_of(kind, before), stage_of(kind, after)
    if before == after or (stage_after is not None and stage_after == stage_before):
        return KEEP_DEADLINE
    if stage_after is None:
        return NO_DEADLINE
    return DeadlineChange(keep=False, due_at=stage_due(stage_after, moment, complex=complex, policy=policy))


def overdue_stage(kind: Kind, status: Status, due_at: datetime | None, moment: datetime) -> Stage | None:
    """The stage in which an item has missed its deadline at ``moment``, or
    None: it is in no open stage, or its deadline has not come yet."""
    stage = stage_of(kind, status)
    if stage is None or due_at is None or due_at > moment:
        return None
    return stage


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """One level up: who answered for the item, who does now, and the
    deadline it missed and the one it gets."""

    stage: Stage
    from_organisation_id: int
    to_organisation_id: int
    missed_due_at: datetime
    new_due_at: datetime


def escalation_step(
    stage: Stage,
    *,
    responsible_organisation_id: int,
    parent_id: int | None,
    missed_due_at: datetime,
    moment: datetime,
    complex: bool,
    policy: DeadlinePolicy,
) -> EscalationStep:
    """Move an item that missed ``stage`` at ``moment`` to the parent of the
    organisation answering for it (the root keeps it), with a fresh deadline
    of the same stage counted from ``moment``.

    Because every stage lasts at least one working day, the new deadline lies
    after ``moment``: a second run at the same moment finds nothing to do,
    and a job that was down for a while escalates each item once, not once
    per missed period."""
    return EscalationStep(
        stage=stage,
        from_organisation_id=responsible_organisation_id,
        to_organisation_id=parent_id if parent_id is not None else responsible_organisation_id,
        missed_due_at=missed_due_at,
        new_due_at=stage_due(stage, moment, complex=complex, policy=policy),
    )


def handled_late(*, due_at: datetime | None, overdue: bool, moment: datetime) -> bool:
    """Was a report handled at ``moment`` late? Yes when its finish
    deadline had come (``due_at`` ≤ ``moment``) or it had already been
    escalated for missing one (``overdue``: escalation gives a fresh
    deadline, so ``due_at`` alone would forgive the miss). Decided when
    handling, because handling clears the deadline."""
    return overdue or (due_at is not None and due_at <= moment)
