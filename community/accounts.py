"""Ledger accounts owned by community objects (the chart of accounts, ARCHITECTURE.md §2).

The ledger knows only codes and opaque refs; this module is where a member
or an organisation is tied to its accounts.
"""

from __future__ import annotations

from ledger.accounts import open_account
from ledger.models import AccountBalance


def wallet_code(member_id: int) -> str:
    return f"volunteer:{member_id}:wallet"


def issuance_code(organisation_id: int) -> str:
    return f"org:{organisation_id}:issuance"


def expired_code(organisation_id: int) -> str:
    return f"org:{organisation_id}:expired"


def member_ref(member_id: int) -> str:
    return f"member:{member_id}"


def organisation_ref(organisation_id: int) -> str:
    return f"org:{organisation_id}"


async def open_wallet(member_id: int, home_organisation_id: int) -> AccountBalance:
    """A member's wallet: no-negative, scoped to their home organisation."""
    return await open_account(
        wallet_code(member_id),
        account_type="liability",
        allow_negative=False,
        owner_ref=member_ref(member_id),
        scope_ref=organisation_ref(home_organisation_id),
        name_zh="志愿者积分账户",
        name_en="Volunteer wallet",
    )


async def open_issuer_accounts(organisation_id: int) -> None:
    """Where an issuing organisation mints points, and where expiries land."""
    await open_account(
        issuance_code(organisation_id),
        account_type="equity",
        allow_negative=True,
        owner_ref=organisation_ref(organisation_id),
        scope_ref=organisation_ref(organisation_id),
        name_zh="积分发行",
        name_en="Points issuance",
    )
    await open_account(
        expired_code(organisation_id),
        account_type="equity",
        allow_negative=True,
        owner_ref=organisation_ref(organisation_id),
        scope_ref=organisation_ref(organisation_id),
        name_zh="过期积分",
        name_en="Expired points",
    )
