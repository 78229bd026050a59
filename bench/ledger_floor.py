#!/usr/bin/env python
"""How close can Python get to the SQLite posting ceiling? Ours, the ceiling
and a floor, interleaved in one process.

Issue #10 asks SQLite posting for ≥ 0.8× the ceiling (``ledger_ceiling.py``:
the same statements on one raw ``sqlite3`` connection, with every argument
that does not depend on the database computed before the timed run). This
bench adds a third side, **the floor**: the leanest transfer written in
plain Python that still does what a posting must do —

- parse the amount text (no float, at most two places, positive, in range),
  check both codes and every text's length;
- compute the request fingerprint (the same canonical text as
  ``ledger.posting.entry_fingerprint``, SHA-256);
- under an ``asyncio.Lock``, on its own long-lived connection opened as
  the service opens its writer, in the loop's thread: ``BEGIN IMMEDIATE``, lock the two accounts, refuse a
  no-negative account's overdraft, insert the entry with
  ``ON CONFLICT (idempotency_key) DO NOTHING``, both postings, both
  balances, ``COMMIT`` (the ledger's own ``ledger/sql.py`` statements, in
  the same order);
- return an ``EntryRecord`` with its two ``PostingRecord``s.

It has no request models (pydantic), no rule functions, no script driver
and no retry loop: every check is inline. It is not a proposal; it says
what the same work costs in CPython with nothing else around it, so the
gap between ours and the ceiling can be split into what the design costs
(ours − floor) and what Python and asyncio cost at all (floor − ceiling).

Two measurements:

- **time** (default): ``--rounds`` rounds of ``--transfers`` per side after
  ``--warmup``, the order rotating each round; wall time per transfer, the
  process's user and system CPU, and each side's rate as a ratio to the
  ceiling's in the same round (the median over rounds is reported);
- **instructions** (``--instructions``): the same sides once each under
  valgrind's callgrind, zeroed and dumped around each side's timed run
  (``callgrind_control``): instructions per transfer, which do not move with
  the machine's load (the inline budget of ``core.sqlite_connections`` is
  lifted for this run, since valgrind slows every transaction past it).

The database is a throwaway SQLite file (the service's PRAGMAs; WAL,
``synchronous`` from ``FENGLING_SQLITE_SYNCHRONOUS``, default FULL) with the
1,000 funded wallets of ``ledger_throughput.py``, removed at exit::

    .venv/bin/python bench/ledger_floor.py                 # 5 rounds of 4,000 transfers, ~1 min
    .venv/bin/python bench/ledger_floor.py --instructions  # ~3 min under valgrind
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json.encoder
import os
import random
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from callgrind_runs import callgrind, dumped_counts, run_transfer_bench, transfer_bench_arguments

SIDES = ("ours", "ceiling", "floor")

# The limits the ledger's request models declare (ledger/models.py).
MAX_CODE = 120
MAX_KIND = 40
MAX_REASON = 300
MAX_KEY = 200
MAX_MINOR = 10**14
_AMOUNT_TEXT = re.compile(r"^[+-]?\d+(\.\d{1,2})?$")
_QUANTUM = Decimal("0.01")
_json_text = json.encoder.encode_basestring


def floor_transfer(
    connection: sqlite3.Connection,
    debit: str,
    credit: str,
    amount: str,
    kind: str,
    reason_zh: str,
    reason_en: str,
    key: str,
) -> Any:
    """One transfer, every check inline (see the module docstring)."""
    from ledger import sql
    from ledger.errors import IdempotencyConflict, InsufficientFunds, InvalidAmount, InvalidEntry
    from ledger.models import EntryRecord, PostingRecord

    text = amount.strip()
    if not _AMOUNT_TEXT.match(text):
        raise InvalidAmount("amount", "must be a decimal string with at most 2 decimal places")
    try:
        points = Decimal(text).quantize(_QUANTUM)
    except InvalidOperation as error:
        raise InvalidAmount("amount", "is out of range") from error
    minor = int(points.scaleb(2))
    if minor <= 0 or minor > MAX_MINOR:
        raise InvalidAmount("amount", "must be positive and in range")
    if not (0 < len(debit) <= MAX_CODE and 0 < len(credit) <= MAX_CODE) or debit == credit:
        raise InvalidEntry("two distinct account codes of 1-120 characters", field="legs")
    if not (0 < len(kind) <= MAX_KIND and 0 < len(reason_zh) <= MAX_REASON and len(reason_en) <= MAX_REASON):
        raise InvalidEntry("kind and reasons out of bounds", field="kind")
    if not 0 < len(key) <= MAX_KEY:
        raise InvalidEntry("idempotency key out of bounds", field="idempotency_key")
    legs = sorted(((debit, f"{-points}"), (credit, f"{points}")))
    legs_text = ", ".join(f"[{_json_text(code)}, {_json_text(value)}]" for code, value in legs)
    canonical = (
        f'{{"cause_ref": "", "kind": {_json_text(kind)}, "legs": [{legs_text}], "memo": "", "metadata": {{}},'
        f' "op": "entry", "reason_en": {_json_text(reason_en)}, "reason_zh": {_json_text(reason_zh)}}}'
    )
    request_fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
    created_at = datetime.now(UTC)
    stamp = str(created_at)
    codes = f"[{_json_text(legs[0][0])},{_json_text(legs[1][0])}]"
    connection.execute("BEGIN IMMEDIATE")
    try:
        cursor = connection.cursor()
        accounts = {row[1]: row for row in cursor.execute(sql.LOCK_ACCOUNTS.sqlite, (codes,)).fetchall()}
        source, destination = accounts[debit], accounts[credit]
        source_balance, destination_balance = source[3] - minor, destination[3] + minor
        if not source[2] and source_balance - source[4] < 0:
            raise InsufficientFunds(debit, available=Decimal(source[3] - source[4]).scaleb(-2), requested=points)
        inserted = cursor.execute(
            sql.INSERT_ENTRY.sqlite,
            (kind, reason_zh, reason_en, "", "{}", "system", "", key, request_fingerprint, None, stamp),
        ).fetchall()
        if not inserted:
            raise IdempotencyConflict(key)  # the floor never replays: every key is new here
        entry_id = inserted[0][0]
        cursor.execute(sql.INSERT_POSTING.sqlite, (entry_id, source[0], -minor, source_balance, stamp))
        cursor.execute(sql.INSERT_POSTING.sqlite, (entry_id, destination[0], minor, destination_balance, stamp))
        cursor.execute(sql.STORE_BALANCES.sqlite, (source[0], source_balance, source[4]))
        cursor.execute(sql.STORE_BALANCES.sqlite, (destination[0], destination_balance, destination[4]))
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return EntryRecord(
        id=entry_id,
        kind=kind,
        reason_zh=reason_zh,
        reason_en=reason_en,
        memo="",
        metadata={},
        actor_ref="system",
        cause_ref="",
        idempotency_key=key,
        reverses_id=None,
        created_at=created_at,
        postings=(
            PostingRecord(debit, -points, Decimal(source_balance).scaleb(-2)),
            PostingRecord(credit, points, Decimal(destination_balance).scaleb(-2)),
        ),
    )


async def measure(args: argparse.Namespace) -> dict[str, list[dict[str, float]]]:
    import ledger_throughput as bench
    from ledger_ceiling import post_sqlite, prepare
    from ledger_history import check_consistency

    from core.sqlite_connections import open_connection
    from fengling_settings import get_settings

    worker = bench.Worker(bench.parse_args(["--engine", "sqlite", "--_worker", "sqlite"]))
    await worker.setup()
    # The floor's own connection and lock, opened as the service opens its writer.
    floor_connection = open_connection(worker.db.connection_kwargs, get_settings().sqlite_synchronous)
    floor_lock = asyncio.Lock()
    rng = random.Random(args.seed)
    results: dict[str, list[dict[str, float]]] = {side: [] for side in SIDES}
    try:
        for round_ in range(args.rounds):
            order = SIDES[round_ % 3 :] + SIDES[: round_ % 3]
            for side in order:
                transfers = bench.plan(rng, args.warmup + args.transfers, f"{side}{round_}-{worker.run_id}")
                run: Callable[[Any], Awaitable[Any]]
                items: list[Any]
                if side == "ours":
                    run, items = worker.ours, transfers
                elif side == "ceiling":
                    raw = worker.raw_sqlite

                    async def run(p: Any, raw: sqlite3.Connection = raw) -> None:
                        post_sqlite(raw, p)

                    items = [prepare(t, worker.ids) for t in transfers]
                else:

                    async def run(t: Any) -> None:
                        async with floor_lock:
                            floor_transfer(
                                floor_connection,
                                t.debit,
                                t.credit,
                                t.amount,
                                "transfer",
                                "积分转赠",
                                "points transfer",
                                t.key,
                            )

                    items = transfers
                for item in items[: args.warmup]:
                    await run(item)
                callgrind("-z")
                before, started = os.times(), time.perf_counter()
                for item in items[args.warmup :]:
                    await run(item)
                wall, after = time.perf_counter() - started, os.times()
                callgrind("-d", f"{side}-{round_}")
                row = {
                    "per_s": args.transfers / wall,
                    "wall_us": wall / args.transfers * 1e6,
                    "user_us": (after.user - before.user) / args.transfers * 1e6,
                    "sys_us": (after.system - before.system) / args.transfers * 1e6,
                }
                results[side].append(row)
                print(
                    f"  round {round_ + 1} {side:<7} {row['per_s']:7,.0f}/s  wall {row['wall_us']:5.0f} µs"
                    f"  user {row['user_us']:5.0f} µs  sys {row['sys_us']:4.0f} µs",
                    file=sys.stderr,
                    flush=True,
                )
        consistency = await check_consistency("sqlite", worker.url)
        print(f"  ledger after the runs: {consistency}", file=sys.stderr, flush=True)
    finally:
        floor_connection.close()
        await worker.teardown()
    return results


def time_report(results: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> str:
    lines = [
        f"SQLite posting, 1 task, {args.rounds} rounds of {args.transfers:,} transfers per side"
        f" (synchronous {os.environ.get('FENGLING_SQLITE_SYNCHRONOUS', 'FULL')}):",
        "",
        "| side | transfers/s | ratio to the ceiling (median of rounds) | wall µs | user CPU µs | system CPU µs |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    ceiling = results["ceiling"]
    for side in SIDES:
        rows = results[side]

        def median(column: str, rows: list[dict[str, float]] = rows) -> float:
            return statistics.median(row[column] for row in rows)

        ratio = statistics.median(row["per_s"] / c["per_s"] for row, c in zip(rows, ceiling, strict=True))
        lines.append(
            f"| {side} | {median('per_s'):,.0f} | {ratio:.2f} | {median('wall_us'):.0f} | {median('user_us'):.0f} |"
            f" {median('sys_us'):.0f} |"
        )
    return "\n".join(lines)


def instructions_report(folder: Path, args: argparse.Namespace) -> str:
    counts = dumped_counts(folder, args.transfers)
    lines = [
        f"Instructions per transfer (callgrind, {args.transfers:,} transfers per side after {args.warmup} untimed):",
        "",
        "| side | instructions | over the ceiling |",
        "|---|---:|---:|",
    ]
    for side in SIDES:
        if side in counts:
            extra = counts[side] - counts.get("ceiling", counts[side])
            lines.append(f"| {side} | {counts[side]:,} | {extra:+,} |")
    return "\n".join(lines)


def main() -> None:
    args = transfer_bench_arguments((__doc__ or "").split("\n\n")[0], transfers=4000, seed=7)
    run_transfer_bench(
        __file__,
        args,
        prefix="fl-floor-",
        most_under_callgrind=1000,
        measure=measure,
        time_report=time_report,
        instructions_report=instructions_report,
    )


if __name__ == "__main__":
    main()
