"""A campaign's budget pays awards out and takes them back.

The budget is the ledger account ``campaign:<id>:budget`` (no-negative).
This module is the only code that moves points out of it to a volunteer, or
back into it, or on from it to issuance; the activities app decides *what*
is owed (``activities.earning``) and calls ``pay`` / ``take_back``.

Guarantees:
- **the budget rule** (``campaigns.rules.check_budget``): an award is paid
  whole from what is left in the budget, or refused with ``BudgetExhausted``
  naming the campaign and nothing written; the ledger's no-negative rule on
  the budget account is the same check, made with the account row locked,
  so concurrent awards cannot overdraw it;
- one ledger entry per payment, under the caller's idempotency key;
- a reversal that lands in the budget of a campaign closed since goes on
  to issuance in the same transaction, as closing would have sent it, so a
  closed campaign's budget stays empty.

Everything here runs inside the caller's transaction, with the campaign row
already locked by the caller (``campaigns.campaigns.locked_campaign`` or
``applicable_campaign(lock=True)``). Lock order, the same on every path:
activity → campaign → ledger accounts (ascending id, taken once, by the
posting itself).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from campaigns.accounts import budget_code, campaign_ref
from campaigns.errors import NoIssuer
from campaigns.models import CampaignRecord
from campaigns.rules import check_budget
from community.accounts import issuance_code, open_wallet, wallet_code
from community.members import home_organisation_of
from community.models import OrganisationRecord
from community.organisations import issuing_organisation_for
from core.database import after_commit
from core.nudges import awards_committed
from ledger.errors import AccountNotFound, InsufficientFunds
from ledger.models import EntryRecord
from ledger.posting import transfer
from ledger.reversal import reverse_entry


@dataclass(frozen=True, slots=True)
class Payment:
    """Points a volunteer is owed from a campaign, and how the entry reads."""

    member_id: int
    amount: Decimal
    kind: str
    reason_zh: str
    reason_en: str
    actor_ref: str
    cause_ref: str
    idempotency_key: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Refund:
    """One earlier payment to take back (its entry is reversed whole)."""

    entry_id: int
    amount: Decimal
    reason_zh: str
    reason_en: str
    idempotency_key: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


async def issuer_for(organisation_id: int) -> OrganisationRecord:
    """The organisation whose issuance funds campaigns of ``organisation_id``:
    the nearest issuer at or above it."""
    issuer = await issuing_organisation_for(organisation_id)
    if issuer is None:
        raise NoIssuer("no organisation at or above this one issues points", field="organisation_id")
    return issuer


async def issuance_for(organisation_id: int) -> str:
    """The issuance account that funds campaigns of ``organisation_id``."""
    return issuance_code((await issuer_for(organisation_id)).id)


async def _post(campaign: CampaignRecord, payment: Payment) -> EntryRecord:
    return await transfer(
        debit_code=budget_code(campaign.id),
        credit_code=wallet_code(payment.member_id),
        amount=payment.amount,
        kind=payment.kind,
        reason_zh=payment.reason_zh,
        reason_en=payment.reason_en,
        metadata={"campaign_id": campaign.id, **payment.metadata},
        actor_ref=payment.actor_ref,
        cause_ref=payment.cause_ref,
        idempotency_key=payment.idempotency_key,
    )


async def pay(campaign: CampaignRecord, payment: Payment) -> int:
    """Budget → the member's wallet; the entry's id.

    The posting locks the budget and the wallet once and checks the budget
    there; a refusal on the budget comes back as ``BudgetExhausted`` (the
    budget rule), not as an account's ``InsufficientFunds``. Whoever has a
    verified activity has earned: a member who holds no earning role (an
    organiser logging service) gets their wallet on their first award.
    """
    try:
        try:
            entry = await _post(campaign, payment)
        except AccountNotFound as missing:
            if missing.account_code != wallet_code(payment.member_id):
                raise
            await open_wallet(payment.member_id, await home_organisation_of(payment.member_id))
            entry = await _post(campaign, payment)
    except InsufficientFunds as refused:
        if refused.account_code == budget_code(campaign.id):
            check_budget(campaign.id, available=refused.available, amount=payment.amount)
        raise
    # Wakes the leaderboards' feed once this commits (a hint; its cursor decides).
    await after_commit(awards_committed.fire)
    return entry.id


async def return_to_issuance(campaign: CampaignRecord, amount: Decimal, *, actor_ref: str) -> None:
    """Sweep ``amount`` from the campaign's budget back to the issuance that
    funded it (closing, or points a reversal returned after closing)."""
    if amount <= 0:
        return
    await transfer(
        debit_code=budget_code(campaign.id),
        credit_code=await issuance_for(campaign.organisation_id),
        amount=amount,
        kind="campaign_return",
        reason_zh="活动结束，预算余额退回",
        reason_en="Campaign closed: unspent budget returned",
        metadata={"campaign_id": campaign.id},
        actor_ref=actor_ref,
        cause_ref=campaign_ref(campaign.id),
    )


async def take_back(campaign: CampaignRecord, refunds: Sequence[Refund], *, actor_ref: str) -> list[int]:
    """Reverse each payment, in order, into the budget; the reversals' ids.

    If the campaign has closed since, what came back goes on to issuance.
    ``InsufficientFunds`` if the volunteer has already spent the points:
    the caller's transaction then rolls back whatever this call did.
    """
    reversal_ids: list[int] = []
    for refund in refunds:
        reversal = await reverse_entry(
            refund.entry_id,
            reason_zh=refund.reason_zh,
            reason_en=refund.reason_en,
            actor_ref=actor_ref,
            metadata=dict(refund.metadata),
            idempotency_key=refund.idempotency_key,
        )
        reversal_ids.append(reversal.id)
    await after_commit(awards_committed.fire)
    if not campaign.is_open:
        returned = sum((refund.amount for refund in refunds), Decimal("0.00"))
        await return_to_issuance(campaign, returned, actor_ref=actor_ref)
    return reversal_ids
