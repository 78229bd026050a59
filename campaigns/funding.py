"""Money in and out of a campaign budget.

fund  → issuance of the issuing organisation → ``campaign:<id>:budget``
close → the unspent budget goes back to issuance; no more awards.

Both are single ledger entries (or one locked transaction for close), so the
budget never shows a half-done state.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from campaigns.accounts import budget_code, campaign_ref
from campaigns.campaigns import CLOSED, OPEN, CampaignOut, get_campaign, lock_campaign, managed_campaign
from campaigns.errors import CampaignClosed, InvalidCampaignData, NoIssuer
from campaigns.tables import Campaign
from community import audit
from community.access import Principal
from community.accounts import issuance_code
from community.organisations import issuing_organisation_for
from core.clock import utc_now
from core.database import in_write_transaction
from ledger.accounts import get_balance
from ledger.amounts import from_minor, parse_amount
from ledger.models import EntryRecord
from ledger.posting import lock_accounts, transfer

MAX_FUNDING = Decimal("10000000")


async def issuance_for(organisation_id: int) -> str:
    issuer = await issuing_organisation_for(organisation_id)
    if issuer is None:
        raise NoIssuer("no organisation at or above this one issues points", field="organisation_id")
    return issuance_code(issuer.id)


class Funding(BaseModel):
    entry: EntryRecord
    # The budget's balance right after this funding (or its replay).
    budget: Decimal


async def fund_campaign(
    principal: Principal, campaign_id: int, *, amount: Decimal | str, idempotency_key: str
) -> Funding:
    """Move ``amount`` from issuance into the budget of a campaign the
    principal manages (``CampaignNotFound`` for any other). The entry and
    its audit record commit together. Retrying with the same key funds once
    (and audits once); the same key with another amount is refused."""

    async def work() -> Funding:
        campaign = await managed_campaign(principal, campaign_id)
        points = parse_amount(amount)
        if not Decimal(0) < points <= MAX_FUNDING:
            raise InvalidCampaignData(f"a funding must be between 0.01 and {MAX_FUNDING}", field="amount")
        issuance = await issuance_for(campaign.organisation_id)
        row = await lock_campaign(campaign_id)
        if row["status"] != OPEN:
            raise CampaignClosed(f"campaign {campaign_id} is closed and cannot be funded", field="campaign_id")
        entry = await transfer(
            debit_code=issuance,
            credit_code=budget_code(campaign_id),
            amount=points,
            kind="campaign_fund",
            reason_zh=f"活动预算拨付：{campaign.title_zh}",
            reason_en=f"Campaign budget: {campaign.title_en or campaign.title_zh}",
            metadata={"campaign_id": campaign_id},
            actor_ref=principal.ref,
            cause_ref=campaign_ref(campaign_id),
            idempotency_key=f"campaign:{campaign_id}:fund:{idempotency_key}",
        )
        if not entry.replayed:
            await audit.record(principal.ref, "campaign.fund", campaign_ref(campaign_id), amount=str(points))
        return Funding(entry=entry, budget=(await get_balance(budget_code(campaign_id))).balance)

    return await in_write_transaction(work, retry_unique=True)


async def return_to_issuance(campaign_id: int, organisation_id: int, amount: Decimal, *, actor_ref: str) -> None:
    """Inside an open transaction: sweep ``amount`` from a closed campaign's
    budget back to issuance (points a reversal returned after closing)."""
    if amount <= 0:
        return
    await transfer(
        debit_code=budget_code(campaign_id),
        credit_code=await issuance_for(organisation_id),
        amount=amount,
        kind="campaign_return",
        reason_zh="活动结束，预算余额退回",
        reason_en="Campaign closed: unspent budget returned",
        metadata={"campaign_id": campaign_id},
        actor_ref=actor_ref,
        cause_ref=campaign_ref(campaign_id),
    )


async def close_campaign(principal: Principal, campaign_id: int) -> CampaignOut:
    """Close a campaign the principal manages and return its unspent budget
    to issuance, with the audit record, in one transaction. Closing a closed
    campaign changes nothing."""

    async def work() -> None:
        campaign = await managed_campaign(principal, campaign_id)
        row = await lock_campaign(campaign_id)
        if row["status"] == CLOSED:
            return
        accounts = await lock_accounts([budget_code(campaign_id)])
        remaining = accounts[budget_code(campaign_id)].balance_minor
        await (
            Campaign.update(
                {Campaign.status: CLOSED, Campaign.closed_at: utc_now(), Campaign.closed_by: principal.member_id}
            )
            .where(Campaign.id == campaign_id)
            .run()
        )
        await return_to_issuance(campaign_id, campaign.organisation_id, from_minor(remaining), actor_ref=principal.ref)
        returned = str(from_minor(remaining))
        await audit.record(principal.ref, "campaign.close", campaign_ref(campaign_id), returned=returned)

    await in_write_transaction(work)
    return await get_campaign(campaign_id)
