"""Patrol tasks an organiser puts up (a route, an area, a time of day)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from pydantic import BaseModel

from activities.errors import InvalidActivity
from activities.policy import check_patrol_task_create, patrol_task_scope
from activities.tables import PatrolTask
from community import audit
from community.access import Principal
from community.organisations import get_organisation
from core.database import in_write_transaction

MAX_TASKS_LISTED = 500


class PatrolTaskOut(BaseModel):
    id: int
    organisation_id: int
    title_zh: str
    title_en: str
    description: str
    active: bool
    created_at: datetime


async def create_patrol_task(
    principal: Principal, *, organisation_id: int, title_zh: str, title_en: str = "", description: str = ""
) -> PatrolTaskOut:
    """A task at an organisation the principal manages (``AccessRefused``
    otherwise, before anything else), with its audit record in the same
    transaction."""
    await check_patrol_task_create(principal, organisation_id)
    title_zh = title_zh.strip()
    if not 1 <= len(title_zh) <= 200:
        raise InvalidActivity("a patrol task needs a Chinese title of 1-200 characters", field="title_zh")

    async def work() -> int:
        await check_patrol_task_create(principal, organisation_id)
        await get_organisation(organisation_id)
        inserted = await PatrolTask.insert(
            PatrolTask(
                organisation=organisation_id,
                title_zh=title_zh,
                title_en=title_en.strip(),
                description=description.strip(),
                created_by=principal.member_id,
            )
        ).run()
        task_id = int(inserted[0]["id"])
        await audit.record(principal.ref, "patrol_task.create", f"patrol_task:{task_id}", title=title_zh)
        return task_id

    task_id = await in_write_transaction(work)
    return (await list_patrol_tasks([organisation_id], task_id=task_id))[0]


async def patrol_tasks_near(principal: Principal) -> list[PatrolTaskOut]:
    """The tasks the principal may see (``policy.patrol_task_scope``)."""
    return await list_patrol_tasks(await patrol_task_scope(principal))


async def list_patrol_tasks(organisation_ids: Collection[int], *, task_id: int | None = None) -> list[PatrolTaskOut]:
    if not organisation_ids:
        return []
    query = PatrolTask.select().where(PatrolTask.organisation.is_in(sorted(organisation_ids)))
    if task_id is not None:
        query = query.where(PatrolTask.id == task_id)
    rows = await query.order_by(PatrolTask.id, ascending=False).limit(MAX_TASKS_LISTED).run()
    return [
        PatrolTaskOut(
            id=row["id"],
            organisation_id=row["organisation"],
            title_zh=row["title_zh"],
            title_en=row["title_en"],
            description=row["description"],
            active=bool(row["active"]),
            created_at=row["created_at"],
        )
        for row in rows
    ]
