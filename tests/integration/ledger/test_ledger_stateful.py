"""Random sequences of ledger operations against a Python model.

Hypothesis drives fund / award / spend / hold / post / void / reverse /
expire / retry in any order. Every call is checked against the model: a
success must move exactly what the model predicts, a refusal
(InsufficientFunds, HoldNotActive, ReversalRefused) must be one the model
justifies. After every step the invariants of ARCHITECTURE.md §3 (1, 2, 4)
are recomputed from the raw tables and the model is compared with the
database.

The machine is synchronous and owns its event loop (hypothesis runs it
outside pytest-asyncio); each example starts from empty tables.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from core.database import pooled_connections
from ledger import accounts, holds, posting, reversal
from ledger.amounts import from_minor
from ledger.errors import HoldNotActive, InsufficientFunds, ReversalRefused
from ledger.models import EntryRecord
from ledger.tables import LedgerEntry, LedgerHold
from tests.support.database import truncate_all
from tests.support.ledger_helpers import (
    BUDGET,
    BUDGET_2,
    ISSUANCE,
    SHOP,
    WALLET,
    WALLET_2,
    WALLET_3,
    assert_invariants,
    open_chart,
    recompute,
)

T = TypeVar("T")

BUDGETS = (BUDGET, BUDGET_2)
WALLETS = (WALLET, WALLET_2, WALLET_3)
ALL = (ISSUANCE, *BUDGETS, *WALLETS, SHOP)
ALLOW_NEGATIVE = {ISSUANCE}

amounts = st.integers(min_value=1, max_value=20_000)  # hundredths: 0.01 .. 200.00


@dataclass
class ModelHold:
    account: str
    amount: int
    expires_in_hours: int
    status: str = "active"


@dataclass
class ModelEntry:
    legs: dict[str, int]
    is_reversal: bool = False
    reversed: bool = False


@dataclass
class KeyedAward:
    key: str
    budget: str
    wallet: str
    amount: int
    entry_id: int


@dataclass
class Model:
    balance: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ALL, 0))
    holds: dict[int, ModelHold] = field(default_factory=dict)
    entries: dict[int, ModelEntry] = field(default_factory=dict)

    def held(self, code: str) -> int:
        return sum(h.amount for h in self.holds.values() if h.account == code and h.status == "active")

    def available(self, code: str) -> int:
        return self.balance[code] - self.held(code)

    def can_debit(self, legs: dict[str, int]) -> bool:
        """Would posting ``legs`` keep every debited no-negative account's available >= 0?"""
        return all(
            code in ALLOW_NEGATIVE or amount >= 0 or self.available(code) + amount >= 0 for code, amount in legs.items()
        )

    def apply(self, entry_id: int, legs: dict[str, int], *, is_reversal: bool = False) -> None:
        assert entry_id not in self.entries, f"entry id {entry_id} reused"
        for code, amount in legs.items():
            self.balance[code] += amount
        self.entries[entry_id] = ModelEntry(legs=dict(legs), is_reversal=is_reversal)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        # On PostgreSQL the machine's queries share a pool on its loop, as
        # a server's do (sized for the widest gather below).
        self.resources = contextlib.AsyncExitStack()
        self.run(self.resources.enter_async_context(pooled_connections(max_size=12)))
        try:
            self.run(truncate_all())
            self.run(open_chart())
        except BaseException:
            self.teardown()  # hypothesis calls teardown only for a machine it finished building
            raise
        self.model = Model()
        self.keyed: list[KeyedAward] = []
        self.counter = 0
        # Accounts the last step moved; their read-API view is checked after it.
        self.touched: set[str] = set()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.resources.aclose())
        self.loop.close()

    def check_entry(self, entry: EntryRecord, legs: dict[str, int]) -> None:
        """The returned entry moved exactly ``legs`` and reports the model's balance_after."""
        assert {p.account_code: p.amount for p in entry.postings} == {c: from_minor(a) for c, a in legs.items()}
        for p in entry.postings:
            assert p.balance_after == from_minor(self.model.balance[p.account_code])

    def transfer(self, debit: str, credit: str, amount: int, kind: str, key: str | None = None) -> EntryRecord | None:
        legs = {debit: -amount, credit: amount}
        expected_ok = self.model.can_debit(legs)
        try:
            entry = self.run(
                posting.transfer(
                    debit_code=debit,
                    credit_code=credit,
                    amount=from_minor(amount),
                    kind=kind,
                    reason_zh=f"{kind} 测试",
                    idempotency_key=key,
                )
            )
        except InsufficientFunds as refused:
            event(f"{kind}: refused")
            refused_account = refused.account_code
            assert not expected_ok, f"refused but model has {self.model.available(debit)} available"
            assert refused_account == debit
            return None
        event(f"{kind}: ok")
        assert expected_ok, f"{debit} overdrawn: available {self.model.available(debit)}, spent {amount}"
        assert not entry.replayed
        self.model.apply(entry.id, legs)
        self.check_entry(entry, legs)
        self.touched |= set(legs)
        return entry

    # --- rules -----------------------------------------------------------------

    @initialize(
        budgets=st.lists(st.integers(min_value=0, max_value=50_000), min_size=2, max_size=2),
        wallets=st.lists(st.integers(min_value=0, max_value=10_000), min_size=3, max_size=3),
    )
    def opening_balances(self, budgets: list[int], wallets: list[int]) -> None:
        """Start most runs with money in play, so holds, spends and reversals have something to act on."""
        for budget, amount in zip(BUDGETS, budgets, strict=True):
            if amount:
                assert self.transfer(ISSUANCE, budget, amount, "fund") is not None
        for wallet, amount in zip(WALLETS, wallets, strict=True):
            if amount:
                assert self.transfer(ISSUANCE, wallet, amount, "award") is not None

    @rule(budget=st.sampled_from(BUDGETS), amount=st.integers(min_value=1, max_value=100_000))
    def fund(self, budget: str, amount: int) -> None:
        assert self.transfer(ISSUANCE, budget, amount, "fund") is not None

    @rule(budget=st.sampled_from(BUDGETS), wallet=st.sampled_from(WALLETS), amount=amounts, keyed=st.booleans())
    def award(self, budget: str, wallet: str, amount: int, keyed: bool) -> None:
        self.counter += 1
        key = f"award:{self.counter}" if keyed else None
        entry = self.transfer(budget, wallet, amount, "award", key)
        if entry is not None and key is not None:
            self.keyed.append(KeyedAward(key, budget, wallet, amount, entry.id))

    @rule(data=st.data())
    def retry_award(self, data: st.DataObject) -> None:
        """A retried keyed award replays the original whatever happened since; points move once."""
        if not self.keyed:
            return
        award = data.draw(st.sampled_from(self.keyed))
        entry = self.run(
            posting.transfer(
                debit_code=award.budget,
                credit_code=award.wallet,
                amount=from_minor(award.amount),
                kind="award",
                reason_zh="award 测试",
                idempotency_key=award.key,
            )
        )
        assert entry.replayed and entry.id == award.entry_id

    @rule(wallet=st.sampled_from(WALLETS), amount=amounts)
    def spend(self, wallet: str, amount: int) -> None:
        self.transfer(wallet, SHOP, amount, "redeem")

    @rule(wallet=st.sampled_from(WALLETS), amount=amounts, hours=st.integers(min_value=1, max_value=3))
    def hold(self, wallet: str, amount: int, hours: int) -> None:
        expected_ok = self.model.available(wallet) >= amount
        try:
            record = self.run(
                holds.create_hold(
                    account_code=wallet,
                    amount=from_minor(amount),
                    reason_zh="兑换预留",
                    expires_at=datetime.now(UTC) + timedelta(hours=hours),
                )
            )
        except InsufficientFunds:
            event("hold: refused")
            assert not expected_ok, f"hold refused with {self.model.available(wallet)} available"
            return
        event("hold: ok")
        assert expected_ok, f"hold of {amount} granted with {self.model.available(wallet)} available"
        assert record.status == "active" and record.amount == from_minor(amount)
        self.model.holds[record.id] = ModelHold(wallet, amount, hours)
        self.touched.add(wallet)

    @rule(data=st.data(), full=st.booleans())
    def post_hold(self, data: st.DataObject, full: bool) -> None:
        if not self.model.holds:
            return
        hold_id = data.draw(st.sampled_from(sorted(self.model.holds)))
        hold = self.model.holds[hold_id]
        amount = hold.amount if full else data.draw(st.integers(min_value=1, max_value=hold.amount))
        try:
            record, entry = self.run(
                holds.post_hold(
                    hold_id,
                    destination_code=SHOP,
                    kind="redeem",
                    reason_zh="兑换商品",
                    amount=None if full else from_minor(amount),
                )
            )
        except HoldNotActive:
            event(f"post_hold: refused ({hold.status})")
            assert hold.status != "active", "an active hold was refused"
            return
        event("post_hold: ok")
        assert hold.status == "active", f"a {hold.status} hold was posted"
        hold.status = "posted"
        legs = {hold.account: -amount, SHOP: amount}
        self.model.apply(entry.id, legs)
        self.check_entry(entry, legs)
        self.touched |= set(legs)
        assert record.status == "posted" and record.posted_amount == from_minor(amount)

    @rule(data=st.data())
    def void_hold(self, data: st.DataObject) -> None:
        if not self.model.holds:
            return
        hold_id = data.draw(st.sampled_from(sorted(self.model.holds)))
        hold = self.model.holds[hold_id]
        try:
            record = self.run(holds.void_hold(hold_id))
        except HoldNotActive:
            event(f"void_hold: refused ({hold.status})")
            assert hold.status in {"posted", "expired"}, f"void of a {hold.status} hold refused"
            return
        event(f"void_hold: ok ({hold.status})")
        assert hold.status in {"active", "voided"}, f"a {hold.status} hold was voided"
        assert record.replayed == (hold.status == "voided")
        hold.status = "voided"
        self.touched.add(hold.account)

    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        if not self.model.entries:
            return
        entry_id = data.draw(st.sampled_from(sorted(self.model.entries)))
        original = self.model.entries[entry_id]
        mirror = {code: -amount for code, amount in original.legs.items()}
        try:
            undo = self.run(reversal.reverse_entry(entry_id, reason_zh="冲正"))
        except ReversalRefused:
            event("reverse: ReversalRefused")
            assert original.is_reversal or original.reversed, "a reversible entry was refused"
            return
        except InsufficientFunds:
            event("reverse: InsufficientFunds")
            assert not (original.is_reversal or original.reversed), "ReversalRefused expected first"
            assert not self.model.can_debit(mirror), "reversal refused though every account could pay"
            return
        event("reverse: ok")
        assert not original.is_reversal, "a reversal was reversed"
        assert not original.reversed, "an entry was reversed twice"
        assert self.model.can_debit(mirror), "reversal overdrew an account"
        assert undo.reverses_id == entry_id
        original.reversed = True
        self.model.apply(undo.id, mirror, is_reversal=True)
        self.check_entry(undo, mirror)
        self.touched |= set(mirror)

    @rule(hours=st.integers(min_value=0, max_value=4))
    def expire(self, hours: int) -> None:
        """expire_holds(now = now + hours): every active hold with a shorter lifetime expires, and only those."""
        due = [h for h in self.model.holds.values() if h.status == "active" and h.expires_in_hours <= hours]
        expired = self.run(holds.expire_holds(now=datetime.now(UTC) + timedelta(hours=hours)))
        event(f"expire: {'some' if due else 'none'}")
        assert expired == len(due)
        for h in due:
            h.status = "expired"
            self.touched.add(h.account)

    # --- invariants --------------------------------------------------------------

    @invariant()
    def ledger_matches_model_and_invariants_hold(self) -> None:
        async def read_everything() -> tuple[Any, ...]:
            # Nothing else is writing between steps: the reads may run side by side.
            return tuple(
                await asyncio.gather(
                    recompute(),
                    LedgerHold.select(LedgerHold.id, LedgerHold.status, LedgerHold.amount_minor).run(),
                    LedgerEntry.select(LedgerEntry.reverses).where(LedgerEntry.reverses.is_not_null()).run(),
                    *(accounts.get_balance(code) for code in sorted(self.touched)),
                )
            )

        ledger, hold_rows, reversal_rows, *views = self.run(read_everything())
        # Invariants 1, 2, 4 from the raw tables.
        assert_invariants(ledger)
        # The database agrees with the model.
        assert ledger.balance == self.model.balance
        assert ledger.held == {code: self.model.held(code) for code in ALL}
        assert set(ledger.entry_sums) == set(self.model.entries)
        assert {r["id"]: (r["status"], r["amount_minor"]) for r in hold_rows} == {
            hold_id: (h.status, h.amount) for hold_id, h in self.model.holds.items()
        }
        assert {r["reverses"] for r in reversal_rows} == {i for i, e in self.model.entries.items() if e.reversed}
        # The read API on what just moved: available = balance - held, never negative where forbidden.
        self.touched.clear()
        for view in views:
            assert view.available == view.balance - view.held
            assert view.balance == from_minor(self.model.balance[view.code])
            assert view.held == from_minor(self.model.held(view.code))
            if view.code not in ALLOW_NEGATIVE:
                assert view.available >= Decimal("0.00")


LedgerMachine.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLedgerStateful = pytest.mark.slow(LedgerMachine.TestCase)
