"""Money into a campaign budget, and the end of a campaign.

fund  → issuance of the issuing organisation → ``campaign:<id>:budget``
        (by a manager of the campaign's organisation *and* of the issuer:
        ``campaigns.policy``)
close → the unspent budget goes back to issuance; no more awards.

Both run in one transaction that starts by locking the campaign row (the
same lock awards take), with the ledger entry and the audit record, so the
budget never shows a half-done state. Paying awards out of the budget and
taking them back is ``campaigns.budget``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

from campaigns.accounts import budget_code, campaign_ref
from campaigns.budget import issuer_for, return_to_issuance
from campaigns.campaigns import find_locked_campaign, get_campaign
from campaigns.errors import CampaignClosed, InvalidCampaignData
from campaigns.models import CampaignRecord, CampaignStatus, CampaignWithBudget
from campaigns.policy import check_campaign_managed, check_issuer_managed
from campaigns.tables import Campaign
from community import audit
from community.access import Principal
from community.accounts import issuance_code
from core.clock import utc_now
from core.database import in_write_transaction
from ledger.accounts import get_balance
from ledger.amounts import from_minor, parse_amount
from ledger.models import EntryRecord
from ledger.posting import lock_accounts, transfer

# One funding at most: far above a community's yearly budget, so a typo
# (an extra zero or three) is refused rather than minted.
MAX_FUNDING = Decimal("10000000")


@dataclass(frozen=True, slots=True)
class Funding:
    entry: EntryRecord
    # The budget's balance right after this funding (or its replay).
    budget: Decimal


async def _managed_locked(principal: Principal, campaign_id: int) -> CampaignRecord:
    """The campaign row, locked, if the principal manages its organisation;
    ``CampaignNotFound`` (worded as for a missing one) otherwise."""
    return await check_campaign_managed(principal, campaign_id, await find_locked_campaign(campaign_id))


async def _fund(principal: Principal, campaign_id: int, amount: Decimal | str, idempotency_key: str) -> Funding:
    campaign = await _managed_locked(principal, campaign_id)
    points = parse_amount(amount)
    if not Decimal(0) < points <= MAX_FUNDING:
        raise InvalidCampaignData(f"a funding must be between 0.01 and {MAX_FUNDING}", field="amount")
    issuer = await issuer_for(campaign.organisation_id)
    await check_issuer_managed(principal, issuer)
    if not campaign.is_open:
        raise CampaignClosed(f"campaign {campaign_id} is closed and cannot be funded", field="campaign_id")
    entry = await transfer(
        debit_code=issuance_code(issuer.id),
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


async def fund_campaign(
    principal: Principal, campaign_id: int, *, amount: Decimal | str, idempotency_key: str
) -> Funding:
    """Move ``amount`` from issuance into the budget of a campaign the
    principal manages (``CampaignNotFound`` for any other), when the
    principal also manages the issuer (``AccessRefused`` otherwise). The entry and
    its audit record commit together. Retrying with the same key funds once
    (and audits once); the same key with another amount is refused."""
    work = functools.partial(_fund, principal, campaign_id, amount, idempotency_key)
    return await in_write_transaction(work, retry_unique=True)


async def _close(principal: Principal, campaign_id: int) -> None:
    campaign = await _managed_locked(principal, campaign_id)
    if not campaign.is_open:
        return
    accounts = await lock_accounts([budget_code(campaign_id)])
    budget = accounts[budget_code(campaign_id)]
    # Points on hold (awards held for fraud review) stay in the budget until
    # their review posts them to a wallet or, voided, returns them to issuance.
    remaining = from_minor(budget.balance_minor - budget.held_minor)
    await (
        Campaign.update(
            {
                Campaign.status: CampaignStatus.CLOSED.value,
                Campaign.closed_at: utc_now(),
                Campaign.closed_by: principal.member_id,
            }
        )
        .where(Campaign.id == campaign_id)
        .run()
    )
    await return_to_issuance(campaign, remaining, actor_ref=principal.ref)
    await audit.record(principal.ref, "campaign.close", campaign_ref(campaign_id), returned=str(remaining))


async def close_campaign(principal: Principal, campaign_id: int) -> CampaignWithBudget:
    """Close a campaign the principal manages and return its unspent budget
    (what is not on hold) to issuance, with the audit record, in one transaction. Closing a closed
    campaign changes nothing."""
    await in_write_transaction(functools.partial(_close, principal, campaign_id))
    return await get_campaign(campaign_id)
