"""Ledger accounts owned by community objects (the chart of accounts, ARCHITECTURE.md §2).

The ledger knows only codes and opaque refs; this module is where a member
or an organisation is tied to its accounts.
"""

from __future__ import annotations

from collections.abc import Iterable

from community.roles import POST_ROLES, Role
from ledger.account_view import find_account_view
from ledger.accounts import find_balance, open_account
from ledger.models import AccountBalance, AccountView

# Who can earn points, and so gets a wallet: volunteers and the grid's posts
# (area/building/lane heads, grid workers), who also serve. Organisers,
# admins and shop staff move or take points in others' accounts; a wallet of
# their own would only be a place to credit themselves.
EARNING_ROLES = frozenset({Role.VOLUNTEER}) | POST_ROLES


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


def can_earn(roles: Iterable[Role]) -> bool:
    return any(role in EARNING_ROLES for role in roles)


async def wallet_if_earner(member_id: int, home_organisation_id: int, roles: Iterable[Role]) -> AccountBalance | None:
    """The member's wallet, opened on first need if they can earn.

    A member who cannot earn gets ``None`` and nothing is written; a wallet
    opened earlier (a former volunteer's) is still theirs and is returned.
    """
    wallet = await find_balance(wallet_code(member_id))
    if wallet is not None or not can_earn(roles):
        return wallet
    return await open_wallet(member_id, home_organisation_id)


async def wallet_view_if_earner(member_id: int, home_organisation_id: int, roles: Iterable[Role]) -> AccountView | None:
    """The member's wallet as they read it (balance, held, active holds: one
    statement), under the rule of ``wallet_if_earner``: opened on first need
    if they can earn, None (nothing written) if they cannot and never had one."""
    view = await find_account_view(wallet_code(member_id))
    if view is not None or not can_earn(roles):
        return view
    await open_wallet(member_id, home_organisation_id)
    return await find_account_view(wallet_code(member_id))


async def open_wallet(member_id: int, home_organisation_id: int) -> AccountBalance:
    """A member's wallet: no-negative, scoped to their home organisation.
    Idempotent: opening an open wallet returns it."""
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
