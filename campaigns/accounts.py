"""The ledger account of a campaign (chart of accounts, ARCHITECTURE.md §2)."""

from __future__ import annotations

from community.accounts import organisation_ref
from ledger.accounts import open_account
from ledger.models import AccountBalance


def budget_code(campaign_id: int) -> str:
    return f"campaign:{campaign_id}:budget"


def campaign_ref(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


async def open_budget(campaign_id: int, organisation_id: int) -> AccountBalance:
    """No-negative: the ledger itself refuses any award beyond the budget."""
    return await open_account(
        budget_code(campaign_id),
        account_type="asset",
        allow_negative=False,
        owner_ref=campaign_ref(campaign_id),
        scope_ref=organisation_ref(organisation_id),
        name_zh="活动积分预算",
        name_en="Campaign budget",
    )
