"""A failure half-way through a ledger write leaves no trace (invariant 4:
balances move in the same transaction as the postings that justify them).

The failure is injected *after* the postings were written inside the
transaction (the injected function first checks it can see them) and
*before* the balances are stored. Then a database backstop: the CHECK
constraints (triggers on SQLite) refuse a negative no-negative account even
when the service is bypassed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest

import ledger.holds
import ledger.posting
from core.database import is_check_violation
from core.fixed_sql import Script, fixed_sql
from ledger import holds, reversal
from ledger.models import HoldRecord
from ledger.tables import LedgerAccount, LedgerHold
from ledger.verify import verify_ledger
from tests.support.ledger_helpers import (
    ISSUANCE,
    SHOP,
    WALLET,
    balance,
    check_invariants,
    fund,
    in_hours,
    open_chart,
    raw,
    snapshot,
    spend,
)


class InjectedFailure(RuntimeError):
    pass


@pytest.fixture(autouse=True)
async def chart() -> None:
    await open_chart()


COUNT_ENTRIES = fixed_sql("SELECT count(*) AS n FROM ledger_entry")
COUNT_POSTINGS = fixed_sql("SELECT count(*) AS n FROM ledger_posting")
COUNT_HOLDS = fixed_sql("SELECT count(*) AS n FROM ledger_hold")


def failing_store_balances(calls: list[dict[str, int]]) -> Callable[[Sequence[Any]], Script[None]]:
    """A store_balances step that records what the open transaction can
    already see, then fails. (The ledger's writes are scripts of statements,
    ``core.fixed_sql``; this one runs in the same transaction, where the
    uncommitted entry and postings are visible.)"""

    def fail(accounts: Sequence[Any]) -> Script[None]:
        entries = yield COUNT_ENTRIES()
        postings = yield COUNT_POSTINGS()
        calls.append({"entries": int(entries[0]["n"]), "postings": int(postings[0]["n"]), "accounts": len(accounts)})
        raise InjectedFailure("database went away between postings and balances")

    return fail


async def test_failure_between_postings_and_balances_leaves_no_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    """post_entry: postings written, balances not, transaction failed.

    -> no entry, no postings, balances unchanged; the key is still usable.
    """
    await fund(WALLET, "50")
    before = await snapshot()
    calls: list[dict[str, int]] = []
    monkeypatch.setattr(ledger.posting, "store_balances", failing_store_balances(calls))
    with pytest.raises(InjectedFailure):
        await spend(WALLET, "20", idempotency_key="order:1")
    # The failure really happened mid-write, once (not retried as "transient").
    assert calls == [{"entries": len(before.entries) + 1, "postings": len(before.postings) + 2, "accounts": 2}]
    assert await snapshot() == before
    monkeypatch.undo()
    # The key was not burnt and no lock was left behind: the retry posts normally.
    entry = await spend(WALLET, "20", idempotency_key="order:1")
    assert entry.replayed is False
    assert await balance(WALLET) == Decimal("30.00")
    await check_invariants()
    assert (await verify_ledger()).ok


async def test_failure_while_posting_a_hold_leaves_the_hold_active(monkeypatch: pytest.MonkeyPatch) -> None:
    """post_hold: failure after the postings -> no entry, hold still active, held and balances unchanged."""
    await fund(WALLET, "50")
    hold = await holds.create_hold(account_code=WALLET, amount="30", reason_zh="兑换预留", expires_at=in_hours(1))
    before = await snapshot()
    calls: list[dict[str, int]] = []
    monkeypatch.setattr(ledger.posting, "store_balances", failing_store_balances(calls))
    with pytest.raises(InjectedFailure):
        await holds.post_hold(hold.id, destination_code=SHOP, kind="redeem", reason_zh="兑换", amount="10")
    assert len(calls) == 1 and calls[0]["postings"] == len(before.postings) + 2
    assert await snapshot() == before
    assert (await holds.get_hold(hold.id)).status == "active"
    monkeypatch.undo()
    posted, _ = await holds.post_hold(hold.id, destination_code=SHOP, kind="redeem", reason_zh="兑换", amount="10")
    assert posted.status == "posted"
    await check_invariants()


async def test_failure_after_the_hold_status_changed_rolls_back_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """post_hold: a failure at the very end (entry, balances and hold status all written) -> all rolled back."""
    await fund(WALLET, "50")
    hold = await holds.create_hold(account_code=WALLET, amount="30", reason_zh="兑换预留", expires_at=in_hours(1))
    before = await snapshot()
    real_record = HoldRecord.from_row
    seen: list[str] = []

    def record_then_fail(row: Any, account_code: str, **kwargs: Any) -> Any:
        # The hold's record is built from its row as stored: the last step
        # of post_hold, after the entry, the balances and the status.
        if row["status"] == "posted":
            seen.append(row["status"])
            raise InjectedFailure("crash after the hold was marked posted")
        return real_record(row, account_code, **kwargs)

    monkeypatch.setattr(HoldRecord, "from_row", record_then_fail)
    with pytest.raises(InjectedFailure):
        await holds.post_hold(hold.id, destination_code=SHOP, kind="redeem", reason_zh="兑换")
    assert seen == ["posted"]
    assert await snapshot() == before
    rows = await LedgerHold.select(LedgerHold.status, LedgerHold.posted_entry).where(LedgerHold.id == hold.id).run()
    assert rows == [{"status": "active", "posted_entry": None}]


async def test_failure_while_reversing_leaves_the_entry_reversible(monkeypatch: pytest.MonkeyPatch) -> None:
    """reverse_entry: failure after the mirror postings -> no reversal row, balances
    unchanged, and the entry can still be reversed once."""
    award = await fund(WALLET, "40")
    before = await snapshot()
    calls: list[dict[str, int]] = []
    monkeypatch.setattr(ledger.posting, "store_balances", failing_store_balances(calls))
    with pytest.raises(InjectedFailure):
        await reversal.reverse_entry(award.id, reason_zh="误发，冲正")
    assert len(calls) == 1
    assert await snapshot() == before
    assert await reversal.find_reversal(award.id) is None
    monkeypatch.undo()
    undo = await reversal.reverse_entry(award.id, reason_zh="误发，冲正")
    assert undo.reverses_id == award.id
    assert await balance(WALLET) == Decimal("0.00")
    await check_invariants()


async def test_failure_while_creating_a_hold_leaves_no_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """create_hold: failure after the hold row was inserted -> no hold, held unchanged."""
    await fund(WALLET, "50")
    before = await snapshot()
    holds_seen: list[int] = []

    def fail(accounts: Sequence[Any]) -> Script[None]:
        held = yield COUNT_HOLDS()
        holds_seen.append(int(held[0]["n"]))
        raise InjectedFailure("crash before held_minor was stored")

    monkeypatch.setattr(ledger.holds, "store_balances", fail)
    with pytest.raises(InjectedFailure):
        await holds.create_hold(account_code=WALLET, amount="30", reason_zh="兑换预留", expires_at=in_hours(1))
    assert holds_seen == [1]
    assert await snapshot() == before


async def test_failure_while_voiding_leaves_the_hold_active(monkeypatch: pytest.MonkeyPatch) -> None:
    """void_hold: failure before held is released -> hold still active, held unchanged."""
    await fund(WALLET, "50")
    hold = await holds.create_hold(account_code=WALLET, amount="30", reason_zh="兑换预留", expires_at=in_hours(1))
    before = await snapshot()

    def fail(accounts: Sequence[Any]) -> Script[None]:
        raise InjectedFailure("crash while releasing")
        yield  # a step, like the real one (never reached)

    monkeypatch.setattr(ledger.holds, "store_balances", fail)
    with pytest.raises(InjectedFailure):
        await holds.void_hold(hold.id)
    assert await snapshot() == before
    await check_invariants()


# --- database backstop ----------------------------------------------------------


async def assert_refused_by_database(sql: str, constraint: str) -> None:
    before = await snapshot()
    with pytest.raises(Exception, match=constraint) as caught:
        await raw(sql)
    assert is_check_violation(caught.value), repr(caught.value)
    assert await snapshot() == before


async def test_database_refuses_negative_balance_on_no_negative_account() -> None:
    """Bypassing the service, UPDATE balance_minor = -1 on a wallet is refused by the database itself."""
    await fund(WALLET, "5")
    await assert_refused_by_database(
        f"UPDATE ledger_account SET balance_minor = -1 WHERE code = '{WALLET}'",
        "ledger_account_no_negative_available",
    )
    assert await balance(WALLET) == Decimal("5.00")


async def test_database_refuses_held_above_balance_on_no_negative_account() -> None:
    """balance - held < 0 is refused too (the rule is on *available*, not only balance)."""
    await fund(WALLET, "5")
    await assert_refused_by_database(
        f"UPDATE ledger_account SET held_minor = 501 WHERE code = '{WALLET}'",
        "ledger_account_no_negative_available",
    )
    await assert_refused_by_database(
        f"UPDATE ledger_account SET held_minor = -1 WHERE code = '{ISSUANCE}'",
        "ledger_account_held_not_negative",
    )


async def test_database_refuses_zero_postings_and_non_positive_holds() -> None:
    """A zero posting and a zero-amount hold are refused by the database."""
    entry = await fund(WALLET, "5")
    await assert_refused_by_database(
        f"UPDATE ledger_posting SET amount_minor = 0 WHERE entry = {entry.id}", "ledger_posting_nonzero"
    )
    hold = await holds.create_hold(account_code=WALLET, amount="1", reason_zh="预留", expires_at=in_hours(1))
    await assert_refused_by_database(
        f"UPDATE ledger_hold SET amount_minor = 0 WHERE id = {hold.id}", "ledger_hold_positive"
    )


async def test_database_backstop_is_specific_to_no_negative_accounts() -> None:
    """Control: the same raw UPDATE on the allow_negative issuance account is accepted
    (the check is not a blanket ban)."""
    await fund(WALLET, "5")
    await raw(f"UPDATE ledger_account SET balance_minor = -1 WHERE code = '{ISSUANCE}'")
    rows = await LedgerAccount.select(LedgerAccount.balance_minor).where(LedgerAccount.code == ISSUANCE).run()
    assert rows == [{"balance_minor": -1}]
