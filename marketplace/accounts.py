"""Ledger accounts owned by marketplace objects (ARCHITECTURE.md §2)."""

from __future__ import annotations

from community.accounts import organisation_ref
from ledger.accounts import open_account
from ledger.models import AccountBalance

# 200 (ledger account name) minus " 兑换结算".
SHOP_NAME_IN_ACCOUNT_CHARS = 195


def settlement_code(shop_id: int) -> str:
    return f"shop:{shop_id}:settlement"


async def open_settlement_account(shop_id: int, organisation_id: int, shop_name_zh: str) -> AccountBalance:
    """Points redeemed at a shop wait here until the organiser settles them."""
    return await open_account(
        settlement_code(shop_id),
        account_type="liability",
        allow_negative=False,
        owner_ref=f"shop:{shop_id}",
        scope_ref=organisation_ref(organisation_id),
        # The account name has the ledger's 200 characters; a shop name may
        # use all of its own 200, so it is shortened here, never refused.
        name_zh=f"{shop_name_zh[:SHOP_NAME_IN_ACCOUNT_CHARS]} 兑换结算",
        name_en="Shop settlement",
    )
