#!/usr/bin/env python
# ruff: noqa: E501  (a report generator: long format strings read better on one line)
"""CPU per request of ``GET /api/v1/me/wallet``, server and database, without wrk.

``bench/wallet_read.py`` measures the wallet read's *rate* against a ceiling
with wrk at 64 connections: the figure issue #10 judges, but on a shared
2-core machine a rate moves with everything else that runs. This script
measures what a request *costs*, which does not: the CPU the server process
and the database backends spent per request, with a few requests in flight
at a time. Use it to bisect, to compare checkouts (``--repo``) and to see
what a change saves::

    .venv/bin/python bench/wallet_cpu.py                         # this checkout, 3 rounds of 3,000 requests
    .venv/bin/python bench/wallet_cpu.py --repo /tmp/before      # another checkout, same seed
    .venv/bin/python bench/wallet_cpu.py --ceiling               # the one-read ceiling app too

What it does: seeds a throwaway PostgreSQL database exactly as
``wallet_read.py`` does (its ``--_seed``: the demo, the volunteer's holds, the
rest of the ledger), serves the checkout with ``fengling serve --workers 1``
(Granian by default; background jobs and the access log off), logs the
volunteer in, then for each round sends ``--requests`` authenticated wallet
reads over ``--concurrency`` keep-alive connections (one thread each) and
reads, before and after:

- **app CPU**: user + system CPU of the server's process group (``/proc``);
- **DB CPU**: the CPU of this database's backends (``/proc/PID/schedstat``
  of the PIDs ``pg_stat_activity`` lists for it);
- **statements**: ``pg_stat_database.xact_commit`` (each statement outside a
  transaction is one), after the backends have flushed their counters.

The client (this process) is not counted in either figure. Medians over the
rounds are printed; the machine's load average at the start and the end
says how busy the box was.
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench_host import checkout_version, load_average, log, process_cpu_seconds
from wallet_read import (
    BENCH_DIR,
    DEFAULT_PG_URL,
    REPO,
    WALLET_PATH,
    Server,
    ceiling_command,
    check_wallet,
    engine_env,
    free_port,
    login,
    ours_command,
    process_group_cpu,
    running,
    seed_in_child,
    serve_supports_server_option,
)

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"
STATS_FLUSH_WAIT_S = 1.5  # backends flush their statistics at most once a second when idle


def psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", "-qAt", url, "-c", sql], capture_output=True, text=True, check=True).stdout


def db_backends_cpu(url: str) -> float:
    name = url.rsplit("/", 1)[1]
    pids = psql(url, f"SELECT pid FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()").split()
    return sum(process_cpu_seconds(int(pid)) or 0.0 for pid in pids)


def db_commits(url: str) -> int:
    name = url.rsplit("/", 1)[1]
    return int(psql(url, f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{name}'").strip())


def group_cpu(server: Server) -> float:
    return process_group_cpu(server.process.pid)


def send(port: int, path: str, token: str | None, count: int, errors: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        for _ in range(count):
            connection.request("GET", path, headers=headers)
            answer = connection.getresponse()
            answer.read()
            if answer.status != 200:
                errors.append(f"{answer.status}")
                return
    finally:
        connection.close()


def drive(port: int, path: str, token: str | None, requests: int, concurrency: int) -> None:
    errors: list[str] = []
    threads = [
        threading.Thread(target=send, args=(port, path, token, requests // concurrency, errors))
        for _ in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"non-200 answers: {errors[:5]}")


def measure(server: Server, path: str, token: str | None, args: argparse.Namespace, db_url: str) -> dict[str, float]:
    count = (args.requests // args.concurrency) * args.concurrency
    time.sleep(STATS_FLUSH_WAIT_S)
    app0, db0, tx0, wall0 = group_cpu(server), db_backends_cpu(db_url), db_commits(db_url), time.monotonic()
    drive(server.port, path, token, count, args.concurrency)
    wall = time.monotonic() - wall0
    app1, db1 = group_cpu(server), db_backends_cpu(db_url)
    time.sleep(STATS_FLUSH_WAIT_S)
    tx1 = db_commits(db_url)
    # Each psql call above is a transaction of its own too (one per db_commits read): take the reader's off.
    return {
        "app_us": (app1 - app0) / count * 1e6,
        "db_us": (db1 - db0) / count * 1e6,
        "statements": (tx1 - tx0 - 1) / count,
        "per_s": count / wall,
    }


def report(name: str, rows: list[dict[str, float]]) -> None:
    for number, row in enumerate(rows, 1):
        log(
            f"  {name} round {number}: app {row['app_us']:.0f} µs/req, DB {row['db_us']:.0f} µs/req, {row['statements']:.2f} statements/req, {row['per_s']:,.0f} req/s"
        )
    app_rounds = ", ".join(f"{r['app_us']:.0f}" for r in rows)
    db_rounds = ", ".join(f"{r['db_us']:.0f}" for r in rows)
    print(
        f"{name:>8}: app CPU {statistics.median(r['app_us'] for r in rows):.0f} µs/req (rounds {app_rounds}),"
        f" DB CPU {statistics.median(r['db_us'] for r in rows):.0f} µs/req (rounds {db_rounds}),"
        f" {statistics.median(r['statements'] for r in rows):.2f} statements/req"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=REPO)
    parser.add_argument("--server", choices=["granian", "uvicorn"], default="granian")
    parser.add_argument("--requests", type=int, default=3000, help="requests per round (default 3,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4, help="keep-alive connections in flight (default 4)")
    parser.add_argument("--holds", type=int, default=5)
    parser.add_argument("--ceiling", action="store_true", help="measure the one-read ceiling app too")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args()
    args.repo = args.repo.resolve()
    args.access_log = False
    args.workers = 1
    start_load = load_average()
    folder = Path(tempfile.mkdtemp(prefix="fl-wallet-cpu-"))
    env, database = engine_env("postgres", args, folder)
    try:
        account = seed_in_child(args, env)
        db_url = env["FENGLING_DATABASE_URL"]
        option = serve_supports_server_option(args.repo, env)
        command = ours_command(args.server, free_port(), 1, server_option=option)
        print(
            f"code: {args.repo} at {checkout_version(args.repo)}; server {args.server if option else 'uvicorn'}, 1 worker"
        )
        with running("ours", command, env, args.repo, folder) as ours:
            token = login(ours)
            check_wallet(ours, token, args.holds)
            drive(ours.port, WALLET_PATH, token, 500, args.concurrency)  # warm-up
            rows = [measure(ours, WALLET_PATH, token, args, db_url) for _ in range(args.rounds)]
            report("ours", rows)
        if args.ceiling:
            with running("ceiling", ceiling_command(args.server, free_port(), 1), env, BENCH_DIR, folder) as ceiling:
                path = f"/accounts/{account}"
                drive(ceiling.port, path, None, 500, args.concurrency)
                rows = [measure(ceiling, path, None, args, db_url) for _ in range(args.rounds)]
                report("ceiling", rows)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(
            ["psql", "-q", f"{args.pg_url}/postgres", "-c", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"],
            check=False,
        )
    print(f"load average: {start_load} at the start, {load_average()} at the end")


if __name__ == "__main__":
    main()
