"""Tamper evidence: entries chained by SHA-256.

Each link covers the entry's content (its fields and every posting) and the
previous link, so changing, inserting or deleting any sealed row breaks the
chain from that entry on.

Sealing happens *after* commit, never on the posting path, so the chain adds
no global lock to postings (ARCHITECTURE.md §2). The sealer only sees
committed entries (it reads like any other transaction), takes them in id
order, and appends them to the chain under its own lock (an advisory lock on
PostgreSQL, the write lock on SQLite). An entry that commits late, with an
id below already-sealed ones, is simply sealed in the next run: chain order
is seal order (``chain_seq``), not id order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from core.database import in_write_transaction, is_sqlite
from ledger.tables import LedgerChainCheckpoint, LedgerEntry, LedgerPosting

GENESIS = "0" * 64
# Arbitrary constant naming the sealer's advisory lock on PostgreSQL.
SEALER_LOCK_KEY = 7_305_115_111
SEAL_BATCH = 1000


def _timestamp(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return str(value.astimezone(UTC).isoformat(timespec="microseconds"))
    return str(value)


def entry_digest(entry: Mapping[str, Any], postings: Iterable[Mapping[str, Any]], previous: str) -> str:
    """The link for ``entry``: SHA-256 over its canonical content and ``previous``."""
    content = {
        "id": entry["id"],
        "kind": entry["kind"],
        "reason_zh": entry["reason_zh"],
        "reason_en": entry["reason_en"],
        "memo": entry["memo"],
        "metadata": entry["metadata"]
        if isinstance(entry["metadata"], str)
        else json.dumps(entry["metadata"], sort_keys=True),
        "actor_ref": entry["actor_ref"],
        "cause_ref": entry["cause_ref"],
        "idempotency_key": entry["idempotency_key"],
        "reverses": entry["reverses"],
        "created_at": _timestamp(entry["created_at"]),
        "postings": sorted([p["id"], p["account"], p["amount_minor"], p["balance_after_minor"]] for p in postings),
        "previous": previous,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def postings_by_entry(entry_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = {entry_id: [] for entry_id in entry_ids}
    if not entry_ids:
        return grouped
    rows = (
        await LedgerPosting.select(
            LedgerPosting.id,
            LedgerPosting.entry,
            LedgerPosting.account,
            LedgerPosting.amount_minor,
            LedgerPosting.balance_after_minor,
        )
        .where(LedgerPosting.entry.is_in(list(entry_ids)))
        .run()
    )
    for row in rows:
        grouped[row["entry"]].append(row)
    return grouped


async def chain_head() -> tuple[int, str]:
    rows = (
        await LedgerEntry.select(LedgerEntry.chain_seq, LedgerEntry.chain_hash)
        .where(LedgerEntry.chain_seq.is_not_null())
        .order_by(LedgerEntry.chain_seq, ascending=False)
        .limit(1)
        .run()
    )
    if not rows:
        return 0, GENESIS
    return int(rows[0]["chain_seq"]), str(rows[0]["chain_hash"])


async def seal_batch(limit: int = SEAL_BATCH) -> int:
    """Seal up to ``limit`` committed, unsealed entries. Returns how many."""

    async def work() -> int:
        if not is_sqlite():
            await LedgerEntry.raw("SELECT pg_advisory_xact_lock({})", SEALER_LOCK_KEY).run()
        seq, previous = await chain_head()
        pending = (
            await LedgerEntry.select()
            .where(LedgerEntry.chain_seq.is_null())
            .order_by(LedgerEntry.id)
            .limit(limit)
            .run()
        )
        if not pending:
            return 0
        postings = await postings_by_entry([row["id"] for row in pending])
        for row in pending:
            seq += 1
            previous = entry_digest(row, postings[row["id"]], previous)
            await (
                LedgerEntry.update({LedgerEntry.chain_seq: seq, LedgerEntry.chain_hash: previous})
                .where(LedgerEntry.id == row["id"])
                .run()
            )
        await LedgerChainCheckpoint.insert(
            LedgerChainCheckpoint(chain_seq=seq, chain_hash=previous, sealed_at=datetime.now(UTC))
        ).run()
        return len(pending)

    return await in_write_transaction(work)


async def seal_pending() -> int:
    """Seal everything committed so far. Returns how many entries were sealed."""
    total = 0
    while True:
        sealed = await seal_batch()
        total += sealed
        if sealed < SEAL_BATCH:
            return total


async def unsealed_count() -> int:
    return int(await LedgerEntry.count().where(LedgerEntry.chain_seq.is_null()).run())
