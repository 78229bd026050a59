"""Marketplace benchmark (not a test): redemption throughput and catalog latency.

Measures, on a throwaway PostgreSQL database (and SQLite with --engine all):
1. orders placed *and* confirmed per second with 8 concurrent clients (and 1),
   each client looping place_order → confirm_pickup through the real services;
   once with every order on one hot item (all serialise on its row lock) and
   once spread over 50 items (a real catalog);
2. catalog listing latency with 10,000 items: first page by price, a search,
   a category filter, and a deep page reached by cursor (median and p95).

Run:  .venv/bin/python bench/marketplace_throughput.py [--orders 2000] [--items 10000] [--engine postgres|sqlite|all]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol, TypedDict

from piccolo.engine.postgres import PostgresEngine

from core import database

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"
RESULT_TAG = "RESULT "
CLIENTS = 8


class Page(Protocol):
    """A page of a list (the catalog's, here): only its items are looked at."""

    @property
    def items(self) -> Sequence[object]: ...


class EngineResult(TypedDict):
    """What a worker prints (as JSON) for one engine."""

    engine: str
    orders: list[dict[str, float]]
    catalog_items: int
    listing: list[dict[str, str | float]]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def worker(orders: int, items: int) -> dict[str, object]:  # noqa: C901, PLR0915 -- a linear benchmark script: set up a world, then time each scenario
    sys.path.insert(0, str(REPO))
    from admin.migrations import migrate
    from community.access import Principal
    from community.accounts import issuance_code, open_wallet, wallet_code
    from community.members import get_member
    from community.organisations import create_organisation
    from community.passwords import hash_password
    from community.roles import Level, Role
    from community.tables import Member, RoleGrant
    from ledger.posting import transfer
    from marketplace.catalog import ItemDraft, create_item, list_catalog
    from marketplace.orders import confirm_pickup, place_order
    from marketplace.shops import add_staff, create_shop
    from marketplace.tables import CatalogItem, CatalogItemShop

    db = database.engine()
    await migrate()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=2, max_size=CLIENTS + 2)

    org = await create_organisation(name_zh="压测社区", level=Level.COMMUNITY, issues_points=True)
    password_hash = await hash_password("bench-password")
    member_count = 200
    await Member.insert(
        *(
            Member(name=f"志愿者{i}", phone=f"139{i:08d}", password_hash=password_hash, home_organisation=org.id)
            for i in range(member_count)
        )
    ).run()
    member_ids = [row["id"] for row in await Member.select(Member.id).order_by(Member.id).run()]
    await RoleGrant.insert(*(RoleGrant(member=m, organisation=org.id, role="volunteer") for m in member_ids)).run()
    for member_id in member_ids:
        await open_wallet(member_id, org.id)
        await transfer(
            debit_code=issuance_code(org.id),
            credit_code=wallet_code(member_id),
            amount=Decimal("100000.00"),
            kind="award",
            reason_zh="压测初始积分",
        )
    staff = member_ids[0]
    manager_id = member_ids[1]
    await RoleGrant.insert(RoleGrant(member=manager_id, organisation=org.id, role="organizer")).run()

    async def acting(member_id: int) -> Principal:
        member = await get_member(member_id)
        grants = tuple((grant.organisation_id, Role(grant.role)) for grant in member.grants)
        return Principal(
            member_id=member.id, name=member.name, home_organisation_id=member.home_organisation_id, grants=grants
        )

    manager = await acting(manager_id)
    shop = await create_shop(manager, organisation_id=org.id, name_zh="压测商店")
    await add_staff(manager, shop.id, staff)
    staff_principal = await acting(staff)
    members = {member_id: await acting(member_id) for member_id in member_ids}
    spread_items = [
        (
            await create_item(
                manager,
                org.id,
                ItemDraft(name_zh=f"商品{i}", price=Decimal("1.00"), stock=1_000_000, shop_ids=[shop.id]),
            )
        ).id
        for i in range(50)
    ]

    async def run_orders(total: int, clients: int, item_ids: list[int]) -> dict[str, float]:
        counter = iter(range(total))
        latencies: list[float] = []

        async def client(number: int) -> None:
            for n in counter:
                member = member_ids[(n * 7 + number) % member_count]
                started = time.perf_counter()
                order = await place_order(
                    members[member],
                    item_id=item_ids[n % len(item_ids)],
                    shop_id=shop.id,
                    idempotency_key=f"bench:{uuid.uuid4()}",
                )
                await confirm_pickup(staff_principal, shop_id=shop.id, code=order.pickup_code)
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
        return {
            "orders": total,
            "clients": clients,
            "items": len(item_ids),
            "seconds": elapsed,
            "orders_per_s": total / elapsed,
            "median_ms": statistics.median(latencies) * 1000,
            "p95_ms": percentile(latencies, 0.95) * 1000,
        }

    runs = [
        await run_orders(max(200, orders // 4), 1, spread_items),
        await run_orders(orders, CLIENTS, spread_items),
        await run_orders(orders, CLIENTS, spread_items[:1]),
    ]

    # Catalog at scale: bulk rows (not through create_item, which is one item at a time).
    existing = len(spread_items)
    categories = ["daily", "food", "household", "stationery", "voucher", "service", "other"]
    chunk = 1000
    for start in range(existing, items, chunk):
        rows = [
            CatalogItem(
                organisation=org.id,
                name_zh=f"积分好物{i}号",
                name_en=f"Goods {i}",
                category=categories[i % len(categories)],
                price_minor=100 + (i * 7919) % 500_000,
                stock=(i % 50) + 1,
                active=True,
            )
            for i in range(start, min(items, start + chunk))
        ]
        inserted = await CatalogItem.insert(*rows).returning(CatalogItem.id).run()
        await CatalogItemShop.insert(*(CatalogItemShop(item=r["id"], shop=shop.id) for r in inserted)).run()
    total_items = await CatalogItem.count().run()
    now = datetime.now(UTC)

    async def timed(label: str, call: Callable[[], Awaitable[Page]], calls: int = 200) -> dict[str, object]:
        times: list[float] = []
        for _ in range(10):
            await call()
        for _ in range(calls):
            started = time.perf_counter()
            page = await call()
            times.append(time.perf_counter() - started)
        assert page.items, label
        return {"query": label, "median_ms": statistics.median(times) * 1000, "p95_ms": percentile(times, 0.95) * 1000}

    first = await list_catalog(organisation_ids=[org.id], now=now, limit=20)
    deep = first
    for _ in range(50):  # walk 50 pages in: item ~1,000 by price
        deep = await list_catalog(organisation_ids=[org.id], now=now, limit=20, cursor=deep.next_cursor)
    listing = [
        await timed("first page, price_asc", lambda: list_catalog(organisation_ids=[org.id], now=now, limit=20)),
        await timed("search '好物12'", lambda: list_catalog(organisation_ids=[org.id], now=now, search="好物12")),
        await timed(
            "category=food, price_desc",
            lambda: list_catalog(organisation_ids=[org.id], now=now, category="food", sort="price_desc"),
        ),
        await timed(
            "page 51 by cursor",
            lambda: list_catalog(organisation_ids=[org.id], now=now, limit=20, cursor=deep.next_cursor),
        ),
        await timed(
            "shop filter, newest",
            lambda: list_catalog(organisation_ids=[org.id], now=now, shop_id=shop.id, sort="newest"),
        ),
    ]
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()
    return {"engine": db.engine_type, "orders": runs, "catalog_items": total_items, "listing": listing}


def run_engine(engine: str, args: argparse.Namespace) -> EngineResult:
    env = dict(os.environ)
    data_dir = tempfile.mkdtemp(prefix="fengling-bench-")
    env["FENGLING_DATA_DIR"] = data_dir
    database = None
    if engine == "postgres":
        database = f"fl_bench_market_{uuid.uuid4().hex[:8]}"
        subprocess.run(["psql", "-q", f"{args.pg_url}/postgres", "-c", f"CREATE DATABASE {database}"], check=True)
        env["FENGLING_DATABASE_URL"] = f"{args.pg_url}/{database}"
    else:
        env["FENGLING_DATABASE_URL"] = f"sqlite:///{data_dir}/bench.sqlite3"
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--_worker", "--orders", str(args.orders), "--items", str(args.items)],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        line = next((x for x in proc.stdout.splitlines() if x.startswith(RESULT_TAG)), None)
        if proc.returncode != 0 or line is None:
            raise SystemExit(f"{engine} worker failed (exit {proc.returncode})")
        import json

        result: EngineResult = json.loads(line[len(RESULT_TAG) :])
        return result
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)  # the worker's data dir (SQLite file, secret key, uploads)
        if database:
            subprocess.run(
                ["psql", "-q", f"{args.pg_url}/postgres", "-c", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"],
                check=False,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders per 8-client run (default 2000)")
    parser.add_argument("--items", type=int, default=10_000, help="catalog size for the listing timings")
    parser.add_argument("--engine", choices=["postgres", "sqlite", "all"], default="postgres")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._worker:
        import json

        measured = asyncio.run(worker(args.orders, args.items))
        print(RESULT_TAG + json.dumps(measured, default=str))
        return
    engines = ["postgres", "sqlite"] if args.engine == "all" else [args.engine]
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    print(f"machine: {os.cpu_count()} cores, {cpu}, Python {sys.version.split()[0]}")
    for engine in engines:
        result = run_engine(engine, args)
        print(f"\n== {engine}: orders placed and confirmed (place_order + confirm_pickup, real services)")
        print(f"{'clients':>8}{'items':>7}{'orders':>8}{'orders/s':>10}{'median ms':>11}{'p95 ms':>9}")
        for run in result["orders"]:
            print(
                f"{run['clients']:>8}{run['items']:>7}{run['orders']:>8}{run['orders_per_s']:>10.1f}"
                f"{run['median_ms']:>11.1f}{run['p95_ms']:>9.1f}"
            )
        print(f"\n== {engine}: catalog listing with {result['catalog_items']:,} items (20 per page)")
        for row in result["listing"]:
            print(f"  {row['query']:<28} median {row['median_ms']:7.2f} ms   p95 {row['p95_ms']:7.2f} ms")
    print(
        f"\nrerun: .venv/bin/python bench/marketplace_throughput.py --orders {args.orders} "
        f"--items {args.items} --engine {args.engine}"
    )


if __name__ == "__main__":
    main()
