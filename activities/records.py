"""Reading activities: the one way they are read (``get_activity``, with
their photos and route) and the one way they are locked (``lock_activity``).

The records themselves are ``activities.models``; the status machine is
``activities.transitions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from activities.errors import ActivityNotFound
from activities.models import ACTIVITY_VIEW_COLUMNS, ActivityRecord, ActivityView, Kind, RoutePoint
from activities.tables import Activity, ActivityPhoto, PatrolPoint
from core.database import lock_row


def not_found(activity_id: int) -> ActivityNotFound:
    return ActivityNotFound(f"activity {activity_id} does not exist", field="activity_id")


async def photos_of(activity_ids: Sequence[int]) -> dict[int, list[str]]:
    """The photos (SHA-256) attached to each activity, in attachment order."""
    if not activity_ids:
        return {}
    rows = (
        await ActivityPhoto.select(ActivityPhoto.activity, ActivityPhoto.photo.sha256.as_alias("sha256"))
        .where(ActivityPhoto.activity.is_in(list(activity_ids)))
        .order_by(ActivityPhoto.id)
        .run()
    )
    found: dict[int, list[str]] = {activity_id: [] for activity_id in activity_ids}
    for row in rows:
        found[int(row["activity"])].append(row["sha256"])
    return found


async def route_of(activity_id: int) -> list[RoutePoint]:
    """A patrol's positions, in the order they were taken."""
    rows = await PatrolPoint.select().where(PatrolPoint.activity == activity_id).order_by(PatrolPoint.at).run()
    return [RoutePoint.from_row(row) for row in rows]


async def get_activity(activity_id: int, *, replayed: bool = False) -> ActivityView:
    """The activity with its member's name, photos and (a patrol's) route;
    ``ActivityNotFound`` if there is none. No visibility check: callers
    answering a principal go through ``activities.policy``."""
    rows = await Activity.select(*ACTIVITY_VIEW_COLUMNS).where(Activity.id == activity_id).run()
    if not rows:
        raise not_found(activity_id)
    activity = ActivityView.from_row(rows[0], photos=(await photos_of([activity_id]))[activity_id], replayed=replayed)
    if activity.kind is Kind.PATROL:
        return replace(activity, route=await route_of(activity_id))
    return activity


async def lock_activity(activity_id: int) -> ActivityRecord:
    """The activity, locked until the transaction ends
    (``core.database.lock_row``); ``ActivityNotFound`` if there is none.
    Every step of the loop starts here, so concurrent steps on one activity
    take turns. Call inside ``in_write_transaction``."""
    row = await lock_row(Activity, activity_id)
    if row is None:
        raise not_found(activity_id)
    return ActivityRecord.from_row(row)
