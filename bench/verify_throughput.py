#!/usr/bin/env python
# ruff: noqa: E501  (a report generator: long format strings read better on one line)
"""Fengling verify benchmark: verifications per second, statements per verification, against a ceiling.

Run from the repository root::

    .venv/bin/python bench/verify_throughput.py                        # both engines, defaults (~2 min on 2 cores)
    .venv/bin/python bench/verify_throughput.py --engine postgres --verifies 600
    .venv/bin/python bench/verify_throughput.py --repo /tmp/verify_before   # the same bench against another checkout

What it measures, on a throwaway database per engine (each in its own child
process, as ``bench/ledger_throughput.py`` does):

1. **Verifications per second** through ``activities.verification.verify_activity``,
   the whole service call (its transaction and the reply it reads back), with
   1 task and with 8 concurrent tasks, after ``WARMUP`` untimed verifications.
   The world is the earning tests' one: 临沂市 → 兰山区 → 金雀山街道 →
   平安社区 (issues points) → 第一网格 → 1号楼, 200 volunteers living in the
   building (six levels below the city, so every walk up the tree is a real
   one), a grid worker of the grid verifying, and one funded open default
   campaign with a service rate and daily and weekly caps (which never bite:
   the caps are counted, not hit). Each verification awards one 60-minute
   service log (2.00 points) from the campaign's budget.
2. **The ceiling**, measured in the same run: the one ledger posting a
   verification has to make, alone — ``ledger.posting.transfer`` of 2.00
   points from the same campaign budget to the same volunteers' wallets, with
   the same number of tasks. Every award of a campaign queues on its budget
   row, and so does this; the ratio verify/transfer is what the verify path
   costs on top of its posting (the target is to raise it; 100 % would be a
   verification for the price of its posting).
3. **Statements per verification**: every statement the service sends to the
   database (Piccolo's ``run_querystring``, so SQLite and PostgreSQL count
   alike; ``BEGIN``/``COMMIT`` and PostgreSQL's pool reset are not counted),
   averaged over 20 verifications, for the default path (the campaign chosen
   at submission) and for a verification that names its campaign
   (``VerifyIn(campaign_id=…)``, the path that resolves the campaign again).
   The statements of one verification of each kind are listed.
4. The machine (nproc, CPU, Python, engines) and the load average before
   and after, since other work on the machine skews the figures.

``--repo`` runs the worker against another checkout of the project (e.g. a
``git worktree`` of an older commit), with this venv's packages, to compare
before and after in one session; the report names the code it ran.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench_host import checkout_version, log, run_worker
from bench_host import load_average as loadavg
from bench_host import percentile as pct

REPO = Path(__file__).resolve().parent.parent
RESULT_TAG = "@@VERIFY-BENCH@@ "
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432"
VOLUNTEERS = 200
TASKS_MULTI = 8
WARMUP = 30  # verifications (and transfers) before each measured run, not counted
COUNTED = 20  # verifications whose statements are counted, per path
AWARD = "2.00"  # what one 60-minute log earns at 2.00/h, and what each ceiling transfer moves


###############################################################################
# Worker (a child process with FENGLING_DATABASE_URL set; imports the project)
###############################################################################


class StatementLog:
    """Every statement Piccolo sends, while ``active`` (one engine method
    serves both engines, so the two count alike)."""

    def __init__(self) -> None:
        self.active = False
        self.sent: list[str] = []

    def install(self) -> None:
        from core.database import engine

        engine_class: Any = type(engine())
        original = engine_class.run_querystring
        statements = self

        async def counting(self: Any, querystring: Any, *args: Any, **kwargs: Any) -> Any:
            if statements.active:
                statements.sent.append(
                    " ".join(str(querystring.compile_string(engine_type=self.engine_type)[0]).split())
                )
            return await original(self, querystring, *args, **kwargs)

        engine_class.run_querystring = counting

    async def capture(self, call: Callable[[], Awaitable[Any]]) -> list[str]:
        self.sent, self.active = [], True
        try:
            await call()
        finally:
            self.active = False
        return self.sent


class World:
    """The tree, the people, the campaign and a stock of submitted logs."""

    verifier: Any
    campaign_id: int
    budget_code: str
    volunteers: list[int]
    principals: dict[int, Any]

    async def build(self) -> None:
        from campaigns.campaigns import create_campaign
        from campaigns.funding import fund_campaign
        from campaigns.rules import EarningRules
        from community.access import load_principal
        from community.accounts import open_wallet
        from community.organisations import create_organisation
        from community.passwords import hash_password
        from community.roles import Level, Role
        from community.tables import Member, RoleGrant
        from core.clock import utc_now

        city = await create_organisation(name_zh="临沂市", level=Level.CITY)
        district = await create_organisation(name_zh="兰山区", level=Level.DISTRICT, parent_id=city.id)
        street = await create_organisation(name_zh="金雀山街道", level=Level.STREET, parent_id=district.id)
        community = await create_organisation(
            name_zh="平安社区", level=Level.COMMUNITY, parent_id=street.id, issues_points=True
        )
        grid = await create_organisation(name_zh="第一网格", level=Level.GRID, parent_id=community.id)
        building = await create_organisation(name_zh="1号楼", level=Level.BUILDING, parent_id=grid.id)
        # Awaited since community hashes off the event loop; a plain str from
        # older checkouts (``--repo``).
        hashed: Any = hash_password("bench-password")
        password_hash = await hashed if inspect.isawaitable(hashed) else hashed
        people = [("陈书记", community.id), ("网格员小李", grid.id)] + [
            (f"志愿者{i}", building.id) for i in range(VOLUNTEERS)
        ]
        inserted = await Member.insert(
            *(
                Member(name=name, phone=f"139{i:08d}", password_hash=password_hash, home_organisation=home)
                for i, (name, home) in enumerate(people)
            )
        ).run()
        ids = [int(row["id"]) for row in inserted]
        organiser, grid_worker, self.volunteers = ids[0], ids[1], ids[2:]
        await RoleGrant.insert(
            RoleGrant(member=organiser, organisation=community.id, role=Role.ORGANIZER.value),
            RoleGrant(member=grid_worker, organisation=grid.id, role=Role.GRID_WORKER.value),
            *(RoleGrant(member=m, organisation=building.id, role=Role.VOLUNTEER.value) for m in self.volunteers),
        ).run()
        for member_id in self.volunteers:
            await open_wallet(member_id, building.id)
        organiser_principal = await load_principal(organiser)
        self.verifier = await load_principal(grid_worker)
        self.principals = {m: await load_principal(m) for m in self.volunteers}
        campaign = await create_campaign(
            organiser_principal,
            organisation_id=community.id,
            title_zh="平安巡逻月",
            starts_at=utc_now() - timedelta(days=60),
            is_default=True,
            rules=EarningRules.model_validate(
                {"service_per_hour": {"default": "2.00"}, "daily_cap": "1000.00", "weekly_cap": "5000.00"}
            ),
        )
        self.campaign_id = campaign.id
        self.budget_code = f"campaign:{campaign.id}:budget"
        await fund_campaign(organiser_principal, campaign.id, amount="1000000.00", idempotency_key="bench-fund")
        self.next_slot = 0

    async def submit(self, count: int) -> list[int]:
        """``count`` 60-minute service logs, spread over the volunteers and
        the last 30 days so no two of one person overlap."""
        from activities.submissions import ServiceLogIn, log_service
        from core.clock import utc_now

        now = utc_now()
        slots = list(range(self.next_slot, self.next_slot + count))
        self.next_slot += count
        if 2 + 2 * (slots[-1] // VOLUNTEERS) > 29 * 24:
            raise SystemExit("too many logs for 30 days of 2-hour slots; lower --verifies")
        found: list[int] = []
        semaphore = asyncio.Semaphore(TASKS_MULTI)

        async def one(slot: int) -> None:
            member = self.volunteers[slot % VOLUNTEERS]
            start = now - timedelta(hours=2 + 2 * (slot // VOLUNTEERS))
            async with semaphore:
                activity = await log_service(
                    self.principals[member],
                    ServiceLogIn(title="帮老人买菜", started_at=start, ended_at=start + timedelta(minutes=60)),
                    now=now,
                )
            found.append(activity.id)

        await asyncio.gather(*(one(slot) for slot in slots))
        return sorted(found)


async def run_concurrently(call: Callable[[int], Awaitable[Any]], items: Sequence[int], tasks: int) -> dict[str, float]:
    latencies: list[float] = []
    iterator = iter(items)

    async def one_task() -> None:
        for item in iterator:  # shared: each task takes the next item
            started = time.perf_counter()
            await call(item)
            latencies.append(time.perf_counter() - started)

    times0 = os.times()
    wall0 = time.perf_counter()
    await asyncio.gather(*(one_task() for _ in range(tasks)))
    wall = time.perf_counter() - wall0
    times1 = os.times()
    n = len(latencies)
    return {
        "count": n,
        "seconds": wall,
        "per_s": n / wall,
        "p50_ms": pct(latencies, 0.5) * 1000,
        "p95_ms": pct(latencies, 0.95) * 1000,
        "client_cpu_us": (times1.user - times0.user + times1.system - times0.system) / n * 1e6,
    }


async def worker(args: argparse.Namespace) -> dict[str, Any]:
    from activities import verification
    from activities.verification import VerifyIn, verify_activity
    from admin.migrations import migrate
    from core.database import engine
    from ledger.posting import transfer

    db: Any = engine()
    await migrate()
    if db.engine_type == "postgres":
        await db.start_connection_pool(min_size=2, max_size=TASKS_MULTI + 2)
    statements = StatementLog()
    statements.install()
    world = World()
    t0 = time.perf_counter()
    await world.build()
    n = args.verifies if db.engine_type == "postgres" else args.sqlite_verifies
    stock = await world.submit(2 * (WARMUP + n) + 2 * COUNTED)
    log(f"{db.engine_type}: world built and {len(stock)} logs submitted in {time.perf_counter() - t0:.1f}s")
    # Which checkout the worker really imported (--repo must win over the venv's editable install).
    result: dict[str, Any] = {"engine": db.engine_type, "code": os.path.dirname(os.path.dirname(verification.__file__))}
    result["runs"] = []

    async def verify(activity_id: int) -> None:
        await verify_activity(world.verifier, activity_id)

    transfers = iter(range(10**9))

    async def post(_item: int) -> None:
        member = world.volunteers[next(transfers) % VOLUNTEERS]
        await transfer(
            debit_code=world.budget_code,
            credit_code=f"volunteer:{member}:wallet",
            amount=AWARD,
            kind="award",
            reason_zh="志愿服务积分：压测",
            actor_ref=f"member:{world.verifier.member_id}",
            idempotency_key=f"bench-ceiling-{uuid.uuid4().hex}",
        )

    # Statements per verification, both paths, before the timed runs.
    named = VerifyIn(campaign_id=world.campaign_id)

    async def verify_named(activity_id: int) -> None:
        await verify_activity(world.verifier, activity_id, data=named)

    default_sent = [await statements.capture(functools.partial(verify, a)) for a in stock[:COUNTED]]
    named_sent = [await statements.capture(functools.partial(verify_named, a)) for a in stock[COUNTED : 2 * COUNTED]]
    ceiling_sent = await statements.capture(lambda: post(0))
    result["statements"] = {
        "default": statistics.mean(len(s) for s in default_sent),
        "named": statistics.mean(len(s) for s in named_sent),
        "ceiling": len(ceiling_sent),
        "default_list": default_sent[-1],
        "named_list": named_sent[-1],
        "ceiling_list": ceiling_sent,
    }
    stock = stock[2 * COUNTED :]
    for tasks in (1, TASKS_MULTI):
        for impl in ("verify", "transfer"):
            call = verify if impl == "verify" else post
            items = stock[: WARMUP + n] if impl == "verify" else list(range(WARMUP + n))
            if impl == "verify":
                stock = stock[WARMUP + n :]
            await run_concurrently(call, items[:WARMUP], tasks)
            stats = await run_concurrently(call, items[WARMUP:], tasks)
            log(f"{db.engine_type} {impl} x{tasks}: {stats['per_s']:.1f}/s (p50 {stats['p50_ms']:.1f} ms)")
            result["runs"].append({"impl": impl, "tasks": tasks, **stats})
    if db.engine_type == "postgres":
        await db.close_connection_pool()
    return result


###############################################################################
# Parent: throwaway databases, child processes, the report
###############################################################################


def run_engine(engine: str, args: argparse.Namespace, repo: Path) -> dict[str, Any]:
    return run_worker(
        Path(__file__).resolve(),
        engine,
        name="verify",
        pg_url=args.pg_url,
        repo=repo,
        worker_args=["--verifies", str(args.verifies), "--sqlite-verifies", str(args.sqlite_verifies)],
        result_tag=RESULT_TAG,
    )


def report(results: list[dict[str, Any]], args: argparse.Namespace, repo: Path, loads: tuple[str, str]) -> None:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    print(f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}")
    print(f"code: {repo} at {checkout_version(repo)}")
    print(f"load average (1/5/15 min): {loads[0]} at the start, {loads[1]} at the end")
    for result in results:
        engine = result["engine"]
        print(f"\n== {engine} (worker imported the project from {result['code']})")
        print(f"{'impl':>9}{'tasks':>6}{'count':>7}{'per s':>9}{'p50 ms':>9}{'p95 ms':>9}{'client CPU us':>15}")
        by_key = {(run["impl"], run["tasks"]): run for run in result["runs"]}
        for run in result["runs"]:
            print(
                f"{run['impl']:>9}{run['tasks']:>6}{run['count']:>7}{run['per_s']:>9.1f}{run['p50_ms']:>9.2f}"
                f"{run['p95_ms']:>9.2f}{run['client_cpu_us']:>15.0f}"
            )
        for tasks in (1, TASKS_MULTI):
            verify, ceiling = by_key[("verify", tasks)], by_key[("transfer", tasks)]
            # The CPU ratio is the steadier one when other work shares the machine.
            print(
                f"  verify/transfer with {tasks} task(s): {verify['per_s'] / ceiling['per_s']:.0%} of the rate, "
                f"{ceiling['client_cpu_us'] / verify['client_cpu_us']:.0%} of the client CPU per call"
            )
        counted = result["statements"]
        print(
            f"  statements per verification: {counted['default']:.1f} (campaign chosen at submission), "
            f"{counted['named']:.1f} (campaign named); the posting alone: {counted['ceiling']}"
        )
        if args.list_statements:
            for label in ("default_list", "named_list", "ceiling_list"):
                print(f"  -- {label[:-5]}:")
                for number, sql in enumerate(counted[label], 1):
                    print(f"    {number:>2}. {sql[:150]}")
    rerun = f".venv/bin/python bench/verify_throughput.py --engine {args.engine} --verifies {args.verifies} --sqlite-verifies {args.sqlite_verifies}"
    if repo != REPO:
        rerun += f" --repo {repo}"
    print(f"\nrerun: {rerun}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--engine", choices=["postgres", "sqlite", "all"], default="all")
    parser.add_argument(
        "--verifies", type=int, default=400, help="verifications per measured run on PostgreSQL (default 400)"
    )
    parser.add_argument("--sqlite-verifies", type=int, default=200, help="the same on SQLite (default 200)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="server where user postgres may CREATE DATABASE")
    parser.add_argument(
        "--repo", type=Path, default=REPO, help="checkout whose code the worker runs (default: this one)"
    )
    parser.add_argument("--list-statements", action="store_true", help="print the statements of one verification")
    parser.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._worker:
        sys.path.insert(0, os.getcwd())  # the checkout under test, ahead of this venv's editable install
        result = asyncio.run(worker(args))
        print(RESULT_TAG + json.dumps(result, default=str))
        return
    repo = args.repo.resolve()
    engines = ["sqlite", "postgres"] if args.engine == "all" else [args.engine]
    start_load = loadavg()
    results = [run_engine(engine, args, repo) for engine in engines]
    report(results, args, repo, (start_load, loadavg()))


if __name__ == "__main__":
    main()
