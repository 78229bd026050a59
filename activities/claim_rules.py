"""Grab-order patrol tasks (抢单式巡逻): the pure rules, no database, no clock.

An organiser puts up a task with a time window, an area or route, a number
of slots and an optional points multiplier; volunteers of that node or below
claim a slot; a claim may be given back until the window starts; a claimed
task is checked in from the patrol flow; a claim with no check-in when the
window ends is a no-show (shown to the organiser, never a points penalty).

Who may do each step is ``activities.policy``; how the slot count stays
exact under concurrency is ``activities.patrol_tasks`` (a conditional
UPDATE). Unit-tested in ``tests/unit/test_claim_rules.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from activities.errors import ClaimRefused, InvalidActivity
from activities.models import ClaimStatus, PatrolTaskRecord

MAX_SLOTS = 500
# A task is a shift, not a season.
MAX_WINDOW = timedelta(hours=24)
# How far ahead an organiser may put a task up.
MAX_LEAD = timedelta(days=60)
# A volunteer may check in a little before the window opens (arriving early).
EARLY_CHECK_IN = timedelta(minutes=30)
MIN_MULTIPLIER = Decimal("1.00")
MAX_MULTIPLIER = Decimal("5.00")


@dataclass(frozen=True, slots=True)
class GrabOrder:
    """What makes a task grab-order, as the organiser asked for it."""

    starts_at: datetime
    ends_at: datetime
    slots: int
    multiplier: Decimal


def check_grab_order(order: GrabOrder, *, now: datetime) -> int:
    """Validate a new grab-order task; its multiplier in hundredths."""
    if not 1 <= order.slots <= MAX_SLOTS:
        raise InvalidActivity(f"slots must be 1-{MAX_SLOTS}", field="slots")
    if order.ends_at <= order.starts_at:
        raise InvalidActivity("the window must end after it starts", field="ends_at")
    if order.ends_at - order.starts_at > MAX_WINDOW:
        raise InvalidActivity("a task's window is at most 24 hours", field="ends_at")
    if order.ends_at <= now:
        raise InvalidActivity("the window has already ended", field="ends_at")
    if order.starts_at - now > MAX_LEAD:
        raise InvalidActivity("a task can be put up at most 60 days ahead", field="starts_at")
    multiplier = order.multiplier
    if not multiplier.is_finite() or multiplier != multiplier.quantize(Decimal("0.01")):
        raise InvalidActivity("the multiplier has at most 2 decimal places", field="points_multiplier")
    if not MIN_MULTIPLIER <= multiplier <= MAX_MULTIPLIER:
        raise InvalidActivity(f"the multiplier must be {MIN_MULTIPLIER}-{MAX_MULTIPLIER}", field="points_multiplier")
    return int(multiplier * 100)


def check_claimable(task: PatrolTaskRecord, *, has_live_claim: bool, now: datetime) -> None:
    """May a volunteer (already allowed to see the task) claim a slot now?
    Whether a slot is still free is decided by the conditional UPDATE, not
    here: this rule only refuses what no free slot could make right."""
    if not task.grab_order:
        raise ClaimRefused("task_not_grab_order", "this task has no slots to claim; just check in", field="task_id")
    if not task.active or (task.ends_at is not None and task.ends_at <= now):
        raise ClaimRefused("task_closed", "this task is over or withdrawn", field="task_id")
    if has_live_claim:
        raise ClaimRefused("task_already_claimed", "you already hold a slot of this task", field="task_id")


def check_releasable(task: PatrolTaskRecord, status: ClaimStatus, *, now: datetime) -> None:
    """A claim is given back only while it is merely claimed and the window
    has not started (after that, the slot belongs to the shift)."""
    if status is not ClaimStatus.CLAIMED:
        raise ClaimRefused("claim_not_releasable", f"this claim is {status.value}", field="task_id")
    if task.starts_at is not None and task.starts_at <= now:
        raise ClaimRefused("claim_not_releasable", "the task has started; it can no longer be given back")


def releasable(task: PatrolTaskRecord, status: ClaimStatus | None, *, now: datetime) -> bool:
    """Whether ``check_releasable`` would let this claim go (the phone shows
    a 取消 button only then)."""
    return status is ClaimStatus.CLAIMED and (task.starts_at is None or now < task.starts_at)


def check_in_open(task: PatrolTaskRecord, *, now: datetime) -> bool:
    """Whether a claim of this task may be checked in now: from
    ``EARLY_CHECK_IN`` before the window opens until it ends (the phone's
    patrol page then links its check-in to the task)."""
    if not task.grab_order or not task.active:
        return False
    if task.starts_at is not None and now < task.starts_at - EARLY_CHECK_IN:
        return False
    return task.ends_at is None or now < task.ends_at


def check_check_in(task: PatrolTaskRecord, status: ClaimStatus | None, *, now: datetime) -> None:
    """Starting a patrol on a grab-order task needs the member's own live
    claim, inside the window (from ``EARLY_CHECK_IN`` before it)."""
    if status is not ClaimStatus.CLAIMED:
        raise ClaimRefused("task_not_claimed", "claim a slot of this task before checking in", field="patrol_task_id")
    if task.starts_at is not None and now < task.starts_at - EARLY_CHECK_IN:
        raise ClaimRefused("task_not_started", "this task has not started yet", field="patrol_task_id")
    if task.ends_at is not None and now >= task.ends_at:
        raise ClaimRefused("task_closed", "this task is over", field="patrol_task_id")


def is_no_show(task_ends_at: datetime | None, status: ClaimStatus, *, now: datetime) -> bool:
    """A claim still unused when its window has ended."""
    return status is ClaimStatus.CLAIMED and task_ends_at is not None and task_ends_at <= now


def multiplied(points: Decimal, multiplier_pct: int) -> Decimal:
    """A patrol award scaled by its task's multiplier (hundredths), rounded
    once, half to even, to 2 places, like every computed award."""
    if multiplier_pct == 100:
        return points
    return (points * multiplier_pct / 100).quantize(Decimal("0.01"))
