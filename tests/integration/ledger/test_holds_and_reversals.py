"""Two-phase holds (ledger/holds.py) and reversals (ledger/reversal.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

import core.clock
import ledger.holds
from ledger import accounts, holds, posting, reversal
from ledger.errors import (
    AccountNotFound,
    EntryNotFound,
    HoldNotActive,
    HoldNotFound,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidEntry,
    ReversalRefused,
)
from ledger.models import EntryRecord, HoldRecord
from ledger.tables import LedgerEntry
from ledger.verify import verify_ledger
from tests.support.ledger_helpers import (
    BUDGET,
    ISSUANCE,
    SHOP,
    WALLET,
    WALLET_2,
    balance,
    check_invariants,
    count,
    fund,
    in_hours,
    open_chart,
    snapshot,
    spend,
)


@pytest.fixture(autouse=True)
async def chart() -> None:
    await open_chart()


async def hold_on(code: str, amount: str, *, hours: float = 1, **kwargs: object) -> HoldRecord:
    return await holds.create_hold(
        account_code=code,
        amount=amount,
        reason_zh="兑换预留",
        expires_at=in_hours(hours),
        **kwargs,  # type: ignore[arg-type]
    )


async def post(hold_id: int, amount: str | None = None, **kwargs: object) -> tuple[HoldRecord, EntryRecord]:
    return await holds.post_hold(
        hold_id,
        destination_code=SHOP,
        kind="redeem",
        reason_zh="兑换商品",
        amount=amount,
        **kwargs,  # type: ignore[arg-type]
    )


async def state(code: str) -> tuple[Decimal, Decimal, Decimal]:
    b = await accounts.get_balance(code)
    return b.balance, b.held, b.available


# --- holds ----------------------------------------------------------------------


async def test_hold_reduces_available_not_balance() -> None:
    """A hold moves no points: balance stays, held grows, available = balance - held."""
    await fund(WALLET, "50")
    hold = await hold_on(WALLET, "20")
    assert hold.status == "active" and hold.amount == Decimal("20.00") and hold.account_code == WALLET
    assert await state(WALLET) == (Decimal("50.00"), Decimal("20.00"), Decimal("30.00"))
    assert await state(SHOP) == (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    assert await count(LedgerEntry) == 1  # only the funding entry
    assert [h.id for h in await holds.list_holds(WALLET)] == [hold.id]
    await check_invariants()


async def test_hold_beyond_available_is_refused() -> None:
    """A second hold larger than what the first left available raises InsufficientFunds; nothing written."""
    await fund(WALLET, "50")
    await hold_on(WALLET, "30")
    before = await snapshot()
    with pytest.raises(InsufficientFunds) as caught:
        await hold_on(WALLET, "20.01")
    assert caught.value.available == Decimal("20.00")
    assert await snapshot() == before
    # The rest is still holdable to the cent.
    await hold_on(WALLET, "20.00")
    assert await state(WALLET) == (Decimal("50.00"), Decimal("50.00"), Decimal("0.00"))


async def test_held_points_cannot_be_spent() -> None:
    """A plain transfer may only use available points, not held ones."""
    await fund(WALLET, "50")
    await hold_on(WALLET, "30")
    before = await snapshot()
    with pytest.raises(InsufficientFunds):
        await spend(WALLET, "20.01")
    assert await snapshot() == before
    await spend(WALLET, "20")
    assert await state(WALLET) == (Decimal("30.00"), Decimal("30.00"), Decimal("0.00"))


@pytest.mark.parametrize(
    ("amount", "expires_at"),
    [
        ("0", in_hours(1)),
        ("-5", in_hours(1)),
        ("5", in_hours(-1)),
        ("5", datetime.now() + timedelta(hours=1)),  # noqa: DTZ005 - the point: a naive deadline
        ("5", in_hours(24 * 400)),
    ],
    ids=["zero", "negative", "past", "naive", "beyond-a-year"],
)
async def test_invalid_hold_requests_are_refused(amount: str, expires_at: datetime) -> None:
    """Non-positive amounts and bad deadlines raise InvalidEntry; nothing written."""
    await fund(WALLET, "50")
    before = await snapshot()
    with pytest.raises(InvalidEntry):
        await holds.create_hold(account_code=WALLET, amount=amount, reason_zh="预留", expires_at=expires_at)
    with pytest.raises(AccountNotFound):
        await holds.create_hold(account_code="nobody:wallet", amount="1", reason_zh="预留", expires_at=in_hours(1))
    assert await snapshot() == before


async def test_hold_idempotency() -> None:
    """Same key + same payload returns the same hold (held once); another payload is IdempotencyConflict."""
    await fund(WALLET, "50")
    first = await hold_on(WALLET, "10", idempotency_key="order:1:hold")
    again = await hold_on(WALLET, "10", idempotency_key="order:1:hold")
    assert again.id == first.id and again.replayed is True and first.replayed is False
    assert await state(WALLET) == (Decimal("50.00"), Decimal("10.00"), Decimal("40.00"))
    with pytest.raises(IdempotencyConflict):
        await hold_on(WALLET, "11", idempotency_key="order:1:hold")


async def test_post_full_hold_moves_the_held_points() -> None:
    """Posting a whole hold: wallet balance and held drop by the amount, the shop gets it,
    the hold records the entry."""
    await fund(WALLET, "50")
    hold = await hold_on(WALLET, "30")
    posted, entry = await post(hold.id)
    assert posted.status == "posted" and posted.posted_entry_id == entry.id
    assert posted.posted_amount == Decimal("30.00") and posted.resolved_at is not None
    assert [(p.account_code, p.amount) for p in entry.postings] == [
        (WALLET, Decimal("-30.00")),
        (SHOP, Decimal("30.00")),
    ]
    assert entry.metadata["hold_id"] == hold.id
    assert await state(WALLET) == (Decimal("20.00"), Decimal("0.00"), Decimal("20.00"))
    assert await balance(SHOP) == Decimal("30.00")
    assert (await holds.get_hold(hold.id)).status == "posted"
    await check_invariants()


async def test_post_partial_hold_releases_the_remainder() -> None:
    """Posting 10 of a 30 hold moves 10 and releases 20: held goes to 0, available = balance."""
    await fund(WALLET, "50")
    hold = await hold_on(WALLET, "30")
    posted, entry = await post(hold.id, "10")
    assert posted.posted_amount == Decimal("10.00") and posted.amount == Decimal("30.00")
    assert [p.amount for p in entry.postings] == [Decimal("-10.00"), Decimal("10.00")]
    assert await state(WALLET) == (Decimal("40.00"), Decimal("0.00"), Decimal("40.00"))
    assert await balance(SHOP) == Decimal("10.00")
    await check_invariants()


@pytest.mark.parametrize("amount", ["30.01", "0", "-1"])
async def test_post_outside_the_held_amount_is_refused(amount: str) -> None:
    """Posting more than held (or a non-positive amount) raises InvalidEntry; the hold stays active."""
    await fund(WALLET, "50")
    hold = await hold_on(WALLET, "30")
    before = await snapshot()
    with pytest.raises(InvalidEntry):
        await post(hold.id, amount)
    assert await snapshot() == before


async def test_post_twice_is_refused() -> None:
    """A hold leaves 'active' once: a second post raises HoldNotActive and writes nothing."""
    await fund(WALLET, "50")
    hold = await hold_on(WALLET, "30")
    await post(hold.id, "5")
    before = await snapshot()
    with pytest.raises(HoldNotActive):
        await post(hold.id, "5")
    assert await snapshot() == before


async def test_post_with_the_same_idempotency_key_returns_the_original() -> None:
    """Retrying post_hold with its key returns the same entry (replayed) and moves points once."""
    await fund(WALLET, "50")
    hold = await hold_on(WALLET, "30")
    _, first_entry = await post(hold.id, "12", idempotency_key="order:1:post")
    again_hold, again_entry = await post(hold.id, "12", idempotency_key="order:1:post")
    assert again_entry.id == first_entry.id and again_entry.replayed is True
    assert again_hold.replayed is True and again_hold.status == "posted"
    assert int(await LedgerEntry.count().where(LedgerEntry.idempotency_key == "order:1:post").run()) == 1
    assert await state(WALLET) == (Decimal("38.00"), Decimal("0.00"), Decimal("38.00"))
    with pytest.raises(IdempotencyConflict):
        await post(hold.id, "13", idempotency_key="order:1:post")


async def test_void_releases_the_hold() -> None:
    """void_hold releases everything; voiding again is a no-op; posting after voiding is
    refused; voiding a posted hold is refused."""
    await fund(WALLET, "50")
    hold = await hold_on(WALLET, "30")
    voided = await holds.void_hold(hold.id)
    assert voided.status == "voided" and voided.resolved_at is not None
    assert await state(WALLET) == (Decimal("50.00"), Decimal("0.00"), Decimal("50.00"))
    before = await snapshot()
    again = await holds.void_hold(hold.id)
    assert again.status == "voided" and again.replayed is True
    with pytest.raises(HoldNotActive):
        await post(hold.id)
    assert await snapshot() == before
    other = await hold_on(WALLET, "5")
    await post(other.id)
    with pytest.raises(HoldNotActive):
        await holds.void_hold(other.id)
    await check_invariants()


async def test_unknown_hold_is_hold_not_found() -> None:
    """post/void/get on a missing hold raise HoldNotFound."""
    for call in (holds.get_hold(999), holds.void_hold(999), post(999)):
        with pytest.raises(HoldNotFound):
            await call


async def test_expire_holds_expires_only_active_overdue_holds() -> None:
    """expire_holds(now=future) expires active holds past their deadline and returns the
    count; posted, voided and not-yet-due holds are skipped."""
    await fund(WALLET, "100")
    await fund(WALLET_2, "100")
    due_1 = await hold_on(WALLET, "10", hours=1)
    due_2 = await hold_on(WALLET_2, "20", hours=2)
    later = await hold_on(WALLET, "5", hours=10)
    posted = await hold_on(WALLET, "7", hours=1)
    voided = await hold_on(WALLET_2, "8", hours=1)
    await post(posted.id)
    await holds.void_hold(voided.id)
    assert await holds.expire_holds(now=in_hours(3)) == 2
    statuses = {h: (await holds.get_hold(h)).status for h in (due_1.id, due_2.id, later.id, posted.id, voided.id)}
    assert statuses == {
        due_1.id: "expired",
        due_2.id: "expired",
        later.id: "active",
        posted.id: "posted",
        voided.id: "voided",
    }
    assert await state(WALLET) == (Decimal("93.00"), Decimal("5.00"), Decimal("88.00"))
    assert await state(WALLET_2) == (Decimal("100.00"), Decimal("0.00"), Decimal("100.00"))
    # Nothing left to expire at that moment; the late one expires later.
    assert await holds.expire_holds(now=in_hours(3)) == 0
    assert await holds.expire_holds(now=in_hours(11)) == 1
    assert (await holds.get_hold(later.id)).status == "expired"
    with pytest.raises(HoldNotActive):
        await post(due_1.id)
    await check_invariants()


async def test_expire_holds_works_across_batches() -> None:
    """More overdue holds than one batch: all expire and the count is exact."""
    await fund(WALLET, "100")
    for _ in range(5):
        await hold_on(WALLET, "1")
    assert await holds.expire_holds(now=in_hours(2), batch_size=2) == 5
    assert await state(WALLET) == (Decimal("100.00"), Decimal("0.00"), Decimal("100.00"))


async def test_posting_a_hold_past_its_deadline_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hold past expires_at cannot be posted even before the expiry job ran: HoldNotActive, nothing written."""
    await fund(WALLET, "50")
    hold = await hold_on(WALLET, "30", hours=1)
    real_now = core.clock.utc_now
    monkeypatch.setattr(ledger.holds, "utc_now", lambda: real_now() + timedelta(hours=2))
    before = await snapshot()
    with pytest.raises(HoldNotActive, match="expired"):
        await post(hold.id)
    assert await snapshot() == before
    assert (await holds.get_hold(hold.id)).status == "active"


async def test_post_hold_to_its_own_account_is_refused() -> None:
    """Posting a hold back into the account it holds breaks 'one account per entry': InvalidEntry, hold stays active.

    Regression: post_hold skipped check_legs and wrote two postings on the wallet, the first with a
    wrong balance_after.
    """
    await fund(WALLET, "50")
    hold = await hold_on(WALLET, "30")
    before = await snapshot()
    with pytest.raises(InvalidEntry):
        await holds.post_hold(hold.id, destination_code=WALLET, kind="redeem", reason_zh="兑换", amount="10")
    assert await snapshot() == before
    assert (await holds.get_hold(hold.id)).status == "active"


# --- reversals ------------------------------------------------------------------


async def test_reversal_mirrors_the_entry() -> None:
    """A reversal is a new entry with each posting negated, linked by reverses_id; balances return to before."""
    await fund(BUDGET, "100")
    award = await posting.transfer(
        debit_code=BUDGET, credit_code=WALLET, amount="25", kind="award", reason_zh="奖励", cause_ref="activity:9"
    )
    undo = await reversal.reverse_entry(award.id, reason_zh="重复奖励，冲正", actor_ref="member:1")
    assert undo.kind == "reversal" and undo.reverses_id == award.id and undo.id != award.id
    assert undo.cause_ref == "activity:9" and undo.metadata["reverses_entry_id"] == award.id
    assert [(p.account_code, p.amount) for p in undo.postings] == [(p.account_code, -p.amount) for p in award.postings]
    assert await balance(BUDGET) == Decimal("100.00") and await balance(WALLET) == Decimal("0.00")
    assert await reversal.find_reversal(award.id) == undo.id
    # The original is untouched: corrections never update.
    assert (await posting.load_entry(award.id)).postings == award.postings
    await check_invariants()
    assert (await verify_ledger()).ok


async def test_reversing_twice_is_refused() -> None:
    """An entry is reversed at most once: ReversalRefused, nothing written."""
    award = await fund(WALLET, "25")
    await reversal.reverse_entry(award.id, reason_zh="冲正")
    before = await snapshot()
    with pytest.raises(ReversalRefused):
        await reversal.reverse_entry(award.id, reason_zh="再冲正")
    assert await snapshot() == before


async def test_reversing_a_reversal_is_refused() -> None:
    """A reversal is never itself reversed: ReversalRefused, nothing written."""
    award = await fund(WALLET, "25")
    undo = await reversal.reverse_entry(award.id, reason_zh="冲正")
    before = await snapshot()
    with pytest.raises(ReversalRefused):
        await reversal.reverse_entry(undo.id, reason_zh="撤销冲正")
    assert await snapshot() == before


async def test_reversal_with_the_same_key_replays() -> None:
    """Retrying a reversal with its key returns the same reversal, not ReversalRefused."""
    award = await fund(WALLET, "25")
    first = await reversal.reverse_entry(award.id, reason_zh="冲正", idempotency_key="fix:1")
    again = await reversal.reverse_entry(award.id, reason_zh="冲正", idempotency_key="fix:1")
    assert again.id == first.id and again.replayed is True
    assert await balance(WALLET) == Decimal("0.00")


async def test_reversal_of_spent_points_is_refused() -> None:
    """Reversing an award whose points were already spent would push the wallet negative:
    InsufficientFunds, nothing written."""
    award = await fund(WALLET, "25")
    await spend(WALLET, "20")
    before = await snapshot()
    with pytest.raises(InsufficientFunds) as caught:
        await reversal.reverse_entry(award.id, reason_zh="冲正")
    assert caught.value.account_code == WALLET
    assert await snapshot() == before
    assert await reversal.find_reversal(award.id) is None


async def test_reversal_of_held_points_is_refused() -> None:
    """Points reserved by a hold count as used: reversing the award that funded them is refused."""
    award = await fund(WALLET, "25")
    await hold_on(WALLET, "10")
    before = await snapshot()
    with pytest.raises(InsufficientFunds):
        await reversal.reverse_entry(award.id, reason_zh="冲正")
    assert await snapshot() == before


async def test_reversal_of_a_redemption_refunds_the_wallet() -> None:
    """Reversing a posted hold's entry moves the points back from the shop to the wallet."""
    await fund(WALLET, "50")
    hold = await hold_on(WALLET, "30")
    _, entry = await post(hold.id)
    await reversal.reverse_entry(entry.id, reason_zh="退货")
    assert await state(WALLET) == (Decimal("50.00"), Decimal("0.00"), Decimal("50.00"))
    assert await balance(SHOP) == Decimal("0.00")
    assert await balance(ISSUANCE) == Decimal("-50.00")
    await check_invariants()


async def test_reversing_a_missing_entry_is_entry_not_found() -> None:
    """EntryNotFound, not a crash."""
    with pytest.raises(EntryNotFound):
        await reversal.reverse_entry(12345, reason_zh="冲正")
