"""Corrections are reversals: a new entry mirroring the original.

An entry is reversed at most once (unique ``reverses`` in the database) and a
reversal is never itself reversed: to redo a reversed award, post it again.
A reversal obeys the no-negative rule like any entry, so points already
spent cannot be clawed back into a negative wallet.
"""

from __future__ import annotations

from typing import Any

from core.database import in_write_transaction
from ledger.errors import ReversalRefused
from ledger.models import EntryRecord, EntryRequest, Leg
from ledger.posting import (
    apply_legs,
    entry_fingerprint,
    load_entry,
    lock_accounts,
    replay_or_conflict,
    write_entry,
)
from ledger.tables import LedgerEntry


async def reverse_entry(
    entry_id: int,
    *,
    reason_zh: str,
    reason_en: str = "",
    actor_ref: str = "system",
    metadata: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> EntryRecord:
    original = await load_entry(entry_id)
    if original.reverses_id is not None:
        raise ReversalRefused(
            f"entry {entry_id} is itself a reversal (of entry {original.reverses_id}) and cannot be reversed",
            field="entry_id",
        )
    request = EntryRequest(
        kind="reversal",
        legs=tuple(Leg(account_code=p.account_code, amount=-p.amount) for p in original.postings),
        reason_zh=reason_zh,
        reason_en=reason_en,
        metadata={**(metadata or {}), "reverses_entry_id": entry_id},
        actor_ref=actor_ref,
        cause_ref=original.cause_ref,
        idempotency_key=idempotency_key,
    )
    request_fingerprint = entry_fingerprint(request)

    async def work() -> EntryRecord:
        accounts = await lock_accounts([leg.account_code for leg in request.legs])
        if idempotency_key is not None:
            replay = await replay_or_conflict(idempotency_key, request_fingerprint)
            if replay is not None:
                return replay
        existing = await LedgerEntry.select(LedgerEntry.id).where(LedgerEntry.reverses == entry_id).run()
        if existing:
            raise ReversalRefused(
                f"entry {entry_id} was already reversed by entry {existing[0]['id']}",
                field="entry_id",
            )
        moves = apply_legs(accounts, request.legs)
        return await write_entry(
            request=request,
            request_fingerprint=request_fingerprint,
            moves=moves,
            touched=[account for account, _ in moves],
            reverses_id=entry_id,
        )

    return await in_write_transaction(work, retry_unique=True)


async def find_reversal(entry_id: int) -> int | None:
    rows = await LedgerEntry.select(LedgerEntry.id).where(LedgerEntry.reverses == entry_id).run()
    return int(rows[0]["id"]) if rows else None
