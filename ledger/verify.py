"""``fengling ledger verify``: recompute everything the ledger promises.

- the hash chain, link by link, from genesis (names the first broken entry);
- every entry has ≥ 2 postings summing to zero (invariant 1);
- every materialised balance equals the sum of its postings (invariant 4),
  and every held total equals its active holds;
- the sum of all balances is zero (invariant 1);
- no no-negative account is below zero (invariant 2).

Each check is one consistent read, so verify can run beside live traffic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ledger.chain import (
    GENESIS,
    chain_head,
    entry_digest,
    postings_by_entry,
    seal_pending,
    unsealed_count,
)
from ledger.tables import LedgerEntry

CHAIN_PAGE = 2000


@dataclass(frozen=True, slots=True)
class Fault:
    check: str
    detail: str
    entry_id: int | None = None
    account_code: str | None = None


@dataclass(slots=True)
class VerifyReport:
    entries_checked: int = 0
    accounts_checked: int = 0
    sealed_now: int = 0
    unsealed: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    faults: list[Fault] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults

    @property
    def first_broken_entry_id(self) -> int | None:
        ids = [fault.entry_id for fault in self.faults if fault.entry_id is not None]
        return min(ids) if ids else None


async def _raw(sql: str) -> list[dict[str, Any]]:
    """Rows of one fixed audit query. Verify reads raw stored values on
    purpose: it checks what the database holds, not what a record makes of it."""
    return list(await LedgerEntry.raw(sql).run())


async def _check_chain(report: VerifyReport, progress: Callable[[int], None] | None) -> None:
    previous = GENESIS
    expected_seq = 1
    chain_broken = False
    while True:
        rows = (
            await LedgerEntry.select()
            .where(LedgerEntry.chain_seq >= expected_seq)
            .order_by(LedgerEntry.chain_seq)
            .limit(CHAIN_PAGE)
            .run()
        )
        if not rows:
            return
        postings = await postings_by_entry([row["id"] for row in rows])
        for row in rows:
            report.entries_checked += 1
            if chain_broken:
                continue
            if row["chain_seq"] != expected_seq:
                report.faults.append(
                    Fault("chain", f"chain position {expected_seq} is missing (a sealed entry was deleted)", row["id"])
                )
                chain_broken = True
                continue
            digest = entry_digest(row, postings[row["id"]], previous)
            if digest != row["chain_hash"]:
                report.faults.append(
                    Fault(
                        "chain",
                        f"entry {row['id']} does not match its seal: its content or a posting was changed",
                        row["id"],
                    )
                )
                chain_broken = True
                continue
            previous = digest
            expected_seq += 1
        if progress is not None:
            progress(len(rows))
        if chain_broken:
            # Keep counting entries, but one broken link is the finding.
            expected_seq = int(rows[-1]["chain_seq"]) + 1


async def verify_ledger(
    *,
    seal_first: bool = True,
    progress: Callable[[int], None] | None = None,
    expect_head: tuple[int, str] | None = None,
) -> VerifyReport:
    """Run every check. ``expect_head`` is a (position, link) recorded
    earlier outside the database; it must still be part of the chain."""
    report = VerifyReport()
    if seal_first:
        report.sealed_now = await seal_pending()

    await _check_chain(report, progress)
    report.unsealed = await unsealed_count()
    report.head_seq, report.head_hash = await chain_head()

    # Every checkpoint must still name a link of the chain: a cut-off tail
    # (newest entries deleted) leaves a checkpoint pointing past the end.
    for row in await _raw(
        "SELECT c.chain_seq FROM ledger_chain_checkpoint c "
        "LEFT JOIN ledger_entry e ON e.chain_seq = c.chain_seq "
        "WHERE e.id IS NULL OR e.chain_hash <> c.chain_hash ORDER BY c.chain_seq LIMIT 20"
    ):
        report.faults.append(
            Fault(
                "chain_checkpoint",
                f"checkpoint at chain position {row['chain_seq']} no longer matches the chain: "
                "sealed entries were deleted or rewritten",
            )
        )
    if expect_head is not None:
        expected_seq, expected_hash = expect_head
        found = await LedgerEntry.select(LedgerEntry.chain_hash).where(LedgerEntry.chain_seq == expected_seq).run()
        if not found or found[0]["chain_hash"] != expected_hash:
            report.faults.append(
                Fault("chain_head", f"the recorded head {expected_seq}:{expected_hash[:12]}… is not in the chain")
            )

    for row in await _raw(
        "SELECT e.id AS entry_id, COUNT(p.id) AS legs, COALESCE(SUM(p.amount_minor), 0) AS total "
        "FROM ledger_entry e LEFT JOIN ledger_posting p ON p.entry = e.id "
        "GROUP BY e.id HAVING COUNT(p.id) < 2 OR COALESCE(SUM(p.amount_minor), 0) <> 0 "
        "ORDER BY e.id"
    ):
        report.faults.append(
            Fault(
                "entry_balanced",
                f"entry {row['entry_id']} has {row['legs']} postings summing to {row['total']} hundredths, not zero",
                entry_id=int(row["entry_id"]),
            )
        )

    for row in await _raw(
        "SELECT a.code, a.balance_minor, COALESCE(SUM(p.amount_minor), 0) AS posted "
        "FROM ledger_account a LEFT JOIN ledger_posting p ON p.account = a.id "
        "GROUP BY a.id, a.code, a.balance_minor "
        "HAVING a.balance_minor <> COALESCE(SUM(p.amount_minor), 0) ORDER BY a.code"
    ):
        report.faults.append(
            Fault(
                "balance_materialised",
                f"account {row['code']} shows {row['balance_minor']} hundredths "
                f"but its postings sum to {row['posted']}",
                account_code=str(row["code"]),
            )
        )

    for row in await _raw(
        "SELECT a.code, a.held_minor, COALESCE(SUM(h.amount_minor), 0) AS held "
        "FROM ledger_account a LEFT JOIN ledger_hold h ON h.account = a.id AND h.status = 'active' "
        "GROUP BY a.id, a.code, a.held_minor "
        "HAVING a.held_minor <> COALESCE(SUM(h.amount_minor), 0) ORDER BY a.code"
    ):
        report.faults.append(
            Fault(
                "held_materialised",
                f"account {row['code']} shows {row['held_minor']} hundredths held "
                f"but its active holds sum to {row['held']}",
                account_code=str(row["code"]),
            )
        )

    totals = await _raw("SELECT COUNT(*) AS n, COALESCE(SUM(balance_minor), 0) AS total FROM ledger_account")
    report.accounts_checked = int(totals[0]["n"])
    if int(totals[0]["total"]) != 0:
        report.faults.append(Fault("trial_balance", f"balances sum to {totals[0]['total']} hundredths, not zero"))

    for row in await _raw(
        "SELECT code, balance_minor, held_minor FROM ledger_account "
        "WHERE NOT allow_negative AND balance_minor - held_minor < 0 ORDER BY code"
    ):
        report.faults.append(
            Fault("no_negative", f"no-negative account {row['code']} is below zero", account_code=str(row["code"]))
        )

    return report
