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
   per day × shop × item), with amounts and counts that add up to N and M,
   a month at a time through the rollup job's own writers
   (``reporting.rollups.add_ledger_rows``, ``add_redemption_rows``,
   ``write_activity_rows``, ``write_member_days``): the own rows and the
   subtree totals of every ancestor per day and per month, as the job keeps
   them. Writing N real entries would take hours and measure the posting
   path, not the dashboard; the rollups' correctness against real history
   is what ``tests/integration/reporting/test_figures_property.py`` and
   ``test_totals_equal_sources.py`` prove.
2. **Dashboard queries.** ``reporting.figures.dashboard`` (every figure,
   as the page and the API call it) for the city, a community and a grid,
   for a month, a quarter and a year ending on the last day, ``--queries``
   times in turn after a warm-up: p50 and p99 per node level, against the
   ceiling measured in the same run (one grouped SUM over the node's own
   ``reporting_ledger_total`` day rows of the month: the cheapest single
   statement a figure needs). Issue #14's target: p99 < 300 ms at 10M / 1M.
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
    """The rollup rows N entries and M activities make (module docstring,
    step 1), a month at a time: on PostgreSQL by COPY of the rows the job's
    own rules make of them (``_copy_month``), elsewhere through the job's own
    writers (``reporting.rollups``): the own rows and every ancestor's day
    and month totals, exactly as the job keeps them."""
    from core.database import engine, in_write_transaction
    from reporting.aggregation import ActivityKey
    from reporting.rollups import (
        ROLLUP_TABLES,
        add_ledger_rows,
        add_redemption_rows,
        write_activity_rows,
        write_member_days,
    )

    grids, communities = tree["grids"], tree["communities"]
    paths = {node.id: node.path for node in [tree["city"], *communities, *grids]}
    day_list = sorted((last_day - timedelta(days=d)).isoformat() for d in range(days))
    ledger_rows = len(day_list) * len(grids) * len(LEDGER_COMBOS)
    legs_per_row = max(1, entries * 2 // max(1, ledger_rows))
    activity_rows = len(day_list) * len(grids) * len(ACTIVITY_COMBOS)
    per_activity_row = max(1, activities // max(1, activity_rows))
    members_per_day = max(1, min(MEMBERS_PER_GRID, activities // max(1, len(day_list) * len(grids))))
    rng = random.Random(7)
    months = sorted({day[:7] for day in day_list})
    copy = getattr(engine(), "pool", None)  # PostgreSQL with its pool: COPY
    for index, month in enumerate(months):
        ledger: dict[tuple[str, int, str, str, str], list[int]] = {}
        acts: dict[ActivityKey, list[int]] = {}
        members: set[tuple[str, int, int]] = set()
        redemptions: dict[tuple[str, int, int, int, str], list[int]] = {}
        for day in (d for d in day_list if d.startswith(month)):
            for grid in grids:
                for account_class, kind in LEDGER_COMBOS:
                    sign = -1 if (account_class, kind) in {("budget", "award"), ("wallet", "redemption")} else 1
                    ledger[(day, grid.id, grid.path, account_class, kind)] = [sign * legs_per_row * 300, legs_per_row]
                for kind, status, report_kind in ACTIVITY_COMBOS:
                    acts[(day, grid.id, kind, status, report_kind, rng.randint(0, 20))] = [
                        per_activity_row,
                        per_activity_row * 60,
                        per_activity_row * 200,
                        per_activity_row,
                        rng.randint(0, per_activity_row),
                        per_activity_row if kind == "report" else 0,
                        0,
                    ]
                members.update(
                    (day, grid.id, grid.id * 1000 + member)
                    for member in rng.sample(range(MEMBERS_PER_GRID), members_per_day)
                )
            for c, community in enumerate(communities):
                for i in range(ITEMS_PER_SHOP):
                    redemptions[(day, c + 1, c * ITEMS_PER_SHOP + i + 1, community.id, community.path)] = [1000, 1, 1]

        if copy is not None:
            await _copy_month(copy, ledger, redemptions, acts, members, paths)
        else:

            async def write() -> None:
                await add_ledger_rows(ledger)  # noqa: B023 (awaited before the loop moves on)
                await add_redemption_rows(redemptions)  # noqa: B023
                await write_activity_rows({}, acts, paths)  # noqa: B023
                await write_member_days(members, paths)  # noqa: B023

            await in_write_transaction(write)
        log(f"  rollups: month {index + 1}/{len(months)}")
    return {table._meta.tablename.removeprefix("reporting_"): int(await table.count().run()) for table in ROLLUP_TABLES}


async def _copy_month(
    pool: Any,
    ledger: dict[tuple[str, int, str, str, str], list[int]],
    redemptions: dict[tuple[str, int, int, int, str], list[int]],
    acts: dict[Any, list[int]],
    members: set[tuple[str, int, int]],
    paths: dict[int, str],
) -> None:
    """One month of fresh rollup rows by COPY (seeding 10M entries' rows
    through the job's row-by-row ORM inserts takes longer than the run may):
    the same rows ``reporting.rollups`` writes for them, made by the same
    pure rules (``reporting.aggregation``: ``ledger_total_deltas``,
    ``redemption_total_deltas``, ``activity_total_deltas``,
    ``member_copies``). A month's rows are complete in one go: its day and
    month totals are made of its own rows only."""
    from reporting.aggregation import (
        ACTIVITY_COUNTERS,
        SHARE_COUNTERS,
        activity_total_deltas,
        ledger_total_deltas,
        member_copies,
        redemption_total_deltas,
    )

    totals, shares = activity_total_deltas({}, acts, paths)
    tables: list[tuple[str, list[str], list[tuple[Any, ...]]]] = [
        (
            "reporting_ledger_day",
            ["day", "organisation_id", "org_path", "account_class", "kind", "amount_minor", "legs"],
            [(*key, *sums) for key, sums in ledger.items()],
        ),
        (
            "reporting_ledger_total",
            ["node_id", "grain", "period", "account_class", "kind", "amount_minor", "legs"],
            [(*key, *sums) for key, sums in ledger_total_deltas(ledger).items()],
        ),
        (
            "reporting_redemption_day",
            ["day", "shop_id", "item_id", "organisation_id", "org_path", "points_minor", "quantity", "orders"],
            [(*key, *sums) for key, sums in redemptions.items()],
        ),
        (
            "reporting_redemption_total",
            ["node_id", "grain", "period", "shop_id", "item_id", "points_minor", "quantity", "orders"],
            [(*key, *sums) for key, sums in redemption_total_deltas(redemptions).items()],
        ),
        (
            "reporting_activity_day",
            ["day", "organisation_id", "org_path", "kind", "status", "report_kind", "team_id", *ACTIVITY_COUNTERS],
            [(day, node, paths[node], *rest, *sums) for (day, node, *rest), sums in acts.items()],
        ),
        (
            "reporting_activity_total",
            ["node_id", "grain", "period", "kind", "status", "report_kind", *ACTIVITY_COUNTERS],
            [(*key, *sums) for key, sums in totals.items()],
        ),
        (
            "reporting_activity_share",
            ["node_id", "grain", "period", "by", "ref_id", *SHARE_COUNTERS],
            [(*key, *sums) for key, sums in shares.items()],
        ),
        (
            "reporting_member_day",
            ["day", "organisation_id", "org_path", "member_id"],
            [(day, node, paths[node], member) for day, node, member in sorted(members)],
        ),
        ("reporting_member_total", ["node_id", "day", "member_id", "source_id"], member_copies(members, paths)),
    ]
    async with pool.acquire() as connection, connection.transaction():
        for table, columns, records in tables:
            await connection.copy_records_to_table(table, columns=columns, records=records)


async def _timed(work: Any) -> float:
    started = time.perf_counter()
    await work
    return (time.perf_counter() - started) * 1000


async def _queries(tree: dict[str, Any], last_day: date, queries: int) -> dict[str, Any]:
    from piccolo.query.functions.aggregate import Sum

    from reporting.figures import dashboard
    from reporting.models import Period
    from reporting.tables import LedgerTotal

    periods = [
        Period(last_day.replace(day=1), last_day),
        Period(last_day - timedelta(days=89), last_day),
        Period(last_day - timedelta(days=364), last_day),
    ]
    nodes = {"city": tree["city"], "community": tree["communities"][0], "grid": tree["grids"][0]}

    async def ceiling(node_id: int, period: Period) -> None:
        await (
            LedgerTotal.select(LedgerTotal.kind, Sum(LedgerTotal.amount_minor))
            .where(
                (LedgerTotal.node_id == node_id)
                & (LedgerTotal.grain == "day")
                & (LedgerTotal.period >= period.from_day.isoformat())
                & (LedgerTotal.period <= period.to_day.isoformat())
            )
            .group_by(LedgerTotal.kind)
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
            floor.append(await _timed(ceiling(node.id, periods[0])))
        results[level] = {
            "p50_ms": percentile(ours, 0.5),
            "p99_ms": percentile(ours, 0.99),
            "ceiling_p50_ms": percentile(floor, 0.5),
            "ratio_p50": percentile(ours, 0.5) / max(percentile(floor, 0.5), 1e-6),
        }
        # The report's row, logged as soon as it is known: a run stopped later
        # (its time limit, in the rollup-cost phase) still leaves the figures.
        log(f"  {_row(level, results[level])}")
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
            from reporting.tables import LedgerTotal

            await LedgerTotal.raw("ANALYZE").run()
        log("dashboard queries")
        queries = await _queries(tree, last_day, args.queries)
        log("rollup job cost")
        cost = await _rollup_cost(tree, args.new_entries)
        return {"rows": counts, "seed_seconds": seed_s, "queries": queries, "rollup": cost}
    finally:
        if pool is not None:
            await pool.close_connection_pool()


def _row(level: str, q: dict[str, Any]) -> str:
    return f"| {level} | {q['p50_ms']:.1f} | {q['p99_ms']:.1f} | {q['ceiling_p50_ms']:.2f} | {q['ratio_p50']:.1f} | {'yes' if q['p99_ms'] < TARGET_P99_MS else '**no**'} |"


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
    out += [_row(level, q) for level, q in result["queries"].items()]
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
