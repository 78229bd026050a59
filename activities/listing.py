"""Listing activities: a volunteer's own, or what a reviewer may act on.

Newest first by id, with an opaque keyset cursor (stable under inserts,
constant cost per page however deep).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from activities.errors import InvalidActivity
from activities.models import ACTIVITY_VIEW_COLUMNS, ActivityView, Kind, Status
from activities.policy import review_scope
from activities.records import photos_of
from activities.tables import Activity
from campaigns.rules import ReportKind
from community.access import Principal
from community.organisations import subtree_ids
from core.cursors import decode_cursor, encode_cursor
from core.ids import MAX_ID

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
CURSOR_TAG = "activities"


@dataclass(frozen=True, slots=True)
class ActivityPage:
    items: list[ActivityView]
    # Opaque (``core.cursors``): the id of the last item; None: no more.
    next_cursor: str | None


class ActivityFilter(BaseModel):
    status: Status | None = None
    kind: Kind | None = None
    report_kind: ReportKind | None = None
    campaign_id: int | None = None
    # Only activities at this organisation and below it (a grid, a community…).
    organisation_id: int | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None
    overdue: bool | None = None


async def list_activities(
    *,
    member_id: int | None = None,
    scope_organisation_ids: Collection[int] | None = None,
    where: ActivityFilter | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> ActivityPage:
    """Activities of ``member_id`` or at ``scope_organisation_ids`` (or both),
    narrowed by ``where``. An empty scope lists nothing. A cursor this list
    did not hand out is ``core.errors.InvalidCursor``."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = Activity.select(*ACTIVITY_VIEW_COLUMNS)
    if member_id is not None:
        query = query.where(Activity.member == member_id)
    if scope_organisation_ids is not None:
        if not scope_organisation_ids:
            return ActivityPage(items=[], next_cursor=None)
        query = query.where(Activity.organisation.is_in(sorted(scope_organisation_ids)))
    for condition in await _conditions(where or ActivityFilter()):
        query = query.where(condition)
    if cursor is not None:
        (last_id,) = decode_cursor(CURSOR_TAG, cursor, key_min=1, key_max=MAX_ID)
        query = query.where(Activity.id < last_id)
    rows = await query.order_by(Activity.id, ascending=False).limit(limit + 1).run()
    page = [ActivityView.from_row(row) for row in rows[:limit]]
    photos = await photos_of([activity.id for activity in page])
    return ActivityPage(
        items=[replace(activity, photos=photos[activity.id]) for activity in page],
        next_cursor=encode_cursor(CURSOR_TAG, page[-1].id) if len(rows) > limit else None,
    )


async def _conditions(where: ActivityFilter) -> list[Any]:
    """One WHERE condition per filter that is set."""
    conditions: list[Any] = []
    if where.organisation_id is not None:
        conditions.append(Activity.organisation.is_in(sorted(await subtree_ids(where.organisation_id))))
    if where.status is not None:
        conditions.append(Activity.status == where.status.value)
    if where.kind is not None:
        conditions.append(Activity.kind == where.kind.value)
    if where.report_kind is not None:
        conditions.append(Activity.report_kind == where.report_kind.value)
    if where.campaign_id is not None:
        conditions.append(Activity.campaign == where.campaign_id)
    if where.started_from is not None:
        conditions.append(Activity.started_at >= where.started_from)
    if where.started_before is not None:
        conditions.append(Activity.started_at < where.started_before)
    if where.overdue is not None:
        conditions.append(Activity.overdue == where.overdue)
    return conditions


async def list_activities_for(
    principal: Principal,
    *,
    view: str,
    where: ActivityFilter,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> ActivityPage:
    """``view`` "mine": the principal's own activities; "review": those at
    the organisations they review (``policy.review_scope``)."""
    if view == "mine":
        return await list_activities(member_id=principal.member_id, where=where, cursor=cursor, limit=limit)
    if view != "review":
        raise InvalidActivity("scope must be mine or review", field="scope")
    scope = await review_scope(principal)
    return await list_activities(scope_organisation_ids=scope, where=where, cursor=cursor, limit=limit)
