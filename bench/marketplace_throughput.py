#!/usr/bin/env python
# ruff: noqa: E501  (a report generator: long format strings read better on one line)
"""Marketplace benchmark (not a test): redemptions per second, round trips per redemption, catalog latency.

Run from the repository root::

    .venv/bin/python bench/marketplace_throughput.py                         # PostgreSQL, defaults
    .venv/bin/python bench/marketplace_throughput.py --engine all --list-statements
    .venv/bin/python bench/marketplace_throughput.py --compare /tmp/market_before --rounds 3 --items 0

What it measures, on a throwaway database per engine (each in its own child
process, against a database it creates and drops):

1. **Redemptions per second**: each client loops ``place_order`` then
   ``confirm_pickup`` (the counter's path, with a pickup-guess counter that
   never locks, as the API passes one) through the real services, after
   ``WARMUP`` untimed redemptions: with 1 client over 50 items, with 8
   clients over 50 items (a real catalog) and with 8 clients on one hot item
   (every order queues on its row lock). It reports orders/s, median and
   p95 latency, and this process's CPU per order ("client CPU"; on SQLite it
   includes SQLite's own work, which runs in this process's threads).
2. **Round trips per redemption** (one place + one confirm), counted at the
   driver, averaged over ``COUNTED`` redemptions: on PostgreSQL every call
   to asyncpg that reaches the server (``BEGIN`` and ``COMMIT`` included:
   each is a round trip); on SQLite every statement sent to SQLite
   (``execute`` on Fengling's connections, ``BEGIN``/``COMMIT`` included) and,
   separately, the thread hops to SQLite's connections (a hop is what a
   round trip costs there). ``--list-statements`` prints the statements
   of one place and one confirm.
3. **Catalog listing latency** with ``--items`` items (first page by price,
   a search, a category filter, a deep page reached by cursor, a shop
   filter; median and p95). ``--items 0`` skips it.

``--repo PATH`` runs the same worker against another checkout of the project
(e.g. ``git worktree add /tmp/market_before 48d081b``) with this venv's
packages. ``--compare PATH [PATH ...] --rounds N`` runs each PATH ("before")
and then this checkout ("after"), N rounds in turn, and prints them side by
side with their medians: the machine is shared, so before and after are
only comparable inside one such run.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bench_host import checkout_version, log, machine_line, run_worker
from bench_host import load_average as loadavg

if TYPE_CHECKING:
    from marketplace.orders import GuessStanding

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"
RESULT_TAG = "@@MARKET-BENCH@@ "
CLIENTS = 8
MEMBERS = 200
SPREAD_ITEMS = 50
WARMUP = 30  # redemptions before each timed run (and before counting), not counted
COUNTED = 20  # redemptions whose round trips are counted


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


###############################################################################
# Worker (a child process with FENGLING_DATABASE_URL set; imports the project)
###############################################################################


class Page(Protocol):
    """A page of a list (the catalog's, here): only its items are looked at."""

    @property
    def items(self) -> Sequence[object]: ...


class RoundTrips:
    """What reaches the database while ``active``, counted at the driver.

    PostgreSQL: every asyncpg call that talks to the server (a prepared
    statement already in asyncpg's cache is one round trip; BEGIN and COMMIT
    are ``execute`` calls of their own). SQLite: every statement the library
    sends (``execute`` on each connection Fengling opens) and every thread
    hop to a connection."""

    def __init__(self) -> None:
        self.active = False
        self.sent: list[str] = []
        self.hops = 0

    def _record(self, sql: str) -> None:
        if self.active:
            self.sent.append(" ".join(sql.split()))

    def install_postgres(self) -> None:
        import asyncpg.connection

        counter = self
        for name in ("execute", "executemany", "fetch", "fetchrow", "fetchval", "fetchmany"):
            original = getattr(asyncpg.connection.Connection, name)

            def counting(self: Any, query: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
                counter._record(query)
                return _original(self, query, *args, **kwargs)

            setattr(asyncpg.connection.Connection, name, counting)

    def install_sqlite(self) -> None:
        import sqlite3

        from core import sqlite_connections

        counter = self

        class CountingCursor(sqlite3.Cursor):
            def execute(self, sql: str, parameters: Any = (), /) -> Any:
                counter._record(sql)
                return super().execute(sql, parameters)

        class CountingConnection(sqlite3.Connection):
            def cursor(self, factory: Any = CountingCursor) -> Any:
                return super().cursor(factory)

            def execute(self, sql: str, parameters: Any = (), /) -> Any:
                counter._record(sql)
                return super().execute(sql, parameters)

        original_open = sqlite_connections.open_connection

        def counting_open(connection_kwargs: Any, synchronous: str) -> Any:
            return original_open({**connection_kwargs, "factory": CountingConnection}, synchronous)

        sqlite_connections.open_connection = counting_open
        for owner in (sqlite_connections.SqliteWriter, sqlite_connections.SqliteReaders):
            original_call = owner.call

            async def hopping(self: Any, *args: Any, _original: Any = original_call) -> Any:
                if counter.active:
                    counter.hops += 1
                return await _original(self, *args)

            owner.call = hopping  # type: ignore[method-assign,assignment]

    async def capture(self, call: Callable[[], Awaitable[Any]]) -> tuple[Any, list[str], int]:
        self.sent, self.hops, self.active = [], 0, True
        try:
            result = await call()
        finally:
            self.active = False
        return result, self.sent, self.hops


class NeverLocked:
    """A pickup-guess counter that never locks (the API passes a Redis one):
    the bench exercises the path the counter uses, without Redis."""

    async def standing(self, shop_id: int, code: str) -> GuessStanding:
        from marketplace.orders import GuessStanding

        return GuessStanding(tries_left=10, locked_for=0)

    async def take_slow_lookup(self, shop_id: int) -> int:
        raise AssertionError(f"the bench's counter at shop {shop_id} was never slowed")

    async def record_failure(self, shop_id: int, code: str) -> GuessStanding:
        raise AssertionError(f"the bench confirmed a wrong code at shop {shop_id}")

    async def seconds_locked(self, shop_id: int, code: str) -> int:
        """The counter's protocol before the slowed counter (``--compare``
        with an older checkout, e.g. issue #10's before, ``48d081b``)."""
        return 0


class World:
    """One issuing community, a shop with one clerk, 200 funded members and
    50 items with plenty of stock, each handed out at the shop."""

    async def build(self) -> None:
        from community.access import Principal
        from community.accounts import issuance_code, open_wallet, wallet_code
        from community.members import get_member
        from community.organisations import create_organisation
        from community.passwords import hash_password
        from community.roles import Level, Role
        from community.tables import Member, RoleGrant
        from ledger.posting import transfer
        from marketplace.catalog import ItemDraft, create_item
        from marketplace.shops import add_staff, create_shop

        org = await create_organisation(name_zh="压测社区", level=Level.COMMUNITY, issues_points=True)
        hashed: Any = hash_password("bench-password")
        password_hash = await hashed if inspect.isawaitable(hashed) else hashed
        inserted = await Member.insert(
            *(
                Member(
                    name=f"志愿者{i}",
                    phone=f"139{i:08d}",
                    password_hash=password_hash,
                    home_organisation=org.id,
                    # Members of a year's standing: a redemption by someone
                    # who joined minutes ago is held for review (the fraud
                    # screening's cooling-off rule), and held orders are not
                    # handed over at the counter.
                    created_at=datetime.now(UTC) - timedelta(days=365),
                )
                for i in range(MEMBERS)
            )
        ).run()
        self.member_ids = [int(row["id"]) for row in inserted]
        await RoleGrant.insert(
            *(RoleGrant(member=m, organisation=org.id, role="volunteer") for m in self.member_ids)
        ).run()
        for member_id in self.member_ids:
            await open_wallet(member_id, org.id)
            await transfer(
                debit_code=issuance_code(org.id),
                credit_code=wallet_code(member_id),
                amount=Decimal("100000.00"),
                kind="award",
                reason_zh="压测初始积分",
            )
        staff, manager_id = self.member_ids[0], self.member_ids[1]
        await RoleGrant.insert(RoleGrant(member=manager_id, organisation=org.id, role="organizer")).run()

        async def acting(member_id: int) -> Principal:
            member = await get_member(member_id)
            grants = tuple((grant.organisation_id, Role(grant.role)) for grant in member.grants)
            return Principal(
                member_id=member.id, name=member.name, home_organisation_id=member.home_organisation_id, grants=grants
            )

        manager = await acting(manager_id)
        self.organisation_id = org.id
        self.shop = await create_shop(manager, organisation_id=org.id, name_zh="压测商店")
        await add_staff(manager, self.shop.id, staff)
        self.staff = await acting(staff)
        self.members = {member_id: await acting(member_id) for member_id in self.member_ids}
        self.items = [
            (
                await create_item(
                    manager,
                    org.id,
                    ItemDraft(name_zh=f"商品{i}", price=Decimal("1.00"), stock=1_000_000, shop_ids=[self.shop.id]),
                )
            ).id
            for i in range(SPREAD_ITEMS)
        ]
        self.guesses = NeverLocked()

    async def redeem(self, n: int, item_ids: Sequence[int]) -> None:
        """Place one order and confirm its pickup at the counter."""
        from marketplace.orders import confirm_pickup, place_order

        order = await place_order(
            self.members[self.member_ids[(n * 7) % MEMBERS]],
            item_id=item_ids[n % len(item_ids)],
            shop_id=self.shop.id,
            idempotency_key=f"bench:{uuid.uuid4()}",
        )
        await confirm_pickup(self.staff, shop_id=self.shop.id, code=order.pickup_code, guesses=self.guesses)


async def run_orders(world: World, total: int, clients: int, item_ids: Sequence[int]) -> dict[str, float]:
    counter = iter(range(total))
    latencies: list[float] = []

    async def client() -> None:
        for n in counter:  # shared: each client takes the next order
            started = time.perf_counter()
            await world.redeem(n, item_ids)
            latencies.append(time.perf_counter() - started)

    warm = iter(range(WARMUP))

    async def warm_client() -> None:
        for n in warm:
            await world.redeem(n, item_ids)

    await asyncio.gather(*(warm_client() for _ in range(clients)))
    times0 = os.times()
    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    times1 = os.times()
    return {
        "orders": total,
        "clients": clients,
        "items": len(item_ids),
        "seconds": elapsed,
        "orders_per_s": total / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "client_cpu_us": (times1.user - times0.user + times1.system - times0.system) / total * 1e6,
    }


async def count_round_trips(world: World, trips: RoundTrips) -> dict[str, Any]:
    """Round trips of ``COUNTED`` redemptions (after a warm-up), place and
    confirm apart; the statements of the last one."""
    from marketplace.orders import confirm_pickup, place_order

    for n in range(WARMUP):
        await world.redeem(n, world.items)
    places: list[tuple[list[str], int]] = []
    confirms: list[tuple[list[str], int]] = []
    for n in range(COUNTED):
        member = world.members[world.member_ids[(n * 11) % MEMBERS]]
        item_id = world.items[n % len(world.items)]

        async def place(member: Any = member, item_id: int = item_id) -> Any:
            return await place_order(
                member, item_id=item_id, shop_id=world.shop.id, idempotency_key=f"bench-count:{uuid.uuid4()}"
            )

        order, sent, hops = await trips.capture(place)
        places.append((sent, hops))

        async def confirm(code: str = order.pickup_code) -> Any:
            return await confirm_pickup(world.staff, shop_id=world.shop.id, code=code, guesses=world.guesses)

        _, sent, hops = await trips.capture(confirm)
        confirms.append((sent, hops))
    return {
        "place": statistics.mean(len(sent) for sent, _ in places),
        "confirm": statistics.mean(len(sent) for sent, _ in confirms),
        "place_hops": statistics.mean(hops for _, hops in places),
        "confirm_hops": statistics.mean(hops for _, hops in confirms),
        "place_list": places[-1][0],
        "confirm_list": confirms[-1][0],
    }


async def catalog_listing(world: World, items: int) -> dict[str, Any]:
    """Latency of catalog pages with ``items`` items (bulk rows, not through
    ``create_item``, which is one item at a time)."""
    from marketplace.catalog import list_catalog
    from marketplace.tables import CatalogItem, CatalogItemShop

    org_id, shop_id = world.organisation_id, world.shop.id
    categories = ["daily", "food", "household", "stationery", "voucher", "service", "other"]
    chunk = 1000
    for start in range(SPREAD_ITEMS, items, chunk):
        rows = [
            CatalogItem(
                organisation=org_id,
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
        await CatalogItemShop.insert(*(CatalogItemShop(item=r["id"], shop=shop_id) for r in inserted)).run()
    total_items = int(await CatalogItem.count().run())
    now = datetime.now(UTC)
    # A search that matches whatever the catalog's size (the bulk items when
    # there are any, else the bench's own), and a page as deep as it allows.
    search, category = (f"好物{SPREAD_ITEMS + 1}", "food") if items > SPREAD_ITEMS + 1 else ("商品1", "other")
    depth = max(1, min(50, total_items // 20 - 1))

    async def timed(label: str, call: Callable[[], Awaitable[Page]], calls: int = 200) -> dict[str, Any]:
        times: list[float] = []
        for _ in range(10):
            await call()
        for _ in range(calls):
            started = time.perf_counter()
            page = await call()
            times.append(time.perf_counter() - started)
        if not page.items:
            raise SystemExit(f"catalog listing {label!r} found nothing: the bench's catalog is wrong")
        return {"query": label, "median_ms": statistics.median(times) * 1000, "p95_ms": percentile(times, 0.95) * 1000}

    deep = await list_catalog(organisation_ids=[org_id], now=now, limit=20)
    for _ in range(depth):
        deep = await list_catalog(organisation_ids=[org_id], now=now, limit=20, cursor=deep.next_cursor)
    listing = [
        await timed("first page, price_asc", lambda: list_catalog(organisation_ids=[org_id], now=now, limit=20)),
        await timed(f"search '{search}'", lambda: list_catalog(organisation_ids=[org_id], now=now, search=search)),
        await timed(
            f"category={category}, price_desc",
            lambda: list_catalog(organisation_ids=[org_id], now=now, category=category, sort="price_desc"),
        ),
        await timed(
            f"page {depth + 1} by cursor",
            lambda: list_catalog(organisation_ids=[org_id], now=now, limit=20, cursor=deep.next_cursor),
        ),
        await timed(
            "shop filter, newest",
            lambda: list_catalog(organisation_ids=[org_id], now=now, shop_id=shop_id, sort="newest"),
        ),
    ]
    return {"catalog_items": total_items, "listing": listing}


async def worker(args: argparse.Namespace) -> dict[str, Any]:
    from admin.migrations import migrate
    from core import database
    from marketplace import orders

    db: Any = database.engine()
    trips = RoundTrips()
    if db.engine_type == "postgres":
        trips.install_postgres()
    else:
        trips.install_sqlite()  # before any connection is opened
    await migrate()
    if db.engine_type == "postgres":
        await db.start_connection_pool(min_size=2, max_size=CLIENTS + 2)
    world = World()
    started = time.perf_counter()
    await world.build()
    log(f"{db.engine_type}: world built in {time.perf_counter() - started:.1f}s")
    # Which checkout the worker really imported (--repo must win over the venv's editable install).
    result: dict[str, Any] = {"engine": db.engine_type, "code": os.path.dirname(os.path.dirname(orders.__file__))}
    result["round_trips"] = await count_round_trips(world, trips)
    orders_multi = args.orders if db.engine_type == "postgres" else args.sqlite_orders
    runs = []
    for total, clients, item_ids in (
        (max(100, orders_multi // 4), 1, world.items),
        (orders_multi, CLIENTS, world.items),
        (orders_multi, CLIENTS, world.items[:1]),
    ):
        run = await run_orders(world, total, clients, item_ids)
        log(f"{db.engine_type} x{clients} over {len(item_ids)} item(s): {run['orders_per_s']:.1f}/s")
        runs.append(run)
    result["orders"] = runs
    if args.items > 0:
        result.update(await catalog_listing(world, args.items))
    if db.engine_type == "postgres":
        await db.close_connection_pool()
    return result


###############################################################################
# Parent: throwaway databases, child processes, the report
###############################################################################


def run_engine(engine: str, args: argparse.Namespace, repo: Path) -> dict[str, Any]:
    worker_args = ["--items", str(args.items), "--orders", str(args.orders), "--sqlite-orders", str(args.sqlite_orders)]
    return run_worker(
        Path(__file__).resolve(),
        engine,
        name="market",
        pg_url=args.pg_url,
        repo=repo,
        worker_args=worker_args,
        result_tag=RESULT_TAG,
    )


def print_result(result: dict[str, Any], *, list_statements: bool) -> None:
    engine = result["engine"]
    trips = result["round_trips"]
    unit = "round trips" if engine == "postgres" else "statements"
    hops = "" if engine == "postgres" else f"; thread hops {trips['place_hops']:.1f} + {trips['confirm_hops']:.1f}"
    print(f"\n== {engine} (worker imported the project from {result['code']})")
    print(
        f"  {unit} per redemption: {trips['place'] + trips['confirm']:.1f} "
        f"(place {trips['place']:.1f} + confirm {trips['confirm']:.1f}; BEGIN and COMMIT included){hops}"
    )
    if list_statements:
        for label in ("place", "confirm"):
            print(f"  -- {label}:")
            for number, sql in enumerate(trips[f"{label}_list"], 1):
                print(f"    {number:>2}. {sql[:160]}")
    print(
        f"{'clients':>9}{'items':>7}{'orders':>8}{'orders/s':>10}{'median ms':>11}{'p95 ms':>9}{'client CPU us/order':>21}"
    )
    for run in result["orders"]:
        print(
            f"{run['clients']:>9}{run['items']:>7}{run['orders']:>8}{run['orders_per_s']:>10.1f}"
            f"{run['median_ms']:>11.1f}{run['p95_ms']:>9.1f}{run['client_cpu_us']:>21.0f}"
        )
    if "listing" in result:
        print(f"  catalog listing with {result['catalog_items']:,} items (20 per page):")
        for row in result["listing"]:
            print(f"    {row['query']:<28} median {row['median_ms']:7.2f} ms   p95 {row['p95_ms']:7.2f} ms")


RUN_LABELS = ("1 client, 50 items", "8 clients, 50 items", "8 clients, 1 hot item")


def print_comparison(engine: str, labels: list[str], rounds: list[list[dict[str, Any]]]) -> None:
    """Each checkout (the befores, then after), round by round, then the
    medians and after / first before."""
    print(f"\n== {engine}: {' vs '.join(labels)}, {len(rounds)} interleaved rounds")
    width = max(10, *(len(label) + 2 for label in labels))
    heads = "".join(f"{label:>{width}}" for label in labels)
    print(f"{'round':>6}  {'run':<22}{'orders/s:':>10}{heads}   client CPU us/order:{heads}")
    for number, results in enumerate(rounds, 1):
        for index, run in enumerate(RUN_LABELS):
            rate_cells = "".join(f"{result['orders'][index]['orders_per_s']:>{width}.1f}" for result in results)
            cpu_cells = "".join(f"{result['orders'][index]['client_cpu_us']:>{width}.0f}" for result in results)
            print(f"{number:>6}  {run:<22}{'':>10}{rate_cells}   {'':>20}{cpu_cells}")
    print("  medians (after / first before):")
    for index, run in enumerate(RUN_LABELS):
        rates = [statistics.median(r[k]["orders"][index]["orders_per_s"] for r in rounds) for k in range(len(labels))]
        cpus = [statistics.median(r[k]["orders"][index]["client_cpu_us"] for r in rounds) for k in range(len(labels))]
        print(
            f"    {run:<22} orders/s {' -> '.join(f'{rate:.1f}' for rate in rates)} (x{rates[-1] / rates[0]:.2f});"
            f" client CPU us/order {' -> '.join(f'{cpu:,.0f}' for cpu in cpus)} (x{cpus[-1] / cpus[0]:.2f})"
        )
    trips = [result["round_trips"]["place"] + result["round_trips"]["confirm"] for result in rounds[0]]
    unit = "round trips" if engine == "postgres" else "statements"
    print(f"    {unit} per redemption: {' -> '.join(f'{count:.1f}' for count in trips)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders per 8-client run on PostgreSQL (default 2000)")
    parser.add_argument("--sqlite-orders", type=int, default=1000, help="the same on SQLite (default 1000)")
    parser.add_argument("--items", type=int, default=10_000, help="catalog size for the listing timings (0: skip them)")
    parser.add_argument("--engine", choices=["postgres", "sqlite", "all"], default="postgres")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="server where user postgres may CREATE DATABASE")
    parser.add_argument(
        "--repo", type=Path, default=REPO, help="checkout whose code the worker runs (default: this one)"
    )
    parser.add_argument(
        "--compare", type=Path, nargs="+", help="'before' checkouts, run in turn with --repo ('after') each round"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every checkout with --compare (default 3)")
    parser.add_argument("--list-statements", action="store_true", help="print the statements of one place and confirm")
    parser.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._worker:
        sys.path.insert(0, os.getcwd())  # the checkout under test, ahead of this venv's editable install
        result = asyncio.run(worker(args))
        print(RESULT_TAG + json.dumps(result, default=str))
        return
    engines = ["postgres", "sqlite"] if args.engine == "all" else [args.engine]
    repo = args.repo.resolve()
    print(f"machine: {machine_line()}")
    print(f"code: {repo} at {checkout_version(repo)}")
    checkouts = [path.resolve() for path in args.compare or []] + [repo]
    for path in checkouts[:-1]:
        print(f"before: {path} at {checkout_version(path)}")
    for engine in engines:
        if args.compare is None:
            start = loadavg()
            result = run_engine(engine, args, repo)
            print(f"\nload average (1/5/15 min): {start} at the start, {loadavg()} at the end")
            print_result(result, list_statements=args.list_statements)
            continue
        rounds = []
        for number in range(1, args.rounds + 1):
            results = []
            for code in checkouts:
                start = loadavg()
                results.append(run_engine(engine, args, code))
                print(f"\nround {number}, {code}: load average {start} at the start, {loadavg()} at the end")
                print_result(results[-1], list_statements=args.list_statements and number == 1)
            rounds.append(results)
        print_comparison(engine, [path.name for path in checkouts], rounds)
    rerun = (
        f".venv/bin/python bench/marketplace_throughput.py --engine {args.engine} --orders {args.orders} "
        f"--sqlite-orders {args.sqlite_orders} --items {args.items}"
    )
    if repo != REPO:
        rerun += f" --repo {repo}"
    if args.compare is not None:
        rerun += f" --compare {' '.join(str(path) for path in args.compare)} --rounds {args.rounds}"
    print(f"\nrerun: {rerun}")


if __name__ == "__main__":
    main()
