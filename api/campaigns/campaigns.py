"""Campaigns: organisers create, fund and close them; members see the ones
that cover where they live. Who may do which is ``campaigns/policy.py``,
applied by the services (fund and close check it on the locked campaign row,
so these handlers pass ids, not resolved campaigns)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller
from litestar.params import JSONBody, QueryParameter

from activities.figures import visible_campaign_figures
from api.dependencies import ActingPrincipal
from api.guards import requires_manager, requires_member
from api.params import MAX_ID, Id, IdempotencyKey
from api.routing import get, post
from api.schemas.campaigns import CampaignDetailOut, CampaignIn, CampaignOut, CampaignPageOut, FundIn, FundOut
from campaigns.campaigns import MAX_PAGE_SIZE, create_campaign, list_visible_campaigns
from campaigns.funding import close_campaign, fund_campaign
from campaigns.models import CampaignStatus


class CampaignsController(Controller):
    path = "/api/v1/campaigns"
    tags = ["campaigns"]

    @post("", guards=[requires_manager], operation_id="createCampaign", summary="发起活动 · Create a campaign")
    async def create(self, principal: ActingPrincipal, data: JSONBody[CampaignIn]) -> CampaignOut:
        campaign = await create_campaign(
            principal,
            organisation_id=data.organisation_id,
            title_zh=data.title_zh,
            title_en=data.title_en,
            description_zh=data.description_zh,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            is_default=data.is_default,
            rules=data.rules.model_dump(),
        )
        return CampaignOut.of(campaign)

    @get("", guards=[requires_member], operation_id="listCampaigns", summary="活动列表 · Campaigns I can see")
    async def list_all(
        self,
        principal: ActingPrincipal,
        status: Annotated[CampaignStatus | None, QueryParameter()] = None,
        organisation_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = 20,
    ) -> CampaignPageOut:
        page = await list_visible_campaigns(
            principal, organisation_id=organisation_id, status=status, cursor=cursor, limit=limit
        )
        return CampaignPageOut(items=[CampaignOut.of(c) for c in page.items], next_cursor=page.next_cursor)

    @get("/{campaign_id:int}", guards=[requires_member], operation_id="getCampaign", summary="活动详情与统计")
    async def detail(self, principal: ActingPrincipal, campaign_id: Id) -> CampaignDetailOut:
        campaign, figures = await visible_campaign_figures(principal, campaign_id)
        return CampaignDetailOut.of_figures(campaign, figures)

    @post(
        "/{campaign_id:int}/fundings",
        guards=[requires_manager],
        operation_id="fundCampaign",
        summary="拨付预算 · Fund the campaign from issuance",
        description=(
            "Needs a manager of the campaign's organisation (404 otherwise) and of the issuing "
            "organisation whose issuance is debited (403 issuer_not_managed otherwise)."
        ),
        status_code=201,
    )
    async def fund(
        self,
        principal: ActingPrincipal,
        campaign_id: Id,
        data: JSONBody[FundIn],
        idempotency_key: IdempotencyKey,
    ) -> FundOut:
        funding = await fund_campaign(principal, campaign_id, amount=data.amount, idempotency_key=idempotency_key)
        entry = funding.entry
        return FundOut(entry_id=entry.id, amount=data.amount, budget=funding.budget, replayed=entry.replayed)

    @post(
        "/{campaign_id:int}/close",
        guards=[requires_manager],
        operation_id="closeCampaign",
        summary="结束活动，退回剩余预算 · Close and return the unspent budget",
        status_code=200,
    )
    async def close(self, principal: ActingPrincipal, campaign_id: Id) -> CampaignOut:
        return CampaignOut.of(await close_campaign(principal, campaign_id))
