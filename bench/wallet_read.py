#!/usr/bin/env python
# ruff: noqa: E501  (a report generator: long format strings read better on one line)
"""Fengling wallet-read benchmark: ``GET /api/v1/me/wallet`` against a one-read ceiling, in one run.

Run from the repository root (needs ``wrk``: ``apt-get install -y wrk``, a
PostgreSQL server where user ``postgres`` may CREATE DATABASE, and a Redis)::

    .venv/bin/python bench/wallet_read.py                      # PostgreSQL, uvicorn and granian, 3 rounds (~3 min)
    .venv/bin/python bench/wallet_read.py --engine all         # SQLite too (information only)
    .venv/bin/python bench/wallet_read.py --repo /tmp/before   # the same bench against another checkout

What it does, per engine, on a throwaway database (and folder) that it
creates and removes:

1. Seeds: migrates, loads the demo organisation (``seeds/demo.py``), and
   gives the demo volunteer's wallet ``--holds`` active holds and two
   resolved ones (voided, so the read must filter them out), then writes
   the rest of a ledger in bulk so the planner sees realistic tables:
   2,000 other wallets with 2 active and 10 resolved holds each, and 50
   resolved holds (a year of orders) on the measured wallet.
2. Starts Fengling as ``fengling serve --workers 2`` does (the same CLI
   command, so the same log set-up and server options) and the ceiling app
   (``bench/wallet_ceiling.py``: Litestar doing one indexed read of the same
   account on the same database) with the same server and number of
   workers, for each server in ``--servers``. Background jobs are off in
   both (``FENGLING_BACKGROUND_JOBS=0``): the chain sealer and expiry jobs
   would add work the ceiling does not do.
3. Logs the volunteer in (``POST /api/v1/auth/login``), checks one wallet
   answer (the holds, the amounts as strings), then runs ``wrk`` with
   ``--connections`` connections for ``--duration`` seconds against
   Fengling's ``/api/v1/me/wallet`` (with the token) and the ceiling's
   ``/accounts/<code>``, interleaved (the order alternates between rounds)
   for ``--rounds`` rounds, after a warm-up run of each. A run with any
   non-2xx answer or socket error fails the bench.
4. Prints, per run: requests/s, p50 and p99 latency, the CPU the server's
   processes spent per request, the CPU the database's backends spent per
   request (PostgreSQL, this database's backends only), and how busy the
   whole machine was; then per server the medians over the rounds and the
   ratio Fengling/ceiling (the median of the per-round ratios).

The machine is shared by other work, which moves absolute figures: the
ratio within a round is the steadier figure, and each run's machine-busy
column shows how much else was running.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench_host import checkout_version, log, machine_line
from bench_host import load_average as loadavg

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
RESULT_TAG = "@@WALLET-BENCH@@ "
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"  # not 15: .ci/run tests on that one
SERVERS = ("uvicorn", "granian")
VOLUNTEER_PHONE = "13800000001"  # seeds/demo.py DEMO_LOGINS, the volunteer
VOLUNTEER_PASSWORD = "fengling-volunteer"  # noqa: S105 (the published demo login)
WALLET_PATH = "/api/v1/me/wallet"
START_TIMEOUT_S = 60.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


###############################################################################
# Seeding (a child process with the bench's environment; imports the project)
###############################################################################


# The rest of the ledger, so the planner sees a realistic hold table: other
# wallets with a few active holds each and a history of resolved ones, and a
# history of resolved holds on the measured wallet too (a year of orders).
OTHER_WALLETS = 2_000
OTHER_ACTIVE_HOLDS = 2
OTHER_RESOLVED_HOLDS = 10
OWN_RESOLVED_HOLDS = 50
HOLD_MINOR = 50

# Plain SQL both engines read (a recursive CTE, not generate_series), with
# Piccolo's ``{}`` placeholders.
_OTHER_WALLETS_SQL = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {})"
    " INSERT INTO ledger_account (code, account_type, allow_negative, owner_ref, scope_ref, name_zh, name_en,"
    " balance_minor, held_minor, created_at)"
    " SELECT 'bench:' || i || ':wallet', 'liability', false, 'bench:' || i, 'org:1', '志愿者积分账户',"
    " 'Volunteer wallet', 100000, {}, {} FROM n"
)
_HOLDS_SQL = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {})"
    " INSERT INTO ledger_hold (account, amount_minor, status, reason_zh, reason_en, actor_ref, cause_ref, metadata,"
    " request_fingerprint, created_at, expires_at, resolved_at, posted_amount_minor)"
    " SELECT a.id, {}, {}, '基准测试预留', 'bench hold', 'bench', '', {}, '', {}, {}, {}, 0"
    " FROM ledger_account a, n WHERE a.code LIKE {}"
)


async def seed_history(code: str) -> None:
    """The rest of the ledger (see ``OTHER_WALLETS``), written in bulk with
    consistent ``held_minor`` totals."""
    from datetime import timedelta

    from core.clock import utc_now
    from ledger.tables import LedgerAccount

    now = utc_now()
    later, earlier = now + timedelta(days=30), now - timedelta(days=30)
    held = OTHER_ACTIVE_HOLDS * HOLD_MINOR
    await LedgerAccount.raw(_OTHER_WALLETS_SQL, OTHER_WALLETS, held, earlier).run()
    for count, status, expires_at, resolved_at, codes in (
        (OTHER_ACTIVE_HOLDS, "active", later, None, "bench:%"),
        (OTHER_RESOLVED_HOLDS, "voided", earlier, earlier, "bench:%"),
        (OWN_RESOLVED_HOLDS, "posted", earlier, earlier, code),
    ):
        await LedgerAccount.raw(
            _HOLDS_SQL, count, HOLD_MINOR, status, "{}", earlier, expires_at, resolved_at, codes
        ).run()


async def seed(holds: int) -> dict[str, Any]:
    """Migrate, load the demo, put ``holds`` active holds (and two voided
    ones) on the demo volunteer's wallet, and write the rest of the ledger
    (``seed_history``)."""
    from datetime import timedelta

    from admin.migrations import migrate
    from community.accounts import wallet_code
    from community.tables import Member
    from core.clock import utc_now
    from core.database import engine
    from ledger.holds import create_hold, void_hold
    from ledger.tables import LedgerAccount
    from seeds.demo import load_demo

    await migrate()
    db: Any = engine()
    pooled = db.engine_type == "postgres"
    if pooled:
        await db.start_connection_pool(min_size=1, max_size=4)
    try:
        await load_demo()
        member_ids = await Member.select(Member.id).where(Member.phone == VOLUNTEER_PHONE).output(as_list=True).run()
        code = wallet_code(int(member_ids[0]))
        expires_at = utc_now() + timedelta(days=30)
        for number in range(holds + 2):
            hold = await create_hold(
                account_code=code,
                amount="0.50",
                reason_zh=f"基准测试预留 {number}",
                reason_en=f"bench hold {number}",
                expires_at=expires_at,
            )
            if number >= holds:
                await void_hold(hold.id)
        await seed_history(code)
        await LedgerAccount.raw("ANALYZE").run()  # plans for the tables as loaded
    finally:
        if pooled:
            await db.close_connection_pool()
    return {"account_code": code}


###############################################################################
# Servers
###############################################################################


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_supports_server_option(repo: Path, env: dict[str, str]) -> bool:
    """Does this checkout's ``fengling serve`` take ``--server``? (Older ones serve with uvicorn only.)"""
    found = subprocess.run(
        [sys.executable, "-c", "from admin.cli import app; app()", "serve", "--help"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return "--server" in found.stdout


def ours_command(server: str, port: int, workers: int, *, server_option: bool) -> list[str]:
    command = [sys.executable, "-c", "from admin.cli import app; app()", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    return [*command, "--server", server] if server_option else command


def ceiling_command(server: str, port: int, workers: int) -> list[str]:
    if server == "uvicorn":
        return [
            *(sys.executable, "-m", "uvicorn", "wallet_ceiling:create_app", "--factory", "--app-dir", str(BENCH_DIR)),
            *("--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"),
        ]
    return [
        *(sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--working-dir", str(BENCH_DIR)),
        *("--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"),
        "wallet_ceiling:create_app",
    ]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def cpu_seconds(self) -> float:
        """User + system CPU of every process in the server's process group (the master and its workers)."""
        return process_group_cpu(self.process.pid)


def process_group_cpu(pgid: int) -> float:
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command name: state ppid pgrp ...; utime and stime are fields 14 and 15 (1-based).
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def start_server(name: str, command: list[str], env: dict[str, str], cwd: Path, folder: Path) -> Server:
    log_path = folder / f"{name}.log"
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    port = int(command[command.index("--port") + 1])
    server = Server(name, port, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited at start (see its log):\n{log_path.read_text()[-3000:]}")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(server.url("/health"), timeout=2) as answer,  # noqa: S310 (loopback only)
        ):
            if answer.status == 200:
                return server
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"{name} did not answer /health within {START_TIMEOUT_S:.0f} s:\n{log_path.read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGINT)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)


@contextlib.contextmanager
def running(name: str, command: list[str], env: dict[str, str], cwd: Path, folder: Path) -> Iterator[Server]:
    server = start_server(name, command, env, cwd, folder)
    try:
        yield server
    finally:
        stop_server(server)


def login(server: Server) -> str:
    body = json.dumps({"phone": VOLUNTEER_PHONE, "password": VOLUNTEER_PASSWORD}).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback only)
        server.url("/api/v1/auth/login"), data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return str(json.loads(answer.read())["access_token"])


def check_wallet(server: Server, token: str, holds: int) -> dict[str, Any]:
    request = urllib.request.Request(server.url(WALLET_PATH), headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        wallet: dict[str, Any] = json.loads(answer.read())
    if not wallet["has_wallet"] or len(wallet["active_holds"]) < holds or not isinstance(wallet["balance"], str):
        raise SystemExit(f"unexpected wallet answer: {wallet}")
    return wallet


###############################################################################
# wrk
###############################################################################


@dataclass
class Run:
    target: str  # "ours" or "ceiling"
    server: str
    round: int
    per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    app_cpu_us: float  # server processes' CPU per request
    db_cpu_us: float | None  # this database's PostgreSQL backends' CPU per request
    machine_busy: float  # share of all cores busy during the run


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency_ms(text: str, percentile: str) -> float:
    found = re.search(rf"^\s+{percentile}%\s+([0-9.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk printed no {percentile}% latency:\n{text}")
    return float(found[1]) * _UNIT_MS[found[2]]


def parse_wrk(text: str) -> tuple[float, float, float, int]:
    """requests/s, p50 ms, p99 ms and the request count from ``wrk --latency``'s report."""
    for bad in ("Non-2xx or 3xx responses", "Socket errors"):
        if bad in text:
            raise SystemExit(f"wrk reported {bad.lower()}:\n{text}")
    per_s = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.MULTILINE)
    count = re.search(r"^\s+([0-9]+) requests in", text, re.MULTILINE)
    if per_s is None or count is None:
        raise SystemExit(f"unexpected wrk output:\n{text}")
    return float(per_s[1]), _latency_ms(text, "50"), _latency_ms(text, "99"), int(count[1])


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def wrk(url: str, args: argparse.Namespace, duration: float, token: str | None) -> str:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration:g}s", "--latency", "--timeout", "10s"]
    if token is not None:
        command += ["-H", f"Authorization: Bearer {token}"]
    return subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout


class DatabaseCpu:
    """CPU of this database's PostgreSQL backends (not every postgres process on the machine)."""

    def __init__(self, url: str | None) -> None:
        self.url = url

    def seconds(self) -> float | None:
        if self.url is None:
            return None
        name = self.url.rsplit("/", 1)[1]
        found = subprocess.run(
            [
                "psql",
                "-qAt",
                self.url,
                "-c",
                f"SELECT pid FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        total = 0
        for pid in found.stdout.split():
            with contextlib.suppress(OSError, IndexError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / CLOCK_TICKS


def measure(
    target: str,
    server: Server,
    url: str,
    token: str | None,
    args: argparse.Namespace,
    round_number: int,
    db: DatabaseCpu,
) -> Run:
    app_before, db_before, (busy_before, total_before) = server.cpu_seconds(), db.seconds(), machine_ticks()
    text = wrk(url, args, args.duration, token)
    app_after, db_after, (busy_after, total_after) = server.cpu_seconds(), db.seconds(), machine_ticks()
    per_s, p50, p99, count = parse_wrk(text)
    db_us = None if db_before is None or db_after is None else (db_after - db_before) / count * 1e6
    busy = (busy_after - busy_before) / max(1, total_after - total_before)
    run = Run(
        target,
        server.name.split("-")[-1],
        round_number,
        per_s,
        p50,
        p99,
        count,
        (app_after - app_before) / count * 1e6,
        db_us,
        busy,
    )
    log(
        f"round {round_number} {target:>7} on {run.server}: {per_s:,.0f}/s p50 {p50:.2f} ms p99 {p99:.2f} ms, machine {busy:.0%} busy"
    )
    return run


def bench_server(
    server_name: str, env: dict[str, str], folder: Path, args: argparse.Namespace, account: str, *, server_option: bool
) -> list[Run]:
    db = DatabaseCpu(env["FENGLING_DATABASE_URL"] if env["FENGLING_DATABASE_URL"].startswith("postgres") else None)
    ours_cmd = ours_command(server_name, free_port(), args.workers, server_option=server_option)
    ceiling_cmd = ceiling_command(server_name, free_port(), args.workers)
    with (
        running(f"ours-{server_name}", ours_cmd, env, args.repo, folder) as ours,
        running(f"ceiling-{server_name}", ceiling_cmd, env, BENCH_DIR, folder) as ceiling,
    ):
        token = login(ours)
        check_wallet(ours, token, args.holds)
        targets = {
            "ours": (ours, ours.url(WALLET_PATH), token),
            "ceiling": (ceiling, ceiling.url(f"/accounts/{account}"), None),
        }
        for _, url, bearer in targets.values():
            wrk(url, args, args.warmup, bearer)
        runs: list[Run] = []
        for round_number in range(1, args.rounds + 1):
            order = ["ours", "ceiling"] if round_number % 2 else ["ceiling", "ours"]
            for target in order:
                server, url, bearer = targets[target]
                runs.append(measure(target, server, url, bearer, args, round_number, db))
    return runs


###############################################################################
# One engine
###############################################################################


def engine_env(engine: str, args: argparse.Namespace, folder: Path) -> tuple[dict[str, str], str | None]:
    env = dict(os.environ)
    env.update(
        {
            "FENGLING_DATA_DIR": str(folder / "data"),
            "FENGLING_REDIS_URL": args.redis_url,
            "FENGLING_BACKGROUND_JOBS": "0",
            "FENGLING_SECRET_KEY": "bench-" + uuid.uuid4().hex + uuid.uuid4().hex,
            "PYTHONPATH": str(args.repo),
        }
    )
    env["FENGLING_ACCESS_LOG"] = "1" if args.access_log else "0"
    if engine == "sqlite":
        env["FENGLING_DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
        return env, None
    database = f"fl_bench_wallet_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", "-q", f"{args.pg_url}/postgres", "-c", f"CREATE DATABASE {database}"], check=True)
    env["FENGLING_DATABASE_URL"] = f"{args.pg_url}/{database}"
    return env, database


def seed_in_child(args: argparse.Namespace, env: dict[str, str]) -> str:
    """Seed the throwaway database in a child process running ``args.repo``'s
    code (``--_seed``); the measured wallet's account code."""
    seeded = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--_seed", "--holds", str(args.holds)],
        cwd=args.repo,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    line = next(x for x in seeded.stdout.splitlines() if x.startswith(RESULT_TAG))
    return str(json.loads(line[len(RESULT_TAG) :])["account_code"])


def run_engine(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"fl-wallet-bench-{engine}-"))
    env, database = engine_env(engine, args, folder)
    try:
        account = seed_in_child(args, env)
        server_option = serve_supports_server_option(args.repo, env)
        servers = args.servers if server_option else ["uvicorn"]
        runs: list[Run] = []
        for server_name in servers:
            log(f"{engine}: {server_name}, {args.workers} workers each")
            runs += bench_server(server_name, env, folder, args, account, server_option=server_option)
        return {"engine": engine, "runs": [asdict(run) for run in runs]}
    finally:
        if os.environ.get("FL_BENCH_KEEP") != "1":
            shutil.rmtree(folder, ignore_errors=True)
            if database:
                subprocess.run(
                    ["psql", "-q", f"{args.pg_url}/postgres", "-c", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"],
                    check=False,
                )


###############################################################################
# Report
###############################################################################


def machine() -> str:
    versions = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    wrk_version = (versions.stdout or versions.stderr).split("\n", 1)[0].strip()
    return f"{machine_line()}, {wrk_version}"


def _fmt_db(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_runs(runs: Sequence[dict[str, Any]]) -> None:
    print(
        f"{'round':>5} {'server':>8} {'target':>8} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'app CPU us/req':>15} {'db CPU us/req':>14} {'machine busy':>13}"
    )
    for run in runs:
        print(
            f"{run['round']:>5} {run['server']:>8} {run['target']:>8} {run['per_s']:>8,.0f} {run['p50_ms']:>7.2f} {run['p99_ms']:>7.2f}"
            f" {run['app_cpu_us']:>15.0f} {_fmt_db(run['db_cpu_us']):>14} {run['machine_busy']:>13.0%}"
        )


def print_summary(runs: Sequence[dict[str, Any]], args: argparse.Namespace) -> None:
    for server in dict.fromkeys(run["server"] for run in runs):
        mine = [run for run in runs if run["server"] == server]
        by_round = {(run["round"], run["target"]): run for run in mine}
        ratios = [by_round[(r, "ours")]["per_s"] / by_round[(r, "ceiling")]["per_s"] for r in range(1, args.rounds + 1)]
        for target in ("ours", "ceiling"):
            chosen = [run for run in mine if run["target"] == target]
            print(
                f"  {server:>8} {target:>8}: median {statistics.median(run['per_s'] for run in chosen):,.0f} req/s,"
                f" p50 {statistics.median(run['p50_ms'] for run in chosen):.2f} ms,"
                f" p99 {statistics.median(run['p99_ms'] for run in chosen):.2f} ms (worst {max(run['p99_ms'] for run in chosen):.2f}),"
                f" app CPU {statistics.median(run['app_cpu_us'] for run in chosen):.0f} us/req"
            )
        print(
            f"  {server:>8} ours/ceiling: {statistics.median(ratios):.2f} (rounds: {', '.join(f'{ratio:.2f}' for ratio in ratios)})"
        )


def report(results: Sequence[dict[str, Any]], args: argparse.Namespace, loads: tuple[str, str], command: str) -> None:
    print(f"machine: {machine()}")
    print(f"code: {args.repo} at {checkout_version(args.repo)}")
    print(f"load average (1/5/15 min): {loads[0]} at the start, {loads[1]} at the end")
    print(
        f"wrk: {args.threads} threads, {args.connections} connections, {args.duration:g} s per run, {args.rounds} rounds interleaved; {args.workers} workers per server"
    )
    for result in results:
        print(f"\n== {result['engine']}")
        print_runs(result["runs"])
        print_summary(result["runs"], args)
    print(f"\nrerun: {command}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--engine", choices=["postgres", "sqlite", "all"], default="postgres")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated: uvicorn,granian (default both)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run (default 10)")
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of wrk per target before the rounds (default 3)"
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per server (default 2)")
    parser.add_argument("--holds", type=int, default=5, help="active holds on the wallet (default 5)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="server where user postgres may CREATE DATABASE")
    parser.add_argument(
        "--redis-url",
        default=DEFAULT_REDIS_URL,
        help=f"a Redis database the servers may use (default {DEFAULT_REDIS_URL})",
    )
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout whose Fengling is served (default: this one)")
    parser.add_argument(
        "--access-log", action="store_true", help="serve Fengling with FENGLING_ACCESS_LOG=1 (default off)"
    )
    parser.add_argument("--_seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    if unknown := set(args.servers) - set(SERVERS):
        parser.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    args.repo = args.repo.resolve()
    return args


def main() -> None:
    args = parse_args()
    if args._seed:
        sys.path.insert(0, os.getcwd())  # the checkout under test, ahead of this venv's editable install
        print(RESULT_TAG + json.dumps(asyncio.run(seed(args.holds))))
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    command = ".venv/bin/python bench/wallet_read.py " + " ".join(sys.argv[1:])
    engines = ["postgres", "sqlite"] if args.engine == "all" else [args.engine]
    start_load = loadavg()
    results = [run_engine(engine, args) for engine in engines]
    report(results, args, (start_load, loadavg()), command.strip())


if __name__ == "__main__":
    main()
