#!/usr/bin/env python
# ruff: noqa: E501  (a report generator: long format strings read better on one line)
"""Fengling ledger storage benchmark: bytes on disk per posted transfer, on PostgreSQL.

Run from the repository root::

    .venv/bin/python bench/ledger_storage.py                       # 20,000 transfers (about 2 minutes on 2 cores)
    .venv/bin/python bench/ledger_storage.py --transfers 5000
    .venv/bin/python bench/ledger_storage.py --repo /tmp/storage_before   # the same bench against another checkout

What it does, on a throwaway PostgreSQL database, in a child process that
imports the project (from ``--repo`` if given, to compare before and after
in one session):

1. Migrates, then turns autovacuum off on the measured tables, so that the
   sizes depend only on what the bench does (autovacuum would otherwise run
   at a moment that differs from run to run). The sizes of the empty tables
   are the zero point.
2. Opens an issuer and 1,000 no-negative wallets, funds each wallet (1,000
   transfers), then posts ``--transfers`` random wallet-to-wallet transfers
   through ``ledger.posting.transfer`` with 8 concurrent tasks, each with its
   own idempotency key (``t-<run>-<n>``, as in ``ledger_throughput.py``).
   Every entry is a transfer: one entry, two postings.
3. Measures ``pg_total_relation_size`` (heap, TOAST, free-space and
   visibility maps, every index) of every table that grows with entries:
   ``ledger_entry``, ``ledger_posting`` and every ``ledger_chain_*`` table.
   ``ledger_account`` and ``ledger_hold`` do not grow per transfer (an account
   row is rewritten in place by HOT updates), so they are listed but not
   counted. Three moments:
   - **before sealing**: right after posting;
   - **after sealing**: after ``ledger.chain.seal_pending()``, no VACUUM. This
     is the figure of target 5 (issue #10);
   - **after VACUUM**: a plain ``VACUUM`` (not ``FULL``) of the measured
     tables. It frees dead row versions for reuse but rarely shrinks a file,
     so it shows what sealing left behind that only later inserts can reuse.
   The per-transfer figure is (size − empty size) / entries.
4. **Second batch**: another ``--transfers`` transfers after that VACUUM, then
   sealed. Its growth per transfer is the steady state when VACUUM runs
   between seal runs (dead space from earlier sealing is reused); no ANALYZE
   is needed for sizes, so none is run.
5. **The bare baseline**, in the same database: a journal table (id,
   created_at) and a posting table (id, journal, account, amount), with
   primary keys, an ``(account, id)`` index for statements and an index on
   the posting's journal, filled with the same number of 2-posting
   transactions over the same 1,001 accounts by 8 concurrent asyncpg tasks.
   That is what a double-entry journal costs with nothing else: no
   idempotency, no reasons, no chain.

It prints a breakdown per table and per index (bytes per transfer after
sealing), the machine and its load, and the command to rerun it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench_host import load_average as loadavg
from bench_host import log

REPO = Path(__file__).resolve().parent.parent
RESULT_TAG = "@@STORAGE-BENCH@@ "
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432"
WALLETS = 1000
TASKS = 8
ISSUER = "bench:issuer"
BARE_TABLES = ("bench_bare_journal", "bench_bare_posting")
BARE_DDL = [
    "CREATE TABLE bench_bare_journal (id BIGSERIAL PRIMARY KEY, created_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    "CREATE TABLE bench_bare_posting (id BIGSERIAL PRIMARY KEY, "
    "journal BIGINT NOT NULL REFERENCES bench_bare_journal (id), account BIGINT NOT NULL, amount_minor BIGINT NOT NULL)",
    "CREATE INDEX bench_bare_posting_account_id ON bench_bare_posting (account, id)",
    "CREATE INDEX bench_bare_posting_journal ON bench_bare_posting (journal)",
]


def wallet_code(i: int) -> str:
    return f"bench:wallet:{i:04d}"


###############################################################################
# Worker (a child process with FENGLING_DATABASE_URL set; imports the project)
###############################################################################


async def relation_sizes(conn: Any, tables: list[str]) -> dict[str, dict[str, int]]:
    """Per table: ``table`` (heap + TOAST + maps), each index by name, and ``total``."""
    sizes: dict[str, dict[str, int]] = {}
    for table in tables:
        row = await conn.fetchrow(
            "SELECT pg_table_size($1::regclass) AS heap, pg_total_relation_size($1::regclass) AS total", table
        )
        parts = {"table": int(row["heap"]), "total": int(row["total"])}
        for index in await conn.fetch(
            "SELECT i.relname, pg_relation_size(i.oid) AS size FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = $1::regclass ORDER BY i.relname",
            table,
        ):
            parts[str(index["relname"])] = int(index["size"])
        sizes[table] = parts
    return sizes


async def run_tasks(call: Any, count: int, tasks: int) -> float:
    numbers = iter(range(count))

    async def one_task() -> None:
        for n in numbers:
            await call(n)

    started = time.perf_counter()
    await asyncio.gather(*(one_task() for _ in range(tasks)))
    return count / (time.perf_counter() - started)


async def prepare_tables(conn: Any) -> tuple[list[str], list[str]]:
    """The measured and the listed ledger tables; creates the bare baseline and
    turns autovacuum off on all of them."""
    ledger_tables = [
        str(r["relname"])
        for r in await conn.fetch(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace "
            "AND relname LIKE 'ledger\\_%' ORDER BY relname"
        )
    ]
    measured = [t for t in ledger_tables if t in ("ledger_entry", "ledger_posting") or t.startswith("ledger_chain")]
    listed = [t for t in ledger_tables if t in ("ledger_account", "ledger_hold")]
    for statement in BARE_DDL:
        await conn.execute(statement)
    for table in [*ledger_tables, *BARE_TABLES]:
        await conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)")
    return measured, listed


async def open_and_fund(run: str) -> None:
    from ledger.accounts import open_account
    from ledger.posting import transfer

    await open_account(ISSUER, account_type="equity", allow_negative=True, name_zh="积分发行", name_en="issuance")
    for i in range(WALLETS):
        await open_account(wallet_code(i), account_type="liability", owner_ref=f"member:{i}")

    async def fund(i: int) -> None:
        await transfer(
            debit_code=ISSUER,
            credit_code=wallet_code(i),
            amount="1000.00",
            kind="grant",
            reason_zh="初始积分",
            reason_en="opening grant",
            idempotency_key=f"fund-{run}-{i}",
        )

    await run_tasks(fund, WALLETS, TASKS)


async def post_transfers(rng: random.Random, run: str, first: int, count: int) -> float:
    """``count`` random wallet-to-wallet transfers, keys ``t-<run>-<first..>``; returns transfers/s."""
    from ledger.posting import transfer

    plan = []
    for _ in range(count):
        a = rng.randrange(WALLETS)
        b = (a + 1 + rng.randrange(WALLETS - 1)) % WALLETS
        minor = rng.randint(1, 100)
        plan.append((wallet_code(a), wallet_code(b), f"{minor // 100}.{minor % 100:02d}"))

    async def post(n: int) -> None:
        debit, credit, amount = plan[n]
        await transfer(
            debit_code=debit,
            credit_code=credit,
            amount=amount,
            kind="transfer",
            reason_zh="积分转赠",
            reason_en="points transfer",
            idempotency_key=f"t-{run}-{first + n}",
        )

    return await run_tasks(post, count, TASKS)


async def fill_bare(dsn: str, account_ids: list[int], count: int, rng: random.Random) -> None:
    """The bare baseline: ``count`` journals of 2 postings, one transaction each, 8 tasks."""
    import asyncpg

    pool = await asyncpg.create_pool(dsn, min_size=TASKS, max_size=TASKS)

    async def bare(_n: int) -> None:
        a, b = rng.sample(account_ids, 2)
        minor = rng.randint(1, 100)
        async with pool.acquire() as c, c.transaction():
            journal = await c.fetchval("INSERT INTO bench_bare_journal (created_at) VALUES (now()) RETURNING id")
            await c.execute(
                "INSERT INTO bench_bare_posting (journal, account, amount_minor) VALUES ($1, $2, $3), ($1, $4, $5)",
                journal,
                a,
                -minor,
                b,
                minor,
            )

    await run_tasks(bare, count, TASKS)
    await pool.close()


async def worker(args: argparse.Namespace) -> dict[str, Any]:
    import asyncpg

    from admin.migrations import migrate
    from core.database import engine
    from ledger import chain

    dsn = os.environ["FENGLING_DATABASE_URL"]
    db: Any = engine()
    await migrate()
    await db.start_connection_pool(min_size=TASKS, max_size=TASKS)
    conn = await asyncpg.connect(dsn)
    rng = random.Random(args.seed)
    run = uuid.uuid4().hex[:8]
    measured, listed = await prepare_tables(conn)
    empty = await relation_sizes(conn, measured + listed + list(BARE_TABLES))

    await open_and_fund(run)
    rate = await post_transfers(rng, run, 0, args.transfers)
    log(f"posted {WALLETS} fundings and {args.transfers} transfers ({rate:.0f}/s)")
    entries = int(await conn.fetchval("SELECT count(*) FROM ledger_entry"))
    moments: dict[str, Any] = {"before sealing": await relation_sizes(conn, measured + listed)}
    t0 = time.perf_counter()
    sealed = await chain.seal_pending()
    log(f"sealed {sealed} entries in {time.perf_counter() - t0:.1f}s")
    moments["after sealing"] = await relation_sizes(conn, measured + listed)
    for table in measured:
        await conn.execute(f"VACUUM {table}")
    moments["after VACUUM"] = await relation_sizes(conn, measured + listed)

    rate = await post_transfers(rng, run, args.transfers, args.transfers)
    sealed = await chain.seal_pending()
    log(f"second batch: {args.transfers} transfers ({rate:.0f}/s), sealed {sealed}")
    moments["second batch sealed"] = await relation_sizes(conn, measured + listed)
    account_ids = [int(r["id"]) for r in await conn.fetch("SELECT id FROM ledger_account ORDER BY id")]
    await db.close_connection_pool()

    await fill_bare(dsn, account_ids, entries, rng)
    result = {
        "entries": entries,
        "second_batch": args.transfers,
        "measured": measured,
        "listed": listed,
        "empty": empty,
        "moments": moments,
        "bare": await relation_sizes(conn, list(BARE_TABLES)),
        "server": await conn.fetchval("SHOW server_version"),
        "widths": {
            table: float(await conn.fetchval(f"SELECT avg(pg_column_size(t.*)) FROM {table} t") or 0)
            for table in ("ledger_entry", "ledger_posting", *[t for t in measured if t.startswith("ledger_chain")])
        },
        "code": os.path.dirname(os.path.dirname(chain.__file__)),
    }
    await conn.close()
    return result


###############################################################################
# Parent: the throwaway database, the child process, the report
###############################################################################


def total(sizes: dict[str, dict[str, int]], tables: list[str]) -> int:
    return sum(sizes[t]["total"] for t in tables if t in sizes)


def report(result: dict[str, Any], args: argparse.Namespace, repo: Path, loads: tuple[str, str]) -> None:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    found = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True)
    print(f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, PostgreSQL {result['server']}")
    print(f"code: {repo} at {found.stdout.strip()[:70]}{' (+ uncommitted changes)' if dirty.stdout.strip() else ''}")
    print(f"worker imported the project from {result['code']}")
    print(f"load average (1/5/15 min): {loads[0]} at the start, {loads[1]} at the end")
    entries, measured, empty, moments = result["entries"], result["measured"], result["empty"], result["moments"]
    zero = total(empty, measured)
    print(f"\nentries: {entries:,} (1,000 fundings + {entries - 1000:,} transfers), each one entry with 2 postings")
    print(f"measured tables: {', '.join(measured)} (autovacuum off on them)\n")
    print(f"{'moment':<22}{'MiB':>9}{'bytes/transfer':>16}")
    for moment in ("before sealing", "after sealing", "after VACUUM"):
        size = total(moments[moment], measured)
        print(f"{moment:<22}{size / 2**20:>9.2f}{(size - zero) / entries:>16.0f}")
    grown = total(moments["second batch sealed"], measured) - total(moments["after VACUUM"], measured)
    print(
        f"{'second batch, sealed':<22}{grown / 2**20:>9.2f}{grown / result['second_batch']:>16.0f}   (growth over {result['second_batch']:,} more transfers after the VACUUM)"
    )
    bare = result["bare"]
    bare_total = total(bare, list(BARE_TABLES)) - total(empty, list(BARE_TABLES))
    print(
        f"{'bare journal baseline':<22}{bare_total / 2**20:>9.2f}{bare_total / entries:>16.0f}   (journal + 2 postings, same count)"
    )
    after = total(moments["after sealing"], measured)
    print(f"\nafter sealing / bare baseline: {(after - zero) / bare_total:.2f}x")

    columns = ("before sealing", "after sealing", "second batch sealed")
    print(
        "\nbreakdown, bytes per transfer (table = heap + TOAST + maps; the second batch: growth per transfer after VACUUM):"
    )
    print(f"    {'':<44}{'before':>8}{'sealed':>8}{'2nd':>8}")
    for table in measured + result["listed"]:
        base = empty[table]
        counted = "" if table in measured else "  (not counted: does not grow per transfer)"
        print(f"  {table}{counted}")
        for name in moments["after sealing"][table]:
            figures = []
            for moment in columns:
                start = moments["after VACUUM"][table] if moment == "second batch sealed" else base
                count = result["second_batch"] if moment == "second batch sealed" else entries
                figures.append((moments[moment][table][name] - start.get(name, 0)) / count)
            print(f"    {name:<44}" + "".join(f"{figure:>8.1f}" for figure in figures))
    print("  bare baseline:")
    for table in BARE_TABLES:
        for name, size in bare[table].items():
            if name != "total":
                print(
                    f"    {table + '.' + name if name == 'table' else name:<44}{(size - empty[table].get(name, 0)) / entries:>8.1f}"
                )
    widths = ", ".join(f"{table} {width:.0f} B" for table, width in result["widths"].items())
    print(
        f"\naverage row size (pg_column_size of the whole row: tuple header and data, not the 4-byte line pointer): {widths}"
    )
    rerun = f".venv/bin/python bench/ledger_storage.py --transfers {args.transfers}"
    if repo != REPO:
        rerun += f" --repo {repo}"
    print(f"\nrerun: {rerun}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--transfers", type=int, default=20_000, help="transfers per batch (default 20,000)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="server where user postgres may CREATE DATABASE")
    parser.add_argument(
        "--repo", type=Path, default=REPO, help="checkout whose code the worker runs (default: this one)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._worker:
        sys.path.insert(0, os.getcwd())  # the checkout under test, ahead of this venv's editable install
        result = asyncio.run(worker(args))
        print(RESULT_TAG + json.dumps(result))
        return
    repo = args.repo.resolve()
    start_load = loadavg()
    database = f"fl_bench_storage_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", "-q", f"{args.pg_url}/postgres", "-c", f"CREATE DATABASE {database}"], check=True)
    data_dir = tempfile.mkdtemp(prefix="fl-storage-bench-")
    env = dict(os.environ, FENGLING_DATABASE_URL=f"{args.pg_url}/{database}", FENGLING_DATA_DIR=data_dir)
    env["PYTHONPATH"] = str(repo)
    command = [sys.executable, str(Path(__file__).resolve()), "--_worker", "--transfers", str(args.transfers)]
    command += ["--seed", str(args.seed)]
    try:
        proc = subprocess.run(command, env=env, cwd=repo, stdout=subprocess.PIPE, text=True, check=False)
        line = next((x for x in proc.stdout.splitlines() if x.startswith(RESULT_TAG)), None)
        if proc.returncode != 0 or line is None:
            raise SystemExit(f"worker failed (exit {proc.returncode})")
        result = json.loads(line[len(RESULT_TAG) :])
    finally:
        if os.environ.get("FL_BENCH_KEEP") != "1":
            shutil.rmtree(data_dir, ignore_errors=True)
            drop = f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"
            subprocess.run(["psql", "-q", f"{args.pg_url}/postgres", "-c", drop], check=False)
    report(result, args, repo, (start_load, loadavg()))


if __name__ == "__main__":
    main()
