"""Opening accounts and reading balances.

Reads never sum history: the current balance is the materialised column,
and a balance *as of* a moment is the ``balance_after`` of the account's last
posting at or before it (one index probe, however long the history).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from core.database import in_write_transaction, is_unique_violation
from ledger.amounts import from_minor
from ledger.errors import AccountConflict, AccountNotFound, InvalidEntry
from ledger.models import AccountBalance
from ledger.tables import LedgerAccount, LedgerPosting

ACCOUNT_TYPES = frozenset({"asset", "liability", "equity"})


def _balance(row: dict[str, Any]) -> AccountBalance:
    return AccountBalance(
        code=row["code"],
        account_type=row["account_type"],
        allow_negative=bool(row["allow_negative"]),
        owner_ref=row["owner_ref"],
        scope_ref=row["scope_ref"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        balance=from_minor(row["balance_minor"]),
        held=from_minor(row["held_minor"]),
        available=from_minor(row["balance_minor"] - row["held_minor"]),
    )


async def open_account(
    code: str,
    *,
    account_type: str,
    allow_negative: bool = False,
    owner_ref: str = "",
    scope_ref: str = "",
    name_zh: str = "",
    name_en: str = "",
) -> AccountBalance:
    """Get or create the account ``code``. Opening twice is harmless; opening
    an existing code with another type or negativity rule is refused."""
    if account_type not in ACCOUNT_TYPES:
        raise InvalidEntry(f"account_type must be one of {sorted(ACCOUNT_TYPES)}", field="account_type")
    if not code or len(code) > 120:
        raise InvalidEntry("account code must be 1-120 characters", field="code")

    async def work() -> AccountBalance:
        rows = await LedgerAccount.select().where(LedgerAccount.code == code).run()
        if rows:
            row = rows[0]
            if row["account_type"] != account_type or bool(row["allow_negative"]) != allow_negative:
                raise AccountConflict(
                    f"account {code!r} exists as {row['account_type']} (allow_negative={bool(row['allow_negative'])})",
                    field="code",
                )
            return _balance(row)
        await LedgerAccount.insert(
            LedgerAccount(
                code=code,
                account_type=account_type,
                allow_negative=allow_negative,
                owner_ref=owner_ref,
                scope_ref=scope_ref,
                name_zh=name_zh,
                name_en=name_en,
            )
        ).run()
        created = await LedgerAccount.select().where(LedgerAccount.code == code).run()
        return _balance(created[0])

    try:
        return await in_write_transaction(work, retry_unique=True)
    except Exception as error:  # a concurrent opener won the race outside our retries
        if is_unique_violation(error):
            return await get_balance(code)
        raise


async def get_balance(code: str) -> AccountBalance:
    rows = await LedgerAccount.select().where(LedgerAccount.code == code).run()
    if not rows:
        raise AccountNotFound(code)
    return _balance(rows[0])


async def find_balance(code: str) -> AccountBalance | None:
    rows = await LedgerAccount.select().where(LedgerAccount.code == code).run()
    return _balance(rows[0]) if rows else None


async def balance_as_of(code: str, at: datetime) -> Decimal:
    """The account's balance at the moment ``at`` (postings at ``at`` included)."""
    if at.tzinfo is None:
        raise InvalidEntry("as_of must carry a time zone", field="as_of")
    the_account_id = await account_id(code)
    rows = (
        await LedgerPosting.select(LedgerPosting.balance_after_minor)
        .where(
            # Range on account, as in statements.py: keeps the planner on the
            # (account, created_at) index however dormant the account is.
            (LedgerPosting.account >= the_account_id)
            & (LedgerPosting.account <= the_account_id)
            & (LedgerPosting.created_at <= at)
        )
        .order_by(LedgerPosting.account, ascending=False)
        .order_by(LedgerPosting.created_at, ascending=False)
        .order_by(LedgerPosting.id, ascending=False)
        .limit(1)
        .run()
    )
    return from_minor(rows[0]["balance_after_minor"]) if rows else from_minor(0)


async def account_id(code: str) -> int:
    rows = await LedgerAccount.select(LedgerAccount.id).where(LedgerAccount.code == code).run()
    if not rows:
        raise AccountNotFound(code)
    return int(rows[0]["id"])
