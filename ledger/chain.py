"""Tamper evidence: entries chained by SHA-256, kept in their own append-only table.

Each link covers the entry's content (its fields and every posting) and the
previous link, so changing, inserting or deleting any sealed row breaks the
chain from that entry on.

Sealing happens *after* commit, never on the posting path, so the chain adds
no global lock to postings (ARCHITECTURE.md §2). The sealer only sees
committed entries (it reads like any other transaction), takes them in id
order, and appends them to the chain under its own lock (an advisory lock on
PostgreSQL, the write lock on SQLite). An entry that commits late, with an
id below already-sealed ones, is simply sealed in a later run: chain order
is seal order, not id order.

**Where the chain is kept.** Each sealing run appends one
``ledger_chain_block`` row and updates nothing: an entry row is written once
by the posting and never again. (Sealing used to write each entry's position
and link into its own row; on PostgreSQL that is a second version of the
whole row and of every index entry, +45 % of a transfer's storage.) A block
holds the ids it sealed, in chain order, and the first ``LINK_BYTES`` bytes
of each one's link; ``head`` is the whole link of its last entry and
``head_seq`` that entry's chain position. Verify recomputes every link from
genesis, so the stored prefix is enough to name the first entry that no
longer matches, and the whole link at each block's end is what a rewrite
would have to reproduce: the chain's strength is SHA-256's, not the prefix's.

**Every block is a checkpoint.** Cutting off the newest entries leaves the
last block naming entries that are gone. Someone able to rewrite both the
entries and the blocks can still cut both, so verify prints the head for
recording outside the database, and ``--expect-head`` checks against it.

**Finding what to seal.** Entries above ``sealed_through`` (the highest id
sealed so far) are new. Below it, an entry can still appear: its transaction
took its id before a higher one and committed after it. The regular run
(``seal_pending()``, every 2 s in each API process) looks for those among
the ids above the ``sealed_through`` of ``LATE_COMMIT_WINDOW`` ago, so its
work follows the rate of posting, not the size of history. An entry whose
transaction stayed open longer than that after taking its id is sealed by
the next ``seal_pending(everything=True)`` (``fengling ledger seal`` and
``fengling ledger verify``), which compares every entry id with every block.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.clock import utc_now
from core.database import in_write_transaction, is_sqlite
from ledger.tables import LedgerChainBlock, LedgerEntry, LedgerPosting

GENESIS = "0" * 64
# Arbitrary constant naming the sealer's advisory lock on PostgreSQL.
SEALER_LOCK_KEY = 7_305_115_111
SEAL_BATCH = 1000
# Bytes of each entry's link kept in its block (the head keeps all 32): enough
# to tell which entry first differs (a chance of 2^-64 that a changed entry
# still matches its prefix; the block's whole head is checked regardless).
LINK_BYTES = 8
ID_BYTES = 8
# How long after taking its id an entry's transaction may still commit and be
# sealed by the regular run (see the module docstring).
LATE_COMMIT_WINDOW = timedelta(seconds=60)
ID_PAGE = 10_000


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


def link_prefix(link: str) -> bytes:
    """What a block stores of the link ``link`` (hex)."""
    return bytes.fromhex(link)[:LINK_BYTES]


def pack_ids(entry_ids: Sequence[int]) -> bytes:
    return struct.pack(f">{len(entry_ids)}q", *entry_ids)


def unpack_ids(data: bytes) -> tuple[int, ...]:
    """The ids of a block's ``entry_ids`` (a trailing partial id is ignored;
    ``Block.well_formed`` reports it)."""
    count = len(data) // ID_BYTES
    return struct.unpack(f">{count}q", data[: count * ID_BYTES])


@dataclass(frozen=True, slots=True)
class Block:
    """One ``ledger_chain_block`` row, decoded."""

    id: int
    head_seq: int
    head: str
    entry_ids: tuple[int, ...]
    links: bytes
    sealed_through: int
    well_formed: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Block:
        raw_ids = bytes(row["entry_ids"])
        links = bytes(row["links"])
        entry_ids = unpack_ids(raw_ids)
        return cls(
            id=int(row["id"]),
            head_seq=int(row["head_seq"]),
            head=str(row["head"]),
            entry_ids=entry_ids,
            links=links,
            sealed_through=int(row["sealed_through"]),
            well_formed=len(raw_ids) % ID_BYTES == 0 and len(links) == len(entry_ids) * LINK_BYTES,
        )

    @property
    def first_seq(self) -> int:
        return self.head_seq - len(self.entry_ids) + 1

    def link_at(self, index: int) -> bytes:
        return self.links[index * LINK_BYTES : (index + 1) * LINK_BYTES]


class IdSet:
    """A set of entry ids as a bitmap: 10 million ids in 1.25 MB."""

    __slots__ = ("bits",)

    def __init__(self) -> None:
        self.bits = bytearray()

    def add(self, entry_id: int) -> bool:
        """Add ``entry_id``; False if it was already there."""
        byte, bit = divmod(entry_id, 8)
        if byte >= len(self.bits):
            self.bits.extend(bytes(max(byte + 1 - len(self.bits), len(self.bits))))
        if self.bits[byte] >> bit & 1:
            return False
        self.bits[byte] |= 1 << bit
        return True

    def __contains__(self, entry_id: int) -> bool:
        byte, bit = divmod(entry_id, 8)
        return byte < len(self.bits) and bool(self.bits[byte] >> bit & 1)


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
        grouped.setdefault(row["entry"], []).append(row)
    return grouped


async def entries_by_id(entry_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not entry_ids:
        return {}
    rows = await LedgerEntry.select().where(LedgerEntry.id.is_in(list(entry_ids))).run()
    return {int(row["id"]): row for row in rows}


async def blocks_after(block_id: int, limit: int) -> list[Block]:
    """Up to ``limit`` blocks with an id above ``block_id``, in chain order."""
    rows = (
        await LedgerChainBlock.select()
        .where(LedgerChainBlock.id > block_id)
        .order_by(LedgerChainBlock.id)
        .limit(limit)
        .run()
    )
    return [Block.from_row(row) for row in rows]


async def last_block() -> Block | None:
    rows = await LedgerChainBlock.select().order_by(LedgerChainBlock.id, ascending=False).limit(1).run()
    return Block.from_row(rows[0]) if rows else None


async def chain_head() -> tuple[int, str]:
    """The chain's last position and its whole link, as stored."""
    rows = (
        await LedgerChainBlock.select(LedgerChainBlock.head_seq, LedgerChainBlock.head)
        .order_by(LedgerChainBlock.id, ascending=False)
        .limit(1)
        .run()
    )
    if not rows:
        return 0, GENESIS
    return int(rows[0]["head_seq"]), str(rows[0]["head"])


async def _entry_ids(above: int, *, through: int | None = None, limit: int = ID_PAGE) -> list[int]:
    query = LedgerEntry.select(LedgerEntry.id).where(LedgerEntry.id > above)
    if through is not None:
        query = query.where(LedgerEntry.id <= through)
    return [int(i) for i in await query.order_by(LedgerEntry.id).limit(limit).output(as_list=True).run()]


async def _late_and_new(last: Block | None, limit: int) -> list[int]:
    """The regular run's choice: late commits within the window, then new entries."""
    if last is None:
        return await _entry_ids(0, limit=limit)
    cutoff = utc_now() - LATE_COMMIT_WINDOW
    settled = (
        await LedgerChainBlock.select(LedgerChainBlock.id, LedgerChainBlock.sealed_through)
        .where(LedgerChainBlock.sealed_at <= cutoff)
        .order_by(LedgerChainBlock.id, ascending=False)
        .limit(1)
        .run()
    )
    floor, settled_block = (int(settled[0]["sealed_through"]), int(settled[0]["id"])) if settled else (0, 0)
    late: list[int] = []
    if floor < last.sealed_through:
        recent: set[int] = set()
        after = settled_block
        while batch := await blocks_after(after, 100):
            recent.update(i for block in batch for i in block.entry_ids if floor < i <= last.sealed_through)
            after = batch[-1].id
        committed = (
            await LedgerEntry.count().where((LedgerEntry.id > floor) & (LedgerEntry.id <= last.sealed_through)).run()
        )
        if committed != len(recent):
            above = floor
            while len(late) < limit and (ids := await _entry_ids(above, through=last.sealed_through)):
                late.extend(i for i in ids if i not in recent)
                above = ids[-1]
    if len(late) >= limit:
        return late[:limit]
    return late + await _entry_ids(last.sealed_through, limit=limit - len(late))


async def sealed_ids(after_block: int = 0) -> tuple[IdSet, int]:
    """Every entry id the blocks after ``after_block`` name, and the last block id read."""
    sealed = IdSet()
    while batch := await blocks_after(after_block, 100):
        for block in batch:
            for entry_id in block.entry_ids:
                sealed.add(entry_id)
        after_block = batch[-1].id
    return sealed, after_block


async def unsealed_ids() -> tuple[list[int], int]:
    """Every committed entry no block names, in id order (reads all of both),
    and the last block read (a sealer may have appended more since)."""
    sealed, last_read = await sealed_ids()
    found: list[int] = []
    above = 0
    while ids := await _entry_ids(above):
        found.extend(i for i in ids if i not in sealed)
        above = ids[-1]
    return found, last_read


async def _seal(choose: Callable[[Block | None], Awaitable[list[int]]]) -> int:
    """Append one block of the entries ``choose`` picks, under the sealer's lock."""

    async def work() -> int:
        if not is_sqlite():
            await LedgerEntry.raw("SELECT pg_advisory_xact_lock({})", SEALER_LOCK_KEY).run()
        last = await last_block()
        chosen = await choose(last)
        rows = await entries_by_id(chosen)
        pending = [entry_id for entry_id in chosen if entry_id in rows]
        if not pending:
            return 0
        postings = await postings_by_entry(pending)
        previous = last.head if last is not None else GENESIS
        links = bytearray()
        for entry_id in pending:
            previous = entry_digest(rows[entry_id], postings[entry_id], previous)
            links += link_prefix(previous)
        await LedgerChainBlock.insert(
            LedgerChainBlock(
                head_seq=(last.head_seq if last is not None else 0) + len(pending),
                head=previous,
                entry_ids=pack_ids(pending),
                links=bytes(links),
                sealed_through=max(last.sealed_through if last is not None else 0, max(pending)),
                sealed_at=utc_now(),
            )
        ).run()
        return len(pending)

    return await in_write_transaction(work)


async def seal_batch(limit: int = SEAL_BATCH) -> int:
    """Seal up to ``limit`` committed, unsealed entries (the regular run's
    choice, see the module docstring). Returns how many."""

    async def choose(last: Block | None) -> list[int]:
        return await _late_and_new(last, limit)

    return await _seal(choose)


async def seal_pending(*, everything: bool = False) -> int:
    """Seal everything committed so far; returns how many entries were sealed.

    ``everything`` also looks for late commits below the regular run's
    window, by reading every entry id and every block (verify, ``fengling
    ledger seal``).
    """
    total = 0
    if everything:
        found, last_read = await unsealed_ids()
        read_through = [last_read]
        for start in range(0, len(found), SEAL_BATCH):
            total += await _seal(_still_unsealed(found[start : start + SEAL_BATCH], read_through))
    while True:
        sealed = await seal_batch()
        total += sealed
        if sealed < SEAL_BATCH:
            return total


def _still_unsealed(candidates: list[int], read_through: list[int]) -> Callable[[Block | None], Awaitable[list[int]]]:
    """``candidates`` minus any sealed by blocks appended after ``read_through[0]``
    (checked under the sealer's lock, which then moves ``read_through`` on)."""

    async def choose(last: Block | None) -> list[int]:
        sealed, read_through[0] = await sealed_ids(read_through[0])
        return [i for i in candidates if i not in sealed]

    return choose


async def unsealed_count() -> int:
    return len((await unsealed_ids())[0])
