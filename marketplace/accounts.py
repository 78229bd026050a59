"""Ledger accounts owned by marketplace objects (ARCHITECTURE.md §2)."""

from __future__ import annotations

from community.accounts import organisation_ref
from ledger.accounts import open_account
from ledger.models import AccountBalance


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
        name_zh=f"{shop_name_zh} 兑换结算",
        name_en="Shop settlement",
    )
