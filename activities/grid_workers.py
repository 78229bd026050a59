"""Grid-worker ratings (星级网格员) of an organisation node, per period.

For each member holding the grid-worker post at the node or below it: the
reports they handled in the period (China-time ISO week or month) at the
node or below, how many of those on time, the reporters' average rating,
and the stars ``grid_worker_rules.star_rating`` gives those figures.

Read by the managers (organisers, admins) of the node or above
(``community.policy.managed_organisation``: 404 for a node the caller
cannot see, 403 for one seen but not managed). Two queries, each bounded
by the subtree's path range and the period: the grid workers, and the
handled reports grouped by handler (``activities_activity.handled_at`` is
indexed). At most ``MAX_WORKERS`` workers are listed (``truncated`` says
when there were more): rate a lower node for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from activities.grid_worker_rules import HandlingFigures, RatingPeriod, rating_period, star_rating
from activities.models import Kind, Status
from activities.tables import Activity
from community.access import Principal
from community.policy import managed_organisation
from community.roles import Role
from community.tree_paths import SUBTREE_END
from core.clock import utc_now

# A street has tens of grids, a district hundreds; past this, rate a lower node.
MAX_WORKERS = 500

_WORKERS_SQL = (
    "SELECT g.member AS member_id, MIN(g.organisation) AS organisation_id, m.name AS name "  # noqa: S608 -- a constant of digits; values are bound parameters
    "FROM community_role_grant AS g "
    "JOIN community_member AS m ON m.id = g.member "
    "JOIN community_organisation AS o ON o.id = g.organisation "
    f"WHERE g.role = {{}} AND o.path >= {{}} AND o.path < {{}} || '{SUBTREE_END}' "
    "GROUP BY g.member, m.name ORDER BY g.member LIMIT {}"
)

_FIGURES_SQL = (
    "SELECT a.handler AS handler, COUNT(*) AS handled, "  # noqa: S608 -- a constant of digits; values are bound parameters
    "SUM(CASE WHEN a.handled_late IS NULL THEN 0 ELSE 1 END) AS timed, "
    "SUM(CASE WHEN a.handled_late = {} THEN 1 ELSE 0 END) AS on_time, "
    "COUNT(a.rating) AS rated, COALESCE(SUM(a.rating), 0) AS rating_sum "
    "FROM activities_activity AS a "
    "JOIN community_organisation AS o ON o.id = a.organisation "
    "WHERE a.kind = {} AND a.status IN ({}, {}) AND a.handler IS NOT NULL "
    "AND a.handled_at >= {} AND a.handled_at < {} "
    f"AND o.path >= {{}} AND o.path < {{}} || '{SUBTREE_END}' "
    "GROUP BY a.handler"
)


@dataclass(frozen=True, slots=True)
class GridWorkerRating:
    member_id: int
    name: str
    organisation_id: int  # where they hold the post (the lowest id if several)
    handled: int
    timed: int
    on_time: int
    on_time_pct: Decimal | None
    rated: int
    average_rating: Decimal | None
    stars: int | None  # None: nothing timed to rate (未评级)


@dataclass(frozen=True, slots=True)
class GridWorkerRatings:
    organisation_id: int
    period: RatingPeriod
    workers: tuple[GridWorkerRating, ...]
    truncated: bool


def _rating(row: dict[str, object], figures: HandlingFigures) -> GridWorkerRating:
    return GridWorkerRating(
        member_id=int(str(row["member_id"])),
        name=str(row["name"]),
        organisation_id=int(str(row["organisation_id"])),
        handled=figures.handled,
        timed=figures.timed,
        on_time=figures.on_time,
        on_time_pct=figures.on_time_pct,
        rated=figures.rated,
        average_rating=figures.average_rating,
        stars=star_rating(figures),
    )


def _order(rating: GridWorkerRating) -> tuple[int, int, int]:
    """Most stars first (unrated last), then most handled, then by id."""
    return (-(rating.stars or 0), -rating.handled, rating.member_id)


async def grid_worker_ratings(
    principal: Principal, organisation_id: int, period: str, *, now: datetime | None = None
) -> GridWorkerRatings:
    """The ratings of the grid workers at ``organisation_id`` and below in
    ``period`` (``week``, ``month``, ``week:2026-W48``, ``month:2026-11``)."""
    chosen = rating_period(period, now or utc_now())
    node = await managed_organisation(principal, organisation_id)
    workers = await Activity.raw(_WORKERS_SQL, Role.GRID_WORKER.value, node.path, node.path, MAX_WORKERS + 1).run()
    truncated = len(workers) > MAX_WORKERS
    workers = workers[:MAX_WORKERS]
    rows = await Activity.raw(
        _FIGURES_SQL,
        False,
        Kind.REPORT.value,
        Status.HANDLED.value,
        Status.CLOSED.value,
        chosen.starts_at,
        chosen.ends_at,
        node.path,
        node.path,
    ).run()
    by_handler = {
        int(row["handler"]): HandlingFigures(
            handled=int(row["handled"]),
            timed=int(row["timed"] or 0),
            on_time=int(row["on_time"] or 0),
            rated=int(row["rated"]),
            rating_sum=int(row["rating_sum"]),
        )
        for row in rows
    }
    nothing = HandlingFigures(handled=0, timed=0, on_time=0, rated=0, rating_sum=0)
    ratings = [_rating(row, by_handler.get(int(row["member_id"]), nothing)) for row in workers]
    return GridWorkerRatings(
        organisation_id=organisation_id, period=chosen, workers=tuple(sorted(ratings, key=_order)), truncated=truncated
    )
