"""Corrections are reversals: a new entry mirroring the original.

An entry is reversed at most once (``rules.check_not_reversed``, backed by
the unique ``reverses`` column) and a reversal is never itself reversed
(``rules.reversal_legs``): to redo a reversed award, post it again. A
reversal obeys the no-negative rule like any entry, so points already spent
cannot be clawed back into a negative wallet.
"""

from __future__ import annotations

from typing import Any

from core.database import in_write_transaction
from ledger.models import EntryRecord, EntryRequest
from ledger.posting import entry_fingerprint, load_entry, lock_accounts, replay_or_conflict, write_entry
from ledger.rules import apply_legs, check_not_reversed, reversal_legs
from ledger.tables import LedgerEntry


async def _reverse(entry_id: int, request: EntryRequest, request_fingerprint: str) -> EntryRecord:
    """``reverse_entry`` inside its transaction: lock, replay or decide, write."""
    accounts = await lock_accounts([leg.account_code for leg in request.legs])
    if request.idempotency_key is not None:
        replay = await replay_or_conflict(request.idempotency_key, request_fingerprint)
        if replay is not None:
            return replay
    check_not_reversed(entry_id, await find_reversal(entry_id))
    moves = apply_legs(accounts, request.legs)
    return await write_entry(
        request=request,
        request_fingerprint=request_fingerprint,
        moves=moves,
        touched=[account for account, _ in moves],
        reverses_id=entry_id,
    )


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
    request = EntryRequest(
        kind="reversal",
        legs=reversal_legs(original),
        reason_zh=reason_zh,
        reason_en=reason_en,
        metadata={**(metadata or {}), "reverses_entry_id": entry_id},
        actor_ref=actor_ref,
        cause_ref=original.cause_ref,
        idempotency_key=idempotency_key,
    )
    request_fingerprint = entry_fingerprint(request)
    return await in_write_transaction(lambda: _reverse(entry_id, request, request_fingerprint), retry_unique=True)


async def find_reversal(entry_id: int) -> int | None:
    """The id of the entry that reversed ``entry_id``, if any."""
    ids = await LedgerEntry.select(LedgerEntry.id).where(LedgerEntry.reverses == entry_id).output(as_list=True).run()
    return int(ids[0]) if ids else None
