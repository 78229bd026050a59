#!/usr/bin/env python
"""Fengling ledger benchmark: posting against its raw-driver ceiling, and read latency at scale.

Run from the repository root::

    .venv/bin/python bench/ledger_throughput.py                       # everything, defaults (~6-8 min on 2 cores)
    .venv/bin/python bench/ledger_throughput.py --list-statements     # what one transfer sends, ours and the ceiling
    .venv/bin/python bench/ledger_throughput.py --engine postgres --skip-reads --rounds 8
    .venv/bin/python bench/ledger_throughput.py --engine postgres --skip-posting --history-sizes 10k,1M,10M

What it measures (each engine in its own child process, on a throwaway
database it creates and drops):

1. **Posting, ours against the ceiling, interleaved.** Ours is
   ``ledger.posting.transfer``: one ``allow_negative`` issuer funds 1,000
   no-negative wallets, then transfers of 0.01-1.00 points between random
   wallet pairs, each with a new idempotency key. The ceiling
   (``ledger_ceiling.py``) sends the same statements in the same order on the
   bare driver with every argument it can precompute precomputed and no
   ledger Python: on PostgreSQL an asyncpg pool of N with a no-op reset (ours
   runs on Piccolo's pool of N, which has no reset either), on SQLite ONE
   long-lived ``sqlite3`` connection with the service's PRAGMAs, ``BEGIN
   IMMEDIATE`` … ``COMMIT`` per transfer. For each task count (``--tasks``,
   default 1 and 8) the two sides alternate, ``--rounds`` times (default 5;
   odd rounds ours first, even rounds the ceiling first, so neither always
   runs on the warmer or the bigger table), each run ``--transfers`` (PostgreSQL) or
   ``--sqlite-transfers`` transfers after ``--warmup`` untimed ones. The
   report gives every round's rates and ratio, the median rate per side and
   the median of the per-round ratios, against the targets of issue #10. A
   transfer is one entry with two postings: rates are transfers/s.
   CPU per transfer: client (this process), server (only the backends of
   the run's own pooled connections, by ``pg_backend_pid()``), other (the
   rest of the machine), and the machine's busy share (``bench_host.py``).
2. **What one transfer sends** (``ledger_statements.py``): recorded at the
   driver for ours and for the ceiling, with the number of round trips
   (PostgreSQL, BEGIN and COMMIT included) or statements and thread hops
   (SQLite), labelled with the ``FixedSql`` constant each came from. The
   report says where the two differ; ``--list-statements`` prints only this.
3. **Reads at scale**: ``get_balance``, ``balance_as_of`` and one
   ``statement(code, limit=20)`` page, median and p95, when the ledger holds
   each of ``--history-sizes`` entries (PostgreSQL, default 10k and 1M; 10M
   on request: ~5 minutes of loading on the 2-core VM) and ``--sqlite-history-sizes`` (SQLite, default
   10k and 1M). Three kinds of account: a random wallet, the hot issuer, and
   a campaign account that was hot until entry 500,000 and then went quiet.
   The history is bulk-loaded (``ledger_history.py``), checked for
   consistency, and each read's last statement is also timed alone on the
   driver ("SQL only") and EXPLAINed.
4. The machine, ``uptime`` at the start and end, the processes that shared
   it, the code measured and the exact command.

Progress goes to stderr, the report (Markdown tables) to stdout::

    .venv/bin/python bench/ledger_throughput.py | tee /tmp/bench.txt

``FL_BENCH_KEEP=1`` keeps the throwaway databases and folders. Everything
else the bench creates is removed when it exits, however it exits.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import json
import os
import pstats
import random
import shlex
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_host import (
    CpuSample,
    Throwaway,
    busiest_processes,
    cpu_per_operation,
    load_average,
    log,
    machine_info,
    percentile,
    pg_admin,
    uptime_line,
    with_database,
)
from ledger_ceiling import (
    Prepared,
    Transfer,
    no_reset,
    open_sqlite,
    post_postgres,
    post_sqlite,
    prepare,
    sqlite_pragmas,
)
from ledger_history import History, check_consistency, database_bytes, load_postgres, load_sqlite
from ledger_report import report
from ledger_statements import Sent, StatementLog, compare, install_sqlite_registry

REPO = Path(__file__).resolve().parent.parent
RESULT_TAG = "@@BENCH-RESULT@@ "

WALLETS = 1000
ISSUER = "bench:issuer"
CAMPAIGN = "bench:campaign"  # bulk history only: hot until entry CAMPAIGN_UNTIL, then dormant
SQLITE_FALLBACK_SIZES = (1_000_000, 500_000, 200_000, 100_000, 50_000)
READ_TIME_CAP_S = 10.0  # a read measurement stops after this long (min 20 calls)
READ_WARMUP = 100  # untimed calls before each read measurement
FUNDING_POINTS = 10_000  # per wallet, for the posting benchmark
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def wallet_code(i: int) -> str:
    return f"bench:wallet:{i:04d}"


def plan(rng: random.Random, count: int, prefix: str) -> list[Transfer]:
    """Transfers between random wallet pairs, generated before they are timed."""
    items = []
    for i in range(count):
        a = rng.randrange(WALLETS)
        b = (a + 1 + rng.randrange(WALLETS - 1)) % WALLETS
        minor = rng.randint(1, 100)
        items.append(
            Transfer(wallet_code(a), wallet_code(b), f"{minor // 100}.{minor % 100:02d}", minor, f"{prefix}-{i}")
        )
    return items


async def run_concurrently(
    fn: Callable[[Any], Awaitable[None]], items: Sequence[Any], tasks: int, backend_pids: Sequence[int] = ()
) -> dict[str, Any]:
    """``tasks`` coroutines taking the next item until none is left; wall,
    latency and CPU per item."""
    latencies: list[float] = []
    iterator = iter(items)

    async def one_task() -> None:
        for item in iterator:  # shared: each task takes the next item
            started = time.perf_counter()
            await fn(item)
            latencies.append(time.perf_counter() - started)

    before = CpuSample.now(backend_pids)
    wall0 = time.perf_counter()
    await asyncio.gather(*(one_task() for _ in range(tasks)))
    wall = time.perf_counter() - wall0
    after = CpuSample.now(backend_pids)
    n = len(latencies)
    return {
        "transfers": n,
        "seconds": wall,
        "transfers_per_s": n / wall,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        **cpu_per_operation(before, after, n),
    }


async def pool_backend_pids(pool: Any, size: int) -> list[int]:
    """The backend PID of every connection of ``pool`` (all held at once)."""
    connections = [await pool.acquire() for _ in range(size)]
    try:
        return sorted({int(await c.fetchval("SELECT pg_backend_pid()")) for c in connections})
    finally:
        for connection in connections:
            await pool.release(connection)


###############################################################################
# Worker (a child process with FENGLING_DATABASE_URL set)
###############################################################################


class Worker:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.engine: str = args._worker
        self.is_pg = self.engine == "postgres"
        self.url = os.environ["FENGLING_DATABASE_URL"]
        self.rng = random.Random(args.seed)
        self.run_id = uuid.uuid4().hex[:8]
        self.result: dict[str, Any] = {"engine": self.engine, "posting": [], "reads": [], "notes": []}
        self.raw_pools: dict[int, Any] = {}
        self.ours_pool_size = 0
        self.raw_sqlite: Any = None

    # -- setup ---------------------------------------------------------------

    async def setup(self) -> None:
        install_sqlite_registry()
        from admin.migrations import migrate
        from core.database import engine
        from ledger.accounts import open_account

        self.db: Any = engine()
        t0 = time.perf_counter()
        await migrate()
        log(f"migrated in {time.perf_counter() - t0:.1f}s")
        if self.is_pg:
            await self.ours_pool(max(self.args.tasks))

        sem = asyncio.Semaphore(8)

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
        from ledger.tables import LedgerAccount

        rows = await LedgerAccount.select(LedgerAccount.id, LedgerAccount.code).run()
        self.ids = {row["code"]: int(row["id"]) for row in rows}
        log(f"opened and funded {WALLETS} wallets in {time.perf_counter() - t0:.1f}s")
        if not self.is_pg:
            from core.engines import FenglingSQLiteEngine
            from fengling_settings import get_settings

            sqlite_engine = self.db
            assert isinstance(sqlite_engine, FenglingSQLiteEngine)
            self.raw_sqlite = open_sqlite(sqlite_engine.connection_kwargs, get_settings().sqlite_synchronous)
            writer = sqlite_engine.connections.writer()
            async with writer.lock:
                ours_pragmas = await writer.call(sqlite_pragmas)
            self.result["pragmas"] = {"ours": ours_pragmas, "raw": sqlite_pragmas(self.raw_sqlite)}

    async def fund_wallets(self) -> None:
        from ledger.posting import transfer

        sem = asyncio.Semaphore(8)

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

    async def ours_pool(self, size: int) -> Any:
        """Piccolo's pool (FenglingPostgresEngine: no reset), ``size`` connections."""
        if self.ours_pool_size != size:
            if self.db.pool is not None:
                await self.db.close_connection_pool()
            await self.db.start_connection_pool(min_size=size, max_size=size)
            self.ours_pool_size = size
        return self.db.pool

    async def raw_pool(self, size: int) -> Any:
        import asyncpg

        if size not in self.raw_pools:
            self.raw_pools[size] = await asyncpg.create_pool(self.url, min_size=size, max_size=size, reset=no_reset)
        return self.raw_pools[size]

    async def teardown(self) -> None:
        for pool in self.raw_pools.values():
            await pool.close()
        if self.is_pg and self.db.pool is not None:
            await self.db.close_connection_pool()
        if self.raw_sqlite is not None:
            self.raw_sqlite.close()

    # -- the two sides -------------------------------------------------------

    async def ours(self, t: Transfer) -> None:
        from ledger.posting import transfer

        await transfer(
            debit_code=t.debit,
            credit_code=t.credit,
            amount=t.amount,
            kind="transfer",
            reason_zh="积分转赠",
            reason_en="points transfer",
            idempotency_key=t.key,
        )

    async def side(
        self, impl: str, tasks: int, transfers: list[Transfer]
    ) -> tuple[Callable[[Any], Awaitable[None]], list[Any], Any]:
        """(function, its items, the pool or None) for one run."""
        if impl == "ours":
            return self.ours, transfers, (await self.ours_pool(tasks)) if self.is_pg else None
        prepared = [prepare(t, self.ids) for t in transfers]
        if not self.is_pg:
            connection = self.raw_sqlite

            async def raw_sqlite(p: Prepared) -> None:
                post_sqlite(connection, p)

            return raw_sqlite, prepared, None
        pool = await self.raw_pool(tasks)

        async def raw_postgres(p: Prepared) -> None:
            async with pool.acquire() as connection, connection.transaction():
                await post_postgres(connection, p)

        return raw_postgres, prepared, pool

    # -- what one transfer sends -----------------------------------------------

    async def record_statements(self) -> None:
        probe = plan(self.rng, 4, f"probe-{self.run_id}")
        recorded: dict[str, Any] = {}
        for impl, (warm, measured) in (("ours", probe[:2]), ("raw", probe[2:])):
            fn, items, _pool = await self.side(impl, 1, [warm, measured])
            await fn(items[0])  # statement caches warm, writer open
            statements = StatementLog(self.engine)
            with statements:
                await fn(items[1])
            recorded[impl] = statements
        self.result["statements"] = {
            impl: {"sent": [[s.text, s.label, s.arity] for s in log_.sent], "hops": log_.hops}
            for impl, log_ in recorded.items()
        }
        self.result["statements"]["problems"] = compare(recorded["ours"].sent, recorded["raw"].sent)

    # -- posting rounds ------------------------------------------------------

    async def posting_bench(self) -> None:
        await self.record_statements()
        if self.args.list_statements:
            return
        n = self.args.transfers if self.is_pg else self.args.sqlite_transfers
        for round_ in range(1, self.args.rounds + 1):
            for tasks in self.args.tasks:
                order = ("ours", "raw") if round_ % 2 else ("raw", "ours")
                for impl in order:
                    row = await self.measure(impl, tasks, round_, n)
                    self.result["posting"].append(row)
        self.result["posting_consistency"] = await check_consistency(self.engine, self.url)
        if self.args.profile:
            await self.profile_transfers()

    async def measure(self, impl: str, tasks: int, round_: int, n: int) -> dict[str, Any]:
        warmup = self.args.warmup
        transfers = plan(self.rng, warmup + n, f"{impl}{tasks}r{round_}-{self.run_id}")
        fn, items, pool = await self.side(impl, tasks, transfers)
        await run_concurrently(fn, items[:warmup], tasks)
        pids = await pool_backend_pids(pool, tasks) if pool is not None else []
        load = load_average()
        stats = await run_concurrently(fn, items[warmup:], tasks, pids)
        if pool is not None and await pool_backend_pids(pool, tasks) != pids:
            stats["server_cpu_us"] = None  # a connection was replaced mid-run: its CPU is not all counted
        stats.update({"impl": impl, "tasks": tasks, "round": round_, "load": load, "backends": len(pids)})
        log(
            f"{self.engine} round {round_} {impl:<4} x{tasks}: {stats['transfers_per_s']:.0f} transfers/s "
            f"(p50 {stats['p50_ms']:.2f} ms, client CPU {stats['client_cpu_us']:.0f} us/transfer, load {load})"
        )
        return stats

    async def profile_transfers(self) -> None:
        """cProfile of single-task transfers, ours and the ceiling (main thread only:
        on SQLite the writer thread's work shows as waiting)."""
        count = self.args.profile_transfers
        self.result["profile"] = {}
        for impl in ("ours", "raw"):
            fn, items, _pool = await self.side(impl, 1, plan(self.rng, count, f"prof-{impl}-{self.run_id}"))
            log(f"cProfile: {count} single-task transfers, {impl} ...")
            profiler = cProfile.Profile()
            wall0 = time.perf_counter()
            profiler.enable()
            for item in items:
                await fn(item)
            profiler.disable()
            wall = time.perf_counter() - wall0
            self.result["profile"][impl] = summarise_profile(profiler, count, wall)

    # -- reads at scale --------------------------------------------------------

    async def reads_bench(self) -> None:
        sizes = sorted(self.args.history_sizes if self.is_pg else self.args.sqlite_history_sizes)
        await self.empty_ledger()
        history = History(
            issuer_id=self.ids[ISSUER],
            campaign_id=self.ids[CAMPAIGN],
            wallet_ids=[self.ids[wallet_code(i)] for i in range(WALLETS)],
            seed=self.args.seed + 1,
            base_time=datetime.now(UTC) - timedelta(days=200),
        )
        for size in sizes:
            t0 = time.perf_counter()
            reached, phases, note = await self.load(history, size, largest=sizes[-1])
            load_s = time.perf_counter() - t0
            if note:
                self.result["notes"].append(note)
                log(note)
            if reached == 0 or (self.result["reads"] and reached == self.result["reads"][-1]["entries"]):
                break
            t0 = time.perf_counter()
            consistency = await check_consistency(self.engine, self.url)
            check_s = time.perf_counter() - t0
            spent = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in phases.items())
            log(
                f"history at {reached:,} entries: loaded in {load_s:.0f}s ({spent}), consistent={consistency['ok']} "
                f"(checked in {check_s:.0f}s); timing reads ..."
            )
            reads = await self.time_reads(history)
            reads.update(
                {
                    "entries": reached,
                    "requested": size,
                    "load_s": load_s,
                    "phases": phases,
                    "check_s": check_s,
                    "consistent": consistency["ok"],
                    "database_bytes": await database_bytes(self.engine, self.url),
                }
            )
            self.result["reads"].append(reads)
            if reached < size:
                break

    async def empty_ledger(self) -> None:
        from ledger.tables import LedgerAccount

        if self.is_pg:
            await LedgerAccount.raw("TRUNCATE ledger_posting, ledger_hold, ledger_entry RESTART IDENTITY CASCADE").run()
        else:
            for table in ("ledger_posting", "ledger_hold", "ledger_entry"):
                await LedgerAccount.raw(f"DELETE FROM {table}").run()
        await LedgerAccount.raw("UPDATE ledger_account SET balance_minor = 0, held_minor = 0").run()

    async def load(self, history: History, target: int, *, largest: int) -> tuple[int, dict[str, float], str | None]:
        if self.is_pg:
            phases = await load_postgres(self.url, history, target, log)
            return history.loaded, phases, None
        phases, note = load_sqlite(
            self.url.removeprefix("sqlite:///"),
            history,
            target,
            log,
            budget_s=self.args.sqlite_load_budget,
            fallback_sizes=SQLITE_FALLBACK_SIZES,
        )
        return history.loaded, phases, note

    async def time_reads(self, history: History) -> dict[str, Any]:
        from ledger.accounts import balance_as_of, get_balance
        from ledger.statements import statement

        rng = random.Random(self.args.seed + 2)
        wallets = [wallet_code(i) for i in range(WALLETS)]
        span_ms = history.loaded

        def past() -> datetime:
            return history.time_of(rng.randrange(1, span_ms + 1))

        def page_ok(page: Any) -> None:
            assert 1 <= len(page.lines) <= 20, len(page.lines)

        reads: list[tuple[str, Callable[[], Awaitable[Any]], Callable[[Any], None] | None]] = [
            ("get_balance(wallet)", lambda: get_balance(rng.choice(wallets)), None),
            ("balance_as_of(wallet)", lambda: balance_as_of(rng.choice(wallets), past()), None),
            ("balance_as_of(campaign)", lambda: balance_as_of(CAMPAIGN, past()), None),
            ("statement(wallet)", lambda: statement(rng.choice(wallets), limit=20), page_ok),
            ("statement(issuer)", lambda: statement(ISSUER, limit=20), page_ok),
            ("statement(campaign)", lambda: statement(CAMPAIGN, limit=20), page_ok),
        ]
        counts = await self.posting_counts()
        out: dict[str, Any] = {
            "issuer_postings": counts.get(self.ids[ISSUER], 0),
            "campaign_postings": counts.get(self.ids[CAMPAIGN], 0),
            "calls": {},
        }
        out["avg_wallet_postings"] = (2 * history.loaded - out["issuer_postings"] - out["campaign_postings"]) / WALLETS
        for label, call, check in reads:
            timing = await self.timed(call, check)
            last = await self.last_statement(call)
            if last is not None:
                timing["sql_only"] = await self.sql_only(last)
                if not label.startswith("get_balance"):
                    timing["plan"] = await self.explain(last)
                    if self.is_pg and "wallet" not in label:
                        timing["generic_plan"] = await self.explain(last, generic=True)
            out["calls"][label] = timing
        return out

    async def posting_counts(self) -> dict[int, int]:
        from ledger.tables import LedgerPosting

        rows = await LedgerPosting.raw(
            "SELECT account, COUNT(*) AS n FROM ledger_posting WHERE account IN ({}, {}) GROUP BY account",
            self.ids[ISSUER],
            self.ids[CAMPAIGN],
        ).run()
        return {int(row["account"]): int(row["n"]) for row in rows}

    async def timed(self, call: Callable[[], Awaitable[Any]], check: Callable[[Any], None] | None) -> dict[str, Any]:
        started = time.perf_counter()
        for _ in range(READ_WARMUP):  # every pooled connection prepares and caches its plans
            await call()
            if time.perf_counter() - started > READ_TIME_CAP_S / 2:
                break
        times: list[float] = []
        started = time.perf_counter()
        for _ in range(self.args.read_calls):
            t0 = time.perf_counter()
            value = await call()
            times.append(time.perf_counter() - t0)
            if check:
                check(value)
            if time.perf_counter() - started > READ_TIME_CAP_S and len(times) >= 20:
                break
        return {
            "median_ms": statistics.median(times) * 1000,
            "p95_ms": percentile(times, 0.95) * 1000,
            "calls": len(times),
        }

    async def last_statement(self, call: Callable[[], Awaitable[Any]]) -> Sent | None:
        """The last statement one call sends (its main query), as sent."""
        statements = StatementLog(self.engine)
        with statements:
            await call()
        return statements.sent[-1] if statements.sent else None

    async def sql_only(self, sent: Sent) -> dict[str, float]:
        """``sent`` alone, straight to the driver on one connection, repeated:
        the database's own share of the read (PostgreSQL: a prepared statement,
        as asyncpg runs it under the service; SQLite: the statement as executed,
        parameters inline)."""
        calls = self.args.read_calls
        times: list[float] = []
        started = time.perf_counter()
        if self.is_pg:
            import asyncpg

            conn = await asyncpg.connect(self.url)
            try:
                prepared = await conn.prepare(sent.text)
                for i in range(calls + 20):
                    t0 = time.perf_counter()
                    await prepared.fetch(*sent.args)
                    if i >= 20:
                        times.append(time.perf_counter() - t0)
                    if time.perf_counter() - started > READ_TIME_CAP_S and len(times) >= 20:
                        break
            finally:
                await conn.close()
        else:
            import sqlite3

            sconn = sqlite3.connect(self.url.removeprefix("sqlite:///"))
            try:
                for i in range(calls + 20):
                    t0 = time.perf_counter()
                    sconn.execute(sent.text).fetchall()
                    if i >= 20:
                        times.append(time.perf_counter() - t0)
                    if time.perf_counter() - started > READ_TIME_CAP_S and len(times) >= 20:
                        break
            finally:
                sconn.close()
        return {"median_ms": statistics.median(times) * 1000, "p95_ms": percentile(times, 0.95) * 1000}

    async def explain(self, sent: Sent, *, generic: bool = False) -> str:
        """PostgreSQL: EXPLAIN ANALYZE (``generic``: the plan a prepared
        statement switches to after 5 runs); SQLite: EXPLAIN QUERY PLAN."""
        if self.is_pg:
            import asyncpg

            conn = await asyncpg.connect(self.url)
            try:
                if generic:
                    await conn.execute("SET plan_cache_mode = force_generic_plan")
                    await conn.execute(f"PREPARE bench_read AS {sent.text}")
                    literals = ", ".join(sql_literal(value) for value in sent.args)
                    rows = await conn.fetch(
                        f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE bench_read({literals})"
                    )
                else:
                    rows = await conn.fetch(
                        f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {sent.text}", *sent.args
                    )
            finally:
                await conn.close()
            return "\n".join(row[0] for row in rows)
        import sqlite3

        sconn = sqlite3.connect(self.url.removeprefix("sqlite:///"))
        try:
            rows = sconn.execute(f"EXPLAIN QUERY PLAN {sent.text}").fetchall()
        finally:
            sconn.close()
        return "\n".join(str(row[-1]) for row in rows)


def sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "ARRAY[" + ", ".join(sql_literal(v) for v in value) + "]"
    return "'" + str(value).replace("'", "''") + "'"


def summarise_profile(profiler: cProfile.Profile, count: int, wall: float) -> dict[str, Any]:
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
        r"ledger/|core/|piccolo/(query|engine|table|querystring)|pydantic/main", 30
    )
    return {
        "transfers": count,
        "wall_s": wall,
        "profiled_s": total_tt,
        "groups_s": dict(sorted(groups.items(), key=lambda kv: -kv[1])),
        "top_tottime": trim_pstats(out.getvalue()),
        "top_cumulative": trim_pstats(cum.getvalue()),
    }


# cProfile's rows for C functions (filename "~"), by a word in their name.
BUILTIN_GROUPS = (
    ("select.epoll", "idle: waiting in epoll (DB at work)"),
    ("_thread.lock", "idle: waiting for a thread (sqlite)"),
    ("_socket.socket", "syscalls (socket send/recv, queue)"),
    ("SimpleQueue", "syscalls (socket send/recv, queue)"),
    ("sqlite3", "sqlite3 (C)"),
    ("pydantic", "pydantic (validation)"),
    ("asyncpg", "asyncpg (C)"),
)
PACKAGE_GROUPS = ("piccolo", "asyncpg", "pydantic", "aiosqlite", "asyncio", "json", "decimal", "hashlib", "selectors")


def profile_group(filename: str, func: str) -> str:
    """Bucket a cProfile row. cProfile sees coroutines resume by resume, so the
    event loop's wait in epoll (the database working, or the process idle)
    shows up as time: it gets its own bucket."""
    path = filename.replace("\\", "/")
    if filename == "~":
        return next((group for word, group in BUILTIN_GROUPS if word in func), "other builtins (C)")
    for folder in ("ledger", "core"):
        if f"{REPO}/{folder}/" in path:
            return f"{folder}/ (Fengling)"
    if path.startswith(f"{REPO}/bench/"):
        return "bench/ (the ceiling, the harness)"
    for name in PACKAGE_GROUPS:
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
        if not args.skip_posting or args.list_statements:
            await worker.posting_bench()
        if not args.skip_reads and not args.list_statements:
            if worker.is_pg:
                await worker.ours_pool(8)
            await worker.reads_bench()
    finally:
        await worker.teardown()
    return worker.result


###############################################################################
# Parent: throwaway databases, child processes, report
###############################################################################


def worker_command(engine: str, args: argparse.Namespace) -> list[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "--_worker", engine]
    for name in (
        "rounds",
        "transfers",
        "sqlite_transfers",
        "warmup",
        "read_calls",
        "seed",
        "sqlite_load_budget",
        "profile_transfers",
    ):
        command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    for name in ("tasks", "history_sizes", "sqlite_history_sizes"):
        command += [f"--{name.replace('_', '-')}", ",".join(str(v) for v in getattr(args, name))]
    for flag in ("profile", "skip_reads", "skip_posting", "list_statements"):
        if getattr(args, flag):
            command.append(f"--{flag.replace('_', '-')}")
    return command


def run_engine(engine: str, args: argparse.Namespace, throwaway: Throwaway) -> dict[str, Any]:
    env = dict(os.environ)
    folder = throwaway.folder(f"fl-bench-{engine}-")
    env["FENGLING_DATA_DIR"] = str(folder)
    env["FENGLING_REDIS_URL"] = "memory://"
    env["FL_BENCH_THROWAWAY"] = "1"
    env.setdefault("FENGLING_SECRET_KEY", "bench-only-secret-key-0123456789abcdef0123456789")
    if engine == "sqlite":
        env["FENGLING_DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    else:
        env["FENGLING_DATABASE_URL"] = with_database(args.pg_url, throwaway.database(args.pg_url, "fl_bench_"))
    print(f"\n--- {engine}: {env['FENGLING_DATABASE_URL']} (throwaway)", file=sys.stderr, flush=True)
    process = throwaway.child(
        subprocess.Popen(worker_command(engine, args), env=env, cwd=REPO, stdout=subprocess.PIPE, text=True)
    )
    stdout, _ = process.communicate()
    results = [line for line in stdout.splitlines() if line.startswith(RESULT_TAG)]
    if process.returncode != 0 or not results:
        sys.stderr.write(stdout)
        raise SystemExit(f"{engine} worker failed (exit {process.returncode})")
    result: dict[str, Any] = json.loads(results[-1].removeprefix(RESULT_TAG))
    throwaway.clean()  # this engine's database and folder go now, not at exit
    return result


def code_version() -> str:
    """The commit measured, and whether the code under test differs from it (read-only git calls)."""

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(["git", *cmd], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""

    head = git("rev-parse", "--short", "HEAD").strip() or "?"
    dirty = git("status", "--porcelain", "--", "ledger", "core", "admin", "bench", "piccolo_conf.py")
    posting = hashlib.sha256((REPO / "ledger" / "posting.py").read_bytes()).hexdigest()[:12]
    state = (
        "as committed" if not dirty else "UNCOMMITTED changes: " + ", ".join(line[3:] for line in dirty.splitlines())
    )
    return f"commit {head}, ledger/ core/ admin/ bench/ {state}; sha256(ledger/posting.py) {posting}"


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
    throwaway = Throwaway()
    engines = ["sqlite", "postgres"] if args.engine == "all" else [args.engine]
    started = time.perf_counter()
    pg_version = None
    if "postgres" in engines:
        try:
            pg_version = str(asyncio.run(pg_admin(args.pg_url, "SHOW server_version")))
        except Exception as error:
            raise SystemExit(f"PostgreSQL at {args.pg_url} is unreachable: {error}") from error
    context = {
        "started_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "uptime_start": uptime_line(),
        "busiest_start": busiest_processes(exclude=[os.getpid()]),
        "machine": machine_info(pg_version),
        "code": code_version(),
    }
    try:
        results = [run_engine(engine, args, throwaway) for engine in engines]
    finally:
        throwaway.clean()
    context["uptime_end"] = uptime_line()
    context["busiest_end"] = busiest_processes(exclude=[os.getpid()])
    print(report(results, context, args, time.perf_counter() - started, command_line()))


def command_line() -> str:
    return f"cd {REPO} && .venv/bin/python bench/ledger_throughput.py {shlex.join(sys.argv[1:])}".rstrip()


def sizes(text: str) -> list[int]:
    """``10k,1M,10M`` or plain numbers."""
    factors = {"k": 1_000, "m": 1_000_000}
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        if part:
            out.append(int(float(part[:-1]) * factors[part[-1]]) if part[-1] in factors else int(part))
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="interleaved rounds of ours and the ceiling (default 5; at least 3 for a figure)",
    )
    parser.add_argument(
        "--tasks", type=sizes, default=[1, 8], help="concurrent tasks to measure posting with (default 1,8)"
    )
    parser.add_argument(
        "--transfers", type=int, default=3000, help="transfers per measured PostgreSQL run (default 3000)"
    )
    parser.add_argument(
        "--sqlite-transfers", type=int, default=3000, help="transfers per measured SQLite run (default 3000)"
    )
    parser.add_argument(
        "--warmup", type=int, default=200, help="untimed transfers before each measured run (default 200)"
    )
    parser.add_argument(
        "--pg-url",
        default=DEFAULT_PG_URL,
        help=f"PostgreSQL server to create the throwaway database on (default {DEFAULT_PG_URL})",
    )
    parser.add_argument(
        "--history-sizes",
        type=sizes,
        default=[10_000, 1_000_000],
        help="PostgreSQL: entries in the ledger when timing reads (default 10k,1M; 10M adds ~5 minutes of loading)",
    )
    parser.add_argument(
        "--sqlite-history-sizes", type=sizes, default=[10_000, 1_000_000], help="SQLite: the same (default 10k,1M)"
    )
    parser.add_argument("--read-calls", type=int, default=200, help="timed calls per read measurement (default 200)")
    parser.add_argument(
        "--sqlite-load-budget",
        type=float,
        default=180.0,
        help="seconds the SQLite bulk load of the largest size may take (default 180)",
    )
    parser.add_argument("--skip-posting", action="store_true", help="reads only")
    parser.add_argument("--skip-reads", action="store_true", help="posting only")
    parser.add_argument(
        "--list-statements",
        action="store_true",
        help="only record and print what one transfer sends, ours and the ceiling",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile single-task transfers, ours and the ceiling"
    )
    parser.add_argument("--profile-transfers", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--_worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
