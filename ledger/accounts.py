"""Opening accounts and reading balances.

Reads never sum history: the current balance is the materialised column,
and a balance *as of* a moment is the ``balance_after`` of the account's last
posting at or before it (one index probe, however long the history).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from piccolo.columns.combination import And, Where

from core.database import in_write_transaction, is_sqlite, is_unique_violation
from ledger.amounts import from_minor
from ledger.errors import AccountNotFound, InvalidEntry
from ledger.models import AccountBalance, AccountType
from ledger.rules import check_new_account, check_reopen
from ledger.tables import LedgerAccount, LedgerPosting


async def _open(
    code: str,
    account_type: AccountType,
    allow_negative: bool,
    owner_ref: str,
    scope_ref: str,
    name_zh: str,
    name_en: str,
) -> AccountBalance:
    """``open_account`` inside its transaction: find or create."""
    existing = await find_balance(code)
    if existing is not None:
        check_reopen(existing, account_type, allow_negative)
        return existing
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
    return await get_balance(code)


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
    checked_type = check_new_account(code, account_type)
    try:
        return await in_write_transaction(
            lambda: _open(code, checked_type, allow_negative, owner_ref, scope_ref, name_zh, name_en),
            retry_unique=True,
        )
    except Exception as error:  # a concurrent opener won the race outside our retries
        if is_unique_violation(error):
            return await get_balance(code)
        raise


async def get_balance(code: str) -> AccountBalance:
    account = await find_balance(code)
    if account is None:
        raise AccountNotFound(code)
    return account


async def find_balance(code: str) -> AccountBalance | None:
    rows = await LedgerAccount.select().where(LedgerAccount.code == code).run()
    return AccountBalance.from_row(rows[0]) if rows else None


def postings_of(the_account_id: int) -> Where | And:
    """The condition "postings of this account", worded for each engine so
    that its planner reads them through ``(account, created_at)`` newest
    first and seeks on the time.

    PostgreSQL gets a range, not ``=``: it drops an equality-fixed column
    from the sort keys and may then walk another index hoping to meet this
    account's rows soon, for a long-dormant account most of history
    (measured: 194 ms at 1M entries). SQLite gets ``=``: a range on
    ``account`` stops it seeking on ``created_at`` after it, so it walked
    all of the account's postings (14.5 ms at 1M entries, bench/RESULTS.md).
    """
    if is_sqlite():
        return LedgerPosting.account == the_account_id
    return (LedgerPosting.account >= the_account_id) & (LedgerPosting.account <= the_account_id)


async def balance_as_of(code: str, at: datetime) -> Decimal:
    """The account's balance at the moment ``at`` (postings at ``at`` included)."""
    if at.tzinfo is None:
        raise InvalidEntry("as_of must carry a time zone", field="as_of")
    the_account_id = await account_id(code)
    balances_after = (
        await LedgerPosting.select(LedgerPosting.balance_after_minor)
        .where(postings_of(the_account_id))
        .where(LedgerPosting.created_at <= at)
        .order_by(LedgerPosting.account, ascending=False)
        .order_by(LedgerPosting.created_at, ascending=False)
        .order_by(LedgerPosting.id, ascending=False)
        .limit(1)
        .output(as_list=True)
        .run()
    )
    return from_minor(int(balances_after[0]) if balances_after else 0)


async def account_id(code: str) -> int:
    ids = await LedgerAccount.select(LedgerAccount.id).where(LedgerAccount.code == code).output(as_list=True).run()
    if not ids:
        raise AccountNotFound(code)
    return int(ids[0])
