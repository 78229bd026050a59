"""The posting service: the only code that changes a balance.

Guarantees, each decided by a pure rule in ``ledger.rules`` and backed by the
database:
- an entry has at least two legs on distinct accounts and sums to exactly
  zero (invariant 1, ``rules.check_legs``);
- a no-negative account's *available* balance (balance − active holds) never
  goes below zero, under any concurrency (invariant 2, ``rules.apply_legs``):
  the touched account rows are locked in ascending id order before they are
  read;
- an idempotency key has exactly one effect; the same key with another
  payload is refused (invariant 3, ``rules.check_replay``);
- the materialised balance moves in the same transaction as the postings
  that justify it (invariant 4, ``write_entry`` / ``store_balances``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from core.clock import utc_now
from core.database import in_write_transaction, is_sqlite
from ledger.amounts import parse_amount
from ledger.errors import AccountNotFound, EntryNotFound
from ledger.models import EntryRecord, EntryRequest, KeyedRequest, Leg, PostingRecord
from ledger.rules import LockedAccount, apply_legs, check_legs, check_replay, check_transfer_amount
from ledger.tables import LedgerAccount, LedgerEntry, LedgerPosting

_LOCK_COLUMNS = "SELECT id, code, allow_negative, balance_minor, held_minor FROM ledger_account"


def fingerprint(payload: Mapping[str, Any]) -> str:
    """A stable digest of what a request asks for, to compare replays."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def entry_fingerprint(request: EntryRequest) -> str:
    return fingerprint(
        {
            "op": "entry",
            "kind": request.kind,
            "legs": sorted((leg.account_code, str(leg.amount)) for leg in request.legs),
            "reason_zh": request.reason_zh,
            "reason_en": request.reason_en,
            "memo": request.memo,
            "metadata": request.metadata,
            "cause_ref": request.cause_ref,
        }
    )


async def lock_accounts(codes: Sequence[str]) -> dict[str, LockedAccount]:
    """Read (and on PostgreSQL lock) the named accounts, in ascending id order.

    Must run inside a writing transaction. Raises ``AccountNotFound`` for the
    first code that does not exist.
    """
    unique_codes = sorted(set(codes))
    # Fixed SQL rather than ``core.database.lock_rows``: this runs in every
    # posting, and building the query cost more client CPU than the round
    # trip. The engine split is the one ``lock_rows`` makes: SQLite has no
    # row locks (BEGIN IMMEDIATE already serialises writers).
    if is_sqlite():
        placeholders = ", ".join("{}" for _ in unique_codes)
        sql = f"{_LOCK_COLUMNS} WHERE code IN ({placeholders}) ORDER BY id"
        rows = await LedgerAccount.raw(sql, *unique_codes).run()
    else:
        rows = await LedgerAccount.raw(
            f"{_LOCK_COLUMNS} WHERE code = ANY({{}}) ORDER BY id FOR UPDATE", unique_codes
        ).run()
    found = {account.code: account for account in map(LockedAccount.from_row, rows)}
    for code in unique_codes:
        if code not in found:
            raise AccountNotFound(code)
    return found


async def find_entry_by_key(key: str) -> KeyedRequest | None:
    """The entry posted under ``key`` (its id and request fingerprint), if any."""
    rows = await LedgerEntry.raw(
        "SELECT id, request_fingerprint FROM ledger_entry WHERE idempotency_key = {}", key
    ).run()
    return KeyedRequest.from_row(rows[0]) if rows else None


async def replay_or_conflict(key: str, request_fingerprint: str) -> EntryRecord | None:
    """Invariant 3: same key + same payload → the original entry;
    same key + another payload → ``IdempotencyConflict``; unknown key → None."""
    first = await find_entry_by_key(key)
    if first is None:
        return None
    check_replay(key, first, request_fingerprint)
    return replace(await load_entry(first.id), replayed=True)


async def write_entry(
    *,
    request: EntryRequest,
    request_fingerprint: str,
    moves: Sequence[tuple[LockedAccount, int]],
    touched: Sequence[LockedAccount],
    reverses_id: int | None = None,
) -> EntryRecord:
    """Insert the entry and its postings, then store the new balances.

    Runs inside the caller's transaction, after the accounts were locked and
    every rule was checked. ``touched`` lists every locked account whose
    balance or held total changed (a hold's release touches ``held_minor``).
    Returns the record of what was written, without reading it back.
    """
    created_at = utc_now()
    entry_row: dict[str, Any] = {
        "kind": request.kind,
        "reason_zh": request.reason_zh,
        "reason_en": request.reason_en,
        "memo": request.memo,
        "metadata": json.dumps(request.metadata, ensure_ascii=False, sort_keys=True, default=str),
        "actor_ref": request.actor_ref,
        "cause_ref": request.cause_ref,
        "idempotency_key": request.idempotency_key,
        "request_fingerprint": request_fingerprint,
        "reverses": reverses_id,
        "created_at": created_at,
    }
    inserted = await LedgerEntry.insert(LedgerEntry(**entry_row)).run()
    entry_id = inserted[0]["id"]
    await LedgerPosting.insert(
        *(
            LedgerPosting(
                entry=entry_id,
                account=account.id,
                amount_minor=amount_minor,
                balance_after_minor=account.balance_minor,
                created_at=created_at,
            )
            for account, amount_minor in moves
        )
    ).run()
    await store_balances(touched)
    postings = [
        PostingRecord.from_row(
            {"account_code": account.code, "amount_minor": amount_minor, "balance_after_minor": account.balance_minor}
        )
        for account, amount_minor in moves
    ]
    return EntryRecord.from_row({**entry_row, "id": entry_id}, postings)


async def store_balances(accounts: Sequence[LockedAccount]) -> None:
    """Write the materialised balances of locked accounts (invariant 4).

    A separate step so tests can inject a failure between the postings and
    the balances and prove the transaction leaves no trace.
    """
    changed = [account for account in accounts if account.changed]
    if not changed:
        return
    # One statement for every touched account (a round trip saved per
    # posting); plain SQL that SQLite and PostgreSQL read alike.
    balance_cases = " ".join("WHEN {} THEN CAST({} AS BIGINT)" for _ in changed)
    held_cases = " ".join("WHEN {} THEN CAST({} AS BIGINT)" for _ in changed)
    ids = ", ".join("{}" for _ in changed)
    args: list[int] = []
    for account in changed:
        args += [account.id, account.balance_minor]
    for account in changed:
        args += [account.id, account.held_minor]
    args += [account.id for account in changed]
    await LedgerAccount.raw(
        # Only placeholders are interpolated; every value is a bound parameter.
        f"UPDATE ledger_account SET balance_minor = CASE id {balance_cases} END, "  # noqa: S608
        f"held_minor = CASE id {held_cases} END WHERE id IN ({ids})",
        *args,
    ).run()


async def _post(request: EntryRequest, request_fingerprint: str) -> EntryRecord:
    """``post_entry`` inside its transaction: lock, replay or decide, write."""
    accounts = await lock_accounts([leg.account_code for leg in request.legs])
    if request.idempotency_key is not None:
        replay = await replay_or_conflict(request.idempotency_key, request_fingerprint)
        if replay is not None:
            return replay
    moves = apply_legs(accounts, request.legs)
    return await write_entry(
        request=request,
        request_fingerprint=request_fingerprint,
        moves=moves,
        touched=[account for account, _ in moves],
    )


async def post_entry(request: EntryRequest) -> EntryRecord:
    """Post one balanced entry. The only way points move between accounts."""
    check_legs(request.legs)
    request_fingerprint = entry_fingerprint(request)
    # A unique violation means a concurrent twin with the same key committed
    # first: re-running finds it and replays (or reports the conflict).
    return await in_write_transaction(lambda: _post(request, request_fingerprint), retry_unique=True)


async def transfer(
    *,
    debit_code: str,
    credit_code: str,
    amount: Decimal | str,
    kind: str,
    reason_zh: str,
    reason_en: str = "",
    memo: str = "",
    metadata: Mapping[str, Any] | None = None,
    actor_ref: str = "system",
    cause_ref: str = "",
    idempotency_key: str | None = None,
) -> EntryRecord:
    """Move ``amount`` points from ``debit_code`` to ``credit_code``."""
    points = parse_amount(amount)
    check_transfer_amount(points)
    legs = (
        Leg(account_code=debit_code, amount=-points),
        Leg(account_code=credit_code, amount=points),
    )
    return await post_entry(
        EntryRequest(
            kind=kind,
            legs=legs,
            reason_zh=reason_zh,
            reason_en=reason_en,
            memo=memo,
            metadata=dict(metadata or {}),
            actor_ref=actor_ref,
            cause_ref=cause_ref,
            idempotency_key=idempotency_key,
        )
    )


async def load_entry(entry_id: int) -> EntryRecord:
    rows = await LedgerEntry.select().where(LedgerEntry.id == entry_id).run()
    if not rows:
        raise EntryNotFound(f"entry {entry_id} does not exist", field="entry_id")
    postings = (
        await LedgerPosting.select(
            LedgerPosting.account.code.as_alias("account_code"),
            LedgerPosting.amount_minor,
            LedgerPosting.balance_after_minor,
        )
        .where(LedgerPosting.entry == entry_id)
        .order_by(LedgerPosting.id)
        .run()
    )
    return EntryRecord.from_row(rows[0], [PostingRecord.from_row(row) for row in postings])
