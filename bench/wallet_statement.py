#!/usr/bin/env python
"""Database CPU per execution of the wallet's statement, against the
statement it replaced and the ceiling's one-row read.

Runs each statement ``--executions`` times on one asyncpg connection (a
prepared statement, as the app's) and reads the CPU of that connection's
backend from ``/proc/PID/schedstat`` before and after; the statements
alternate over ``--rounds`` rounds and the *minimum* per statement is
reported (other load on a shared machine only ever adds). Needs a database
seeded by ``bench/wallet_inprocess.py --seed`` (the demo volunteer's wallet
with 5 active holds and the rest of the ledger)::

    .venv/bin/python bench/wallet_statement.py --database-url postgres://postgres@127.0.0.1:5432/NAME
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import asyncpg

from fraud.pending import _WALLET_AND_OPEN_CASE_FLAG

CODE = "volunteer:1:wallet"
MEMBER_ID = 1
STATEMENTS = {
    # The wallet's statement as it is now (fraud.pending, ledger.account_view).
    "wallet": (_WALLET_AND_OPEN_CASE_FLAG.postgres, (CODE, 100, MEMBER_ID)),
    # The same before session 11: a plain LEFT JOIN, sorted as a whole.
    "wallet, before": (
        "SELECT a.code, a.account_type, a.name_zh, a.name_en, a.balance_minor, a.held_minor,"
        " h.id AS hold_id, h.amount_minor, h.reason_zh AS hold_reason_zh, h.reason_en AS hold_reason_en,"
        " h.created_at, h.expires_at,"
        " EXISTS (SELECT 1 FROM fraud_case WHERE member = $3 AND status = 'open') AS has_open_case"
        " FROM ledger_account a LEFT JOIN ledger_hold h ON h.account = a.id AND h.status = 'active'"
        " WHERE a.code = $1 ORDER BY h.id DESC LIMIT $2",
        (CODE, 100, MEMBER_ID),
    ),
    # bench/wallet_ceiling.py's read.
    "ceiling": ("SELECT code, balance_minor, held_minor FROM ledger_account WHERE code = $1", (CODE,)),
}


def backend_cpu_seconds(pid: int) -> float:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--executions", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    connection = await asyncpg.connect(args.database_url)
    pid = await connection.fetchval("SELECT pg_backend_pid()")
    per_execution: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    for _ in range(args.rounds):
        for name, (sql, arguments) in STATEMENTS.items():
            for _ in range(200):  # past the custom plans, onto the generic one, as the app's pool is
                await connection.fetch(sql, *arguments)
            before = backend_cpu_seconds(pid)
            for _ in range(args.executions):
                await connection.fetch(sql, *arguments)
            per_execution[name].append((backend_cpu_seconds(pid) - before) / args.executions * 1e6)
    await connection.close()
    for name, values in per_execution.items():
        print(f"{name:>15}: {min(values):5.1f} µs of database CPU per execution (min of {args.rounds} rounds)")


if __name__ == "__main__":
    asyncio.run(main())
    print(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
