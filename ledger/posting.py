"""The posting service: the only code that changes a balance.

Guarantees, each checked here first and backed by the database:
- an entry has at least two legs on distinct accounts and sums to exactly
  zero (invariant 1);
- a no-negative account's *available* balance (balance − active holds) never
  goes below zero, under any concurrency (invariant 2): the touched account
  rows are locked in ascending id order before they are read;
- an idempotency key has exactly one effect; the same key with another
  payload is refused (invariant 3);
- the materialised balance moves in the same transaction as the postings
  that justify it (invariant 4).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.clock import utc_now
from core.database import in_write_transaction, is_sqlite
from ledger.amounts import from_minor, parse_amount, to_minor
from ledger.errors import (
    AccountNotFound,
    EntryNotFound,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidEntry,
    UnbalancedEntry,
)
from ledger.models import EntryRecord, EntryRequest, Leg, PostingRecord
from ledger.tables import LedgerAccount, LedgerEntry, LedgerPosting


@dataclass(slots=True)
class LockedAccount:
    """A balance row read under lock, with the changes this transaction makes."""

    id: int
    code: str
    allow_negative: bool
    balance_minor: int
    held_minor: int
    original_balance_minor: int
    original_held_minor: int

    @property
    def available_minor(self) -> int:
        return self.balance_minor - self.held_minor


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
    # Fixed SQL rather than the query builder: this runs in every posting,
    # and building the query cost more client CPU than the round trip.
    if is_sqlite():
        # SQLite has no row locks; BEGIN IMMEDIATE already serialises writers.
        placeholders = ", ".join("{}" for _ in unique_codes)
        sql = f"{_LOCK_COLUMNS} WHERE code IN ({placeholders}) ORDER BY id"
        rows = await LedgerAccount.raw(sql, *unique_codes).run()
    else:
        rows = await LedgerAccount.raw(
            f"{_LOCK_COLUMNS} WHERE code = ANY({{}}) ORDER BY id FOR UPDATE", unique_codes
        ).run()
    found = {
        row["code"]: LockedAccount(
            id=row["id"],
            code=row["code"],
            allow_negative=bool(row["allow_negative"]),
            balance_minor=row["balance_minor"],
            held_minor=row["held_minor"],
            original_balance_minor=row["balance_minor"],
            original_held_minor=row["held_minor"],
        )
        for row in rows
    }
    for code in unique_codes:
        if code not in found:
            raise AccountNotFound(code)
    return found


def check_legs(legs: Sequence[Leg]) -> None:
    """Invariant 1 before anything is written: ≥ 2 distinct accounts, no zero
    leg, sum exactly zero."""
    if len(legs) < 2:
        raise UnbalancedEntry("an entry needs at least two legs", field="legs")
    codes = [leg.account_code for leg in legs]
    if len(set(codes)) != len(codes):
        raise InvalidEntry("each account may appear in an entry only once", field="legs")
    for leg in legs:
        if leg.amount == 0:
            raise InvalidEntry(f"leg on {leg.account_code!r} has a zero amount", field="amount")
    total = sum((leg.amount for leg in legs), Decimal("0"))
    if total != 0:
        raise UnbalancedEntry(f"legs sum to {total}, not zero", field="legs")


def apply_legs(accounts: Mapping[str, LockedAccount], legs: Sequence[Leg]) -> list[tuple[LockedAccount, int]]:
    """Move the locked balances by each leg; refuse if a no-negative account's
    available balance would drop below zero (invariant 2)."""
    moves: list[tuple[LockedAccount, int]] = []
    for leg in legs:
        account = accounts[leg.account_code]
        amount_minor = to_minor(leg.amount)
        account.balance_minor += amount_minor
        moves.append((account, amount_minor))
    for account, amount_minor in moves:
        if not account.allow_negative and account.available_minor < 0 and amount_minor < 0:
            raise InsufficientFunds(
                account.code,
                available=from_minor(account.available_minor - amount_minor),
                requested=from_minor(-amount_minor),
            )
    return moves


async def find_entry_by_key(key: str) -> dict[str, Any] | None:
    """Id and request fingerprint of the entry posted under ``key``, if any."""
    rows = await LedgerEntry.raw(
        "SELECT id, request_fingerprint FROM ledger_entry WHERE idempotency_key = {}", key
    ).run()
    return dict(rows[0]) if rows else None


async def replay_or_conflict(key: str, request_fingerprint: str) -> EntryRecord | None:
    """Invariant 3: same key + same payload → the original entry;
    same key + another payload → ``IdempotencyConflict``; unknown key → None."""
    existing = await find_entry_by_key(key)
    if existing is None:
        return None
    if existing["request_fingerprint"] != request_fingerprint:
        raise IdempotencyConflict(key)
    record = await load_entry(existing["id"])
    return record.model_copy(update={"replayed": True})


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
    """
    created_at = utc_now()
    inserted = await LedgerEntry.insert(
        LedgerEntry(
            kind=request.kind,
            reason_zh=request.reason_zh,
            reason_en=request.reason_en,
            memo=request.memo,
            metadata=json.dumps(request.metadata, ensure_ascii=False, sort_keys=True, default=str),
            actor_ref=request.actor_ref,
            cause_ref=request.cause_ref,
            idempotency_key=request.idempotency_key,
            request_fingerprint=request_fingerprint,
            reverses=reverses_id,
            created_at=created_at,
        )
    ).run()
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
    return EntryRecord(
        id=entry_id,
        kind=request.kind,
        reason_zh=request.reason_zh,
        reason_en=request.reason_en,
        memo=request.memo,
        metadata=dict(request.metadata),
        actor_ref=request.actor_ref,
        cause_ref=request.cause_ref,
        idempotency_key=request.idempotency_key,
        reverses_id=reverses_id,
        created_at=created_at,
        postings=[
            PostingRecord(
                account_code=account.code,
                amount=from_minor(amount_minor),
                balance_after=from_minor(account.balance_minor),
            )
            for account, amount_minor in moves
        ],
    )


async def store_balances(accounts: Sequence[LockedAccount]) -> None:
    """Write the materialised balances of locked accounts (invariant 4).

    A separate step so tests can inject a failure between the postings and
    the balances and prove the transaction leaves no trace.
    """
    changed = [
        account
        for account in accounts
        if (account.balance_minor, account.held_minor) != (account.original_balance_minor, account.original_held_minor)
    ]
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


async def post_entry(request: EntryRequest) -> EntryRecord:
    """Post one balanced entry. The only way points move between accounts."""
    check_legs(request.legs)
    request_fingerprint = entry_fingerprint(request)

    async def work() -> EntryRecord:
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

    # A unique violation means a concurrent twin with the same key committed
    # first: re-running finds it and replays (or reports the conflict).
    return await in_write_transaction(work, retry_unique=True)


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
    if points <= 0:
        raise InvalidEntry("a transfer amount must be positive; swap the accounts to move points back", field="amount")
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
    row = rows[0]
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
    return EntryRecord(
        id=row["id"],
        kind=row["kind"],
        reason_zh=row["reason_zh"],
        reason_en=row["reason_en"],
        memo=row["memo"],
        metadata=json.loads(row["metadata"]) if isinstance(row["metadata"], str) else row["metadata"],
        actor_ref=row["actor_ref"],
        cause_ref=row["cause_ref"],
        idempotency_key=row["idempotency_key"],
        reverses_id=row["reverses"],
        created_at=row["created_at"],
        postings=[
            PostingRecord(
                account_code=p["account_code"],
                amount=from_minor(p["amount_minor"]),
                balance_after=from_minor(p["balance_after_minor"]),
            )
            for p in postings
        ],
    )
