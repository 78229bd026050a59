"""Patrol tasks an organiser puts up (a route, an area, a time of day), and
grab-order tasks (抢单式巡逻) whose slots volunteers claim.

The rules are ``activities.claim_rules`` (pure) and ``activities.policy``
(who); this module loads, decides and writes, one transaction per step with
its audit record:

- **Exactly N claims for N slots.** A claim takes its slot with one
  conditional UPDATE (``slots_taken = slots_taken + 1 … WHERE slots_taken <
  slots``): on PostgreSQL the row lock makes concurrent claimers queue and
  each re-checks the condition after the one before commits; on SQLite the
  writer lock serialises them. The loser gets ``task_full``. A member's
  second live claim of one task is refused by the rule and, should two taps
  race, by a partial unique index (the retry then finds the first).
- **Release** gives the slot back until the window starts.
- **Check-in** (``submissions.check_in_patrol``) turns the member's claim
  into ``checked_in`` and links the patrol, in the patrol's transaction.
- **No-shows**: ``mark_no_shows`` (a background job) closes claims whose
  window ended unused. The slot stays counted (the shift is over) and no
  points move: a no-show is shown to the organiser, never penalised.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from piccolo.query import WhereRaw

from activities.claim_rules import (
    GrabOrder,
    check_claimable,
    check_grab_order,
    check_in_open,
    check_releasable,
    releasable,
)
from activities.errors import ClaimNotFound, ClaimRefused, InvalidActivity, PatrolTaskNotFound
from activities.models import LIVE_CLAIMS, ClaimStatus, PatrolTaskRecord, TaskClaimRecord
from activities.policy import (
    check_may_claim,
    check_patrol_task_create,
    check_task_claims_reader,
    check_task_visible,
    claimable_organisations,
    patrol_task_scope,
)
from activities.tables import PatrolTask, TaskClaim
from community import audit
from community.access import Principal
from community.organisations import get_organisation
from core.clock import utc_now
from core.database import in_write_transaction, lock_rows

# A list is for a phone screen; a node with more tasks shows the newest.
MAX_TASKS_LISTED = 500
MAX_TITLE_CHARS = 200
MAX_CLAIMS_LISTED = 500


@dataclass(frozen=True, slots=True)
class PatrolTaskView:
    """A task as a member sees it in the list: the task, and their own claim
    of it if they hold one (None otherwise)."""

    task: PatrolTaskRecord
    my_claim: ClaimStatus | None


async def create_patrol_task(
    principal: Principal,
    *,
    organisation_id: int,
    title_zh: str,
    title_en: str = "",
    description: str = "",
    area: str = "",
    grab_order: GrabOrder | None = None,
    now: datetime | None = None,
) -> PatrolTaskRecord:
    """A task at an organisation the principal manages (``AccessRefused``
    otherwise, before anything else), with its audit record in the same
    transaction. With ``grab_order`` it has a window, slots and a multiplier."""
    await check_patrol_task_create(principal, organisation_id)
    title_zh = title_zh.strip()
    if not 1 <= len(title_zh) <= MAX_TITLE_CHARS:
        raise InvalidActivity("a patrol task needs a Chinese title of 1-200 characters", field="title_zh")
    multiplier_pct = 100 if grab_order is None else check_grab_order(grab_order, now=now or utc_now())
    task_id = await in_write_transaction(
        lambda: _insert_task(
            principal,
            organisation_id,
            title_zh,
            title_en.strip(),
            description.strip(),
            area.strip(),
            grab_order,
            multiplier_pct,
        )
    )
    return await _task(task_id)


async def _insert_task(
    principal: Principal,
    organisation_id: int,
    title_zh: str,
    title_en: str,
    description: str,
    area: str,
    grab_order: GrabOrder | None,
    multiplier_pct: int,
) -> int:
    # Checked again inside the transaction: a role revoked meanwhile counts.
    await check_patrol_task_create(principal, organisation_id)
    await get_organisation(organisation_id)
    inserted = await PatrolTask.insert(
        PatrolTask(
            organisation=organisation_id,
            title_zh=title_zh,
            title_en=title_en,
            description=description,
            area=area,
            starts_at=None if grab_order is None else grab_order.starts_at,
            ends_at=None if grab_order is None else grab_order.ends_at,
            slots=None if grab_order is None else grab_order.slots,
            multiplier_pct=multiplier_pct,
            created_by=principal.member_id,
        )
    ).run()
    task_id = int(inserted[0]["id"])
    details: dict[str, object] = {"title": title_zh}
    if grab_order is not None:
        details.update(slots=grab_order.slots, multiplier_pct=multiplier_pct)
    await audit.record(principal.ref, "patrol_task.create", f"patrol_task:{task_id}", **details)
    return task_id


async def _find_task(task_id: int) -> PatrolTaskRecord | None:
    rows = await PatrolTask.select().where(PatrolTask.id == task_id).run()
    return PatrolTaskRecord.from_row(rows[0]) if rows else None


async def _task(task_id: int) -> PatrolTaskRecord:
    task = await _find_task(task_id)
    if task is None:
        raise PatrolTaskNotFound(f"no patrol task {task_id}", field="task_id")
    return task


async def visible_task(principal: Principal, task_id: int) -> PatrolTaskRecord:
    """The task, if the principal may see it (``PatrolTaskNotFound`` otherwise)."""
    return check_task_visible(task_id, await _find_task(task_id), await patrol_task_scope(principal))


async def patrol_tasks_near(principal: Principal, *, open_only: bool = False) -> list[PatrolTaskView]:
    """The tasks the principal may see (``policy.patrol_task_scope``), newest
    first, each with the principal's own claim. ``open_only``: active tasks
    whose window has not ended, grab-order ones only while a slot is left or
    the principal holds one."""
    tasks = await list_patrol_tasks(await patrol_task_scope(principal))
    mine = await _my_claims(principal.member_id, [task.id for task in tasks])
    views = [PatrolTaskView(task=task, my_claim=mine.get(task.id)) for task in tasks]
    if not open_only:
        return views
    now = utc_now()
    return [
        view
        for view in views
        if view.task.active
        and (view.task.ends_at is None or view.task.ends_at > now)
        and (not view.task.grab_order or (view.task.slots_left or 0) > 0 or view.my_claim in LIVE_CLAIMS)
    ]


@dataclass(frozen=True, slots=True)
class GrabOrderCard:
    """A grab-order task on the volunteer's phone (``web/task_pages.py``):
    the task, the member's live claim of it, and what they may do now."""

    task: PatrolTaskRecord
    my_claim: ClaimStatus | None
    releasable: bool
    check_in_open: bool


@dataclass(frozen=True, slots=True)
class MyGrabOrders:
    """The phone's 抢单 page: ``mine``, the member's live claims of tasks
    not yet over; ``open``, the tasks they may claim with a slot left. Both
    soonest first."""

    mine: list[GrabOrderCard]
    open: list[GrabOrderCard]


async def grab_orders_for(principal: Principal, *, now: datetime | None = None) -> MyGrabOrders:
    """The grab-order tasks near the principal, split for the phone. A task
    the principal sees but may not claim (a node below their home, or they
    cannot earn: ``policy.claimable_organisations``) is left out: nothing to
    grab there."""
    now = now or utc_now()
    claimable = await claimable_organisations(principal)
    mine: list[GrabOrderCard] = []
    grabbable: list[GrabOrderCard] = []
    for view in await patrol_tasks_near(principal, open_only=True):
        task = view.task
        if not task.grab_order:
            continue
        card = GrabOrderCard(
            task=task,
            my_claim=view.my_claim if view.my_claim in LIVE_CLAIMS else None,
            releasable=releasable(task, view.my_claim, now=now),
            check_in_open=view.my_claim is ClaimStatus.CLAIMED and check_in_open(task, now=now),
        )
        if card.my_claim is not None:
            mine.append(card)
        elif task.organisation_id in claimable and (task.slots_left or 0) > 0:
            grabbable.append(card)

    def soonest(card: GrabOrderCard) -> tuple[datetime, int]:
        return (card.task.starts_at or card.task.created_at, card.task.id)

    return MyGrabOrders(mine=sorted(mine, key=soonest), open=sorted(grabbable, key=soonest))


async def tasks_to_check_in(principal: Principal, *, now: datetime | None = None) -> list[PatrolTaskRecord]:
    """The principal's claimed tasks whose check-in is open now (or opens
    within ``claim_rules.EARLY_CHECK_IN``): the phone's patrol check-in
    links the patrol to the first, soonest first."""
    mine = (await grab_orders_for(principal, now=now)).mine
    return [card.task for card in mine if card.check_in_open]


async def list_patrol_tasks(organisation_ids: Collection[int], *, task_id: int | None = None) -> list[PatrolTaskRecord]:
    """Tasks at these organisations, newest first (at most ``MAX_TASKS_LISTED``)."""
    if not organisation_ids:
        return []
    query = PatrolTask.select().where(PatrolTask.organisation.is_in(sorted(organisation_ids)))
    if task_id is not None:
        query = query.where(PatrolTask.id == task_id)
    rows = await query.order_by(PatrolTask.id, ascending=False).limit(MAX_TASKS_LISTED).run()
    return [PatrolTaskRecord.from_row(row) for row in rows]


async def _my_claims(member_id: int, task_ids: list[int]) -> dict[int, ClaimStatus]:
    """The member's latest claim of each of these tasks."""
    if not task_ids:
        return {}
    rows = (
        await TaskClaim.select(TaskClaim.task, TaskClaim.status)
        .where((TaskClaim.member == member_id) & TaskClaim.task.is_in(task_ids))
        .order_by(TaskClaim.id)
        .run()
    )
    return {int(row["task"]): ClaimStatus(row["status"]) for row in rows}


async def _live_claim_rows(task_id: int, member_id: int) -> list[dict[str, object]]:
    return await lock_rows(
        TaskClaim.select().where(
            (TaskClaim.task == task_id)
            & (TaskClaim.member == member_id)
            & TaskClaim.status.is_in([status.value for status in LIVE_CLAIMS])
        )
    )


async def claim_task(principal: Principal, task_id: int, *, now: datetime | None = None) -> TaskClaimRecord:
    """Take one slot of a grab-order task for the principal: ``task_full``
    when none is left, ``task_already_claimed`` for a second claim."""
    now = now or utc_now()
    task = await visible_task(principal, task_id)
    await check_may_claim(principal, task)

    async def write() -> int:
        current = await _task(task_id)
        await check_may_claim(principal, current)
        live = await _live_claim_rows(task_id, principal.member_id)
        check_claimable(current, has_live_claim=bool(live), now=now)
        taken = (
            await PatrolTask.update({PatrolTask.slots_taken: PatrolTask.slots_taken + 1})
            .where((PatrolTask.id == task_id) & WhereRaw("slots_taken < slots"))
            .returning(PatrolTask.id)
            .run()
        )
        if not taken:
            raise ClaimRefused("task_full", "all slots of this task are taken", field="task_id")
        inserted = (
            await TaskClaim.insert(
                TaskClaim(task=task_id, member=principal.member_id, status=ClaimStatus.CLAIMED.value, claimed_at=now)
            )
            .returning(TaskClaim.id)
            .run()
        )
        claim_id = int(inserted[0]["id"])
        await audit.record(principal.ref, "patrol_task.claim", f"patrol_task:{task_id}", claim=claim_id)
        return claim_id

    # A unique violation: the same member's other tap won; the re-run is refused by the rule.
    claim_id = await in_write_transaction(write, retry_unique=True)
    return await _claim(claim_id)


async def release_claim(principal: Principal, task_id: int, *, now: datetime | None = None) -> TaskClaimRecord:
    """Give the principal's slot back, before the window starts. Holding no
    live claim of the task (a missing task, one never claimed) is one
    not-found: a claim is the member's own, so nothing else is looked at."""
    now = now or utc_now()

    async def write() -> int:
        live = await _live_claim_rows(task_id, principal.member_id)
        if not live:
            raise ClaimNotFound("you hold no slot of this task", field="task_id")
        claim_id = int(str(live[0]["id"]))
        check_releasable(await _task(task_id), ClaimStatus(str(live[0]["status"])), now=now)
        await (
            TaskClaim.update({TaskClaim.status: ClaimStatus.RELEASED.value, TaskClaim.resolved_at: now})
            .where(TaskClaim.id == claim_id)
            .run()
        )
        await (
            PatrolTask.update({PatrolTask.slots_taken: PatrolTask.slots_taken - 1})
            .where((PatrolTask.id == task_id) & (PatrolTask.slots_taken > 0))
            .run()
        )
        await audit.record(principal.ref, "patrol_task.release", f"patrol_task:{task_id}", claim=claim_id)
        return claim_id

    return await _claim(await in_write_transaction(write))


async def task_claims(principal: Principal, task_id: int) -> list[TaskClaimRecord]:
    """Every claim of a task, oldest first, for its node's managers: who
    claimed, who checked in, who released, who did not show."""
    task = await visible_task(principal, task_id)
    await check_task_claims_reader(principal, task)
    rows = (
        await TaskClaim.select(*TaskClaim.all_columns(), TaskClaim.member.name.as_alias("member_name"))
        .where(TaskClaim.task == task_id)
        .order_by(TaskClaim.id)
        .limit(MAX_CLAIMS_LISTED)
        .run()
    )
    return [TaskClaimRecord.from_row(row) for row in rows]


async def _claim(claim_id: int) -> TaskClaimRecord:
    rows = await TaskClaim.select(*TaskClaim.all_columns(), TaskClaim.member.name.as_alias("member_name")).where(
        TaskClaim.id == claim_id
    )
    return TaskClaimRecord.from_row(rows[0])


async def mark_no_shows(*, now: datetime | None = None) -> int:
    """Close every claim whose task's window ended without a check-in (the
    background job). Returns how many became no-shows. No points move."""
    now = now or utc_now()
    unused: list[int] = (
        await TaskClaim.select(TaskClaim.id)
        .where((TaskClaim.status == ClaimStatus.CLAIMED.value) & (TaskClaim.task.ends_at <= now))
        .output(as_list=True)
        .run()
    )
    if not unused:
        return 0
    # Only still-unused claims: a check-in that committed meanwhile stays.
    closed = (
        await TaskClaim.update({TaskClaim.status: ClaimStatus.NO_SHOW.value, TaskClaim.resolved_at: now})
        .where(TaskClaim.id.is_in(unused) & (TaskClaim.status == ClaimStatus.CLAIMED.value))
        .returning(TaskClaim.id)
        .run()
    )
    return len(closed)
