"""The posting service (ledger/posting.py) and the reads built on it
(accounts.balance_as_of, statements.statement).

Each refusal is checked against a whole-ledger snapshot: a refused request
writes nothing (no entry, no posting, no balance change).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.cursors import encode_cursor, time_key
from core.errors import InvalidCursor
from ledger import accounts, posting, statements
from ledger.errors import (
    AccountNotFound,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidEntry,
    UnbalancedEntry,
)
from ledger.models import EntryRequest, Leg
from ledger.tables import LedgerEntry, LedgerPosting
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
    open_chart,
    snapshot,
    spend,
)


@pytest.fixture(autouse=True)
async def chart() -> None:
    await open_chart()


def legs(*pairs: tuple[str, str]) -> tuple[Leg, ...]:
    return tuple(Leg(account_code=code, amount=amount) for code, amount in pairs)


def request(*pairs: tuple[str, str], **kwargs: object) -> EntryRequest:
    kwargs.setdefault("kind", "award")
    kwargs.setdefault("reason_zh", "巡逻奖励")
    return EntryRequest(legs=legs(*pairs), **kwargs)


# --- balanced entries --------------------------------------------------------


async def test_balanced_multi_leg_entry_moves_each_account_and_sums_to_zero() -> None:
    """A 3-leg balanced entry moves every balance by its leg, records balance_after,
    and its stored postings sum to 0."""
    await fund(BUDGET, "100")
    entry = await posting.post_entry(
        request((BUDGET, "-30.50"), (WALLET, "20.25"), (WALLET_2, "10.25"), memo="备注", metadata={"activity": 7})
    )
    assert [(p.account_code, p.amount, p.balance_after) for p in entry.postings] == [
        (BUDGET, Decimal("-30.50"), Decimal("69.50")),
        (WALLET, Decimal("20.25"), Decimal("20.25")),
        (WALLET_2, Decimal("10.25"), Decimal("10.25")),
    ]
    assert await balance(BUDGET) == Decimal("69.50")
    assert await balance(WALLET) == Decimal("20.25")
    assert await balance(WALLET_2) == Decimal("10.25")
    stored = await LedgerPosting.select(LedgerPosting.amount_minor).where(LedgerPosting.entry == entry.id).run()
    assert sorted(r["amount_minor"] for r in stored) == [-3050, 1025, 2025]
    assert sum(r["amount_minor"] for r in stored) == 0
    loaded = await posting.load_entry(entry.id)
    assert loaded.metadata == {"activity": 7}
    assert loaded.memo == "备注"
    assert loaded.replayed is False
    await check_invariants()
    assert (await verify_ledger()).ok


async def test_allow_negative_account_may_go_negative() -> None:
    """Issuance (allow_negative) goes below zero when it mints points; that is its job."""
    await fund(WALLET, "100")
    await fund(WALLET_2, "0.01")
    assert await balance(ISSUANCE) == Decimal("-100.01")
    await check_invariants()


# --- refusals write nothing ---------------------------------------------------


@pytest.mark.parametrize(
    "pairs",
    [
        ((ISSUANCE, "-10"), (WALLET, "9.99")),
        ((ISSUANCE, "-10"), (WALLET, "10"), (WALLET_2, "0.01")),
        ((ISSUANCE, "10"), (WALLET, "10")),
    ],
    ids=["short-by-a-cent", "over-by-a-cent", "all-credits"],
)
async def test_unbalanced_entry_is_refused_and_nothing_is_written(pairs: tuple[tuple[str, str], ...]) -> None:
    """Legs not summing to exactly zero raise UnbalancedEntry; the ledger is untouched."""
    await fund(WALLET_2, "5")
    before = await snapshot()
    with pytest.raises(UnbalancedEntry) as caught:
        await posting.post_entry(request(*pairs))
    assert caught.value.field == "legs"
    assert await snapshot() == before


async def test_duplicate_account_in_legs_is_refused() -> None:
    """Two legs on one account (even if balanced) are refused with InvalidEntry; nothing written."""
    before = await snapshot()
    with pytest.raises(InvalidEntry, match="only once"):
        await posting.post_entry(request((ISSUANCE, "-10"), (WALLET, "5"), (WALLET, "5")))
    assert await snapshot() == before


async def test_zero_leg_is_refused() -> None:
    """A zero leg is refused with InvalidEntry (the entry would otherwise sum to zero)."""
    before = await snapshot()
    with pytest.raises(InvalidEntry, match="zero"):
        await posting.post_entry(request((ISSUANCE, "-10"), (WALLET, "10"), (WALLET_2, "0")))
    with pytest.raises(InvalidEntry):
        await posting.transfer(debit_code=ISSUANCE, credit_code=WALLET, amount="0.00", kind="award", reason_zh="零")
    assert await snapshot() == before


async def test_float_amount_is_refused_at_the_service_boundary() -> None:
    """transfer(amount=float) raises InvalidAmount before anything is written."""
    before = await snapshot()
    with pytest.raises(InvalidAmount):
        await posting.transfer(debit_code=ISSUANCE, credit_code=WALLET, amount=0.1, kind="award", reason_zh="x")  # type: ignore[arg-type]
    assert await snapshot() == before


@pytest.mark.parametrize("side", ["debit", "credit"])
async def test_unknown_account_is_refused_and_nothing_is_written(side: str) -> None:
    """AccountNotFound names the missing code; the existing side is not touched."""
    await fund(WALLET, "50")
    before = await snapshot()
    missing = "volunteer:999:wallet"
    debit, credit = (missing, WALLET) if side == "debit" else (WALLET, missing)
    with pytest.raises(AccountNotFound) as caught:
        await posting.transfer(debit_code=debit, credit_code=credit, amount="10", kind="x", reason_zh="x")
    assert caught.value.account_code == missing
    assert await snapshot() == before


async def test_insufficient_funds_is_refused_with_balances_unchanged() -> None:
    """Spending one cent more than available raises InsufficientFunds (with the numbers); nothing written."""
    await fund(WALLET, "10")
    before = await snapshot()
    with pytest.raises(InsufficientFunds) as caught:
        await spend(WALLET, "10.01")
    assert caught.value.account_code == WALLET
    assert caught.value.available == Decimal("10.00")
    assert caught.value.requested == Decimal("10.01")
    assert await snapshot() == before
    assert await balance(WALLET) == Decimal("10.00")
    assert await balance(SHOP) == Decimal("0.00")
    # The boundary: exactly the available amount is fine and leaves zero.
    await spend(WALLET, "10.00")
    assert await balance(WALLET) == Decimal("0.00")
    await check_invariants()


async def test_insufficient_funds_in_a_multi_leg_entry_refuses_the_whole_entry() -> None:
    """One short leg among several refuses all legs."""
    await fund(WALLET, "5")
    await fund(WALLET_2, "1")
    before = await snapshot()
    with pytest.raises(InsufficientFunds) as caught:
        await posting.post_entry(request((WALLET, "-5"), (WALLET_2, "-2"), (SHOP, "7")))
    assert caught.value.account_code == WALLET_2
    assert await snapshot() == before


@pytest.mark.parametrize("amount", ["-3", "-0.01", "0"])
async def test_non_positive_transfer_amount_is_refused(amount: str) -> None:
    """transfer() moves points from debit_code to credit_code; a negative amount must not silently reverse that.

    Regression: transfer(amount="-3") used to take 3 points *out of* the credited wallet.
    """
    await fund(WALLET, "10")
    before = await snapshot()
    with pytest.raises(InvalidEntry) as caught:
        await posting.transfer(debit_code=ISSUANCE, credit_code=WALLET, amount=amount, kind="award", reason_zh="奖励")
    assert caught.value.field == "amount"
    assert await snapshot() == before


# --- idempotency (invariant 3) -------------------------------------------------

AWARD_REQUEST: dict[str, object] = {
    "debit_code": BUDGET,
    "credit_code": WALLET,
    "amount": "12.50",
    "kind": "award",
    "reason_zh": "巡逻奖励",
    "metadata": {"activity": 1},
    "cause_ref": "activity:1",
    "idempotency_key": "award:activity:1",
}


async def test_same_key_same_payload_replays_the_original_entry() -> None:
    """A retry returns the original entry (replayed=True, same id); exactly one entry exists; points moved once."""
    await fund(BUDGET, "100")
    kwargs: dict[str, object] = AWARD_REQUEST.copy()
    first = await posting.transfer(**kwargs)  # type: ignore[arg-type]
    second = await posting.transfer(**kwargs)  # type: ignore[arg-type]
    third = await posting.transfer(**{**kwargs, "amount": Decimal("12.5")})  # type: ignore[arg-type]
    assert first.replayed is False
    assert second.replayed is True and third.replayed is True
    assert second.id == first.id == third.id
    assert second.created_at == first.created_at
    assert second.postings == first.postings
    assert int(await LedgerEntry.count().where(LedgerEntry.idempotency_key == "award:activity:1").run()) == 1
    assert await count(LedgerEntry) == 2  # the funding entry and the award, nothing more
    assert await count(LedgerPosting) == 4
    assert await balance(WALLET) == Decimal("12.50")
    assert await balance(BUDGET) == Decimal("87.50")


async def test_replay_returns_the_original_even_when_it_could_no_longer_be_posted() -> None:
    """A replay is not re-evaluated: after the wallet spent everything, retrying a spend still returns the original."""
    await fund(WALLET, "10")
    original = await spend(WALLET, "10", idempotency_key="order:1")
    assert await balance(WALLET) == Decimal("0.00")
    replay = await spend(WALLET, "10", idempotency_key="order:1")
    assert replay.replayed is True and replay.id == original.id
    assert await balance(SHOP) == Decimal("10.00")


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "12.51"},
        {"credit_code": WALLET_2},
        {"reason_zh": "另一个理由"},
        {"kind": "bonus"},
        {"metadata": {"activity": 2}},
        {"cause_ref": "activity:2"},
        {"memo": "changed"},
    ],
    ids=lambda c: next(iter(c)),
)
async def test_same_key_different_payload_is_an_idempotency_conflict(change: dict[str, object]) -> None:
    """Reusing a key for another request raises IdempotencyConflict naming the key; nothing written."""
    await fund(BUDGET, "100")
    kwargs: dict[str, object] = AWARD_REQUEST.copy()
    await posting.transfer(**kwargs)  # type: ignore[arg-type]
    before = await snapshot()
    with pytest.raises(IdempotencyConflict) as caught:
        await posting.transfer(**{**kwargs, **change})  # type: ignore[arg-type]
    assert caught.value.key == "award:activity:1"
    assert await snapshot() == before


# --- what a volunteer reads ----------------------------------------------------


async def test_reason_zh_shows_on_the_statement() -> None:
    """The statement line carries the entry's reason_zh, reason_en, kind and cause, with amount and balance_after."""
    await fund(BUDGET, "100")
    entry = await posting.transfer(
        debit_code=BUDGET,
        credit_code=WALLET,
        amount="8",
        kind="award",
        reason_zh="清扫楼道 2 小时",
        reason_en="Cleaned the stairwell, 2 h",
        cause_ref="activity:42",
    )
    page = await statements.statement(WALLET)
    assert len(page.lines) == 1
    line = page.lines[0]
    assert line.entry_id == entry.id
    assert line.reason_zh == "清扫楼道 2 小时"
    assert line.reason_en == "Cleaned the stairwell, 2 h"
    assert line.kind == "award"
    assert line.cause_ref == "activity:42"
    assert line.amount == Decimal("8.00")
    assert line.balance_after == Decimal("8.00")
    assert page.next_cursor is None
    budget_line = (await statements.statement(BUDGET)).lines[0]
    assert budget_line.reason_zh == "清扫楼道 2 小时" and budget_line.amount == Decimal("-8.00")


async def test_balance_as_of_replays_history() -> None:
    """balance_as_of: 0.00 before the first entry; at each entry's created_at exactly that posting's balance_after."""
    entries = [
        await fund(WALLET, "10"),
        await spend(WALLET, "3.50"),
        await fund(WALLET, "0.25"),
        await spend(WALLET, "6.75"),
    ]
    expected = [Decimal("10.00"), Decimal("6.50"), Decimal("6.75"), Decimal("0.00")]
    first = entries[0].created_at
    assert await accounts.balance_as_of(WALLET, first - timedelta(microseconds=1)) == Decimal("0.00")
    assert await accounts.balance_as_of(WALLET, first - timedelta(days=365)) == Decimal("0.00")
    for entry, want in zip(entries, expected, strict=True):
        wallet_posting = next(p for p in entry.postings if p.account_code == WALLET)
        assert wallet_posting.balance_after == want
        assert await accounts.balance_as_of(WALLET, entry.created_at) == want
        # The same instant written in Beijing time is the same moment.
        assert await accounts.balance_as_of(WALLET, entry.created_at.astimezone(ZoneInfo("Asia/Shanghai"))) == want
    # Just before the second entry, the first one's balance still holds.
    assert await accounts.balance_as_of(WALLET, entries[1].created_at - timedelta(microseconds=1)) == Decimal("10.00")
    assert await accounts.balance_as_of(WALLET, entries[-1].created_at + timedelta(days=1)) == await balance(WALLET)


async def test_balance_as_of_refuses_naive_datetimes_and_unknown_accounts() -> None:
    """A naive datetime is ambiguous: InvalidEntry on field as_of. Unknown account: AccountNotFound."""
    await fund(WALLET, "1")
    with pytest.raises(InvalidEntry) as caught:
        await accounts.balance_as_of(WALLET, datetime.now())  # noqa: DTZ005 - the point: naive
    assert caught.value.field == "as_of"
    with pytest.raises(AccountNotFound):
        await accounts.balance_as_of("nobody:wallet", datetime.now(ZoneInfo("UTC")))


async def test_statement_pages_walk_every_line_once_newest_first() -> None:
    """Cursor pagination returns each posting exactly once, newest first, even when new postings arrive mid-walk."""
    entries = [await fund(WALLET, str(n)) for n in range(1, 8)]  # 7 postings
    await fund(WALLET_2, "1")  # another account's posting must not appear
    expected_ids = [e.id for e in reversed(entries)]
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await statements.statement(WALLET, cursor=cursor, limit=3)
        pages += 1
        assert page.account_code == WALLET
        seen.extend(line.entry_id for line in page.lines)
        if pages == 1:
            # New activity after the first page must not shift the next pages.
            newer = await fund(WALLET, "100")
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == expected_ids
    posting_ids = [line.posting_id for line in (await statements.statement(WALLET, limit=100)).lines]
    assert posting_ids == sorted(posting_ids, reverse=True)
    assert len(posting_ids) == 8
    first_page = await statements.statement(WALLET, limit=3)
    assert first_page.lines[0].entry_id == newer.id
    amounts = [line.amount for line in (await statements.statement(WALLET, limit=100)).lines]
    assert amounts == [Decimal("100.00")] + [Decimal(n).quantize(Decimal("0.01")) for n in range(7, 0, -1)]


async def test_statement_page_boundary_exactly_at_limit_has_no_cursor() -> None:
    """When the last page is exactly full, next_cursor is None (no empty trailing page)."""
    for n in range(4):
        await fund(WALLET, str(n + 1))
    first = await statements.statement(WALLET, limit=2)
    assert first.next_cursor is not None
    second = await statements.statement(WALLET, cursor=first.next_cursor, limit=2)
    assert len(second.lines) == 2 and second.next_cursor is None
    only = await statements.statement(WALLET, limit=4)
    assert len(only.lines) == 4 and only.next_cursor is None


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor!",
        "",
        "===",
        base64.urlsafe_b64encode(b"x:5").decode(),
        base64.urlsafe_b64encode(b"p:five:5").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
        # The id alone: what cursors carried before lines were ordered by time.
        base64.urlsafe_b64encode(b"p:5").decode(),
        base64.urlsafe_b64encode(b"p:1764500000000000:0").decode(),
        base64.urlsafe_b64encode(b"p:1764500000000000:-5").decode(),
        base64.urlsafe_b64encode(b"p:-1:5").decode(),
        # Beyond BIGINT: used to leak OverflowError (SQLite) / asyncpg DataError (PostgreSQL).
        base64.urlsafe_b64encode(b"p:1764500000000000:99999999999999999999999").decode(),
        base64.urlsafe_b64encode(f"p:1764500000000000:{2**63}".encode()).decode(),
        # Beyond what a datetime holds (it would overflow before the query).
        base64.urlsafe_b64encode(f"p:{2**62}:5".encode()).decode(),
    ],
)
async def test_bad_cursor_is_invalid_cursor(cursor: str) -> None:
    """A cursor this API did not hand out (another list's tag, not a number,
    not base64, an id alone, an id below 1 or beyond BIGINT, a time before
    1970 or beyond year 9999) raises InvalidCursor on field cursor."""
    await fund(WALLET, "1")
    with pytest.raises(InvalidCursor) as caught:
        await statements.statement(WALLET, cursor=cursor)
    assert caught.value.field == "cursor"


async def test_largest_valid_cursor_is_accepted() -> None:
    """The boundaries themselves (the last moment a datetime holds, the largest
    BIGINT id) are a well-formed cursor: it just starts from the newest line."""
    await fund(WALLET, "1")
    latest = time_key(datetime.max.replace(tzinfo=UTC))
    page = await statements.statement(WALLET, cursor=encode_cursor(statements.STATEMENT_CURSOR, latest, 2**63 - 1))
    assert len(page.lines) == 1


@pytest.mark.parametrize("limit", [0, -1, statements.MAX_PAGE_SIZE + 1])
async def test_statement_limit_is_bounded(limit: int) -> None:
    """limit outside 1..MAX_PAGE_SIZE raises InvalidEntry; unknown accounts raise AccountNotFound."""
    with pytest.raises(InvalidEntry):
        await statements.statement(WALLET, limit=limit)
    with pytest.raises(AccountNotFound):
        await statements.statement("nobody:wallet")
