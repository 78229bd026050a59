"""Campaigns: organisers create, fund and close them; members see the ones
that cover where they live."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, QueryParameter

from activities.figures import campaign_figures
from api.earning_schemas import (
    CampaignDetailOut,
    CampaignIn,
    CampaignOutModel,
    CampaignPageOut,
    FundIn,
    FundOut,
    campaign_detail_out,
    campaign_out,
)
from api.errors import ProblemException
from api.guards import principal_of, requires_manager, requires_member
from api.params import Id, IdempotencyKey
from campaigns.campaigns import CampaignOut, create_campaign, get_campaign, list_campaigns, parse_rules
from campaigns.errors import CampaignNotFound
from campaigns.funding import close_campaign, fund_campaign
from community import audit
from community.access import Principal, can_manage_organisation, managed_organisations
from community.organisations import ancestor_ids
from ledger.accounts import get_balance

CampaignStatus = Literal["open", "closed"]


async def _visible(principal: Principal, campaign_id: int, *, manage: bool = False) -> CampaignOut:
    """Members see campaigns of their organisation and those above it;
    managers also those below. Anything else is 404."""
    try:
        campaign = await get_campaign(campaign_id)
    except CampaignNotFound:
        campaign = None
    if campaign is not None:
        if await can_manage_organisation(principal, campaign.organisation_id):
            return campaign
        if not manage and campaign.organisation_id in await ancestor_ids(principal.home_organisation_id):
            return campaign
    raise ProblemException(404, "campaign_not_found", f"no campaign {campaign_id} for you", field="campaign_id")


class CampaignsController(Controller):
    path = "/api/v1/campaigns"
    tags = ["campaigns"]

    @post("", guards=[requires_manager], operation_id="createCampaign", summary="发起活动 · Create a campaign")
    async def create(self, request: Request[Any, Any, Any], data: JSONBody[CampaignIn]) -> CampaignOutModel:
        principal = principal_of(request)
        if not await can_manage_organisation(principal, data.organisation_id):
            raise ProblemException(403, "forbidden", "you do not manage this organisation", field="organisation_id")
        rules = parse_rules(data.rules.model_dump())
        campaign = await create_campaign(
            organisation_id=data.organisation_id,
            title_zh=data.title_zh,
            title_en=data.title_en,
            description_zh=data.description_zh,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            is_default=data.is_default,
            rules=rules,
            created_by=principal.member_id,
        )
        await audit.record(principal.ref, "campaign.create", f"campaign:{campaign.id}", title=campaign.title_zh)
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
        principal = principal_of(request)
        visible = set(await ancestor_ids(principal.home_organisation_id)) | await managed_organisations(principal)
        if organisation_id is not None:
            visible &= {organisation_id}
        page = await list_campaigns(organisation_ids=visible, status=status, cursor=cursor, limit=limit)
        return CampaignPageOut(items=[campaign_out(c) for c in page.items], next_cursor=page.next_cursor)

    @get("/{campaign_id:int}", guards=[requires_member], operation_id="getCampaign", summary="活动详情与统计")
    async def detail(self, request: Request[Any, Any, Any], campaign_id: Id) -> CampaignDetailOut:
        campaign = await _visible(principal_of(request), campaign_id)
        return campaign_detail_out(campaign, await campaign_figures(campaign_id))

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
        principal = principal_of(request)
        campaign = await _visible(principal, campaign_id, manage=True)
        entry = await fund_campaign(
            campaign_id, amount=data.amount, actor_member_id=principal.member_id, idempotency_key=idempotency_key
        )
        if not entry.replayed:
            await audit.record(principal.ref, "campaign.fund", f"campaign:{campaign_id}", amount=str(data.amount))
        budget = await get_balance(campaign.budget_account)
        return FundOut(entry_id=entry.id, amount=data.amount, budget=budget.balance, replayed=entry.replayed)

    @post(
        "/{campaign_id:int}/close",
        guards=[requires_manager],
        operation_id="closeCampaign",
        summary="结束活动，退回剩余预算 · Close and return the unspent budget",
        status_code=200,
    )
    async def close(self, request: Request[Any, Any, Any], campaign_id: Id) -> CampaignOutModel:
        principal = principal_of(request)
        await _visible(principal, campaign_id, manage=True)
        campaign = await close_campaign(campaign_id, actor_member_id=principal.member_id)
        await audit.record(principal.ref, "campaign.close", f"campaign:{campaign_id}")
        return campaign_out(campaign)
