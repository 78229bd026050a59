#!/usr/bin/env python
"""Instructions per call of each pure piece a posting runs, under callgrind.

``ledger_posting_parts.py`` splits a SQLite posting into the time before,
inside and after its transaction. This names what those parts are made
of: each piece below is called in a loop, in a process of its own under
valgrind's callgrind, once ``--small`` times and once ``--large`` times;
the difference of the two totals over the difference of the counts is
the piece's instructions per call, with the interpreter's start-up and
imports cancelled out. No database is touched, and the machine's load
does not move the counts::

    .venv/bin/python bench/posting_pieces.py            # ~10 min (26 short runs under valgrind)
    .venv/bin/python bench/posting_pieces.py --only leg,entry_record

A transfer runs: ``parse_str`` once, ``leg`` twice (each parses its amount
again), ``entry_request``, ``check_legs``, ``fingerprint``, ``to_minor``
and ``from_minor`` twice each, ``entry_time``, ``posting_record`` twice and
``entry_record`` once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from callgrind_runs import need_valgrind, run_under_callgrind, scratch_folder, total_instructions

REPO = Path(__file__).resolve().parent.parent


def pieces() -> dict[str, Callable[[], Any]]:
    """Each piece as a no-argument call, its inputs built once."""
    from decimal import Decimal

    from core.fixed_sql import sqlite_time
    from ledger.amounts import from_minor, parse_amount, to_minor
    from ledger.models import EntryRecord, EntryRequest, Leg, PostingRecord
    from ledger.posting import entry_fingerprint, entry_time
    from ledger.rules import LockedAccount, apply_legs, check_legs

    points = Decimal("0.50")
    legs = (Leg(account_code="bench:wallet:1", amount=-points), Leg(account_code="bench:wallet:2", amount=points))
    request = EntryRequest(
        kind="transfer", legs=legs, reason_zh="积分转赠", reason_en="points transfer", idempotency_key="bench:1"
    )
    now = entry_time()
    postings = (PostingRecord(account_code="bench:wallet:1", amount=-points, balance_after=points),) * 2

    def locked_and_applied() -> Any:
        accounts = {
            "bench:wallet:1": LockedAccount(1, "bench:wallet:1", False, 100_000, 0, 100_000, 0),
            "bench:wallet:2": LockedAccount(2, "bench:wallet:2", False, 100_000, 0, 100_000, 0),
        }
        return apply_legs(accounts, legs)

    return {
        "loop": lambda: None,
        "parse_str": lambda: parse_amount("0.50"),
        "parse_decimal": lambda: parse_amount(points),
        "leg": lambda: Leg(account_code="bench:wallet:1", amount=points),
        "entry_request": lambda: EntryRequest(
            kind="transfer", legs=legs, reason_zh="积分转赠", reason_en="points transfer", idempotency_key="bench:1"
        ),
        "check_legs": lambda: check_legs(legs),
        "fingerprint": lambda: entry_fingerprint(request),
        "lock_and_apply": locked_and_applied,
        "to_minor": lambda: to_minor(points),
        "from_minor": lambda: from_minor(12_345),
        "entry_time": lambda: sqlite_time(entry_time()),
        "posting_record": lambda: PostingRecord(account_code="bench:wallet:1", amount=points, balance_after=points),
        "entry_record": lambda: EntryRecord(
            id=1,
            kind="transfer",
            reason_zh="积分转赠",
            reason_en="points transfer",
            memo="",
            metadata={},
            actor_ref="system",
            cause_ref="",
            idempotency_key="bench:1",
            reverses_id=None,
            created_at=now,
            postings=postings,
        ),
    }


def run_inside(name: str, count: int) -> None:
    call = pieces()[name]
    for _ in range(count):
        call()


def instructions(name: str, count: int, folder: Path) -> int:
    dump = run_under_callgrind(__file__, ["--_inside", name, str(count)], folder, f"callgrind.{name}.{count}")
    return total_instructions(dump)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=5000)
    parser.add_argument("--only", help="comma-separated piece names (default: all)")
    parser.add_argument("--_inside", nargs=2, metavar=("PIECE", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("FENGLING_SECRET_KEY", "bench-only-secret-key-0123456789abcdef0123456789")
    sys.path.insert(0, str(REPO))
    if args._inside:
        run_inside(args._inside[0], int(args._inside[1]))
        return
    need_valgrind("this bench")
    names = ["loop", *(args.only.split(",") if args.only else [name for name in pieces() if name != "loop"])]
    per_call = {}
    with scratch_folder("fl-pieces-") as folder:
        for name in names:
            extra = instructions(name, args.large, folder) - instructions(name, args.small, folder)
            per_call[name] = extra / (args.large - args.small)
            print(f"  {name}: {per_call[name]:,.0f}", file=sys.stderr, flush=True)
    loop = per_call.pop("loop")
    print(
        f"Instructions per call (callgrind; {args.large:,} calls minus {args.small:,};"
        f" the loop's own {loop:,.0f} taken off):"
    )
    print("\n| piece | instructions |\n|---|---:|")
    for name, count in per_call.items():
        print(f"| {name} | {count - loop:,.0f} |")


if __name__ == "__main__":
    main()
