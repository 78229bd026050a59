#!/usr/bin/env python
"""Where a SQLite posting's time goes, part by part, beside the ceiling's.

``ledger_floor.py`` says how far ours is from the ceiling as a whole. This
bench splits one transfer into the parts that can be changed apart, all on
the service's own writer connection (its PRAGMAs, ``synchronous`` from
``FENGLING_SQLITE_SYNCHRONOUS``, default FULL), interleaved in rounds whose
order rotates:

- **whole**: ``ledger.posting.transfer`` as a caller sees it (the request
  models, the fingerprint, ``core.fixed_sql.write``, the writer's lock, the
  transaction, the record);
- **ours body**: only what runs between ``BEGIN IMMEDIATE`` and ``COMMIT``:
  ``drive_sqlite(connection, post_steps(request, fingerprint))``, with the
  request and fingerprint built beforehand;
- **driver body**: the same statements with the same arguments, yielded by
  a bare script (no rules, no records) through the same ``drive_sqlite``;
- **ceiling body**: the ceiling's direct ``connection.execute`` calls
  (``ledger_ceiling.post_sqlite`` without its BEGIN and COMMIT);
- **commit**: the ``COMMIT`` of the body runs (the sync to disk at FULL).

So ``ours body − driver body`` is the posting's own Python inside the
transaction (lock → decide → write, the record), ``driver body − ceiling
body`` the script driver's, and ``whole − ours body − commit`` what a
posting costs before its transaction begins and after it ends.

Two measurements, as in ``ledger_floor.py``: wall time per transfer
(default), or instructions per transfer under valgrind's callgrind
(``--instructions``), which the machine's load does not move::

    .venv/bin/python bench/ledger_posting_parts.py                 # 5 rounds of 3,000, ~1 min
    .venv/bin/python bench/ledger_posting_parts.py --instructions  # ~4 min under valgrind
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from callgrind_runs import callgrind, dumped_counts, run_transfer_bench, transfer_bench_arguments

PARTS = ("whole", "ours body", "driver body", "ceiling body", "commit")


def in_transactions(connection: sqlite3.Connection, bodies: list[Callable[[], Any]]) -> tuple[float, float]:
    """Run each body between BEGIN IMMEDIATE and COMMIT: the seconds spent
    in the bodies, and in the COMMITs."""
    inside = committing = 0.0
    for body in bodies:
        connection.execute("BEGIN IMMEDIATE")
        started = time.perf_counter()
        body()
        ended = time.perf_counter()
        connection.execute("COMMIT")
        inside += ended - started
        committing += time.perf_counter() - ended
    return inside, committing


async def measure(args: argparse.Namespace) -> dict[str, list[float]]:
    """Microseconds per transfer of each part, one value per round."""
    import ledger_throughput as bench
    import posting_bodies as parts
    from ledger_ceiling import Transfer, prepare

    from core.database import engine
    from core.engines import FenglingSQLiteEngine
    from ledger.posting import entry_fingerprint

    worker = bench.Worker(bench.parse_args(["--engine", "sqlite", "--_worker", "sqlite"]))
    await worker.setup()
    db = engine()
    assert isinstance(db, FenglingSQLiteEngine)
    writer = db.connections.writer()
    rng = random.Random(args.seed)
    spent: dict[str, list[float]] = {part: [] for part in PARTS}

    def bodies(connection: sqlite3.Connection, part: str, transfers: list[Transfer]) -> list[Callable[[], Any]]:
        """Each transfer's body, its arguments built outside the count."""
        if part == "ours body":
            requests = map(parts.request, transfers)
            return [partial(parts.ours_body, connection, r, entry_fingerprint(r)) for r in requests]
        body = parts.driver_body if part == "driver body" else parts.ceiling_body
        return [partial(body, connection, prepare(t, worker.ids)) for t in transfers]

    async def run_part(part: str, round_: int) -> float:
        transfers = bench.plan(rng, args.warmup + args.transfers, f"{part[:6]}{round_}-{worker.run_id}")
        warm, timed = transfers[: args.warmup], transfers[args.warmup :]
        if part == "whole":
            for t in warm:
                await worker.ours(t)
            callgrind("-z")
            started = time.perf_counter()
            for t in timed:
                await worker.ours(t)
            seconds = time.perf_counter() - started
            callgrind("-d", f"whole-{round_}")
            return seconds
        async with writer.lock:
            # Held, the lock makes the writer's connection ours: the bodies run
            # on it in the loop's thread, as the service's inline mode does.
            connection = await writer.transaction(lambda c: c, begin="BEGIN")
            in_transactions(connection, bodies(connection, part, warm))
            timed_bodies = bodies(connection, part, timed)
            callgrind("-z")
            seconds, committing = in_transactions(connection, timed_bodies)
            callgrind("-d", f"{part.split()[0]}-{round_}")
        spent["commit"].append(committing / args.transfers * 1e6)
        return seconds

    try:
        for round_ in range(args.rounds):
            order = PARTS[:-1][round_ % 4 :] + PARTS[:-1][: round_ % 4]
            for part in order:
                seconds = await run_part(part, round_)
                spent[part].append(seconds / args.transfers * 1e6)
                print(f"  round {round_ + 1} {part:<12} {spent[part][-1]:7.1f} µs", file=sys.stderr, flush=True)
    finally:
        await worker.teardown()
    return spent


def time_report(spent: dict[str, list[float]], args: argparse.Namespace) -> str:
    median = {part: statistics.median(values) for part, values in spent.items()}
    lines = [
        f"SQLite posting by part, {args.rounds} rounds of {args.transfers:,} transfers per part"
        f" (synchronous {os.environ.get('FENGLING_SQLITE_SYNCHRONOUS', 'FULL')}); wall µs per transfer,"
        " median of rounds:",
        "",
        "| part | µs | rounds |",
        "|---|---:|---|",
    ]
    for part in PARTS:
        rounds = ", ".join(f"{value:.0f}" for value in spent[part])
        lines.append(f"| {part} | {median[part]:.0f} | {rounds} |")
    lines += [
        "",
        f"- the posting's own Python in the transaction (ours body − driver body):"
        f" {median['ours body'] - median['driver body']:.0f} µs",
        f"- the script driver's (driver body − ceiling body): {median['driver body'] - median['ceiling body']:.0f} µs",
        f"- before BEGIN and after COMMIT (whole − ours body − commit):"
        f" {median['whole'] - median['ours body'] - median['commit']:.0f} µs (BEGIN included)",
    ]
    return "\n".join(lines)


def instructions_report(folder: Path, args: argparse.Namespace) -> str:
    counts = dumped_counts(folder, args.transfers)
    names = {"whole": "whole", "ours": "ours body", "driver": "driver body", "ceiling": "ceiling body"}
    lines = [
        f"Instructions per transfer (callgrind, {args.transfers:,} transfers per part after {args.warmup} untimed;"
        " each part with its BEGIN IMMEDIATE and COMMIT):",
        "",
        "| part | instructions |",
        "|---|---:|",
        *(f"| {names[key]} | {counts[key]:,} |" for key in names if key in counts),
    ]
    if len(counts) == len(names):
        lines += [
            "",
            f"- the posting's own Python in the transaction (ours body − driver body):"
            f" {counts['ours'] - counts['driver']:,}",
            f"- the script driver's (driver body − ceiling body): {counts['driver'] - counts['ceiling']:,}",
            f"- before BEGIN and after COMMIT (whole − ours body): {counts['whole'] - counts['ours']:,}",
        ]
    return "\n".join(lines)


def main() -> None:
    args = transfer_bench_arguments((__doc__ or "").split("\n\n")[0], transfers=3000, seed=11)
    run_transfer_bench(
        __file__,
        args,
        prefix="fl-parts-",
        most_under_callgrind=500,
        measure=measure,
        time_report=time_report,
        instructions_report=instructions_report,
    )


if __name__ == "__main__":
    main()
