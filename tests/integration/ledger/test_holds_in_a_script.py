"""Holds taken and captured inside a caller's script (``ledger.holds.hold_steps``
and ``capture_steps``): what the redemption path composes into its own
transaction (``marketplace.orders``). The same rules as ``create_hold`` and
``post_hold``; a refusal writes nothing and leaves the caller's transaction
usable."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from core.clock import utc_now
from core.fixed_sql import Dialect, Script, write
from ledger import accounts, holds, posting, sql
from ledger.errors import HoldNotActive, InsufficientFunds
from tests.support.ledger_helpers import SHOP, WALLET, balance, check_invariants, fund, in_hours, open_chart, snapshot


@pytest.fixture(autouse=True)
async def chart() -> None:
    await open_chart()


def take(amount: str) -> Script[int]:
    return holds.hold_steps(
        account_code=WALLET,
        amount=Decimal(amount),
        reason_zh="兑换预留",
        reason_en="Reserved",
        expires_at=in_hours(1),
        actor_ref="member:1",
        cause_ref="order:7",
        metadata={"order_id": 7},
        now=utc_now(),
    )


def capture(hold_id: int) -> Script[tuple[int, datetime]]:
    return holds.capture_steps(
        hold_id,
        destination_code=SHOP,
        kind="redemption",
        reason_zh="兑换商品",
        reason_en="Redeemed",
        actor_ref="member:2",
        metadata={"order_id": 7},
        idempotency_key="order:7:fulfil",
    )


async def wallet_state() -> tuple[Decimal, Decimal]:
    found = await accounts.get_balance(WALLET)
    return found.balance, found.held


async def test_a_hold_taken_in_a_script_reserves_and_answers_its_id() -> None:
    """The hold is active on the wallet for the amount, with the caller's
    cause; the wallet's held total grows, its balance does not."""
    await fund(WALLET, "50")

    hold_id = await write(lambda _: take("20"))

    hold = await holds.get_hold(hold_id)
    assert (hold.status, hold.amount, hold.account_code, hold.cause_ref) == (
        "active",
        Decimal("20.00"),
        WALLET,
        "order:7",
    )
    assert await wallet_state() == (Decimal("50.00"), Decimal("20.00"))
    await check_invariants()


async def test_a_refused_hold_writes_nothing_and_the_callers_transaction_goes_on() -> None:
    """More than is available: InsufficientFunds before any write, and no SQL
    error, so the caller can catch it and send another statement in the
    same transaction (the redemption path looks its key up again)."""
    await fund(WALLET, "10")
    before = await snapshot()

    def caller(_: Dialect) -> Script[str]:
        try:
            yield from take("10.01")
        except InsufficientFunds:
            rows = yield sql.HOLD_UNDER_KEY("order:7:hold")
            return f"refused, then {len(rows)} rows"
        return "held"

    assert await write(caller) == "refused, then 0 rows"
    assert await snapshot() == before


async def test_a_capture_posts_the_whole_hold_in_one_entry() -> None:
    """Wallet −30 (balance and held), shop +30, one entry with the hold's
    cause and the caller's metadata, the hold posted to it; the answer is the
    entry's id and time as stored."""
    await fund(WALLET, "50")
    hold_id = await write(lambda _: take("30"))

    entry_id, at = await write(lambda _: capture(hold_id))

    entry = await posting.load_entry(entry_id)
    assert entry.created_at == at and entry.cause_ref == "order:7" and entry.kind == "redemption"
    assert entry.metadata == {"order_id": 7, "hold_id": hold_id}
    assert [(p.account_code, p.amount) for p in entry.postings] == [
        (WALLET, Decimal("-30.00")),
        (SHOP, Decimal("30.00")),
    ]
    hold = await holds.get_hold(hold_id)
    assert (hold.status, hold.posted_entry_id, hold.posted_amount) == ("posted", entry_id, Decimal("30.00"))
    assert await wallet_state() == (Decimal("20.00"), Decimal("0.00"))
    assert await balance(SHOP) == Decimal("30.00")
    await check_invariants()


async def test_capturing_a_hold_that_is_no_longer_active_is_refused_and_writes_nothing() -> None:
    """A voided hold cannot be captured: HoldNotActive, nothing written."""
    await fund(WALLET, "50")
    hold_id = await write(lambda _: take("30"))
    await holds.void_hold(hold_id)
    before = await snapshot()

    with pytest.raises(HoldNotActive):
        await write(lambda _: capture(hold_id))

    assert await snapshot() == before
