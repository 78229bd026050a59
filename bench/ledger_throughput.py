#!/usr/bin/env python
# ruff: noqa: E501  (a report generator: long format strings read better on one line)
"""Fengling ledger benchmark: posting throughput, the raw-SQL ceiling, read latency at scale.

Run from the repository root::

    .venv/bin/python bench/ledger_throughput.py                      # everything, defaults (~10 min, 2 cores)
    .venv/bin/python bench/ledger_throughput.py --engine postgres --transfers 5000
    .venv/bin/python bench/ledger_throughput.py --engine sqlite --history-sizes 10000,200000
    .venv/bin/python bench/ledger_throughput.py --engine postgres --skip-reads --transfers 3000 --profile

What it measures (each engine in its own child process, see below):

1. Posting throughput through ``ledger.posting.transfer``: one ``allow_negative``
   issuance account funds 1,000 no-negative wallets with 10,000 points each,
   then N transfers between random wallet pairs of 0.01-1.00 points (never
   refused), each with a unique idempotency key; once with 1 task, once with 8
   concurrent tasks, after 300 untimed warm-up transfers each. One transfer is
   one entry with two postings: the figure reported is **transfers/s**
   (= entries/s); postings/s is exactly twice that. N = ``--transfers``
   (default 20,000) on PostgreSQL and ``--sqlite-transfers`` (default 5,000) on
   SQLite, which posts ~100-150 transfers/s here (20,000 twice would take
   ~5 minutes on its own). CPU per transfer is reported for this process
   (os.times), for all ``postgres`` processes (/proc/PID/stat) and for the
   whole machine (/proc/stat), which shows whether a run is CPU-bound.
2. PostgreSQL only: the *same* transaction issued as hand-written SQL through
   asyncpg (the ceiling), statement for statement what ``posting.py`` sends:
   BEGIN; SELECT the two accounts FOR UPDATE in id order; SELECT the
   idempotency key; INSERT the entry RETURNING id; INSERT both postings in one
   statement; one UPDATE per account; COMMIT (plus asyncpg's pool-release
   reset, sent by both pools). The worker records the statements one real
   ``transfer`` sends at the asyncpg connection and prints them next to the
   raw ones. asyncpg pool of 1 connection (1 task) and 8 (8 tasks). Reported:
   raw transfers/s and ours/raw; the target is ours >= 50 % of raw with 8
   tasks. ``--profile`` adds a cProfile of single-task transfers (ours and raw).
3. Read latency at scale: ``ledger.accounts.get_balance(code)`` and one
   ``ledger.statements.statement(code, limit=20)`` page, median and p95 over
   ``--read-calls`` calls (default 200, each measurement capped at 10 s), when
   the ledger holds each of ``--history-sizes`` entries (default 10k and 1M).
   The history is NOT posted through the service (1M entries would take
   hours): the worker empties the ledger tables, generates the history in
   Python (seeded: 1,000 funding entries, then every 10th entry an issuance
   from the hot issuer account, every 5th entry up to entry 500,000 a grant
   from a campaign account that is dormant afterwards, the rest
   wallet-to-wallet) with running ``balance_after_minor`` values and final
   materialised balances, bulk-inserts it (PostgreSQL: ``COPY`` via asyncpg
   ``copy_records_to_table``, foreign keys and CHECK constraints on; SQLite:
   one ``executemany`` transaction through the stdlib ``sqlite3`` module),
   runs ``VACUUM ANALYZE`` / ``ANALYZE`` (what autovacuum would do after a
   large insert), then checks the ledger is consistent (sum of balances zero,
   every balance = sum of its postings = its last ``balance_after``).
   Sizes are loaded incrementally (10k, then up to 1M). Each statement read is
   also timed as bare SQL through the driver and EXPLAINed, to separate the
   database's share from the Python stack and to show which index is used.
   SQLite: if loading the largest size is projected (from the measured rate)
   to exceed ``--sqlite-load-budget`` seconds (default 120), the load stops
   at the biggest of 500k/200k/100k/50k that fits and the output says so.
4. The machine (nproc, memory, CPU model, Python, SQLite and PostgreSQL
   versions, load average at start and end) and the exact command to rerun.

Process layout: ``piccolo_conf`` builds its engine at import time from
``FENGLING_DATABASE_URL``, so the parent never imports it. For each engine the
parent creates a throwaway database (PostgreSQL: ``CREATE DATABASE
fl_bench_<random>`` on the server of ``--pg-url``; SQLite: a file in a temp
folder), runs ``bench/ledger_throughput.py --_worker ENGINE`` with
``FENGLING_DATABASE_URL`` / ``FENGLING_DATA_DIR`` pointing there, reads its JSON
result from stdout, and drops the database / folder afterwards (set
``FL_BENCH_KEEP=1`` to keep them for inspection). The worker runs ``await
migrate()`` first, and on PostgreSQL starts Piccolo's connection pool (8
connections, closed at the end), like the service does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parent.parent
RESULT_TAG = "@@BENCH-RESULT@@ "

WALLETS = 1000
ISSUER = "bench:issuer"
CAMPAIGN = "bench:campaign"  # bulk history only: hot until entry CAMPAIGN_UNTIL, then dormant
CAMPAIGN_UNTIL = 500_000
SQLITE_FALLBACK_SIZES = (500_000, 200_000, 100_000, 50_000)
READ_TIME_CAP_S = 10.0  # a read measurement stops after this long (min 20 calls)
FUNDING_POINTS = 10_000  # per wallet, for the posting benchmark
WARMUP = 300  # transfers before each measured posting run (not counted)
TASKS_MULTI = 8
READ_WARMUP = 100  # untimed calls before each read measurement
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def wallet_code(i: int) -> str:
    return f"bench:wallet:{i:04d}"


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


###############################################################################
# Worker (runs in a child process with FENGLING_DATABASE_URL set)
###############################################################################


class Plan:
    """Pre-generated transfers, so generating them is not measured."""

    def __init__(self, rng: random.Random, count: int, prefix: str) -> None:
        self.items: list[tuple[str, str, str, int, str]] = []
        for i in range(count):
            a = rng.randrange(WALLETS)
            b = (a + 1 + rng.randrange(WALLETS - 1)) % WALLETS
            minor = rng.randint(1, 100)
            self.items.append(
                (wallet_code(a), wallet_code(b), f"{minor // 100}.{minor % 100:02d}", minor, f"{prefix}-{i}")
            )


CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def server_cpu_seconds() -> float:
    """user+system CPU of every process named ``postgres`` on this machine (0 if none)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / CLK_TCK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies summed over all CPUs, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return float(sum(fields[:8]) - idle), float(sum(fields[:8]))


async def run_concurrently(
    fn: Callable[[tuple[str, str, str, int, str]], Awaitable[None]],
    items: Sequence[tuple[str, str, str, int, str]],
    tasks: int,
) -> dict[str, Any]:
    latencies: list[float] = []
    iterator = iter(items)

    async def one_task() -> None:
        for item in iterator:  # shared iterator: each task takes the next transfer
            started = time.perf_counter()
            await fn(item)
            latencies.append(time.perf_counter() - started)

    times0, server0, (busy0, all0) = os.times(), server_cpu_seconds(), machine_cpu()
    wall0 = time.perf_counter()
    await asyncio.gather(*(one_task() for _ in range(tasks)))
    wall = time.perf_counter() - wall0
    times1, server1, (busy1, all1) = os.times(), server_cpu_seconds(), machine_cpu()
    n = len(latencies)
    user, system = times1.user - times0.user, times1.system - times0.system
    return {
        "transfers": n,
        "seconds": wall,
        "transfers_per_s": n / wall,
        "postings_per_s": 2 * n / wall,
        "p50_ms": pct(latencies, 0.5) * 1000,
        "p95_ms": pct(latencies, 0.95) * 1000,
        "client_cpu_us_per_transfer": (user + system) / n * 1e6,
        "client_user_us_per_transfer": user / n * 1e6,
        "client_sys_us_per_transfer": system / n * 1e6,
        "server_cpu_us_per_transfer": (server1 - server0) / n * 1e6,
        "machine_busy": (busy1 - busy0) / (all1 - all0) if all1 > all0 else float("nan"),
        # CPU used by everything else on the machine (other processes, kernel threads), per transfer:
        # if this is not small, the run shared the machine and its figures are low.
        "other_cpu_us_per_transfer": (
            ((busy1 - busy0) / CLK_TCK - (user + system) - (server1 - server0)) / n * 1e6
            if all1 > all0
            else float("nan")
        ),
    }


class Worker:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.engine_name: str = args._worker
        self.rng = random.Random(args.seed)
        self.result: dict[str, Any] = {"engine": self.engine_name, "posting": [], "reads": [], "notes": []}
        self.run_id = uuid.uuid4().hex[:8]
        self.ours_update_count = 2  # until a real transfer has been recorded

    # -- setup ---------------------------------------------------------------

    async def setup(self) -> None:
        from admin.migrations import migrate
        from core.database import engine
        from ledger.accounts import open_account

        self.db: Any = cast(Any, engine())  # PostgresEngine or SQLiteEngine; pool methods differ
        t0 = time.perf_counter()
        await migrate()
        log(f"migrated in {time.perf_counter() - t0:.1f}s")
        if self.db.engine_type == "postgres":
            await self.db.start_connection_pool(min_size=TASKS_MULTI, max_size=TASKS_MULTI)
            self.dsn = os.environ["FENGLING_DATABASE_URL"]

        sem = asyncio.Semaphore(TASKS_MULTI)

        async def opened(code: str, **kw: Any) -> None:
            async with sem:
                await open_account(code, **kw)

        t0 = time.perf_counter()
        await open_account(ISSUER, account_type="equity", allow_negative=True, name_zh="积分发行", name_en="issuance")
        await open_account(CAMPAIGN, account_type="equity", allow_negative=True, name_zh="活动", name_en="campaign")
        await asyncio.gather(
            *(opened(wallet_code(i), account_type="liability", owner_ref=f"member:{i}") for i in range(WALLETS))
        )
        await self.fund_wallets()
        log(f"opened issuer, campaign and {WALLETS} wallets and funded the wallets in {time.perf_counter() - t0:.1f}s")

    async def fund_wallets(self) -> None:
        from ledger.posting import transfer

        sem = asyncio.Semaphore(TASKS_MULTI)

        async def fund(i: int) -> None:
            async with sem:
                await transfer(
                    debit_code=ISSUER,
                    credit_code=wallet_code(i),
                    amount=str(FUNDING_POINTS),
                    kind="grant",
                    reason_zh="初始积分",
                    reason_en="opening grant",
                    idempotency_key=f"fund-{self.run_id}-{i}",
                )

        await asyncio.gather(*(fund(i) for i in range(WALLETS)))

    async def teardown(self) -> None:
        if self.db.engine_type == "postgres" and self.db.pool:
            await self.db.close_connection_pool()

    # -- posting -------------------------------------------------------------

    async def ours(self, item: tuple[str, str, str, int, str]) -> None:
        from ledger.posting import transfer

        debit, credit, amount, _minor, key = item
        await transfer(
            debit_code=debit,
            credit_code=credit,
            amount=amount,
            kind="transfer",
            reason_zh="积分转赠",
            reason_en="points transfer",
            idempotency_key=key,
        )

    def raw_fn(self, pool: Any) -> Callable[[tuple[str, str, str, int, str]], Awaitable[None]]:
        """The posting transaction of ledger/posting.py as hand-written asyncpg calls.

        Same round trips, same order: BEGIN; lock the two accounts FOR UPDATE
        in id order; look up the idempotency key; INSERT the entry RETURNING
        id; INSERT both postings in one statement (RETURNING id); the balance
        UPDATE(s); COMMIT; (pool release runs asyncpg's reset query, as for
        Piccolo's pool). posting.py as of commit 0dddb19 sends one UPDATE per
        account; if the recorded statements of a real transfer show a single
        UPDATE for both accounts (a newer posting.py), the raw version sends
        one UPDATE too, so both keep the same number of round trips.
        """
        single_update = self.ours_update_count == 1
        lock_sql = (
            "SELECT id, code, allow_negative, balance_minor, held_minor FROM ledger_account "
            "WHERE code = ANY($1::varchar[]) ORDER BY id FOR UPDATE"
        )
        key_sql = "SELECT id FROM ledger_entry WHERE idempotency_key = $1"
        entry_sql = (
            "INSERT INTO ledger_entry (kind, reason_zh, reason_en, memo, metadata, actor_ref, cause_ref, "
            "idempotency_key, request_fingerprint, reverses, created_at) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,NULL,$10) RETURNING id"
        )
        postings_sql = (
            "INSERT INTO ledger_posting (entry, account, amount_minor, balance_after_minor, created_at) "
            "VALUES ($1,$2,$3,$4,$5),($6,$7,$8,$9,$10) RETURNING id"
        )
        update_sql = "UPDATE ledger_account SET balance_minor = $1 WHERE id = $2"
        update_both_sql = (
            "UPDATE ledger_account SET balance_minor = CASE id WHEN $1 THEN $2::bigint WHEN $3 THEN $4::bigint END, "
            "held_minor = CASE id WHEN $1 THEN $5::bigint WHEN $3 THEN $6::bigint END WHERE id IN ($1, $3)"
        )

        async def raw(item: tuple[str, str, str, int, str]) -> None:
            debit, credit, _amount, minor, key = item
            async with pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(lock_sql, sorted((debit, credit)))
                accounts = {row["code"]: row for row in rows}
                if len(accounts) != 2:
                    raise RuntimeError("account not found")
                if await conn.fetchval(key_sql, key) is not None:
                    return  # replay: nothing to write
                d, c = accounts[debit], accounts[credit]
                new_d = d["balance_minor"] - minor
                new_c = c["balance_minor"] + minor
                if not d["allow_negative"] and new_d - d["held_minor"] < 0:
                    raise RuntimeError("insufficient funds")
                now = datetime.now(UTC)
                fingerprint = hashlib.sha256(f"{debit}|{credit}|{minor}|{key}".encode()).hexdigest()
                entry_id = await conn.fetchval(
                    entry_sql,
                    "transfer",
                    "积分转赠",
                    "points transfer",
                    "",
                    "{}",
                    "system",
                    "",
                    key,
                    fingerprint,
                    now,
                )
                await conn.fetch(
                    postings_sql, entry_id, d["id"], -minor, new_d, now, entry_id, c["id"], minor, new_c, now
                )
                if single_update:
                    await conn.execute(
                        update_both_sql, d["id"], new_d, c["id"], new_c, d["held_minor"], c["held_minor"]
                    )
                else:
                    await conn.execute(update_sql, new_d, d["id"])
                    await conn.execute(update_sql, new_c, c["id"])

        return raw

    async def capture_round_trips(self, fn: Callable[[], Awaitable[None]]) -> list[str]:
        """Every statement one call sends to PostgreSQL (asyncpg fetch/execute)."""
        from asyncpg.connection import Connection

        sent: list[str] = []
        originals = {name: getattr(Connection, name) for name in ("fetch", "fetchval", "execute")}

        def wrap(name: str) -> Any:
            original = originals[name]

            async def wrapper(self: Any, query: str, *a: Any, **k: Any) -> Any:
                sent.append(" ".join(query.split()))
                return await original(self, query, *a, **k)

            return wrapper

        for name in originals:
            setattr(Connection, name, wrap(name))
        try:
            await fn()
        finally:
            for name, original in originals.items():
                setattr(Connection, name, original)
        return sent

    async def posting_bench(self) -> None:
        is_pg = self.db.engine_type == "postgres"
        n = self.args.transfers if is_pg else self.args.sqlite_transfers
        import asyncpg

        if is_pg:
            self.result["round_trip"] = await self.round_trip_calibration()
            # Record what one real transfer sends, and what the raw version sends.
            probe = Plan(self.rng, 2, f"probe-{self.run_id}").items
            self.result["ours_round_trips"] = await self.capture_round_trips(lambda: self.ours(probe[0]))
            self.ours_update_count = sum(sql.upper().startswith("UPDATE") for sql in self.result["ours_round_trips"])
            pool1 = await asyncpg.create_pool(self.dsn, min_size=1, max_size=1)
            self.result["raw_round_trips"] = await self.capture_round_trips(lambda: self.raw_fn(pool1)(probe[1]))
            await pool1.close()

        async def measure(impl: str, tasks: int) -> None:
            plan = Plan(self.rng, WARMUP + n, f"{impl}{tasks}-{self.run_id}").items
            fn: Callable[[tuple[str, str, str, int, str]], Awaitable[None]]
            if impl == "ours":
                fn = self.ours
                pool = None
            else:
                pool = await asyncpg.create_pool(self.dsn, min_size=tasks, max_size=tasks)
                fn = self.raw_fn(pool)
            await run_concurrently(fn, plan[:WARMUP], tasks)
            log(f"{self.engine_name} {impl} x{tasks}: {n} transfers ...")
            stats = await run_concurrently(fn, plan[WARMUP:], tasks)
            if pool is not None:
                await pool.close()
            stats.update({"impl": impl, "tasks": tasks})
            log(
                f"{self.engine_name} {impl} x{tasks}: {stats['transfers_per_s']:.0f} transfers/s "
                f"(p50 {stats['p50_ms']:.2f} ms, client CPU {stats['client_cpu_us_per_transfer']:.0f} us/transfer)"
            )
            self.result["posting"].append(stats)

        # Interleaved so table growth does not favour one implementation.
        await measure("ours", 1)
        if is_pg:
            await measure("raw", 1)
        await measure("ours", TASKS_MULTI)
        if is_pg:
            await measure("raw", TASKS_MULTI)
        self.result["posting_consistency"] = await self.check_consistency()

        if self.args.profile:
            await self.profile_transfer()

    async def round_trip_calibration(self) -> dict[str, float]:
        """Cost of one bare round trip (SELECT 1) on this machine: wall and client CPU."""
        import asyncpg

        conn = await asyncpg.connect(self.dsn)
        try:
            for _ in range(300):
                await conn.fetchval("SELECT 1")
            count = 3000
            t0, wall0 = os.times(), time.perf_counter()
            for _ in range(count):
                await conn.fetchval("SELECT 1")
            wall, t1 = time.perf_counter() - wall0, os.times()
        finally:
            await conn.close()
        return {
            "wall_us": wall / count * 1e6,
            "client_user_us": (t1.user - t0.user) / count * 1e6,
            "client_sys_us": (t1.system - t0.system) / count * 1e6,
        }

    async def profile_transfer(self) -> None:
        """cProfile single-task transfers: ours, and (PostgreSQL) the raw version."""
        import asyncpg

        count = self.args.profile_transfers
        self.result["profile"] = {}
        impls = ["ours"] + (["raw"] if self.db.engine_type == "postgres" else [])
        for impl in impls:
            plan = Plan(self.rng, count, f"prof-{impl}-{self.run_id}").items
            pool = None
            fn: Callable[[tuple[str, str, str, int, str]], Awaitable[None]] = self.ours
            if impl == "raw":
                pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=1)
                fn = self.raw_fn(pool)
            log(f"cProfile: {count} single-task transfers, {impl} ...")
            profiler = cProfile.Profile()
            wall0 = time.perf_counter()
            profiler.enable()
            for item in plan:
                await fn(item)
            profiler.disable()
            wall = time.perf_counter() - wall0
            if pool is not None:
                await pool.close()
            stats = pstats.Stats(profiler)
            groups: dict[str, float] = {}
            total_tt = 0.0
            for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
                total_tt += tt
                group = profile_group(filename, func)
                groups[group] = groups.get(group, 0.0) + tt
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
            cum = io.StringIO()
            pstats.Stats(profiler, stream=cum).sort_stats("cumulative").print_stats(
                r"ledger/|piccolo/(query|engine|table|querystring)|pydantic/main", 30
            )
            self.result["profile"][impl] = {
                "transfers": count,
                "wall_s": wall,
                "profiled_s": total_tt,
                "groups_s": dict(sorted(groups.items(), key=lambda kv: -kv[1])),
                "top_tottime": trim_pstats(out.getvalue()),
                "top_cumulative": trim_pstats(cum.getvalue()),
            }

    async def check_consistency(self) -> dict[str, Any]:
        from ledger.tables import LedgerAccount

        rows = await LedgerAccount.raw(
            "SELECT "
            "(SELECT COALESCE(SUM(balance_minor), 0) FROM ledger_account) AS total, "
            "(SELECT COUNT(*) FROM ledger_entry) AS entries, "
            "(SELECT COUNT(*) FROM ledger_posting) AS postings, "
            "(SELECT COUNT(*) FROM ledger_account a WHERE a.balance_minor <> "
            "  (SELECT COALESCE(SUM(p.amount_minor), 0) FROM ledger_posting p WHERE p.account = a.id)) AS mismatched, "
            "(SELECT COUNT(*) FROM ledger_account WHERE NOT allow_negative AND balance_minor - held_minor < 0) AS negative, "
            "(SELECT COUNT(*) FROM ledger_account a WHERE a.balance_minor <> COALESCE("
            "  (SELECT p.balance_after_minor FROM ledger_posting p WHERE p.account = a.id ORDER BY p.id DESC LIMIT 1), 0)"
            ") AS last_balance_after_mismatched"
        ).run()
        row = rows[0]
        ok = (
            row["total"] == 0
            and row["mismatched"] == 0
            and row["negative"] == 0
            and row["last_balance_after_mismatched"] == 0
            and row["postings"] == 2 * row["entries"]
        )
        return {"ok": bool(ok), **{k: int(v) for k, v in row.items()}}

    # -- reads at scale --------------------------------------------------------

    async def reads_bench(self) -> None:
        from ledger.tables import LedgerAccount

        sizes = sorted(self.args.history_sizes)
        accounts = await LedgerAccount.select(LedgerAccount.id, LedgerAccount.code).order_by(LedgerAccount.id).run()
        ids = {row["code"]: row["id"] for row in accounts}
        self.issuer_id = ids[ISSUER]
        self.campaign_id = ids[CAMPAIGN]
        self.wallet_ids = [ids[wallet_code(i)] for i in range(WALLETS)]
        await self.empty_ledger()
        self.balances = dict.fromkeys(ids.values(), 0)
        self.loaded = 0
        self.next_posting_id = 1
        self.base_time = datetime.now(UTC) - timedelta(days=60)
        self.load_rng = random.Random(self.args.seed + 1)
        for size in sizes:
            t0 = time.perf_counter()
            reached, note = await self.load_history(size, largest=sizes[-1])
            load_s = time.perf_counter() - t0
            if note:
                self.result["notes"].append(note)
                log(note)
            if reached == 0 or (self.result["reads"] and reached == self.result["reads"][-1]["entries"]):
                break
            consistency = await self.check_consistency()
            log(
                f"history at {reached:,} entries (loaded in {load_s:.1f}s, consistent={consistency['ok']}); timing reads ..."
            )
            reads = await self.time_reads()
            reads.update({"entries": reached, "requested": size, "load_s": load_s, "consistent": consistency["ok"]})
            self.result["reads"].append(reads)
            if reached < size:
                break

    async def empty_ledger(self) -> None:
        from ledger.tables import LedgerAccount

        if self.db.engine_type == "postgres":
            await LedgerAccount.raw("TRUNCATE ledger_posting, ledger_hold, ledger_entry RESTART IDENTITY").run()
        else:
            for table in ("ledger_posting", "ledger_hold", "ledger_entry"):
                await LedgerAccount.raw(f"DELETE FROM {table}").run()
        await LedgerAccount.raw("UPDATE ledger_account SET balance_minor = 0, held_minor = 0").run()

    def generate(self, count: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The next ``count`` entries of the synthetic history, with their postings.

        Entry k (1-based over the whole history): k <= 1000 funds wallet k from
        the issuer with 1,000,000 points; after that every 10th entry is an
        issuance of 1-10 points from the issuer to a random wallet (the issuer
        is a hot account: ~5 % of all postings), every 5th entry (k % 5 == 2)
        up to entry 500,000 is a grant from the campaign account (as hot as the
        issuer while it runs, dormant after entry 500,000), and the rest move
        0.01-1.00 points between two random wallets. ``balance_after_minor`` is the running balance, exactly
        as the posting service writes it.
        """
        rng = self.load_rng
        wallets = self.wallet_ids
        issuer, campaign = self.issuer_id, self.campaign_id
        balances = self.balances
        entries: list[tuple[Any, ...]] = []
        postings: list[tuple[Any, ...]] = []
        pid = self.next_posting_id
        for k in range(self.loaded + 1, self.loaded + count + 1):
            if k <= WALLETS:
                debit, credit, minor, kind, zh, en = (
                    issuer,
                    wallets[k - 1],
                    100_000_000,
                    "grant",
                    "初始积分",
                    "opening grant",
                )
            elif k % 10 == 0:
                debit, credit, minor, kind, zh, en = (
                    issuer,
                    wallets[rng.randrange(WALLETS)],
                    rng.randint(100, 1000),
                    "grant",
                    "志愿服务积分",
                    "volunteering points",
                )
            elif k % 5 == 2 and k <= CAMPAIGN_UNTIL:
                debit, credit, minor, kind, zh, en = (
                    campaign,
                    wallets[rng.randrange(WALLETS)],
                    rng.randint(100, 1000),
                    "grant",
                    "活动奖励",
                    "campaign reward",
                )
            else:
                a = rng.randrange(WALLETS)
                b = (a + 1 + rng.randrange(WALLETS - 1)) % WALLETS
                debit, credit, minor, kind, zh, en = (
                    wallets[a],
                    wallets[b],
                    rng.randint(1, 100),
                    "transfer",
                    "积分转赠",
                    "points transfer",
                )
            at = self.base_time + timedelta(milliseconds=k)
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
    CHUNK = 50_000

    def next_chunk(self, target: int) -> int:
        """Chunks end on multiples of CHUNK, so a load cut short stops at a round size."""
        return min(self.CHUNK - self.loaded % self.CHUNK, target - self.loaded)

    async def load_history(self, target: int, *, largest: int) -> tuple[int, str | None]:
        if self.db.engine_type == "postgres":
            return await self.load_pg(target), None
        return self.load_sqlite(target, largest=largest)

    async def load_pg(self, target: int) -> int:
        import asyncpg

        conn = await asyncpg.connect(self.dsn)
        try:
            async with conn.transaction():
                while self.loaded < target:
                    entries, postings = self.generate(self.next_chunk(target))
                    await conn.copy_records_to_table("ledger_entry", records=entries, columns=self.ENTRY_COLUMNS)
                    await conn.copy_records_to_table("ledger_posting", records=postings, columns=self.POSTING_COLUMNS)
                await conn.executemany(
                    "UPDATE ledger_account SET balance_minor = $1 WHERE id = $2",
                    [(balance, account_id) for account_id, balance in self.balances.items()],
                )
                await conn.execute(
                    "SELECT setval(pg_get_serial_sequence('ledger_entry', 'id'), (SELECT MAX(id) FROM ledger_entry)), "
                    "setval(pg_get_serial_sequence('ledger_posting', 'id'), (SELECT MAX(id) FROM ledger_posting))"
                )
            await conn.execute("VACUUM ANALYZE ledger_entry, ledger_posting, ledger_account")
            # Flush the load now, not during the timed reads (needs superuser or
            # pg_checkpoint; without it the reads are just noisier).
            with contextlib.suppress(asyncpg.PostgresError):
                await conn.execute("CHECKPOINT")
        finally:
            await conn.close()
        return self.loaded

    def load_sqlite(self, target: int, *, largest: int) -> tuple[int, str | None]:
        """One transaction of executemany. If the measured rate says loading
        ``largest`` would exceed --sqlite-load-budget, shrink the target to the
        biggest of SQLITE_FALLBACK_SIZES that fits (never below what is loaded)."""
        import sqlite3

        path = os.environ["FENGLING_DATABASE_URL"].removeprefix("sqlite:///")
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA cache_size = -524288")  # 512 MiB page cache for this loading connection only
        budget = self.args.sqlite_load_budget
        note = None
        try:
            conn.execute("BEGIN IMMEDIATE")
            t0 = time.perf_counter()
            start = self.loaded
            entry_sql = f"INSERT INTO ledger_entry ({', '.join(self.ENTRY_COLUMNS)}) VALUES ({', '.join('?' * len(self.ENTRY_COLUMNS))})"
            posting_sql = f"INSERT INTO ledger_posting ({', '.join(self.POSTING_COLUMNS)}) VALUES ({', '.join('?' * len(self.POSTING_COLUMNS))})"
            while self.loaded < target:
                entries, postings = self.generate(self.next_chunk(target))
                conn.executemany(entry_sql, entries)
                conn.executemany(posting_sql, postings)
                elapsed = time.perf_counter() - t0
                if note is None and target == largest and elapsed > 5:
                    rate = (self.loaded - start) / elapsed
                    projected = largest / rate
                    if projected > budget:
                        fitting = [s for s in SQLITE_FALLBACK_SIZES if s < largest and s / rate <= budget]
                        target = max(max(fitting, default=0), self.loaded)
                        target += -target % self.CHUNK if target % self.CHUNK and target < largest else 0
                        note = (
                            f"SQLite: loading {largest:,} entries was projected at ~{projected:.0f}s "
                            f"({rate:,.0f} entries/s measured over the first {self.loaded - start:,}), over the "
                            f"{budget:.0f}s budget (--sqlite-load-budget), so SQLite reads are timed at "
                            f"{target:,} entries instead of {largest:,}."
                        )
            conn.executemany(
                "UPDATE ledger_account SET balance_minor = ? WHERE id = ?",
                [(balance, account_id) for account_id, balance in self.balances.items()],
            )
            conn.execute("COMMIT")
            conn.execute("ANALYZE")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        return self.loaded, note

    async def time_reads(self) -> dict[str, Any]:  # noqa: C901 -- a linear timing script: warm up, time, check each call
        from ledger.accounts import get_balance
        from ledger.statements import statement

        calls = self.args.read_calls
        rng = random.Random(self.args.seed + 2)
        wallet_codes = [wallet_code(i) for i in range(WALLETS)]

        async def timed(fn: Callable[[], Awaitable[Any]], check: Callable[[Any], None] | None = None) -> dict[str, Any]:
            started = time.perf_counter()
            for _ in range(READ_WARMUP):  # every pooled connection prepares and caches its plans
                await fn()
                if time.perf_counter() - started > READ_TIME_CAP_S / 2:
                    break
            times: list[float] = []
            started = time.perf_counter()
            for _ in range(calls):
                t0 = time.perf_counter()
                value = await fn()
                times.append(time.perf_counter() - t0)
                if check:
                    check(value)
                if time.perf_counter() - started > READ_TIME_CAP_S and len(times) >= 20:
                    break
            return {
                "median_ms": statistics.median(times) * 1000,
                "p95_ms": pct(times, 0.95) * 1000,
                "calls": len(times),
            }

        def page_ok(page: Any) -> None:
            assert 1 <= len(page.lines) <= 20, len(page.lines)

        from ledger.tables import LedgerPosting

        counts = {
            row["account"]: int(row["n"])
            for row in await LedgerPosting.raw(
                "SELECT account, COUNT(*) AS n FROM ledger_posting WHERE account IN ({}, {}) GROUP BY account",
                self.issuer_id,
                self.campaign_id,
            ).run()
        }
        out: dict[str, Any] = {
            "issuer_postings": counts.get(self.issuer_id, 0),
            "campaign_postings": counts.get(self.campaign_id, 0),
            "calls": {},
        }
        out["avg_wallet_postings"] = (2 * self.loaded - out["issuer_postings"] - out["campaign_postings"]) / WALLETS

        def random_wallet() -> str:
            return rng.choice(wallet_codes)

        out["calls"]["get_balance(wallet)"] = await timed(lambda: get_balance(random_wallet()))
        targets: list[tuple[str, Callable[[], str]]] = [
            ("wallet", random_wallet),
            ("issuer", lambda: ISSUER),
            ("campaign", lambda: CAMPAIGN),
        ]
        for label, pick in targets:
            result = await timed(lambda pick=pick: statement(pick(), limit=20), page_ok)  # type: ignore[misc]
            result["sql_only"] = await self.statement_sql_timing(pick)
            result["plan"] = await self.statement_plan(pick())
            if self.db.engine_type == "postgres" and label != "wallet":
                result["generic_plan"] = await self.statement_plan(pick(), generic=True)
            out["calls"][f"statement({label})"] = result
        return out

    async def capture_statement_sql(self, code: str) -> tuple[str, list[Any]]:
        """The page query ``statement(code)`` sends, as compiled SQL + parameters."""
        from ledger.statements import statement

        engine_class = type(self.db)
        original = engine_class.run_querystring
        captured: list[tuple[str, list[Any]]] = []

        async def wrapper(engine: Any, querystring: Any, in_pool: bool = True) -> Any:
            captured.append(querystring.compile_string(engine_type=engine.engine_type))
            return await original(engine, querystring, in_pool=in_pool)

        engine_class.run_querystring = wrapper
        try:
            await statement(code, limit=20)
        finally:
            engine_class.run_querystring = original
        sql, params = captured[-1]
        return sql, list(params)

    async def statement_sql_timing(self, pick: Callable[[], str]) -> dict[str, float]:
        """The statement page query alone, straight to the driver on one
        connection (no Piccolo, no pool, no account-id lookup): the database's
        own cost. PostgreSQL: a prepared statement, like asyncpg under Piccolo."""
        calls = self.args.read_calls
        ids = {wallet_code(i): wid for i, wid in enumerate(self.wallet_ids)} | {
            ISSUER: self.issuer_id,
            CAMPAIGN: self.campaign_id,
        }
        sql, params = await self.capture_statement_sql(pick())
        times: list[float] = []
        started = time.perf_counter()
        if self.db.engine_type == "postgres":
            import asyncpg

            conn = await asyncpg.connect(self.dsn)
            try:
                prepared = await conn.prepare(sql)
                for i in range(calls + 20):
                    params[0] = ids[pick()]
                    t0 = time.perf_counter()
                    await prepared.fetch(*params)
                    if i >= 20:
                        times.append(time.perf_counter() - t0)
                    if time.perf_counter() - started > READ_TIME_CAP_S and len(times) >= 20:
                        break
            finally:
                await conn.close()
        else:
            import sqlite3

            conn = sqlite3.connect(os.environ["FENGLING_DATABASE_URL"].removeprefix("sqlite:///"))
            try:
                for i in range(calls + 20):
                    params[0] = ids[pick()]
                    t0 = time.perf_counter()
                    conn.execute(sql, params).fetchall()
                    if i >= 20:
                        times.append(time.perf_counter() - t0)
                    if time.perf_counter() - started > READ_TIME_CAP_S and len(times) >= 20:
                        break
            finally:
                conn.close()
        return {"median_ms": statistics.median(times) * 1000, "p95_ms": pct(times, 0.95) * 1000}

    async def statement_plan(self, code: str, *, generic: bool = False) -> str:
        """The plan of the statement query the service sends for ``code``
        (PostgreSQL: EXPLAIN ANALYZE; ``generic`` = the plan a prepared
        statement gets once PostgreSQL switches it to a generic plan)."""
        sql, params = await self.capture_statement_sql(code)
        if self.db.engine_type == "postgres":
            import asyncpg

            conn = await asyncpg.connect(self.dsn)
            try:
                if generic:
                    await conn.execute("SET plan_cache_mode = force_generic_plan")
                    await conn.execute(f"PREPARE bench_statement AS {sql}")
                    args = ", ".join(f"'{p}'" if isinstance(p, str) else str(p) for p in params)
                    rows = await conn.fetch(
                        f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE bench_statement({args})"
                    )
                else:
                    rows = await conn.fetch(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {sql}", *params)
            finally:
                await conn.close()
            return "\n".join(row[0] for row in rows)
        import sqlite3

        conn = sqlite3.connect(os.environ["FENGLING_DATABASE_URL"].removeprefix("sqlite:///"))
        try:
            rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
        finally:
            conn.close()
        return "\n".join(str(row[-1]) for row in rows)


def plan_summary(plan: str) -> str:
    """One line: the scan/sort nodes, rows filtered away, execution time."""
    keep = []
    for line in plan.splitlines():
        text = line.strip().lstrip("->").strip()
        if any(
            word in text
            for word in ("Scan", "Sort ", "Sort Key", "Rows Removed", "Execution Time", "SEARCH", "SCAN", "TEMP B-TREE")
        ):
            if "ledger_entry_pkey" in text or "INTEGER PRIMARY KEY" in text:
                continue  # the per-row join to ledger_entry is the same in every plan
            text = text.split(" (actual")[0]
            keep.append(text)
    return " | ".join(keep)


def profile_group(filename: str, func: str) -> str:
    """Bucket a cProfile row. cProfile sees coroutines resume by resume, so the
    event loop's wait in epoll (the database working, or the process idle)
    shows up as time: it gets its own bucket."""
    path = filename.replace("\\", "/")
    if filename == "~":
        if "select.epoll" in func:
            return "idle: waiting in epoll (DB at work)"
        if "_thread.lock" in func:
            return "idle: waiting for a thread (sqlite)"
        if "_socket.socket" in func or "SimpleQueue" in func:
            return "syscalls (socket send/recv, queue)"
        if "pydantic" in func:
            return "pydantic (validation)"
        if "asyncpg" in func:
            return "asyncpg (C)"
        return "other builtins (C)"
    if f"{REPO}/ledger/" in path:
        return "ledger/ (Fengling Python code)"
    for name in ("piccolo", "asyncpg", "pydantic", "aiosqlite", "asyncio", "json", "decimal", "hashlib", "selectors"):
        if f"/{name}/" in path or path.endswith(f"/{name}.py"):
            return {"selectors": "asyncio"}.get(name, name)
    return "other Python"


def trim_pstats(text: str) -> str:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("ncalls"):
            return (
                "\n".join(lines[i:])
                .replace(str(REPO) + "/.venv/lib/python3.11/site-packages/", "")
                .replace(str(REPO) + "/", "")
            )
    return text


async def worker_main(args: argparse.Namespace) -> dict[str, Any]:
    worker = Worker(args)
    await worker.setup()
    try:
        await worker.posting_bench()
        if not args.skip_reads:
            await worker.reads_bench()
    finally:
        await worker.teardown()
    return worker.result


###############################################################################
# Parent: throwaway databases, child processes, report
###############################################################################


def with_database(url: str, name: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{name}"))


async def pg_admin(url: str, sql: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def machine_info(args: argparse.Namespace, engines: Sequence[str]) -> dict[str, str]:
    info: dict[str, str] = {}
    info["nproc"] = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() or str(os.cpu_count())
    try:
        meminfo = Path("/proc/meminfo").read_text()
        kb = int(next(line for line in meminfo.splitlines() if line.startswith("MemTotal")).split()[1])
        info["memory"] = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        info["memory"] = "?"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(
            line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")
        )
    except (OSError, StopIteration):
        info["cpu"] = platform.processor() or "?"
    info["code"] = code_version()
    info["python"] = platform.python_version()
    info["load average at start"] = load_average()
    info["kernel"] = platform.release()
    import sqlite3

    info["sqlite"] = sqlite3.sqlite_version
    if "postgres" in engines:
        try:
            info["postgresql"] = asyncio.run(pg_admin(args.pg_url, "SELECT version()"))
        except Exception as error:
            info["postgresql"] = f"unreachable ({error})"
    return info


def code_version() -> str:
    """The commit measured, and whether ledger/ differs from it (read-only git calls)."""

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(["git", *cmd], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""

    head = git("rev-parse", "--short", "HEAD").strip() or "?"
    dirty = git("status", "--porcelain", "--", "ledger", "admin", "piccolo_conf.py")
    posting = hashlib.sha256((REPO / "ledger" / "posting.py").read_bytes()).hexdigest()[:12]
    state = (
        "ledger/ as committed"
        if not dirty
        else "UNCOMMITTED changes: " + ", ".join(line[3:] for line in dirty.splitlines())
    )
    return f"commit {head}, {state}; sha256(ledger/posting.py) {posting}"


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3]) + " (1/5/15 min)"
    except OSError:
        return "?"


def run_engine(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix=f"fl-bench-{engine}-")
    env = dict(os.environ)
    env["FENGLING_DATA_DIR"] = tmp
    env["FENGLING_REDIS_URL"] = "memory://"
    env["FL_BENCH_THROWAWAY"] = "1"
    env.setdefault("FENGLING_SECRET_KEY", "bench-only-secret-key-0123456789abcdef0123456789")
    database = None
    try:
        if engine == "sqlite":
            env["FENGLING_DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        else:
            database = f"fl_bench_{uuid.uuid4().hex[:10]}"
            asyncio.run(pg_admin(args.pg_url, f'CREATE DATABASE "{database}"'))
            env["FENGLING_DATABASE_URL"] = with_database(args.pg_url, database)
        print(f"\n--- {engine}: {env['FENGLING_DATABASE_URL']} (throwaway)", file=sys.stderr, flush=True)
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--_worker",
            engine,
            "--transfers",
            str(args.transfers),
            "--sqlite-transfers",
            str(args.sqlite_transfers),
            "--history-sizes",
            ",".join(str(s) for s in args.history_sizes),
            "--read-calls",
            str(args.read_calls),
            "--seed",
            str(args.seed),
            "--sqlite-load-budget",
            str(args.sqlite_load_budget),
            "--profile-transfers",
            str(args.profile_transfers),
        ]
        if args.profile:
            command.append("--profile")
        if args.skip_reads:
            command.append("--skip-reads")
        proc = subprocess.run(command, env=env, cwd=REPO, stdout=subprocess.PIPE, text=True)
        results = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_TAG)]
        if proc.returncode != 0 or not results:
            sys.stderr.write(proc.stdout)
            raise SystemExit(f"{engine} worker failed (exit {proc.returncode})")
        result: dict[str, Any] = json.loads(results[-1].removeprefix(RESULT_TAG))
        return result
    finally:
        if database and not os.environ.get("FL_BENCH_KEEP"):
            try:
                asyncio.run(pg_admin(args.pg_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            except Exception as error:
                print(f"could not drop {database}: {error}", file=sys.stderr)
        if not os.environ.get("FL_BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


def report(results: list[dict[str, Any]], machine: dict[str, str], args: argparse.Namespace, total_s: float) -> str:
    out: list[str] = []
    w = out.append
    w("")
    w("=" * 112)
    w("Fengling ledger benchmark")
    w("=" * 112)
    w("")
    _posting_section(results, w)
    w("")
    _reads_section(results, args, w)
    _profile_section(results, w)

    w("")
    w("4. Machine")
    machine["load average at end"] = load_average()
    for key in (
        "code",
        "nproc",
        "memory",
        "cpu",
        "kernel",
        "python",
        "sqlite",
        "postgresql",
        "load average at start",
        "load average at end",
    ):
        if key in machine:
            w(f"   {key:<23}{machine[key]}")
    w("")
    w(f"Total run time: {total_s:.0f}s")
    w("Rerun with:")
    w(f"   cd {REPO} && .venv/bin/python bench/ledger_throughput.py {shlex.join(sys.argv[1:])}".rstrip())
    return "\n".join(out)


def _posting_section(results: list[dict[str, Any]], w: Callable[[str], None]) -> None:
    """Sections 1-2: posting throughput per engine, consistency, ours/raw on PostgreSQL."""
    w("1-2. Posting throughput. One transfer = one entry with 2 postings. Throughput is counted in TRANSFERS")
    w("     (= entries) per second; postings/s = 2 x transfers/s. 'ours' = ledger.posting.transfer (Piccolo);")
    w("     'raw' = the same statements through asyncpg directly (PostgreSQL only).")
    w("     CPU columns are per transfer: client = this benchmark process (user+sys; for SQLite it includes SQLite")
    w(
        "     itself, which runs in-process), server = all `postgres` processes, other = the rest of the machine's busy time"
    )
    w(
        "     (other processes, and kernel network work done on an otherwise idle CPU: ~1 ms baseline in 1-task runs, ~0 in"
    )
    w("     8-task runs; much more means something else shared the machine); busy = share of all CPUs in use.")
    w("")
    header = (
        f"{'engine':<9}{'impl':<5}{'tasks':>6}{'transfers':>10}{'sec':>7}{'transfers/s':>12}{'postings/s':>11}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'client us':>10}{'(user/sys)':>12}{'server us':>10}{'other us':>9}{'busy':>6}"
    )
    w(header)
    w("-" * len(header))
    for result in results:
        for row in result["posting"]:
            split = f"{row['client_user_us_per_transfer']:.0f}/{row['client_sys_us_per_transfer']:.0f}"
            w(
                f"{result['engine']:<9}{row['impl']:<5}{row['tasks']:>6}{row['transfers']:>10}{row['seconds']:>7.1f}"
                f"{row['transfers_per_s']:>12.0f}{row['postings_per_s']:>11.0f}{row['p50_ms']:>8.2f}{row['p95_ms']:>8.2f}"
                f"{row['client_cpu_us_per_transfer']:>10.0f}{split:>12}{row['server_cpu_us_per_transfer']:>10.0f}"
                f"{row['other_cpu_us_per_transfer']:>9.0f}{row['machine_busy']:>6.0%}"
            )
    for result in results:
        c = result.get("posting_consistency")
        if c:
            w(
                f"{result['engine']}: ledger after the posting runs: {c['entries']} entries, {c['postings']} postings, "
                f"sum of balances {c['total']}, balances != sum of postings: {c['mismatched']}, balances != last "
                f"balance_after: {c['last_balance_after_mismatched']}, negative wallets {c['negative']} "
                f"-> {'consistent' if c['ok'] else 'INCONSISTENT'}"
            )
    for result in results:
        if result["engine"] == "postgres":
            _postgres_comparison(result, w)
    for result in results:
        if result["engine"] == "sqlite" and result["posting"]:
            w("")
            w(
                f"SQLite posting runs use --sqlite-transfers={result['posting'][0]['transfers']} per run "
                f"(PostgreSQL: --transfers); no raw ceiling is measured on SQLite."
            )


def _postgres_comparison(result: dict[str, Any], w: Callable[[str], None]) -> None:
    """Our posting path against the raw asyncpg ceiling, and the statements each sends."""
    rows = {(r["impl"], r["tasks"]): r for r in result["posting"]}
    w("")
    rt = result.get("round_trip")
    if rt:
        w(
            f"PostgreSQL bare round trip (SELECT 1, asyncpg): {rt['wall_us']:.0f} us wall, client CPU "
            f"{rt['client_user_us']:.0f} us user + {rt['client_sys_us']:.0f} us sys"
        )
    w("PostgreSQL ours/raw:")
    for tasks in (1, TASKS_MULTI):
        ours, raw = rows.get(("ours", tasks)), rows.get(("raw", tasks))
        if ours and raw:
            ratio = ours["transfers_per_s"] / raw["transfers_per_s"]
            w(
                f"  {tasks} task{'s' if tasks > 1 else ' '}: ours {ours['transfers_per_s']:.0f}/s, raw {raw['transfers_per_s']:.0f}/s, "
                f"ours/raw = {ratio:.0%}   (client CPU/transfer: ours {ours['client_cpu_us_per_transfer']:.0f} us, "
                f"raw {raw['client_cpu_us_per_transfer']:.0f} us)"
            )
            if tasks == TASKS_MULTI:
                w(
                    f"  target ours >= 50% of raw with {TASKS_MULTI} tasks: {'MET' if ratio >= 0.5 else 'NOT MET'} ({ratio:.0%})"
                )
    if result.get("ours_round_trips"):
        w("")
        w("  Statements one ledger.posting.transfer sends (recorded at the asyncpg connection, in order):")
        for i, sql in enumerate(result["ours_round_trips"], 1):
            w(f"    {i:>2}. {sql[:140]}{' ...' if len(sql) > 140 else ''}")
        w("  Statements the raw version sends:")
        for i, sql in enumerate(result.get("raw_round_trips", []), 1):
            w(f"    {i:>2}. {sql[:140]}{' ...' if len(sql) > 140 else ''}")
        w("  (the last one is asyncpg's pool-release reset, sent by both pools)")
        verbs = [
            [sql.split()[0].rstrip(";").upper() for sql in result[key]]
            for key in ("ours_round_trips", "raw_round_trips")
        ]
        if verbs[0] != verbs[1]:
            w(
                "  WARNING: the raw version no longer mirrors what ledger/posting.py sends "
                f"({len(verbs[0])} vs {len(verbs[1])} statements): update Worker.raw_fn before trusting ours/raw."
            )


def _reads_section(results: list[dict[str, Any]], args: argparse.Namespace, w: Callable[[str], None]) -> None:
    """Section 3: read latency at scale, growth with history, and the statement plans."""
    if args.skip_reads:
        w("3. Read latency: skipped (--skip-reads).")
    else:
        w("3. Read latency at scale. History bulk-loaded (PostgreSQL: COPY; SQLite: executemany in one transaction),")
        w(
            f"   NOT posted through the service. Up to {args.read_calls} timed calls per row (stopped after {READ_TIME_CAP_S:.0f}s) after"
        )
        w(
            f"   up to {READ_WARMUP} warm-up calls. wallet = a random one of {WALLETS} wallets per call; issuer = hot account (every"
        )
        w(
            f"   10th entry); campaign = hot account that went dormant after entry {CAMPAIGN_UNTIL:,}. 'SQL only' = the page query"
        )
        w("   the service sends, run alone through the driver on one connection (the database's own share).")
        w("")
        header = (
            f"{'engine':<9}{'entries':>11}{'postings/wallet':>16}{'issuer':>9}{'campaign':>9}{'load s':>8}  "
            f"{'call':<24}{'median ms':>10}{'p95 ms':>9}{'calls':>6}{'SQL only ms':>12}"
        )
        w(header)
        w("-" * len(header))
        for result in results:
            for r in result["reads"]:
                for label, row in r["calls"].items():
                    sql_only = f"{row['sql_only']['median_ms']:.3f}" if "sql_only" in row else ""
                    w(
                        f"{result['engine']:<9}{r['entries']:>11,}{r['avg_wallet_postings']:>16,.0f}{r['issuer_postings']:>9,}"
                        f"{r['campaign_postings']:>9,}{r['load_s']:>8.1f}  {label:<24}{row['median_ms']:>10.3f}{row['p95_ms']:>9.3f}"
                        f"{row['calls']:>6}{sql_only:>12}"
                    )
            if len(result["reads"]) >= 2:
                small, large = result["reads"][0], result["reads"][-1]
                growth = ", ".join(
                    f"{label} x{large['calls'][label]['median_ms'] / small['calls'][label]['median_ms']:.2f}"
                    for label in large["calls"]
                )
                w(
                    f"{result['engine']}: median at {large['entries']:,} vs {small['entries']:,} entries "
                    f"({large['entries'] / small['entries']:.0f}x the history): {growth}"
                )
            for note in result.get("notes", []):
                w(f"NOTE {note}")
            _statement_plans(result, w)
            if not result["reads"] and not args.skip_reads:
                w(f"{result['engine']}: no read measurements")


def _statement_plans(result: dict[str, Any], w: Callable[[str], None]) -> None:
    for r in result["reads"]:
        w(
            f"{result['engine']} statement plans at {r['entries']:,} entries (EXPLAIN{' ANALYZE' if result['engine'] == 'postgres' else ' QUERY PLAN'}):"
        )
        for label, row in r["calls"].items():
            if "plan" in row:
                w(f"    {label:<20} {plan_summary(row['plan'])}")
            if "generic_plan" in row:
                w(f"    {label + ' generic':<20} {plan_summary(row['generic_plan'])}")


def _profile_section(results: list[dict[str, Any]], w: Callable[[str], None]) -> None:
    """cProfile summaries of single-task posting runs, when profiled."""
    for result in results:
        for impl, prof in (result.get("profile") or {}).items():
            w("")
            w(
                f"cProfile, {result['engine']} {impl}: {prof['transfers']} single-task transfers, wall {prof['wall_s']:.1f}s "
                f"with the profiler on ({prof['wall_s'] / prof['transfers'] * 1e6:.0f} us/transfer). Own time by bucket:"
            )
            for group, seconds in prof["groups_s"].items():
                if seconds / prof["profiled_s"] >= 0.005:
                    w(
                        f"    {group:<40}{seconds:>7.2f}s {seconds / prof['profiled_s']:>5.0%}  {seconds / prof['transfers'] * 1e6:>6.0f} us/transfer"
                    )
            w("  top functions by own time (ncalls count coroutine resumes, not calls):")
            for line in prof["top_tottime"].splitlines()[:22]:
                w(f"    {line}")
            if impl == "ours":
                w("  ledger/, piccolo and pydantic functions by cumulative time:")
                for line in prof["top_cumulative"].splitlines()[:32]:
                    w(f"    {line}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--transfers", type=int, default=20_000, help="transfers per measured PostgreSQL posting run (default 20000)"
    )
    parser.add_argument(
        "--sqlite-transfers",
        type=int,
        default=5_000,
        help="transfers per measured SQLite posting run (default 5000: SQLite posts ~100-150/s "
        "here, so 20000 x 2 runs alone would take ~5 min)",
    )
    parser.add_argument("--engine", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument(
        "--pg-url",
        default=DEFAULT_PG_URL,
        help=f"PostgreSQL server to create the throwaway database on (default {DEFAULT_PG_URL})",
    )
    parser.add_argument(
        "--history-sizes",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[10_000, 1_000_000],
        help="entries in the ledger when timing reads (default 10000,1000000)",
    )
    parser.add_argument("--read-calls", type=int, default=200, help="timed calls per read measurement (default 200)")
    parser.add_argument(
        "--sqlite-load-budget",
        type=float,
        default=120.0,
        help="seconds the SQLite bulk load of the largest history size may take (default 120)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile single-task transfers (output in the report)"
    )
    parser.add_argument("--profile-transfers", type=int, default=3000)
    parser.add_argument("--skip-reads", action="store_true", help="posting benchmarks only")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--_worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    if args._worker:
        if os.environ.get("FL_BENCH_THROWAWAY") != "1":
            # The worker empties the ledger tables: never let it near a real database.
            raise SystemExit("--_worker is started by the benchmark itself, on a throwaway database")
        sys.path.insert(0, str(REPO))
        os.chdir(REPO)
        result = asyncio.run(worker_main(args))
        print(RESULT_TAG + json.dumps(result, default=str), flush=True)
        return
    engines = ["sqlite", "postgres"] if args.engine == "all" else [args.engine]
    started = time.perf_counter()
    machine = machine_info(args, engines)
    results = [run_engine(engine, args) for engine in engines]
    print(report(results, machine, args, time.perf_counter() - started))


if __name__ == "__main__":
    main()
