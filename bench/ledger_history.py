"""A synthetic ledger history, bulk-loaded, for timing reads at scale.

The history is NOT posted through the service (10M entries would take
days): it is generated in Python, seeded, with running
``balance_after_minor`` values and final materialised balances exactly as
the posting service would leave them, then bulk-inserted with the
database's constraints checked:

- entry k <= 1,000 funds wallet k from the issuer;
- then every 10th entry is an issuance from the hot issuer account (~5 % of
  all postings), every 5th entry (k % 5 == 2) up to ``CAMPAIGN_UNTIL`` a
  grant from a campaign account that is dormant afterwards, and the rest
  move 0.01-1.00 points between two random wallets;
- entry k is stamped ``base_time + k ms``.

**PostgreSQL**: ``COPY`` (asyncpg ``copy_records_to_table``, binary) in
chunks of ``CHUNK`` entries, each chunk its own transaction; the next chunk
is generated in a thread while the server ingests the current one. When a
load more than doubles the history and adds at least ``REBUILD_AT``
entries, the secondary indexes and foreign keys of ``ledger_entry`` and
``ledger_posting`` are dropped first and rebuilt afterwards from their own
definitions (``pg_get_indexdef`` / ``pg_get_constraintdef``), as a restore
does; primary keys and CHECK constraints stay throughout, and rebuilding a
foreign key or a unique index validates every row. Then ``VACUUM
ANALYZE`` (what autovacuum would do after a large insert) and
``CHECKPOINT``, so the reads do not pay for the load.

**SQLite**: ``executemany`` in one ``BEGIN IMMEDIATE`` transaction through
the stdlib module, the explicitly created indexes dropped and rebuilt under
the same rule (the ones backing UNIQUE constraints cannot be dropped and
stay), triggers on; then ``ANALYZE`` and a WAL checkpoint.

Timings on the 2-core VM under load from other work (bench/README.md):
PostgreSQL 1M entries in 36 s, 10M in a further 5 minutes (COPY 2 min,
rebuilding the indexes 3 min).
"""

from __future__ import annotations

import asyncio
import hashlib
import operator
import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

CAMPAIGN_UNTIL = 500_000
CHUNK = 50_000
REBUILD_AT = 500_000  # entries added in one load before indexes are dropped and rebuilt

ENTRY_COLUMNS = (
    "id",
    "kind",
    "reason_zh",
    "reason_en",
    "memo",
    "metadata",
    "actor_ref",
    "cause_ref",
    "idempotency_key",
    "request_fingerprint",
    "created_at",
)
POSTING_COLUMNS = ("id", "entry", "account", "amount_minor", "balance_after_minor", "created_at")
LOADED_TABLES = ("ledger_entry", "ledger_posting")


@dataclass
class History:
    """The generator's state: how far it got and every balance so far."""

    issuer_id: int
    campaign_id: int
    wallet_ids: list[int]
    seed: int
    base_time: datetime
    balances: dict[int, int] = field(default_factory=dict)
    loaded: int = 0
    next_posting_id: int = 1

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        for account_id in (self.issuer_id, self.campaign_id, *self.wallet_ids):
            self.balances.setdefault(account_id, 0)

    def time_of(self, entry: int) -> datetime:
        return self.base_time + timedelta(milliseconds=entry)

    def next_chunk(self, target: int) -> int:
        """Chunks end on multiples of CHUNK, so a load cut short stops at a round size."""
        return min(CHUNK - self.loaded % CHUNK, target - self.loaded)

    def generate(self, count: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The next ``count`` entries and their postings (see the module doc)."""
        rng, wallets, balances = self.rng, self.wallet_ids, self.balances
        n_wallets = len(wallets)
        entries: list[tuple[Any, ...]] = []
        postings: list[tuple[Any, ...]] = []
        pid = self.next_posting_id
        base = self.base_time
        for k in range(self.loaded + 1, self.loaded + count + 1):
            if k <= n_wallets:
                debit, credit, minor, kind, zh, en = (
                    self.issuer_id,
                    wallets[k - 1],
                    100_000_000,
                    "grant",
                    "初始积分",
                    "opening grant",
                )
            elif k % 10 == 0:
                debit, credit, minor = self.issuer_id, wallets[rng.randrange(n_wallets)], rng.randint(100, 1000)
                kind, zh, en = "grant", "志愿服务积分", "volunteering points"
            elif k % 5 == 2 and k <= CAMPAIGN_UNTIL:
                debit, credit, minor = self.campaign_id, wallets[rng.randrange(n_wallets)], rng.randint(100, 1000)
                kind, zh, en = "grant", "活动奖励", "campaign reward"
            else:
                a = rng.randrange(n_wallets)
                b = (a + 1 + rng.randrange(n_wallets - 1)) % n_wallets
                debit, credit, minor = wallets[a], wallets[b], rng.randint(1, 100)
                kind, zh, en = "transfer", "积分转赠", "points transfer"
            at = base + timedelta(milliseconds=k)
            key = f"bulk-{k}"
            entries.append(
                (k, kind, zh, en, "", "{}", "bench-bulk", "", key, hashlib.sha256(key.encode()).hexdigest(), at)
            )
            balances[debit] -= minor
            postings.append((pid, k, debit, -minor, balances[debit], at))
            balances[credit] += minor
            postings.append((pid + 1, k, credit, minor, balances[credit], at))
            pid += 2
        self.next_posting_id = pid
        self.loaded += count
        return entries, postings


###############################################################################
# Progress
###############################################################################


class Progress:
    """A rich progress bar on stderr when it is a terminal; a log line every
    10 % otherwise (a bench piped to a file still shows it is alive)."""

    def __init__(self, description: str, total: int, log: Callable[[str], None]) -> None:
        self.description = description
        self.total = total
        self.log = log
        self.done = 0
        self.started = time.perf_counter()
        self._next_log = total / 10
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("  {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total)
        return self

    def advance(self, count: int, note: str = "") -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(self._task, advance=count, description=f"{self.description} {note}".rstrip())
        elif self.done >= self._next_log or self.done >= self.total:
            elapsed = time.perf_counter() - self.started
            self.log(f"{self.description}: {self.done:,}/{self.total:,} in {elapsed:.0f}s {note}".rstrip())
            self._next_log += self.total / 10

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.stop()


###############################################################################
# PostgreSQL
###############################################################################


@dataclass(frozen=True, slots=True)
class SavedIndexes:
    """What was dropped before a load, to recreate after it."""

    indexes: list[tuple[str, str, str | None]]  # (table, CREATE INDEX ..., constraint name if it backs one)
    foreign_keys: list[tuple[str, str, str]]  # (table, constraint name, definition)


async def drop_secondary_indexes(conn: Any) -> SavedIndexes:
    """Drop every index but the primary key, and every foreign key, of the
    loaded tables; return their definitions."""
    tables = list(LOADED_TABLES)
    indexes = [
        (row["tbl"], row["def"], row["conname"])
        for row in await conn.fetch(
            "SELECT i.indrelid::regclass::text AS tbl, pg_get_indexdef(i.indexrelid) AS def, c.conname "
            "FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype IN ('u', 'x') "
            "WHERE i.indrelid = ANY($1::regclass[]) AND NOT i.indisprimary ORDER BY i.indexrelid",
            tables,
        )
    ]
    foreign_keys = [
        (row["tbl"], row["conname"], row["def"])
        for row in await conn.fetch(
            "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY($1::regclass[]) ORDER BY oid",
            tables,
        )
    ]
    async with conn.transaction():
        for table, name, _ in foreign_keys:
            await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for table, definition, constraint in indexes:
            if constraint:
                await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
            else:
                await conn.execute(f"DROP INDEX {_index_name(definition)}")
    return SavedIndexes(indexes=indexes, foreign_keys=foreign_keys)


def _index_name(definition: str) -> str:
    # "CREATE [UNIQUE] INDEX name ON public.table USING ..."
    return definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0].strip()


async def rebuild_indexes(conn: Any, saved: SavedIndexes, log: Callable[[str], None]) -> None:
    with Progress("rebuilding indexes and foreign keys", len(saved.indexes) + len(saved.foreign_keys), log) as bar:
        for table, definition, constraint in saved.indexes:
            t0 = time.perf_counter()
            await conn.execute(definition)
            if constraint:
                index = _index_name(definition)
                kind = "UNIQUE" if " UNIQUE " in f" {definition} " else "EXCLUDE"
                await conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {kind} USING INDEX "{index}"')
            bar.advance(1, f"{_index_name(definition)} {time.perf_counter() - t0:.0f}s")
        for table, name, definition in saved.foreign_keys:
            t0 = time.perf_counter()
            await conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            bar.advance(1, f"{name} {time.perf_counter() - t0:.0f}s")


async def table_columns(conn: Any, table: str) -> set[str]:
    rows = await conn.fetch("SELECT column_name FROM information_schema.columns WHERE table_name = $1", table)
    return {row[0] for row in rows}


def projection(wanted: Sequence[str], present: set[str]) -> tuple[tuple[str, ...], Callable[[tuple[Any, ...]], Any]]:
    """The generated columns the table still has, and a row projector (the
    identity when nothing was dropped)."""
    keep = [i for i, name in enumerate(wanted) if name in present]
    columns = tuple(wanted[i] for i in keep)
    if len(keep) == len(wanted):
        return columns, lambda row: row
    getter = operator.itemgetter(*keep)
    return columns, lambda row: getter(row) if len(keep) > 1 else (getter(row),)


async def load_postgres(dsn: str, history: History, target: int, log: Callable[[str], None]) -> dict[str, float]:
    """Load ``history`` up to ``target`` entries; the seconds each phase took."""
    import asyncpg

    phases: dict[str, float] = {}
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET maintenance_work_mem = '1GB'")
        adding = target - history.loaded
        rebuild = adding >= REBUILD_AT and adding > history.loaded
        saved = None
        if rebuild:
            t0 = time.perf_counter()
            saved = await drop_secondary_indexes(conn)
            phases["drop indexes"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        await _copy_chunks(conn, history, target, log)
        phases["generate + COPY"] = time.perf_counter() - t0
        await conn.executemany(
            "UPDATE ledger_account SET balance_minor = $1 WHERE id = $2",
            [(balance, account_id) for account_id, balance in history.balances.items()],
        )
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('ledger_entry', 'id'), (SELECT MAX(id) FROM ledger_entry)), "
            "setval(pg_get_serial_sequence('ledger_posting', 'id'), (SELECT MAX(id) FROM ledger_posting))"
        )
        if saved is not None:
            t0 = time.perf_counter()
            await rebuild_indexes(conn, saved, log)
            phases["rebuild indexes"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        log("VACUUM ANALYZE ...")
        await conn.execute("VACUUM ANALYZE ledger_entry, ledger_posting, ledger_account")
        # Flush the load now, not during the timed reads (needs superuser or
        # pg_checkpoint; without it the reads are just noisier).
        with suppress(asyncpg.PostgresError):
            await conn.execute("CHECKPOINT")
        phases["vacuum analyze + checkpoint"] = time.perf_counter() - t0
    finally:
        await conn.close()
    return phases


async def _copy_chunks(conn: Any, history: History, target: int, log: Callable[[str], None]) -> None:
    entry_columns, entry_row = projection(ENTRY_COLUMNS, await table_columns(conn, "ledger_entry"))
    posting_columns, posting_row = projection(POSTING_COLUMNS, await table_columns(conn, "ledger_posting"))
    loop = asyncio.get_running_loop()
    start = history.loaded

    def generate() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]] | None:
        if history.loaded >= target:
            return None
        return history.generate(history.next_chunk(target))

    with Progress(f"COPY entries {start:,} -> {target:,}", target - start, log) as bar:
        pending = loop.run_in_executor(None, generate)
        while (chunk := await pending) is not None:
            pending = loop.run_in_executor(None, generate)  # the next chunk, while the server ingests this one
            entries, postings = chunk
            await conn.copy_records_to_table("ledger_entry", records=map(entry_row, entries), columns=entry_columns)
            await conn.copy_records_to_table(
                "ledger_posting", records=map(posting_row, postings), columns=posting_columns
            )
            bar.advance(len(entries))


###############################################################################
# SQLite
###############################################################################


@contextmanager
def sqlite_connection(path: str) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def load_sqlite(
    path: str,
    history: History,
    target: int,
    log: Callable[[str], None],
    *,
    budget_s: float,
    fallback_sizes: Sequence[int],
) -> tuple[dict[str, float], str | None]:
    """Load ``history`` up to ``target`` entries in one transaction. If the
    measured rate says ``target`` would take more than ``budget_s``, stop at
    the biggest of ``fallback_sizes`` that fits (never below what is
    loaded) and say so in the returned note."""
    phases: dict[str, float] = {}
    note = None
    with sqlite_connection(path) as conn:
        conn.execute("PRAGMA cache_size = -524288")  # 512 MiB page cache for this loading connection only
        adding = target - history.loaded
        rebuild = adding >= REBUILD_AT and adding > history.loaded
        indexes: list[str] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            if rebuild:
                indexes = [
                    row[0]
                    for row in conn.execute(
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (?, ?)",
                        LOADED_TABLES,
                    )
                ]
                for definition in indexes:
                    conn.execute(f"DROP INDEX {_sqlite_index_name(definition)}")
            t0 = time.perf_counter()
            target, note = _insert_sqlite(conn, history, target, log, budget_s, fallback_sizes)
            phases["generate + insert"] = time.perf_counter() - t0
            conn.executemany(
                "UPDATE ledger_account SET balance_minor = ? WHERE id = ?",
                [(balance, account_id) for account_id, balance in history.balances.items()],
            )
            t0 = time.perf_counter()
            for definition in indexes:
                conn.execute(definition)
            if indexes:
                phases["rebuild indexes"] = time.perf_counter() - t0
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        t0 = time.perf_counter()
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        phases["analyze + checkpoint"] = time.perf_counter() - t0
    return phases, note


def _sqlite_index_name(definition: str) -> str:
    # 'CREATE [UNIQUE] INDEX [IF NOT EXISTS] "name" ON "table" (...)'
    head = definition.split(" ON ", 1)[0].split()
    return head[-1]


def _insert_sqlite(
    conn: sqlite3.Connection,
    history: History,
    target: int,
    log: Callable[[str], None],
    budget_s: float,
    fallback_sizes: Sequence[int],
) -> tuple[int, str | None]:
    entry_sql = f"INSERT INTO ledger_entry ({', '.join(ENTRY_COLUMNS)}) VALUES ({', '.join('?' * len(ENTRY_COLUMNS))})"
    posting_sql = (
        f"INSERT INTO ledger_posting ({', '.join(POSTING_COLUMNS)}) VALUES ({', '.join('?' * len(POSTING_COLUMNS))})"
    )
    start, largest, note = history.loaded, target, None
    t0 = time.perf_counter()
    with Progress(f"INSERT entries {start:,} -> {target:,}", target - start, log) as bar:
        while history.loaded < target:
            entries, postings = history.generate(history.next_chunk(target))
            conn.executemany(entry_sql, [(*row[:-1], str(row[-1])) for row in entries])
            conn.executemany(posting_sql, [(*row[:-1], str(row[-1])) for row in postings])
            bar.advance(len(entries))
            elapsed = time.perf_counter() - t0
            if note is None and elapsed > 5:
                rate = (history.loaded - start) / elapsed
                projected = (largest - start) / rate
                if projected > budget_s:
                    fitting = [s for s in fallback_sizes if s < largest and (s - start) / rate <= budget_s]
                    target = max(max(fitting, default=0), history.loaded)
                    target += -target % CHUNK if target % CHUNK else 0
                    note = (
                        f"SQLite: loading {largest:,} entries was projected at ~{projected:.0f}s "
                        f"({rate:,.0f} entries/s over the first {history.loaded - start:,}), over the "
                        f"{budget_s:.0f}s budget (--sqlite-load-budget), so SQLite reads are timed at "
                        f"{target:,} entries instead of {largest:,}."
                    )
                    bar.total = target - start
    return target, note


###############################################################################
# Both engines
###############################################################################

CONSISTENCY_SQL = """
WITH sums AS MATERIALIZED (
    SELECT account, SUM(amount_minor) AS posted, MAX(id) AS last_id, COUNT(*) AS n
    FROM ledger_posting GROUP BY account
)
SELECT
    (SELECT COALESCE(SUM(balance_minor), 0) FROM ledger_account) AS total,
    (SELECT COUNT(*) FROM ledger_entry) AS entries,
    (SELECT COALESCE(SUM(n), 0) FROM sums) AS postings,
    (SELECT COUNT(*) FROM ledger_account a LEFT JOIN sums s ON s.account = a.id
        WHERE a.balance_minor <> COALESCE(s.posted, 0)) AS mismatched,
    (SELECT COUNT(*) FROM ledger_account WHERE NOT allow_negative AND balance_minor - held_minor < 0) AS negative,
    (SELECT COUNT(*) FROM ledger_account a LEFT JOIN sums s ON s.account = a.id
        LEFT JOIN ledger_posting p ON p.id = s.last_id
        WHERE a.balance_minor <> COALESCE(p.balance_after_minor, 0)) AS last_balance_after_mismatched
"""
CONSISTENCY_FIELDS = ("total", "entries", "postings", "mismatched", "negative", "last_balance_after_mismatched")


def consistency_verdict(values: Sequence[Any]) -> dict[str, Any]:
    row = {name: int(value) for name, value in zip(CONSISTENCY_FIELDS, values, strict=True)}
    ok = (
        row["total"] == 0
        and row["mismatched"] == 0
        and row["negative"] == 0
        and row["last_balance_after_mismatched"] == 0
        and row["postings"] == 2 * row["entries"]
    )
    return {"ok": ok, **row}


async def check_consistency(engine: str, url: str) -> dict[str, Any]:
    """Sum of balances zero, every balance = the sum of its postings = its
    last ``balance_after``, no no-negative account below zero, two postings
    per entry. One pass over the postings, so it is affordable at 10M."""
    if engine == "postgres":
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            row = await conn.fetchrow(CONSISTENCY_SQL)
        finally:
            await conn.close()
        return consistency_verdict(list(row.values()))
    with sqlite_connection(url.removeprefix("sqlite:///")) as sconn:
        values = sconn.execute(CONSISTENCY_SQL).fetchone()
    return consistency_verdict(values)


async def database_bytes(engine: str, url: str) -> int:
    """The database's size on disk (SQLite: the file and its WAL)."""
    if engine == "postgres":
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
        finally:
            await conn.close()
    return sqlite_file_bytes(url.removeprefix("sqlite:///"))


def sqlite_file_bytes(path: str) -> int:
    return sum(os.path.getsize(p) for p in (path, f"{path}-wal") if os.path.exists(p))
