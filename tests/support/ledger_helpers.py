"""Small building blocks for the ledger tests: a chart of accounts, funding,
whole-ledger snapshots ("nothing was written") and independent recomputation
of the invariants straight from the tables (never through ``ledger.verify``,
so a bug there cannot hide a bug elsewhere)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ledger import accounts, posting
from ledger.models import EntryRecord
from ledger.tables import LedgerAccount, LedgerEntry, LedgerHold, LedgerPosting

ISSUANCE = "org:1:issuance"
BUDGET = "campaign:1:budget"
BUDGET_2 = "campaign:2:budget"
WALLET = "volunteer:1:wallet"
WALLET_2 = "volunteer:2:wallet"
WALLET_3 = "volunteer:3:wallet"
SHOP = "shop:1:settlement"


async def open_chart() -> None:
    """The chart of ARCHITECTURE.md §2 for one organisation."""
    await accounts.open_account(ISSUANCE, account_type="equity", allow_negative=True, name_zh="发行")
    for code in (BUDGET, BUDGET_2):
        await accounts.open_account(code, account_type="asset")
    for code in (WALLET, WALLET_2, WALLET_3):
        await accounts.open_account(code, account_type="liability")
    await accounts.open_account(SHOP, account_type="liability")


async def fund(code: str, amount: str | Decimal, **kwargs: Any) -> EntryRecord:
    """Mint ``amount`` points from issuance straight into ``code``."""
    kwargs.setdefault("kind", "fund")
    kwargs.setdefault("reason_zh", "注资")
    return await posting.transfer(debit_code=ISSUANCE, credit_code=code, amount=amount, **kwargs)


async def spend(code: str, amount: str | Decimal, **kwargs: Any) -> EntryRecord:
    kwargs.setdefault("kind", "redeem")
    kwargs.setdefault("reason_zh", "兑换商品")
    return await posting.transfer(debit_code=code, credit_code=SHOP, amount=amount, **kwargs)


async def balance(code: str) -> Decimal:
    return (await accounts.get_balance(code)).balance


async def available(code: str) -> Decimal:
    return (await accounts.get_balance(code)).available


def in_hours(hours: float) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


async def count(table: Any) -> int:
    return int(await table.count().run())


@dataclass(frozen=True)
class LedgerSnapshot:
    """Everything a refused request must leave untouched."""

    accounts: tuple[tuple[str, int, int], ...]
    entries: tuple[tuple[int, str | None], ...]
    postings: tuple[tuple[int, int, int, int], ...]
    holds: tuple[tuple[int, str, int], ...]


async def snapshot() -> LedgerSnapshot:
    account_rows = (
        await LedgerAccount.select(LedgerAccount.code, LedgerAccount.balance_minor, LedgerAccount.held_minor)
        .order_by(LedgerAccount.id)
        .run()
    )
    entry_rows = await LedgerEntry.select(LedgerEntry.id, LedgerEntry.idempotency_key).order_by(LedgerEntry.id).run()
    posting_rows = (
        await LedgerPosting.select(
            LedgerPosting.id, LedgerPosting.entry, LedgerPosting.account, LedgerPosting.amount_minor
        )
        .order_by(LedgerPosting.id)
        .run()
    )
    hold_rows = (
        await LedgerHold.select(LedgerHold.id, LedgerHold.status, LedgerHold.amount_minor).order_by(LedgerHold.id).run()
    )
    return LedgerSnapshot(
        accounts=tuple((r["code"], r["balance_minor"], r["held_minor"]) for r in account_rows),
        entries=tuple((r["id"], r["idempotency_key"]) for r in entry_rows),
        postings=tuple((r["id"], r["entry"], r["account"], r["amount_minor"]) for r in posting_rows),
        holds=tuple((r["id"], r["status"], r["amount_minor"]) for r in hold_rows),
    )


@dataclass
class RecomputedLedger:
    balance: dict[str, int]  # materialised balance_minor per code
    held: dict[str, int]  # materialised held_minor per code
    allow_negative: dict[str, bool]
    posted: dict[str, int]  # sum of postings per code
    active_holds: dict[str, int]  # sum of active holds per code
    entry_sums: dict[int, int]
    entry_legs: dict[int, int]


async def recompute() -> RecomputedLedger:
    """Read the raw tables and recompute every per-account and per-entry total.

    The four reads run concurrently (each on its own connection): callers use
    this between operations, when nothing else is writing.
    """
    account_rows, posting_rows, hold_rows, entry_rows = await asyncio.gather(
        LedgerAccount.select(
            LedgerAccount.id,
            LedgerAccount.code,
            LedgerAccount.allow_negative,
            LedgerAccount.balance_minor,
            LedgerAccount.held_minor,
        ).run(),
        LedgerPosting.select(LedgerPosting.entry, LedgerPosting.account, LedgerPosting.amount_minor).run(),
        LedgerHold.select(LedgerHold.account, LedgerHold.amount_minor).where(LedgerHold.status == "active").run(),
        LedgerEntry.select(LedgerEntry.id).run(),
    )
    entry_ids = [r["id"] for r in entry_rows]
    code_of = {r["id"]: r["code"] for r in account_rows}
    posted: dict[str, int] = defaultdict(int)
    entry_sums: dict[int, int] = dict.fromkeys(entry_ids, 0)
    entry_legs: dict[int, int] = dict.fromkeys(entry_ids, 0)
    for r in posting_rows:
        posted[code_of[r["account"]]] += r["amount_minor"]
        entry_sums[r["entry"]] += r["amount_minor"]
        entry_legs[r["entry"]] += 1
    active: dict[str, int] = defaultdict(int)
    for r in hold_rows:
        active[code_of[r["account"]]] += r["amount_minor"]
    return RecomputedLedger(
        balance={r["code"]: r["balance_minor"] for r in account_rows},
        held={r["code"]: r["held_minor"] for r in account_rows},
        allow_negative={r["code"]: bool(r["allow_negative"]) for r in account_rows},
        posted={code: posted.get(code, 0) for code in code_of.values()},
        active_holds={code: active.get(code, 0) for code in code_of.values()},
        entry_sums=entry_sums,
        entry_legs=entry_legs,
    )


def assert_invariants(ledger: RecomputedLedger) -> None:
    """ARCHITECTURE.md §3 invariants 1, 2 and 4, from the raw tables."""
    unbalanced = {e: s for e, s in ledger.entry_sums.items() if s != 0}
    assert not unbalanced, f"entries not summing to zero: {unbalanced}"
    short = {e: n for e, n in ledger.entry_legs.items() if n < 2}
    assert not short, f"entries with fewer than two postings: {short}"
    assert sum(ledger.balance.values()) == 0, f"balances sum to {sum(ledger.balance.values())}"
    for code, balance_minor in ledger.balance.items():
        posted, held, active = ledger.posted[code], ledger.held[code], ledger.active_holds[code]
        assert balance_minor == posted, f"{code}: materialised {balance_minor} != postings {posted}"
        assert held == active, f"{code}: held {held} != active holds {active}"
        assert ledger.held[code] >= 0, f"{code}: negative held {ledger.held[code]}"
        if not ledger.allow_negative[code]:
            assert balance_minor - held >= 0, f"no-negative {code} below zero: {balance_minor} - {held}"


async def check_invariants() -> RecomputedLedger:
    ledger = await recompute()
    assert_invariants(ledger)
    return ledger


async def raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run SQL behind the services' back (``{}`` placeholders)."""
    return list(await LedgerAccount.raw(sql, *args).run())
