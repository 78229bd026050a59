"""Grid-worker ratings (星级网格员) of an organisation node.

``GET /api/v1/organisations/{id}/grid-worker-ratings?period=``: the grid
workers at the node and below, with what they handled in the period, the
on-time share, the reporters' average rating and 1–5 stars. Organisers
and admins of the node or above (the role guard first, then
``community.policy.managed_organisation`` in the service: 404 for a node
one cannot see, 403 for one seen but not managed).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller
from litestar.openapi.spec import Example
from litestar.params import QueryParameter

from activities.grid_worker_rules import MAX_PERIOD_CHARS
from activities.grid_workers import grid_worker_ratings
from api.dependencies import ActingPrincipal
from api.guards import requires_manager
from api.params import Id
from api.routing import get
from api.schemas.activities import GridWorkerRatingsOut


class GridWorkerRatingsController(Controller):
    path = "/api/v1/organisations"
    tags = ["activities"]
    guards = [requires_manager]

    @get(
        "/{organisation_id:int}/grid-worker-ratings",
        operation_id="listGridWorkerRatings",
        summary="星级网格员 · Grid workers' on-time handling, reporters' rating and stars, per week or month",
    )
    async def ratings(
        self,
        principal: ActingPrincipal,
        organisation_id: Id,
        period: Annotated[
            str,
            QueryParameter(
                max_length=MAX_PERIOD_CHARS,
                description="week or month (the current one, China time), or week:2026-W48, month:2026-11",
                examples=[Example(value="month:2026-11")],
            ),
        ] = "month",
    ) -> GridWorkerRatingsOut:
        return GridWorkerRatingsOut.of(await grid_worker_ratings(principal, organisation_id, period))
