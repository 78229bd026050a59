"""Leaderboards at scale (issue #11): reads against their ceiling, rebuild
time, and the lag from an award's commit to its board.

Run from the repository root with the project's venv; the report (Markdown,
ready for ``RESULTS.md``) goes to stdout, progress to stderr::

    .venv/bin/python bench/leaderboards_bench.py --members 2000 | tee /tmp/lb.md   # a check, ~1 min
    .venv/bin/python bench/leaderboards_bench.py | tee /tmp/lb.md                  # 1M members, 10M awards

It needs PostgreSQL (``--pg-url``: a throwaway database is created and
dropped, ``bench_host.Throwaway``) and a Redis database of its own
(``--redis-url``, default db 12; CI uses 15): the run refuses a non-empty one and
empties it at the end. ``FL_BENCH_KEEP=1`` keeps the database.

**Setup (fixed SQL, not timed as the product's work).** One city and one
grid; N members (``--members``) and their wallets, and ``--awards-per-member``
award entries each (kind ``award``, budget → wallet, one leg each way),
written with ``COPY`` in chunks, stamped one second apart over the last
weeks; then the ledger's own sealer (``ledger.chain.seal_pending``) chains
them, timed and reported apart.

**1. Rebuild**: ``leaderboards.rebuild.rebuild`` (no options: every board
from the whole chain), wall time and entries/s.

**2. Reads in process**, the all-time board of the grid (N members): ours is
``leaderboards.reading.read_board`` (policy check, top 10, my rank, ±5
neighbours, names from the database) for random members; the ceiling sends
the same Redis script raw through the same redis-py client (one round
trip). ``--rounds`` interleaved rounds (odd rounds ours first) of
``--reads`` calls each; p50/p99 per side, and the median of the per-round
p50 ratios.

**3. Reads over HTTP**: ``fengling serve`` (``--server``, ``--workers``)
against the ceiling app ``bench/leaderboards_ceiling.py`` (Litestar, the same
commands raw, no token or policy), each loaded by ``wrk`` (``--threads``,
``--connections``, ``--seconds``) in interleaved rounds; one member's token,
``GET /api/v1/leaderboards?scope=org:<grid>&period=all&around=me``. Each
round loads both sides twice: with one connection (``wrk -t1 -c1``: a read's
own latency, with nothing queued ahead of it; the issue's p99 < 5 ms is
judged here) and with ``--connections`` (the server saturated: req/s is the
capacity, and the p99 there is mostly time spent queued behind other reads,
for the ceiling too).

**4. Lag**: with the API's background jobs running in process
(``jobs.background``: the sealer and the feed, nudged after commit as
``campaigns.budget`` does), ``--lag-samples`` awards posted one by one;
lag = from the posting's return (committed) to the member's new score
being readable in Redis (polled every millisecond). p50/p99.

The machine (cores, CPU, memory), ``uptime`` at start and end are in the
report. Figures measured on a shared machine say so in the load line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_host import Throwaway, log, machine_line, percentile, uptime_line
from wallet_read import free_port, parse_wrk, running

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"  # not 15: .ci/run tests on that one
CHUNK = 50_000
READER_PHONE = "13900000000"
READER_PASSWORD = "bench-leaderboards"  # noqa: S105 (a throwaway database's member)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--awards-per-member", type=int, default=10)
    parser.add_argument("--reads", type=int, default=2_000, help="in-process calls per side per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0, help="wrk duration per side per round")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="granian")
    parser.add_argument("--lag-samples", type=int, default=50)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--skip-http", action="store_true")
    return parser.parse_args(argv)


###############################################################################
# Setup: fixed SQL and COPY (the project is imported after the environment is set)
###############################################################################


async def setup(args: argparse.Namespace, dsn: str) -> dict[str, Any]:
    import asyncpg

    from admin.migrations import migrate
    from community.accounts import issuance_code, wallet_code
    from community.members import register_member
    from community.organisations import create_organisation
    from community.roles import Level
    from ledger import accounts

    await migrate()
    city = await create_organisation(name_zh="临沂市", level=Level.CITY, issues_points=True)
    grid = await create_organisation(name_zh="第一网格", level=Level.GRID, parent_id=city.id)
    reader = await register_member(
        name="张秀英", phone=READER_PHONE, password=READER_PASSWORD, home_organisation_id=grid.id
    )
    await accounts.open_account(issuance_code(city.id), account_type="equity", allow_negative=True)
    budget = await accounts.open_account("campaign:1:budget", account_type="asset", allow_negative=True)

    n, per = args.members, args.awards_per_member
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(seconds=n * per + 60)
    conn = await asyncpg.connect(dsn)
    try:
        t0 = time.perf_counter()
        member_rows = [
            (f"志愿者{i}", f"1{i:010d}", "", grid.id, True)
            for i in range(1, n)  # the reader is member n
        ]
        await conn.copy_records_to_table(
            "community_member",
            records=member_rows,
            columns=("name", "phone", "password_hash", "home_organisation", "active"),
        )
        ids = [
            reader.id,
            *[
                int(r["id"])
                for r in await conn.fetch("SELECT id FROM community_member WHERE id <> $1 ORDER BY id", reader.id)
            ],
        ]
        await conn.execute(
            "INSERT INTO ledger_account (code, account_type, allow_negative, owner_ref, scope_ref, name_zh,"
            " name_en, balance_minor, held_minor, created_at)"
            " SELECT 'volunteer:' || m.id || ':wallet', 'liability', false, 'member:' || m.id, 'org:' || $1,"
            " '志愿者积分账户', 'Volunteer wallet', 0, 0, now() FROM community_member m"
            " WHERE NOT EXISTS (SELECT 1 FROM ledger_account a WHERE a.code = 'volunteer:' || m.id || ':wallet')",
            str(grid.id),
        )
        wallets = {
            int(r["code"].split(":")[1]): int(r["id"])
            for r in await conn.fetch("SELECT id, code FROM ledger_account WHERE code LIKE 'volunteer:%'")
        }
        budget_id = int(await conn.fetchval("SELECT id FROM ledger_account WHERE code = $1", budget.code))
        log(f"{n:,} members and wallets in {time.perf_counter() - t0:.1f}s")
        total = n * per
        t0 = time.perf_counter()
        await _copy_awards(conn, ids, wallets, budget_id, grid.id, per, start)
        await conn.execute("ANALYZE")
        copy_seconds = time.perf_counter() - t0
    finally:
        await conn.close()
    log(f"{total:,} award entries copied in {copy_seconds:.1f}s; sealing the chain")
    from ledger.chain import seal_pending

    t0 = time.perf_counter()
    while await seal_pending():
        pass
    seal_seconds = time.perf_counter() - t0
    log(f"sealed in {seal_seconds:.1f}s")
    return {
        "grid": grid.id,
        "reader": reader.id,
        "ids": ids,
        "entries": total,
        "copy_s": copy_seconds,
        "seal_s": seal_seconds,
        "budget": budget.code,
        "wallet_of_reader": wallet_code(reader.id),
    }


async def _copy_awards(
    conn: Any, ids: list[int], wallets: dict[int, int], budget_id: int, grid_id: int, per: int, start: datetime
) -> None:
    """``per`` award entries per member (budget → wallet), one second apart,
    with running balances as the posting service leaves them; COPY in chunks."""
    n = len(ids)
    rng = random.Random(11)
    entry_id = int(await conn.fetchval("SELECT COALESCE(MAX(id), 0) FROM ledger_entry"))
    posting_id = int(await conn.fetchval("SELECT COALESCE(MAX(id), 0) FROM ledger_posting"))
    balances: dict[int, int] = dict.fromkeys(ids, 0)
    budget_balance = 0
    total = n * per
    written = 0
    metadata = f'{{"campaign_id": 1, "organisation_id": {grid_id}}}'
    while written < total:
        entries, postings = [], []
        for _ in range(min(CHUNK, total - written)):
            member = ids[written % n]
            amount = rng.randint(1, 500)
            entry_id += 1
            at = start + timedelta(seconds=written)
            entries.append((entry_id, "award", "志愿服务积分", "", "", metadata, "bench", "", None, "", at))
            balances[member] += amount
            budget_balance -= amount
            posting_id += 1
            postings.append((posting_id, entry_id, budget_id, -amount, budget_balance, at))
            posting_id += 1
            postings.append((posting_id, entry_id, wallets[member], amount, balances[member], at))
            written += 1
        await conn.copy_records_to_table(
            "ledger_entry",
            records=entries,
            columns=(
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
            ),
        )
        await conn.copy_records_to_table(
            "ledger_posting",
            records=postings,
            columns=("id", "entry", "account", "amount_minor", "balance_after_minor", "created_at"),
        )
        log(f"  {written:,} / {total:,} award entries")
    await conn.execute("SELECT setval(pg_get_serial_sequence('ledger_entry', 'id'), $1)", entry_id)
    await conn.execute("SELECT setval(pg_get_serial_sequence('ledger_posting', 'id'), $1)", posting_id)
    await conn.executemany(
        "UPDATE ledger_account SET balance_minor = $2 WHERE id = $1",
        [(wallets[m], b) for m, b in balances.items()] + [(budget_id, budget_balance)],
    )


###############################################################################
# 1. Rebuild, 2. reads in process, 4. lag
###############################################################################


async def in_process(args: argparse.Namespace, world: dict[str, Any]) -> dict[str, Any]:
    from redis.asyncio import Redis

    from community.access import load_principal
    from leaderboards.keys import all_key, board_key
    from leaderboards.periods import PeriodKind
    from leaderboards.reading import READ_SCRIPT, BoardQuery, read_board
    from leaderboards.rebuild import rebuild

    redis = Redis.from_url(args.redis_url)
    t0 = time.perf_counter()
    result = await rebuild(redis)
    rebuild_s = time.perf_counter() - t0
    log(f"rebuild: {result.boards} boards from {result.entries:,} entries in {rebuild_s:.1f}s")

    scope = f"org:{world['grid']}"
    key, every = board_key(scope, "all"), all_key(scope, "all")
    members = world["ids"]
    rng = random.Random(7)
    principals = {m: await load_principal(m) for m in rng.sample(members, min(50, len(members)))}
    query = BoardQuery(scope=scope, period=PeriodKind.ALL, top=10, around=5)

    async def ours(member: int) -> None:
        await read_board(principals[member], query, redis=redis)

    async def ceiling(member: int) -> None:
        await redis.eval(READ_SCRIPT, 2, key, every, member, 10, 5)

    async def timed(call: Any, picks: list[int]) -> list[float]:
        out = []
        for member in picks:
            t = time.perf_counter()
            await call(member)
            out.append((time.perf_counter() - t) * 1000)
        return out

    rounds = []
    keys = list(principals)
    for number in range(1, args.rounds + 1):
        picks = [rng.choice(keys) for _ in range(args.reads)]
        order = [("ours", ours), ("ceiling", ceiling)]
        if number % 2 == 0:
            order.reverse()
        times = {name: await timed(call, picks) for name, call in order}
        rounds.append(times)
        log(
            f"in-process round {number}: ours p50 {percentile(times['ours'], 0.5):.3f} ms,"
            f" ceiling p50 {percentile(times['ceiling'], 0.5):.3f} ms"
        )
    lag = await measure_lag(args, world, redis)
    await redis.aclose()
    return {"rebuild_s": rebuild_s, "boards": result.boards, "rounds": rounds, "lag_ms": lag}


async def measure_lag(args: argparse.Namespace, world: dict[str, Any], redis: Any) -> list[float]:
    from core.nudges import awards_committed
    from jobs.background import background_jobs
    from leaderboards.keys import all_key
    from ledger import posting

    every = all_key(f"org:{world['grid']}", "all")
    member = world["reader"]
    lags = []
    async with background_jobs(redis):
        await asyncio.sleep(0.5)
        for n in range(args.lag_samples):
            before = await redis.hget(every, str(member))
            await posting.transfer(
                debit_code=world["budget"],
                credit_code=world["wallet_of_reader"],
                amount="1.00",
                kind="award",
                reason_zh="志愿服务积分",
                metadata={"campaign_id": 1, "organisation_id": world["grid"]},
                idempotency_key=f"lag-{uuid.uuid4()}",
            )
            committed = time.perf_counter()
            await awards_committed.fire()
            while await redis.hget(every, str(member)) == before:
                await asyncio.sleep(0.001)
                if time.perf_counter() - committed > 30:
                    raise SystemExit("an award did not reach its board within 30 s")
            lags.append((time.perf_counter() - committed) * 1000)
            if n % 10 == 0:
                log(f"lag sample {n}: {lags[-1]:.1f} ms")
    log(f"lag: p50 {percentile(lags, 0.5):.1f} ms, p99 {percentile(lags, 0.99):.1f} ms")
    return lags


###############################################################################
# 3. Reads over HTTP
###############################################################################


def http(args: argparse.Namespace, env: dict[str, str], world: dict[str, Any], folder: Path) -> list[dict[str, Any]]:
    import json
    import urllib.request

    from leaderboards.keys import all_key, board_key

    scope = f"org:{world['grid']}"
    ours_port, ceiling_port = free_port(), free_port()
    ours_cmd = [
        *(sys.executable, "-c", "from admin.cli import app; app()", "serve", "--port", str(ours_port)),
        *("--workers", str(args.workers), "--server", args.server),
    ]
    module = "leaderboards_ceiling:create_app"
    if args.server == "uvicorn":
        ceiling_cmd = [
            *(sys.executable, "-m", "uvicorn", module, "--factory", "--app-dir", str(BENCH_DIR)),
            *("--port", str(ceiling_port), "--workers", str(args.workers), "--no-access-log", "--log-level", "warning"),
        ]
    else:
        ceiling_cmd = [
            *(sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--working-dir", str(BENCH_DIR)),
            *("--port", str(ceiling_port), "--workers", str(args.workers), "--no-access-log", "--log-level", "warning"),
            module,
        ]
    ceiling_env = {
        **env,
        "FL_BENCH_REDIS_URL": args.redis_url,
        "FL_BENCH_BOARD": board_key(scope, "all"),
        "FL_BENCH_ALL": all_key(scope, "all"),
        "FL_BENCH_MEMBER": str(world["reader"]),
    }
    runs = []
    with (
        running("ours", ours_cmd, env, REPO, folder) as ours,
        running("ceiling", ceiling_cmd, ceiling_env, REPO, folder) as ceiling,
    ):
        body = json.dumps({"phone": READER_PHONE, "password": READER_PASSWORD}).encode()
        request = urllib.request.Request(  # noqa: S310 (loopback only)
            ours.url("/api/v1/auth/login"), data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback only)
            token = json.loads(answer.read())["access_token"]
        ours_url = ours.url(f"/api/v1/leaderboards?scope={scope}&period=all&around=me&neighbours=5")
        check = urllib.request.Request(ours_url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
        with urllib.request.urlopen(check, timeout=10) as answer:  # noqa: S310 (loopback only)
            board = json.loads(answer.read())
        if board["size"] != len(world["ids"]) or board["me"]["rank"] is None:
            raise SystemExit(f"unexpected board: size {board['size']}, me {board['me']}")
        # Two loads a round: one connection (a read's own latency, nothing
        # queued before it) and ``--connections`` (the server saturated: the
        # p99 there is mostly the queue, and req/s is the capacity).
        loads = [(1, 1), (args.connections, args.threads)]
        for number in range(1, args.rounds + 1):
            sides = [("ours", ours_url, token), ("ceiling", ceiling.url("/board"), None)]
            if number % 2 == 0:
                sides.reverse()
            run: dict[str, Any] = {}
            for connections, threads in loads:
                for name, url, auth in sides:
                    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{args.seconds:g}s", "--latency"]
                    if auth:
                        command += ["-H", f"Authorization: Bearer {auth}"]
                    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
                    rate, p50, p99, count = parse_wrk(out)
                    run[f"{name}@{connections}"] = {"rate": rate, "p50": p50, "p99": p99, "count": count}
            runs.append(run)
            for connections, _ in loads:
                o, c = run[f"ours@{connections}"], run[f"ceiling@{connections}"]
                log(
                    f"HTTP round {number}, {connections} connection(s): ours p50 {o['p50']:.2f} / p99"
                    f" {o['p99']:.2f} ms, ceiling p50 {c['p50']:.2f} / p99 {c['p99']:.2f} ms"
                )
    return runs


###############################################################################
# Report
###############################################################################


def report(
    args: argparse.Namespace,
    world: dict[str, Any],
    measured: dict[str, Any],
    runs: list[dict[str, Any]],
    loads: tuple[str, str],
) -> None:
    print(f"## Leaderboards at {args.members:,} members ({world['entries']:,} award entries)\n")
    print(f"- machine: {machine_line()}")
    print(f"- load at start: `{loads[0]}`")
    print(f"- load at end: `{loads[1]}`")
    print(f"- command: `python bench/leaderboards_bench.py {' '.join(sys.argv[1:])}`\n")
    print(f"Setup (not the product's work): COPY {world['copy_s']:.1f} s, sealing the chain {world['seal_s']:.1f} s.\n")
    rate = world["entries"] / measured["rebuild_s"] if measured["rebuild_s"] else float("nan")
    print(
        f"**Rebuild** (every board, {measured['boards']} boards): {measured['rebuild_s']:.1f} s"
        f" ({rate:,.0f} entries/s).\n"
    )
    print("**Reads in process** (top 10 + my rank + ±5; ms)\n")
    print("| round | ours p50 | ours p99 | ceiling p50 | ceiling p99 | ours/ceiling p50 |")
    print("|---|---|---|---|---|---|")
    ratios = []
    for number, times in enumerate(measured["rounds"], start=1):
        o50, o99 = percentile(times["ours"], 0.5), percentile(times["ours"], 0.99)
        c50, c99 = percentile(times["ceiling"], 0.5), percentile(times["ceiling"], 0.99)
        ratios.append(o50 / c50)
        print(f"| {number} | {o50:.3f} | {o99:.3f} | {c50:.3f} | {c99:.3f} | {o50 / c50:.2f} |")
    print(f"\nMedian of the per-round ratios: **{statistics.median(ratios):.2f}×** the ceiling.\n")
    if runs:
        for connections, threads in [(1, 1), (args.connections, args.threads)]:
            print(
                f"**Reads over HTTP, {connections} connection(s)** ({args.server}, {args.workers} worker(s),"
                f" wrk -t{threads} -c{connections}, {args.seconds:g} s a side; ms)\n"
            )
            print("| round | ours p50 | ours p99 | ours req/s | ceiling p50 | ceiling p99 | ceiling req/s |", end="")
            print(" ratio p99 |")
            print("|---|---|---|---|---|---|---|---|")
            http_ratios = []
            for number, run in enumerate(runs, start=1):
                o, c = run[f"ours@{connections}"], run[f"ceiling@{connections}"]
                http_ratios.append(o["p99"] / c["p99"])
                print(
                    f"| {number} | {o['p50']:.2f} | {o['p99']:.2f} | {o['rate']:,.0f} | {c['p50']:.2f}"
                    f" | {c['p99']:.2f} | {c['rate']:,.0f} | {o['p99'] / c['p99']:.2f} |"
                )
            p99 = statistics.median(run[f"ours@{connections}"]["p99"] for run in runs)
            ceiling_p99 = statistics.median(run[f"ceiling@{connections}"]["p99"] for run in runs)
            verdict = f" (target < 5 ms: {'met' if p99 < 5 else 'not met'})" if connections == 1 else ""
            print(
                f"\nMedian ours p99 {p99:.2f} ms{verdict}; the ceiling's {ceiling_p99:.2f} ms; median of the"
                f" per-round p99 ratios {statistics.median(http_ratios):.2f}×.\n"
            )
    lag = measured["lag_ms"]
    print(
        f"**Lag from commit to board** ({len(lag)} awards): p50 {percentile(lag, 0.5):.1f} ms,"
        f" p99 {percentile(lag, 0.99):.1f} ms."
    )


def main() -> None:
    args = parse_args()
    loads_start = uptime_line()
    throwaway = Throwaway()
    folder = throwaway.folder("fl-bench-lb-")
    name = throwaway.database(f"{args.pg_url}/postgres", "fl_bench_lb_")
    dsn = f"{args.pg_url}/{name}"
    env = {
        **os.environ,
        "FENGLING_DATABASE_URL": dsn,
        "FENGLING_REDIS_URL": args.redis_url,
        "FENGLING_DATA_DIR": str(folder),
        "FENGLING_BACKGROUND_JOBS": "0",
    }
    os.environ.update({k: v for k, v in env.items() if k.startswith("FENGLING_")})
    sys.path.insert(0, str(REPO))
    from redis import Redis

    plain = Redis.from_url(args.redis_url)
    if plain.dbsize():
        raise SystemExit(f"{args.redis_url} is not empty: give the bench a Redis database of its own")
    try:
        world, measured = asyncio.run(_in_process(args, dsn))
        runs = [] if args.skip_http else http(args, env, world, folder)
        report(args, world, measured, runs, (loads_start, uptime_line()))
    finally:
        plain.flushdb(asynchronous=True)  # a million-member board takes longer than a reply's timeout to free
        plain.close()


async def _in_process(args: argparse.Namespace, dsn: str) -> tuple[dict[str, Any], dict[str, Any]]:
    from piccolo.engine.postgres import PostgresEngine

    from core import database

    engine = database.engine()
    if not isinstance(engine, PostgresEngine):
        raise SystemExit("the leaderboards bench runs on PostgreSQL")
    await engine.start_connection_pool(min_size=1, max_size=4)
    try:
        world = await setup(args, dsn)
        measured = await in_process(args, world)
    finally:
        await engine.close_connection_pool()
    return world, measured


if __name__ == "__main__":
    main()
