"""The ledger's rules (ledger/rules.py) without a database: what each one
allows and refuses, and which field a refusal names. The services that call
them are proven against both engines in tests/integration/ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ledger.errors import (
    AccountConflict,
    HoldNotActive,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidEntry,
    ReversalRefused,
    UnbalancedEntry,
)
from ledger.models import (
    AccountBalance,
    AccountType,
    EntryRecord,
    EntryRequest,
    HoldRecord,
    HoldStatus,
    KeyedRequest,
    Leg,
    PostingRecord,
)
from ledger.rules import (
    MAX_HOLD_TTL,
    LockedAccount,
    apply_legs,
    check_hold_affordable,
    check_legs,
    check_new_account,
    check_new_hold,
    check_not_reversed,
    check_post_amount,
    check_reopen,
    check_replay,
    check_transfer_amount,
    release_is_replay,
    require_active,
    reversal_legs,
)

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def legs(*pairs: tuple[str, str]) -> tuple[Leg, ...]:
    return tuple(Leg(account_code=code, amount=amount) for code, amount in pairs)


def locked(code: str, balance_minor: int, *, held_minor: int = 0, allow_negative: bool = False) -> LockedAccount:
    return LockedAccount.from_row(
        {
            "id": 1,
            "code": code,
            "allow_negative": allow_negative,
            "balance_minor": balance_minor,
            "held_minor": held_minor,
        }
    )


def hold(status: HoldStatus = HoldStatus.ACTIVE, *, expires_in: timedelta = timedelta(hours=1)) -> HoldRecord:
    return HoldRecord(
        id=7,
        account_code="volunteer:1:wallet",
        amount=Decimal("30.00"),
        status=status,
        reason_zh="兑换预留",
        reason_en="",
        actor_ref="system",
        cause_ref="",
        created_at=NOW - timedelta(minutes=5),
        expires_at=NOW + expires_in,
        resolved_at=None,
        posted_entry_id=None,
        posted_amount=Decimal("0.00"),
    )


def entry(*, reverses_id: int | None = None) -> EntryRecord:
    return EntryRecord(
        id=11,
        kind="award",
        reason_zh="巡逻",
        reason_en="",
        memo="",
        metadata={},
        actor_ref="system",
        cause_ref="activity:3",
        idempotency_key=None,
        reverses_id=reverses_id,
        created_at=NOW,
        postings=(
            PostingRecord(account_code="campaign:1:budget", amount=Decimal("-8.00"), balance_after=Decimal("92.00")),
            PostingRecord(account_code="volunteer:1:wallet", amount=Decimal("8.00"), balance_after=Decimal("8.00")),
        ),
    )


# -- legs -------------------------------------------------------------------


def test_balanced_legs_on_distinct_accounts_pass() -> None:
    check_legs(legs(("a", "-10.50"), ("b", "10.25"), ("c", "0.25")))


def test_fewer_than_two_legs_is_refused() -> None:
    """check_legs refuses a single leg; the request model refuses it too."""
    with pytest.raises(UnbalancedEntry):
        check_legs(legs(("volunteer:1:wallet", "1")))
    with pytest.raises(ValueError, match="at least 2 items"):
        EntryRequest(kind="award", legs=legs(("volunteer:1:wallet", "1")), reason_zh="x")


@pytest.mark.parametrize(
    ("pairs", "error", "field"),
    [
        ((("a", "-1"), ("b", "0.99")), UnbalancedEntry, "legs"),
        ((("a", "-1"), ("a", "1")), InvalidEntry, "legs"),
        ((("a", "-1"), ("b", "1"), ("c", "0")), InvalidEntry, "amount"),
    ],
)
def test_unbalanced_repeated_or_zero_legs_are_refused(
    pairs: tuple[tuple[str, str], ...], error: type[Exception], field: str
) -> None:
    """Invariant 1: sum exactly zero (no rounding), one leg per account, no zero leg."""
    with pytest.raises(error) as caught:
        check_legs(legs(*pairs))
    assert getattr(caught.value, "field", None) == field


def test_a_transfer_moves_a_positive_amount() -> None:
    check_transfer_amount(Decimal("0.01"))
    for amount in (Decimal("0"), Decimal("-1")):
        with pytest.raises(InvalidEntry) as caught:
            check_transfer_amount(amount)
        assert caught.value.field == "amount"


def test_apply_legs_moves_each_balance_and_reports_the_moves_in_leg_order() -> None:
    accounts = {"budget": locked("budget", 10_000), "wallet": locked("wallet", 0)}
    moves = apply_legs(accounts, legs(("budget", "-8.50"), ("wallet", "8.50")))
    assert [(account.code, minor) for account, minor in moves] == [("budget", -850), ("wallet", 850)]
    assert accounts["budget"].balance_minor == 9_150 and accounts["wallet"].balance_minor == 850
    assert accounts["budget"].changed and accounts["wallet"].changed


def test_a_no_negative_account_cannot_spend_below_zero_or_into_its_holds() -> None:
    """Invariant 2 is about the available balance: 50.00 with 30.00 held
    can pay 20.00, not 20.01."""
    accounts = {"wallet": locked("wallet", 5_000, held_minor=3_000), "shop": locked("shop", 0)}
    apply_legs(accounts, legs(("wallet", "-20.00"), ("shop", "20.00")))
    assert accounts["wallet"].available_minor == 0
    fresh = {"wallet": locked("wallet", 5_000, held_minor=3_000), "shop": locked("shop", 0)}
    with pytest.raises(InsufficientFunds) as caught:
        apply_legs(fresh, legs(("wallet", "-20.01"), ("shop", "20.01")))
    assert caught.value.available == Decimal("20.00") and caught.value.requested == Decimal("20.01")
    assert caught.value.field == "amount"


def test_an_account_that_may_go_negative_does() -> None:
    accounts = {"issuance": locked("issuance", 0, allow_negative=True), "budget": locked("budget", 0)}
    apply_legs(accounts, legs(("issuance", "-1000"), ("budget", "1000")))
    assert accounts["issuance"].balance_minor == -100_000


def test_a_credit_is_never_refused_even_on_an_account_already_below_zero() -> None:
    """Only a debit can break invariant 2; crediting a (corrupt) negative
    no-negative account only moves it toward zero."""
    accounts = {"issuance": locked("issuance", 0, allow_negative=True), "wallet": locked("wallet", -500)}
    apply_legs(accounts, legs(("issuance", "-1"), ("wallet", "1")))
    assert accounts["wallet"].balance_minor == -400


# -- idempotency ------------------------------------------------------------


def test_a_key_replays_only_the_same_payload() -> None:
    """Invariant 3: same fingerprint passes; another one is IdempotencyConflict on idempotency_key."""
    first = KeyedRequest(id=1, request_fingerprint="abc")
    check_replay("key-1", first, "abc")
    with pytest.raises(IdempotencyConflict) as caught:
        check_replay("key-1", first, "abd")
    assert caught.value.field == "idempotency_key" and caught.value.key == "key-1"


# -- accounts ---------------------------------------------------------------


def test_an_account_needs_a_known_type_and_a_code_of_1_to_120_characters() -> None:
    assert check_new_account("volunteer:1:wallet", "liability") is AccountType.LIABILITY
    with pytest.raises(InvalidEntry) as caught:
        check_new_account("x", "revenue")
    assert caught.value.field == "account_type"
    for code in ("", "x" * 121):
        with pytest.raises(InvalidEntry) as caught:
            check_new_account(code, "asset")
        assert caught.value.field == "code"


def test_reopening_needs_the_same_type_and_negativity() -> None:
    existing = AccountBalance(
        code="org:1:issuance",
        account_type=AccountType.EQUITY,
        allow_negative=True,
        owner_ref="",
        scope_ref="org:1",
        name_zh="",
        name_en="",
        balance=Decimal("0.00"),
        held=Decimal("0.00"),
    )
    check_reopen(existing, AccountType.EQUITY, True)
    for account_type, allow_negative in ((AccountType.ASSET, True), (AccountType.EQUITY, False)):
        with pytest.raises(AccountConflict) as caught:
            check_reopen(existing, account_type, allow_negative)
        assert caught.value.field == "code"


def test_available_is_balance_minus_holds() -> None:
    account = AccountBalance.from_row(
        {
            "code": "volunteer:1:wallet",
            "account_type": "liability",
            "allow_negative": 0,
            "owner_ref": "member:1",
            "scope_ref": "org:1",
            "name_zh": "",
            "name_en": "",
            "balance_minor": 5_000,
            "held_minor": 1_250,
        }
    )
    assert account.available == Decimal("37.50") and account.allow_negative is False
    assert account.account_type is AccountType.LIABILITY


# -- reversals --------------------------------------------------------------


def test_a_reversal_mirrors_every_posting() -> None:
    mirrored = reversal_legs(entry())
    assert [(leg.account_code, leg.amount) for leg in mirrored] == [
        ("campaign:1:budget", Decimal("8.00")),
        ("volunteer:1:wallet", Decimal("-8.00")),
    ]
    check_legs(mirrored)


def test_a_reversal_is_never_reversed_and_an_entry_is_reversed_once() -> None:
    with pytest.raises(ReversalRefused) as caught:
        reversal_legs(entry(reverses_id=3))
    assert caught.value.field == "entry_id"
    check_not_reversed(11, None)
    with pytest.raises(ReversalRefused, match="already reversed by entry 12"):
        check_not_reversed(11, 12)


# -- holds ------------------------------------------------------------------


def test_a_new_hold_is_positive_explained_and_ends_within_a_year_with_a_zone() -> None:
    check_new_hold(Decimal("0.01"), "预留", NOW + MAX_HOLD_TTL, NOW)
    refusals = [
        (Decimal("0"), "预留", NOW + timedelta(hours=1), "amount"),
        (Decimal("5"), "", NOW + timedelta(hours=1), "reason_zh"),
        (Decimal("5"), "预留", NOW, "expires_at"),
        (Decimal("5"), "预留", NOW + MAX_HOLD_TTL + timedelta(seconds=1), "expires_at"),
        (Decimal("5"), "预留", (NOW + timedelta(hours=1)).replace(tzinfo=None), "expires_at"),
    ]
    for points, reason, expires_at, field in refusals:
        with pytest.raises(InvalidEntry) as caught:
            check_new_hold(points, reason, expires_at, NOW)
        assert caught.value.field == field, (points, reason, expires_at)


def test_a_hold_reserves_only_what_is_available() -> None:
    wallet = locked("wallet", 5_000, held_minor=2_000)
    check_hold_affordable(wallet, 3_000)
    with pytest.raises(InsufficientFunds):
        check_hold_affordable(wallet, 3_001)
    check_hold_affordable(locked("issuance", 0, allow_negative=True), 10**9)


def test_a_hold_posts_between_one_hundredth_and_what_it_holds() -> None:
    check_post_amount(Decimal("0.01"), Decimal("30.00"))
    check_post_amount(Decimal("30.00"), Decimal("30.00"))
    for points in (Decimal("0"), Decimal("30.01")):
        with pytest.raises(InvalidEntry) as caught:
            check_post_amount(points, Decimal("30.00"))
        assert caught.value.field == "amount"


def test_only_an_active_hold_before_its_deadline_may_be_posted() -> None:
    require_active(hold(), NOW)
    with pytest.raises(HoldNotActive, match="is voided"):
        require_active(hold(HoldStatus.VOIDED), NOW)
    with pytest.raises(HoldNotActive, match="expired at"):
        require_active(hold(expires_in=timedelta(0)), NOW)


def test_releasing_twice_into_the_same_status_is_a_replay() -> None:
    """Voiding a voided hold is a no-op; voiding a posted or expired one is refused."""
    assert release_is_replay(hold(), HoldStatus.VOIDED, only_if_expired=False, now=NOW) is False
    assert release_is_replay(hold(HoldStatus.VOIDED), HoldStatus.VOIDED, only_if_expired=False, now=NOW) is True
    for status in (HoldStatus.POSTED, HoldStatus.EXPIRED):
        with pytest.raises(HoldNotActive) as caught:
            release_is_replay(hold(status), HoldStatus.VOIDED, only_if_expired=False, now=NOW)
        assert caught.value.field == "hold_id"


def test_expiry_waits_for_the_deadline() -> None:
    with pytest.raises(HoldNotActive, match="not expired yet"):
        release_is_replay(hold(), HoldStatus.EXPIRED, only_if_expired=True, now=NOW)
    due = NOW + timedelta(hours=1)
    assert release_is_replay(hold(), HoldStatus.EXPIRED, only_if_expired=True, now=due) is False
