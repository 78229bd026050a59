"""Overdue items per organisation (超期事项): what missed its response
deadline and who answers for it now.

Readable by managers of the node and by holders of a post (three heads,
grid worker) or a managing role at the node or above it. To anyone else
the node does not exist (404), so the list reveals nothing about the tree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import QueryParameter
from pydantic import BaseModel

from activities.deadlines import MAX_PAGE_SIZE, InvalidOverdueQuery, OverdueItem, list_overdue_for
from activities.policy import check_deadline_watcher
from api.errors import ProblemException
from api.guards import principal_of
from api.params import MAX_ID, Id

Stage = Literal["accept", "finish"]
ActivityKind = Literal["service", "patrol", "report"]


class OverdueItemOut(BaseModel):
    id: int
    kind: str
    report_kind: str
    title: str
    status: str
    stage: str
    organisation_id: int
    responsible_organisation_id: int
    due_at: datetime
    overdue: bool
    escalations: int
    submitted_at: datetime | None


class OverduePageOut(BaseModel):
    items: list[OverdueItemOut]
    next_cursor: str | None


def _item_out(item: OverdueItem) -> OverdueItemOut:
    return OverdueItemOut(**item.model_dump())


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
        request: Request[Any, Any, Any],
        organisation_id: Id,
        cursor: Annotated[
            str | None, QueryParameter(max_length=100, description="next_cursor of the page before")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = 20,
        stage: Annotated[Stage | None, QueryParameter()] = None,
        kind: Annotated[ActivityKind | None, QueryParameter()] = None,
    ) -> OverduePageOut:
        try:
            page = await list_overdue_for(
                principal_of(request), organisation_id, cursor=cursor, limit=limit, stage=stage, kind=kind
            )
        except InvalidOverdueQuery as error:
            raise ProblemException(422, "validation_error", error.message, field=error.field) from error
        return OverduePageOut(items=[_item_out(item) for item in page.items], next_cursor=page.next_cursor)
