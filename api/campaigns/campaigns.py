"""Campaigns: organisers create, fund and close them; members see the ones
that cover where they live. Who may do which is ``campaigns/policy.py``,
applied by the services."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, QueryParameter

from activities.figures import visible_campaign_figures
from api.guards import principal_of, requires_manager, requires_member
from api.params import Id, IdempotencyKey
from api.schemas.activities import (
    CampaignDetailOut,
    CampaignIn,
    CampaignOutModel,
    CampaignPageOut,
    FundIn,
    FundOut,
    campaign_detail_out,
    campaign_out,
)
from campaigns.campaigns import create_campaign, list_visible_campaigns
from campaigns.funding import close_campaign, fund_campaign

CampaignStatus = Literal["open", "closed"]


class CampaignsController(Controller):
    path = "/api/v1/campaigns"
    tags = ["campaigns"]

    @post("", guards=[requires_manager], operation_id="createCampaign", summary="发起活动 · Create a campaign")
    async def create(self, request: Request[Any, Any, Any], data: JSONBody[CampaignIn]) -> CampaignOutModel:
        campaign = await create_campaign(
            principal_of(request),
            organisation_id=data.organisation_id,
            title_zh=data.title_zh,
            title_en=data.title_en,
            description_zh=data.description_zh,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            is_default=data.is_default,
            rules=data.rules.model_dump(),
        )
        return campaign_out(campaign)

    @get("", guards=[requires_member], operation_id="listCampaigns", summary="活动列表 · Campaigns I can see")
    async def list_all(
        self,
        request: Request[Any, Any, Any],
        status: Annotated[CampaignStatus | None, QueryParameter()] = None,
        organisation_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> CampaignPageOut:
        page = await list_visible_campaigns(
            principal_of(request), organisation_id=organisation_id, status=status, cursor=cursor, limit=limit
        )
        return CampaignPageOut(items=[campaign_out(c) for c in page.items], next_cursor=page.next_cursor)

    @get("/{campaign_id:int}", guards=[requires_member], operation_id="getCampaign", summary="活动详情与统计")
    async def detail(self, request: Request[Any, Any, Any], campaign_id: Id) -> CampaignDetailOut:
        campaign, figures = await visible_campaign_figures(principal_of(request), campaign_id)
        return campaign_detail_out(campaign, figures)

    @post(
        "/{campaign_id:int}/fundings",
        guards=[requires_manager],
        operation_id="fundCampaign",
        summary="拨付预算 · Fund the campaign from issuance",
        status_code=201,
    )
    async def fund(
        self, request: Request[Any, Any, Any], campaign_id: Id, data: JSONBody[FundIn], idempotency_key: IdempotencyKey
    ) -> FundOut:
        funding = await fund_campaign(
            principal_of(request), campaign_id, amount=data.amount, idempotency_key=idempotency_key
        )
        entry = funding.entry
        return FundOut(entry_id=entry.id, amount=data.amount, budget=funding.budget, replayed=entry.replayed)

    @post(
        "/{campaign_id:int}/close",
        guards=[requires_manager],
        operation_id="closeCampaign",
        summary="结束活动，退回剩余预算 · Close and return the unspent budget",
        status_code=200,
    )
    async def close(self, request: Request[Any, Any, Any], campaign_id: Id) -> CampaignOutModel:
        return campaign_out(await close_campaign(principal_of(request), campaign_id))
