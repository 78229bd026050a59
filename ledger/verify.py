"""``fengling ledger verify``: recompute everything the ledger promises.

- the hash chain, link by link, from genesis (names the first broken entry;
  a missing position, a deleted sealed entry, a rewritten block head and a
  cut-off tail all break it: every block is also a checkpoint);
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
    Block,
    IdSet,
    blocks_after,
    chain_head,
    entries_by_id,
    entry_digest,
    link_prefix,
    postings_by_entry,
    seal_pending,
)
from ledger.tables import LedgerEntry

CHAIN_PAGE = 2000
BLOCK_PAGE = 100


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


@dataclass(slots=True)
class _ChainWalk:
    """Recomputes the chain block by block, from genesis.

    One broken link is the finding: after it the walk only counts entries
    (every later link depends on the broken one).
    """

    report: VerifyReport
    expect_head: tuple[int, str] | None
    previous: str = GENESIS
    next_seq: int = 1
    broken: bool = False
    head_confirmed: bool = False
    sealed: IdSet = field(default_factory=IdSet)

    def fault(self, detail: str, entry_id: int | None) -> None:
        self.report.faults.append(Fault("chain", detail, entry_id))
        self.broken = True

    def block(self, block: Block, rows: dict[int, dict[str, Any]], postings: dict[int, list[dict[str, Any]]]) -> None:
        self._check_place(block)
        for index, entry_id in enumerate(block.entry_ids):
            self._check_entry(block, index, rows.get(entry_id), postings.get(entry_id, []))
        if not self.broken and block.head != self.previous:
            last = block.entry_ids[-1] if block.entry_ids else None
            self.fault(f"the seal of the block ending at chain position {block.head_seq} was rewritten", last)
        self.next_seq = block.head_seq + 1

    def _check_place(self, block: Block) -> None:
        """The block is intact and starts where the previous one ended."""
        if self.broken:
            return
        first = block.entry_ids[0] if block.entry_ids else None
        if not block.well_formed:
            self.fault(f"the block ending at chain position {block.head_seq} was altered (its lists disagree)", first)
        elif block.first_seq > self.next_seq:
            self.fault(
                f"chain positions {self.next_seq} to {block.first_seq - 1} are missing (sealed entries were deleted)",
                first,
            )
        elif block.first_seq < self.next_seq:
            self.fault(f"chain positions from {block.first_seq} appear twice (a block was copied or altered)", first)

    def _check_entry(
        self, block: Block, index: int, row: dict[str, Any] | None, postings: list[dict[str, Any]]
    ) -> None:
        entry_id = block.entry_ids[index]
        if row is not None:
            self.report.entries_checked += 1
        if not self.sealed.add(entry_id) and not self.broken:
            self.fault(f"entry {entry_id} is sealed twice", entry_id)
        if self.broken:
            return
        if row is None:
            position = block.first_seq + index
            self.fault(
                f"entry {entry_id} at chain position {position} is missing (a sealed entry was deleted)", entry_id
            )
            return
        digest = entry_digest(row, postings, self.previous)
        if link_prefix(digest) != block.link_at(index):
            self.fault(f"entry {entry_id} does not match its seal: its content or a posting was changed", entry_id)
            return
        self.previous = digest
        if self.expect_head is not None and block.first_seq + index == self.expect_head[0]:
            self.head_confirmed = digest == self.expect_head[1]


async def _check_chain(
    report: VerifyReport, progress: Callable[[int], None] | None, expect_head: tuple[int, str] | None
) -> IdSet:
    """Walk the chain; returns the ids it names (to count what is unsealed)."""
    walk = _ChainWalk(report, expect_head)
    after = 0
    while blocks := await blocks_after(after, BLOCK_PAGE):
        after = blocks[-1].id
        group: list[Block] = []
        for block in blocks:
            group.append(block)
            if sum(len(b.entry_ids) for b in group) >= CHAIN_PAGE or block is blocks[-1]:
                ids = [entry_id for b in group for entry_id in b.entry_ids]
                rows = await entries_by_id(ids)
                postings = await postings_by_entry(list(rows))
                for each in group:
                    walk.block(each, rows, postings)
                if progress is not None:
                    progress(len(ids))
                group = []
    if expect_head is not None and not walk.head_confirmed:
        expected_seq, expected_hash = expect_head
        report.faults.append(
            Fault("chain_head", f"the recorded head {expected_seq}:{expected_hash[:12]}… is not in the chain")
        )
    return walk.sealed


async def _unsealed(sealed: IdSet) -> int:
    count = 0
    above = 0
    while ids := [
        int(i)
        for i in await LedgerEntry.select(LedgerEntry.id)
        .where(LedgerEntry.id > above)
        .order_by(LedgerEntry.id)
        .limit(CHAIN_PAGE * 5)
        .output(as_list=True)
        .run()
    ]:
        count += sum(1 for i in ids if i not in sealed)
        above = ids[-1]
    return count


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
        report.sealed_now = await seal_pending(everything=True)

    sealed = await _check_chain(report, progress, expect_head)
    report.unsealed = await _unsealed(sealed)
    report.head_seq, report.head_hash = await chain_head()

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
