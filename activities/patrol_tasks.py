"""Patrol tasks an organiser puts up (a route, an area, a time of day)."""

from __future__ import annotations

from collections.abc import Collection

from activities.errors import InvalidActivity
from activities.models import PatrolTaskRecord
from activities.policy import check_patrol_task_create, patrol_task_scope
from activities.tables import PatrolTask
from community import audit
from community.access import Principal
from community.organisations import get_organisation
from core.database import in_write_transaction

# A list is for a phone screen; a node with more tasks shows the newest.
MAX_TASKS_LISTED = 500
MAX_TITLE_CHARS = 200


async def create_patrol_task(
    principal: Principal, *, organisation_id: int, title_zh: str, title_en: str = "", description: str = ""
) -> PatrolTaskRecord:
    """A task at an organisation the principal manages (``AccessRefused``
    otherwise, before anything else), with its audit record in the same
    transaction."""
    await check_patrol_task_create(principal, organisation_id)
    title_zh = title_zh.strip()
    if not 1 <= len(title_zh) <= MAX_TITLE_CHARS:
        raise InvalidActivity("a patrol task needs a Chinese title of 1-200 characters", field="title_zh")
    task_id = await in_write_transaction(
        lambda: _insert_task(principal, organisation_id, title_zh, title_en.strip(), description.strip())
    )
    return (await list_patrol_tasks([organisation_id], task_id=task_id))[0]


async def _insert_task(
    principal: Principal, organisation_id: int, title_zh: str, title_en: str, description: str
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
            created_by=principal.member_id,
        )
    ).run()
    task_id = int(inserted[0]["id"])
    await audit.record(principal.ref, "patrol_task.create", f"patrol_task:{task_id}", title=title_zh)
    return task_id


async def patrol_tasks_near(principal: Principal) -> list[PatrolTaskRecord]:
    """The tasks the principal may see (``policy.patrol_task_scope``)."""
    return await list_patrol_tasks(await patrol_task_scope(principal))


async def list_patrol_tasks(organisation_ids: Collection[int], *, task_id: int | None = None) -> list[PatrolTaskRecord]:
    """Tasks at these organisations, newest first (at most ``MAX_TASKS_LISTED``)."""
    if not organisation_ids:
        return []
    query = PatrolTask.select().where(PatrolTask.organisation.is_in(sorted(organisation_ids)))
    if task_id is not None:
        query = query.where(PatrolTask.id == task_id)
    rows = await query.order_by(PatrolTask.id, ascending=False).limit(MAX_TASKS_LISTED).run()
    return [PatrolTaskRecord.from_row(row) for row in rows]
