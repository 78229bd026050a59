#!/usr/bin/env python
# ruff: noqa: E501  (a report generator: long format strings read better on one line)
"""Fengling dashboard benchmark: the dashboard's figures at N ledger entries
and M activities (p50/p99), and the rollup job's cost per 10k new entries.

Run from the repository root (PostgreSQL where user ``postgres`` may CREATE
DATABASE; each engine runs in a child process on a throwaway database)::

    .venv/bin/python bench/dashboard.py                                   # 10M entries / 1M activities on PostgreSQL (the lead's run)
    .venv/bin/python bench/dashboard.py --entries 20k --activities 2k --days 30 --grids 20 --queries 20 --new-entries 500   # a check

What it does:

1. **History as the rollups hold it.** The dashboard reads only the rollup
   tables (``reporting/tables.py``), whose size grows with days × nodes ×
   kinds, not with entries: N entries and M activities spread over
   ``--days`` China days and ``--grids`` grids (under ``--communities``
   communities of one city) are written as the rollup rows they make
   (ledger legs per day × node × account class × kind, activities per
   day × grid × kind × status, one member-day per active member, redemptions
   per day × shop × item), with amounts and counts that add up to N and M.
   Writing N real entries would take hours and measure the posting path,
   not the dashboard; the rollups' correctness against real history is
   what ``tests/integration/reporting/test_figures_property.py`` proves.
2. **Dashboard queries.** ``reporting.figures.dashboard`` (every figure,
   as the page and the API call it) for the city, a community and a grid,
   for a month, a quarter and a year ending on the last day, ``--queries``
   times in turn after a warm-up: p50 and p99 per node level, against the
   ceiling measured in the same run (one grouped SUM over the same subtree
   and month of ``reporting_ledger_day``: the cheapest single statement a
   figure needs). Issue #14's target: p99 < 300 ms at 10M / 1M.
3. **Rollup job cost.** ``--new-entries`` real award transfers (budget →
   wallets of members homed in the grids) and as many activity updates,
   sealed, then ``reporting.rollups.roll_ledger_once`` /
   ``roll_activities_once`` until caught up: seconds per 10k entries and
   per 10k changed activities.

The machine is shared by other work: the ratio to the ceiling is the
steadier figure; run the default size on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_host import checkout_version, log, machine_line, percentile, run_worker

REPO = Path(__file__).resolve().parent.parent
RESULT_TAG = "@@DASHBOARD-BENCH@@ "
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432"
TARGET_P99_MS = 300.0
INSERT_CHUNK = 500
MEMBERS_PER_GRID = 100
ITEMS_PER_SHOP = 5
LEDGER_COMBOS = (("wallet", "award"), ("budget", "award"), ("wallet", "redemption"))
ACTIVITY_COMBOS = (
    ("service", "verified", ""),
    ("service", "submitted", ""),
    ("patrol", "verified", ""),
    ("report", "closed", "hazard"),
    ("report", "handled", "tip"),
    ("report", "rejected", "snap"),
)


def parse_count(text: str) -> int:
    """``10M``, ``1M``, ``20k`` or a plain number."""
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


# --- the worker (a child process on a throwaway database) ------------------------


async def _tree(communities: int, grids: int) -> dict[str, Any]:
    from community.organisations import create_organisation
    from community.roles import Level

    city = await create_organisation(name_zh="基准市", level=Level.CITY, issues_points=True)
    made: dict[str, Any] = {"city": city, "communities": [], "grids": []}
    for c in range(communities):
        community = await create_organisation(name_zh=f"社区{c}", level=Level.COMMUNITY, parent_id=city.id)
        made["communities"].append(community)
        for g in range(max(1, grids // communities)):
            made["grids"].append(
                await create_organisation(name_zh=f"网格{c}-{g}", level=Level.GRID, parent_id=community.id)
            )
    return made


async def _insert(table: Any, rows: list[Any]) -> None:
    for start in range(0, len(rows), INSERT_CHUNK):
        await table.insert(*rows[start : start + INSERT_CHUNK]).run()


async def _seed_rollups(
    tree: dict[str, Any], entries: int, activities: int, days: int, last_day: date
) -> dict[str, int]:
    """The rollup rows N entries and M activities make (module docstring, step 1)."""
    from reporting.tables import ActivityDay, LedgerDay, MemberDay, RedemptionDay

    grids, communities = tree["grids"], tree["communities"]
    day_list = [(last_day - timedelta(days=d)).isoformat() for d in range(days)]
    ledger_rows = len(day_list) * len(grids) * len(LEDGER_COMBOS)
    legs_per_row = max(1, entries * 2 // max(1, ledger_rows))
    activity_rows = len(day_list) * len(grids) * len(ACTIVITY_COMBOS)
    per_activity_row = max(1, activities // max(1, activity_rows))
    members_per_day = max(1, min(MEMBERS_PER_GRID, activities // max(1, len(day_list) * len(grids))))
    counts = {"ledger_day": 0, "activity_day": 0, "member_day": 0, "redemption_day": 0}
    rng = random.Random(7)
    for index, day in enumerate(day_list):
        ledger: list[Any] = []
        acts: list[Any] = []
        members: list[Any] = []
        for grid in grids:
            for account_class, kind in LEDGER_COMBOS:
                sign = -1 if (account_class, kind) in {("budget", "award"), ("wallet", "redemption")} else 1
                ledger.append(
                    LedgerDay(
                        day=day,
                        organisation_id=grid.id,
                        org_path=grid.path,
                        account_class=account_class,
                        kind=kind,
                        amount_minor=sign * legs_per_row * 300,
                        legs=legs_per_row,
                    )
                )
            for kind, status, report_kind in ACTIVITY_COMBOS:
                acts.append(
                    ActivityDay(
                        day=day,
                        organisation_id=grid.id,
                        org_path=grid.path,
                        kind=kind,
                        status=status,
                        report_kind=report_kind,
                        team_id=rng.randint(0, 20),
                        activities=per_activity_row,
                        minutes=per_activity_row * 60,
                        points_minor=per_activity_row * 200,
                        accept_done=per_activity_row,
                        accept_late=rng.randint(0, per_activity_row),
                        finish_done=per_activity_row if kind == "report" else 0,
                        finish_late=0,
                    )
                )
            members.extend(
                MemberDay(day=day, organisation_id=grid.id, org_path=grid.path, member_id=grid.id * 1000 + member)
                for member in rng.sample(range(MEMBERS_PER_GRID), members_per_day)
            )
        redemptions = [
            RedemptionDay(
                day=day,
                shop_id=c + 1,
                item_id=c * ITEMS_PER_SHOP + i + 1,
                organisation_id=community.id,
                org_path=community.path,
                points_minor=1000,
                quantity=1,
                orders=1,
            )
            for c, community in enumerate(communities)
            for i in range(ITEMS_PER_SHOP)
        ]
        for table, rows, key in (
            (LedgerDay, ledger, "ledger_day"),
            (ActivityDay, acts, "activity_day"),
            (MemberDay, members, "member_day"),
            (RedemptionDay, redemptions, "redemption_day"),
        ):
            await _insert(table, rows)
            counts[key] += len(rows)
        if index % 30 == 0:
            log(f"  rollups: day {index + 1}/{len(day_list)}")
    return counts


async def _timed(work: Any) -> float:
    started = time.perf_counter()
    await work
    return (time.perf_counter() - started) * 1000


async def _queries(tree: dict[str, Any], last_day: date, queries: int) -> dict[str, Any]:
    from piccolo.query.functions.aggregate import Sum

    from community.tree_paths import subtree_range
    from reporting.figures import dashboard
    from reporting.models import Period
    from reporting.tables import LedgerDay

    periods = [
        Period(last_day.replace(day=1), last_day),
        Period(last_day - timedelta(days=89), last_day),
        Period(last_day - timedelta(days=364), last_day),
    ]
    nodes = {"city": tree["city"], "community": tree["communities"][0], "grid": tree["grids"][0]}

    async def ceiling(path: str, period: Period) -> None:
        low, high = subtree_range(path)
        await (
            LedgerDay.select(LedgerDay.kind, Sum(LedgerDay.amount_minor))
            .where(
                (LedgerDay.org_path >= low)
                & (LedgerDay.org_path < high)
                & (LedgerDay.day >= period.from_day.isoformat())
                & (LedgerDay.day <= period.to_day.isoformat())
            )
            .group_by(LedgerDay.kind)
            .run()
        )

    results: dict[str, Any] = {}
    for level, node in nodes.items():
        for period in periods:  # warm-up
            await dashboard(node, period)
        ours: list[float] = []
        floor: list[float] = []
        for n in range(queries):
            period = periods[n % len(periods)]
            ours.append(await _timed(dashboard(node, period)))
            floor.append(await _timed(ceiling(node.path, periods[0])))
        results[level] = {
            "p50_ms": percentile(ours, 0.5),
            "p99_ms": percentile(ours, 0.99),
            "ceiling_p50_ms": percentile(floor, 0.5),
            "ratio_p50": percentile(ours, 0.5) / max(percentile(floor, 0.5), 1e-6),
        }
        log(f"  {level}: p50 {results[level]['p50_ms']:.1f} ms, p99 {results[level]['p99_ms']:.1f} ms")
    return results


async def _rollup_cost(tree: dict[str, Any], new_entries: int) -> dict[str, Any]:
    """Real transfers and activity changes, then the rollup runs (step 3)."""
    from activities.tables import Activity
    from campaigns.accounts import budget_code
    from campaigns.tables import Campaign
    from community.accounts import wallet_code
    from community.tables import Member
    from core.clock import utc_now
    from ledger import accounts, posting
    from ledger.chain import seal_pending
    from reporting.rollups import roll_activities_once, roll_ledger_once

    community, grid = tree["communities"][0], tree["grids"][0]
    now = utc_now()
    campaign = (
        await Campaign.insert(Campaign(organisation=community.id, title_zh="基准", starts_at=now))
        .returning(Campaign.id)
        .run()
    )[0]["id"]
    await accounts.open_account(budget_code(campaign), account_type="asset", allow_negative=True)
    member_ids = []
    for m in range(20):
        row = (
            await Member.insert(
                Member(name=f"志愿者{m}", phone=f"139{m:08d}", password_hash="-", home_organisation=grid.id)  # noqa: S106 (a bench member: no login)
            )
            .returning(Member.id)
            .run()
        )[0]
        member_ids.append(int(row["id"]))
        await accounts.open_account(wallet_code(int(row["id"])), account_type="liability")
    # Catch up with what seeding left, so the timing covers the new entries only.
    await seal_pending(everything=True)
    while await roll_ledger_once():
        pass
    while await roll_activities_once(now=utc_now()) >= 2000:
        pass
    log(f"  posting {new_entries} award entries")
    for n in range(new_entries):
        await posting.transfer(
            debit_code=budget_code(campaign),
            credit_code=wallet_code(member_ids[n % len(member_ids)]),
            amount="1.00",
            kind="award",
            reason_zh="基准",
            metadata={"campaign_id": campaign, "organisation_id": grid.id},
        )
    await seal_pending(everything=True)
    started = time.perf_counter()
    read = 0
    while done := await roll_ledger_once():
        read += done
    ledger_s = time.perf_counter() - started
    rows = [
        Activity(
            kind="service",
            status="verified",
            member=member_ids[n % len(member_ids)],
            organisation=grid.id,
            responsible_organisation=grid.id,
            title="基准",
            started_at=now - timedelta(hours=n % 500),
            updated_at=now,
            minutes=60,
            points_awarded_minor=200,
        )
        for n in range(new_entries)
    ]
    await _insert(Activity, rows)
    started = time.perf_counter()
    changed = 0
    while True:
        batch = await roll_activities_once(now=utc_now())
        changed += batch
        if batch < 2000:
            break
    activities_s = time.perf_counter() - started
    return {
        "entries": read,
        "ledger_seconds": ledger_s,
        "ledger_seconds_per_10k": ledger_s * 10_000 / max(1, read),
        "activities": changed,
        "activities_seconds": activities_s,
        "activities_seconds_per_10k": activities_s * 10_000 / max(1, changed),
    }


async def worker(args: argparse.Namespace) -> dict[str, Any]:
    from admin.migrations import migrate
    from core.clock import utc_now
    from reporting.aggregation import CHINA

    await migrate()
    from piccolo.engine.postgres import PostgresEngine

    from core.database import engine

    db = engine()
    pool = db if isinstance(db, PostgresEngine) else None
    if pool is not None:
        await pool.start_connection_pool(min_size=1, max_size=4)
    try:
        log("building the tree")
        tree = await _tree(args.communities, args.grids)
        last_day = utc_now().astimezone(CHINA).date()
        log(f"seeding rollups for {args.entries:,} entries / {args.activities:,} activities over {args.days} days")
        t0 = time.perf_counter()
        counts = await _seed_rollups(tree, args.entries, args.activities, args.days, last_day)
        seed_s = time.perf_counter() - t0
        if pool is not None:
            from reporting.tables import LedgerDay

            await LedgerDay.raw("ANALYZE").run()
        log("dashboard queries")
        queries = await _queries(tree, last_day, args.queries)
        log("rollup job cost")
        cost = await _rollup_cost(tree, args.new_entries)
        return {"rows": counts, "seed_seconds": seed_s, "queries": queries, "rollup": cost}
    finally:
        if pool is not None:
            await pool.close_connection_pool()


def report(engine: str, result: dict[str, Any], args: argparse.Namespace, command: str) -> str:
    out = [
        "",
        f"# Fengling dashboard benchmark ({engine})",
        "",
        f"- **Command:** `{command}`",
        f"- **Code:** {checkout_version(REPO)}",
        f"- **Machine:** {machine_line()}",
        f"- **History:** {args.entries:,} ledger entries, {args.activities:,} activities over {args.days} days, {args.grids} grids in {args.communities} communities; rollup rows: "
        + ", ".join(f"{k} {v:,}" for k, v in result["rows"].items())
        + f" (written in {result['seed_seconds']:.0f} s)",
        "",
        "| node | p50 ms | p99 ms | ceiling p50 ms | p50 / ceiling | p99 < 300 ms |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for level, q in result["queries"].items():
        out.append(
            f"| {level} | {q['p50_ms']:.1f} | {q['p99_ms']:.1f} | {q['ceiling_p50_ms']:.2f} | {q['ratio_p50']:.1f} | {'yes' if q['p99_ms'] < TARGET_P99_MS else '**no**'} |"
        )
    cost = result["rollup"]
    out += [
        "",
        f"Rollup job: {cost['entries']:,} new entries rolled up in {cost['ledger_seconds']:.2f} s (**{cost['ledger_seconds_per_10k']:.2f} s per 10k entries**); "
        f"{cost['activities']:,} changed activities recomputed in {cost['activities_seconds']:.2f} s (**{cost['activities_seconds_per_10k']:.2f} s per 10k activities**).",
        "",
    ]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--entries", type=parse_count, default=parse_count("10M"))
    parser.add_argument("--activities", type=parse_count, default=parse_count("1M"))
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--communities", type=int, default=50)
    parser.add_argument("--grids", type=int, default=500)
    parser.add_argument("--queries", type=int, default=200, help="dashboard calls per node level")
    parser.add_argument("--new-entries", type=parse_count, default=parse_count("10k"))
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._worker:
        if not os.environ.get("FENGLING_DATABASE_URL"):
            raise SystemExit("--_worker is started by the benchmark itself, on a throwaway database")
        result = asyncio.run(worker(args))
        print(RESULT_TAG + json.dumps(result))
        return 0
    passed = [a for a in sys.argv[1:] if not a.startswith("--engine") and a not in ("postgres", "sqlite")]
    result = run_worker(
        Path(__file__).resolve(),
        args.engine,
        name="dashboard",
        pg_url=args.pg_url,
        repo=REPO,
        worker_args=passed,
        result_tag=RESULT_TAG,
    )
    print(report(args.engine, result, args, "bench/dashboard.py " + " ".join(sys.argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
