"""Overdue items per organisation (超期事项): what missed its response
deadline and who answers for it now.

Readable by managers of the node and by holders of a post (three heads,
grid worker) or a managing role at the node or above it. To anyone else
the node does not exist (404), so the list reveals nothing about the tree.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import QueryParameter

from activities.deadline_rules import Stage
from activities.deadlines import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, OverduePage, list_overdue_for
from activities.models import Kind
from activities.policy import check_deadline_watcher
from api.dependencies import ActingPrincipal
from api.guards import principal_of
from api.params import MAX_ID, Id
from api.routing import get


async def requires_deadline_watcher(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """``activities.policy.check_deadline_watcher`` before the query string
    is even read, so to someone who does not watch the node it does not
    exist, whatever they ask of it. The service checks again itself."""
    principal = principal_of(connection)
    organisation_id = connection.path_params.get("organisation_id")
    if not isinstance(organisation_id, int) or not 1 <= organisation_id <= MAX_ID:
        return  # out of the column's range: the handler's parameter check answers 422
    await check_deadline_watcher(principal, organisation_id)


class OverdueController(Controller):
    path = "/api/v1/organisations"
    tags = ["activities"]

    @get(
        "/{organisation_id:int}/overdue",
        guards=[requires_deadline_watcher],
        operation_id="listOverdueActivities",
        summary="超期事项 · Overdue items of an organisation and its subtree, most urgent first",
    )
    async def overdue(
        self,
        principal: ActingPrincipal,
        organisation_id: Id,
        cursor: Annotated[
            str | None, QueryParameter(max_length=100, description="next_cursor of the page before")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        stage: Annotated[Stage | None, QueryParameter()] = None,
        kind: Annotated[Kind | None, QueryParameter()] = None,
    ) -> OverduePage:
        return await list_overdue_for(principal, organisation_id, cursor=cursor, limit=limit, stage=stage, kind=kind)
