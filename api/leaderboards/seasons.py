"""Seasons (四季竞赛): organisers define them; whoever sees the node reads them.

The rules (who, what may change, freezing) are ``leaderboards.seasons`` and
``leaderboards.season_rules``; these handlers parse, call and shape.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller
from litestar.params import JSONBody, QueryParameter

from api.dependencies import ActingPrincipal
from api.guards import requires_manager, requires_member
from api.params import MAX_ID, Id
from api.routing import delete, get, patch, post
from api.schemas.seasons import SeasonIn, SeasonListOut, SeasonOut, SeasonPatch
from leaderboards.seasons import (
    SeasonChange,
    SeasonDraft,
    create_season,
    delete_season,
    list_seasons,
    update_season,
    visible_season,
)


class SeasonsController(Controller):
    path = "/api/v1/seasons"
    tags = ["leaderboards"]
    guards = [requires_member]

    @post("", guards=[requires_manager], operation_id="createSeason", summary="新建赛季 · Define a season on a node")
    async def create(self, principal: ActingPrincipal, data: JSONBody[SeasonIn]) -> SeasonOut:
        draft = SeasonDraft(
            name_zh=data.name_zh,
            name_en=data.name_en,
            organisation_id=data.organisation_id,
            first_day=data.first_day,
            last_day=data.last_day,
        )
        return SeasonOut.of(await create_season(principal, draft))

    @get("", operation_id="listSeasons", summary="赛季列表 · Seasons on the nodes you can see")
    async def list_all(
        self,
        principal: ActingPrincipal,
        organisation_id: Annotated[
            int | None, QueryParameter(ge=1, le=MAX_ID, description="only this node's seasons")
        ] = None,
    ) -> SeasonListOut:
        seasons = await list_seasons(principal, organisation_id=organisation_id)
        return SeasonListOut(items=[SeasonOut.of(season) for season in seasons])

    @get("/{season_id:int}", operation_id="getSeason", summary="赛季 · One season")
    async def read(self, principal: ActingPrincipal, season_id: Id) -> SeasonOut:
        return SeasonOut.of(await visible_season(principal, season_id))

    @patch(
        "/{season_id:int}",
        guards=[requires_manager],
        operation_id="updateSeason",
        summary="修改赛季 · Rename a season; move its dates before it starts",
    )
    async def update(self, principal: ActingPrincipal, season_id: Id, data: JSONBody[SeasonPatch]) -> SeasonOut:
        change = SeasonChange(
            name_zh=data.name_zh, name_en=data.name_en, first_day=data.first_day, last_day=data.last_day
        )
        return SeasonOut.of(await update_season(principal, season_id, change))

    @delete(
        "/{season_id:int}",
        guards=[requires_manager],
        operation_id="deleteSeason",
        summary="删除赛季 · Delete a season before it starts",
    )
    async def remove(self, principal: ActingPrincipal, season_id: Id) -> None:
        await delete_season(principal, season_id)
