"""Invariants 2 and 3 under real concurrency.

Every coroutine below runs its own database transaction on its own
connection (the test engine has no pool): PostgreSQL serialises them with
row locks taken in ascending account-id order, SQLite with BEGIN IMMEDIATE
and the busy timeout. Whatever the interleaving, callers only ever see a
result or a domain refusal: never a deadlock, serialization failure, "database
is locked" or LedgerBusy.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any

import pytest

from ledger import holds, reversal
from ledger.errors import HoldNotActive, InsufficientFunds, ReversalRefused
from ledger.models import EntryRecord, HoldRecord
from ledger.tables import LedgerEntry, LedgerHold, LedgerPosting
from ledger.verify import verify_ledger
from tests.support.ledger_helpers import (
    SHOP,
    WALLET,
    WALLET_2,
    balance,
    check_invariants,
    count,
    fund,
    in_hours,
    open_chart,
    spend,
)


@pytest.fixture(autouse=True)
async def chart() -> None:
    await open_chart()


def split(results: list[Any], *expected: type) -> tuple[dict[type, list[Any]], list[BaseException]]:
    """Group gather() results by type; anything unexpected is returned separately."""
    grouped: dict[type, list[Any]] = {kind: [] for kind in expected}
    unexpected: list[BaseException] = []
    for result in results:
        for kind in expected:
            if isinstance(result, kind):
                grouped[kind].append(result)
                break
        else:
            unexpected.append(result)
    return grouped, unexpected


async def assert_ledger_ok() -> None:
    await check_invariants()
    report = await verify_ledger()
    assert report.ok, report.faults


async def test_concurrent_spends_never_overdraw() -> None:
    """50 concurrent spends of 10 from 100: exactly 10 succeed, 40 InsufficientFunds,
    nothing else leaks, final balance 0.00."""
    await fund(WALLET, "100")
    results = await asyncio.gather(*(spend(WALLET, "10") for _ in range(50)), return_exceptions=True)
    grouped, unexpected = split(results, EntryRecord, InsufficientFunds)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    assert len(grouped[EntryRecord]) == 10
    assert len(grouped[InsufficientFunds]) == 40
    # Each success saw the balance its predecessor left (no lost update).
    after = sorted(p.balance_after for e in grouped[EntryRecord] for p in e.postings if p.account_code == WALLET)
    assert after == [Decimal(n) for n in range(0, 100, 10)]
    assert await balance(WALLET) == Decimal("0.00")
    assert await balance(SHOP) == Decimal("100.00")
    assert await count(LedgerEntry) == 11
    await assert_ledger_ok()


async def test_concurrent_replays_of_one_key_have_one_effect() -> None:
    """20 concurrent requests with one idempotency key: one entry in the table, all 20 results carry its id."""
    await fund(WALLET, "100")
    results = await asyncio.gather(
        *(spend(WALLET, "30", idempotency_key="order:7:pay") for _ in range(20)), return_exceptions=True
    )
    grouped, unexpected = split(results, EntryRecord)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    ids = {entry.id for entry in grouped[EntryRecord]}
    assert len(grouped[EntryRecord]) == 20 and len(ids) == 1
    assert Counter(entry.replayed for entry in grouped[EntryRecord]) == {False: 1, True: 19}
    assert int(await LedgerEntry.count().where(LedgerEntry.idempotency_key == "order:7:pay").run()) == 1
    assert await count(LedgerEntry) == 2
    assert await balance(WALLET) == Decimal("70.00")
    await assert_ledger_ok()


async def test_opposite_transfers_do_not_deadlock() -> None:
    """40 interleaved A->B and B->A transfers: all succeed, no deadlock leaks, totals conserved."""
    await fund(WALLET, "1000")
    await fund(WALLET_2, "1000")

    def move(debit: str, credit: str) -> Any:
        from ledger import posting

        return posting.transfer(debit_code=debit, credit_code=credit, amount="7", kind="gift", reason_zh="转赠")

    tasks = [move(WALLET, WALLET_2) if i % 2 == 0 else move(WALLET_2, WALLET) for i in range(40)]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    grouped, unexpected = split(results, EntryRecord)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    assert len(grouped[EntryRecord]) == 40
    assert await balance(WALLET) == Decimal("1000.00")
    assert await balance(WALLET_2) == Decimal("1000.00")
    assert await count(LedgerPosting) == 2 * 42
    await assert_ledger_ok()


async def test_concurrent_posts_of_one_hold_post_once() -> None:
    """20 concurrent post_hold calls on one hold: exactly one posting entry, 19 HoldNotActive."""
    await fund(WALLET, "100")
    hold = await holds.create_hold(account_code=WALLET, amount="40", reason_zh="兑换预留", expires_at=in_hours(1))
    results = await asyncio.gather(
        *(holds.post_hold(hold.id, destination_code=SHOP, kind="redeem", reason_zh="兑换商品") for _ in range(20)),
        return_exceptions=True,
    )
    grouped, unexpected = split(results, tuple, HoldNotActive)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    assert len(grouped[tuple]) == 1 and len(grouped[HoldNotActive]) == 19
    ((posted_hold, entry),) = grouped[tuple]
    assert posted_hold.posted_entry_id == entry.id
    assert await count(LedgerEntry) == 2
    assert await balance(WALLET) == Decimal("60.00")
    assert await balance(SHOP) == Decimal("40.00")
    assert (await holds.get_hold(hold.id)).status == "posted"
    await assert_ledger_ok()


async def test_holds_and_spends_compete_for_the_same_points() -> None:
    """15 holds and 15 spends of 10 against 100 available: exactly 10 succeed in total; available never negative."""
    await fund(WALLET, "100")
    calls: list[Coroutine[Any, Any, HoldRecord | EntryRecord]] = []
    for i in range(30):
        if i % 2:
            calls.append(holds.create_hold(account_code=WALLET, amount="10", reason_zh="预留", expires_at=in_hours(1)))
        else:
            calls.append(spend(WALLET, "10"))
    results = await asyncio.gather(*calls, return_exceptions=True)
    grouped, unexpected = split(results, EntryRecord, HoldRecord, InsufficientFunds)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    spent, held = len(grouped[EntryRecord]), len(grouped[HoldRecord])
    assert spent + held == 10 and len(grouped[InsufficientFunds]) == 20
    assert await balance(WALLET) == Decimal(100 - 10 * spent)
    assert int(await LedgerHold.count().where(LedgerHold.status == "active").run()) == held
    await assert_ledger_ok()


async def test_concurrent_reversals_of_one_entry_reverse_once() -> None:
    """10 concurrent reversals of one entry: one succeeds, 9 ReversalRefused, the wallet is debited once."""
    award = await fund(WALLET, "50")
    await fund(WALLET, "50")
    results = await asyncio.gather(
        *(reversal.reverse_entry(award.id, reason_zh="冲正") for _ in range(10)), return_exceptions=True
    )
    grouped, unexpected = split(results, EntryRecord, ReversalRefused)
    assert unexpected == [], f"leaked: {[repr(e) for e in unexpected]}"
    assert len(grouped[EntryRecord]) == 1 and len(grouped[ReversalRefused]) == 9
    assert await balance(WALLET) == Decimal("50.00")
    await assert_ledger_ok()
