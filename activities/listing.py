"""Listing activities: a volunteer's own, or what a reviewer may act on.

Newest first by id, with an opaque keyset cursor (stable under inserts,
constant cost per page however deep).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection
from datetime import datetime

from pydantic import BaseModel

from activities.errors import InvalidActivity
from activities.policy import review_scope
from activities.records import ACTIVITY_COLUMNS, ActivityOut, Kind, Status, activity_out, photos_of
from activities.tables import Activity
from community.access import Principal

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


class ActivityPage(BaseModel):
    items: list[ActivityOut]
    next_cursor: str | None


class ActivityFilter(BaseModel):
    status: Status | None = None
    kind: Kind | None = None
    report_kind: str | None = None
    campaign_id: int | None = None
    # Only activities at these organisations (a grid and its subtree).
    organisation_ids: frozenset[int] | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None
    overdue: bool | None = None


def _encode_cursor(activity_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps(["a", activity_id]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        tag, last_id = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        if tag != "a" or not isinstance(last_id, int) or not 0 < last_id < 2**31:
            raise ValueError(cursor)
        return last_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidActivity("cursor is not one this listing returned", field="cursor") from error


async def list_activities(  # noqa: C901, PLR0912 -- one clause per optional filter; to split after #9 merges
    *,
    member_id: int | None = None,
    scope_organisation_ids: Collection[int] | None = None,
    where: ActivityFilter | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> ActivityPage:
    """Activities of ``member_id`` or at ``scope_organisation_ids`` (or both),
    narrowed by ``where``. An empty scope lists nothing."""
    where = where or ActivityFilter()
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = Activity.select(*ACTIVITY_COLUMNS)
    if member_id is not None:
        query = query.where(Activity.member == member_id)
    if scope_organisation_ids is not None:
        if not scope_organisation_ids:
            return ActivityPage(items=[], next_cursor=None)
        query = query.where(Activity.organisation.is_in(sorted(scope_organisation_ids)))
    if where.organisation_ids is not None:
        if not where.organisation_ids:
            return ActivityPage(items=[], next_cursor=None)
        query = query.where(Activity.organisation.is_in(sorted(where.organisation_ids)))
    if where.status is not None:
        query = query.where(Activity.status == where.status.value)
    if where.kind is not None:
        query = query.where(Activity.kind == where.kind.value)
    if where.report_kind is not None:
        query = query.where(Activity.report_kind == where.report_kind)
    if where.campaign_id is not None:
        query = query.where(Activity.campaign == where.campaign_id)
    if where.started_from is not None:
        query = query.where(Activity.started_at >= where.started_from)
    if where.started_before is not None:
        query = query.where(Activity.started_at < where.started_before)
    if where.overdue is not None:
        query = query.where(Activity.overdue == where.overdue)
    if cursor is not None:
        query = query.where(Activity.id < _decode_cursor(cursor))
    rows = await query.order_by(Activity.id, ascending=False).limit(limit + 1).run()
    page = rows[:limit]
    photos = await photos_of([row["id"] for row in page])
    return ActivityPage(
        items=[activity_out(row, photos[row["id"]]) for row in page],
        next_cursor=_encode_cursor(page[-1]["id"]) if len(rows) > limit else None,
    )


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
