"""Corrections are reversals: a new entry mirroring the original.

An entry is reversed at most once (``rules.check_not_reversed``, backed by
the unique ``reverses`` column) and a reversal is never itself reversed
(``rules.reversal_legs``): to redo a reversed award, post it again. A
reversal obeys the no-negative rule like any entry, so points already spent
cannot be clawed back into a negative wallet.
"""

from __future__ import annotations

from typing import Any

from core.fixed_sql import Script, fetch, write
from ledger import sql
from ledger.models import EntryRecord, EntryRequest
from ledger.posting import (
    entry_fingerprint,
    load_entry,
    lock_accounts_steps,
    replay_steps,
    write_entry_steps,
)
from ledger.rules import apply_legs, check_not_reversed, reversal_legs


def reverse_steps(entry_id: int, request: EntryRequest, request_fingerprint: str) -> Script[EntryRecord]:
    """``reverse_entry`` inside its transaction: lock, replay or decide, write.

    Reversals are rare, so a keyed one looks its key up first (the replay
    must win over "already reversed", which its own first run caused)."""
    accounts = yield from lock_accounts_steps([leg.account_code for leg in request.legs])
    if request.idempotency_key is not None:
        replay = yield from replay_steps(request.idempotency_key, request_fingerprint)
        if replay is not None:
            return replay
    reversals = yield sql.REVERSAL_OF(entry_id)
    check_not_reversed(entry_id, int(reversals[0]["id"]) if reversals else None)
    moves = apply_legs(accounts, request.legs)
    entry = yield from write_entry_steps(
        request=request, request_fingerprint=request_fingerprint, moves=moves, reverses_id=entry_id
    )
    if entry is None:  # a twin with the same key committed in between: answer as it did
        replay = yield from replay_steps(str(request.idempotency_key), request_fingerprint)
        if replay is None:
            raise AssertionError("the idempotency key is taken but its entry was not found")
        return replay
    return entry


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
    # The unique ``reverses`` column turns a concurrent second reversal into
    # a unique violation; re-running finds the first and refuses.
    return await write(lambda _: reverse_steps(entry_id, request, request_fingerprint), retry_unique=True)


async def find_reversal(entry_id: int) -> int | None:
    """The id of the entry that reversed ``entry_id``, if any."""
    rows = await fetch(sql.REVERSAL_OF(entry_id))
    return int(rows[0]["id"]) if rows else None
