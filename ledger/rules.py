"""The ledger's rules, as plain functions with no I/O.

The services in ``posting``, ``holds``, ``reversal`` and ``accounts`` load
what they need (under lock), ask these functions, then write: load → decide
→ persist. Each rule raises a dedicated ``LedgerError`` naming the field at
fault, and each is backed by the database (a CHECK, a UNIQUE or ``verify``)
so a bug here cannot write a broken ledger. Unit-tested without a database in
``tests/unit/test_ledger_rules.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.amounts import from_minor, to_minor
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
    MAX_ACCOUNT_CODE_CHARS,
    AccountBalance,
    AccountType,
    EntryRecord,
    HoldRecord,
    HoldStatus,
    KeyedRequest,
    Leg,
)

if TYPE_CHECKING:
    from core.fixed_sql import Row

# A hold that outlives a year is a bug in its caller, not a reservation.
MAX_HOLD_TTL = timedelta(days=366)


@dataclass(slots=True)
class LockedAccount:
    """A balance row read under lock, with the changes this transaction
    makes. Mutable on purpose: the rules below move it, then the posting
    service writes what changed."""

    id: int
    code: str
    allow_negative: bool
    balance_minor: int
    held_minor: int
    original_balance_minor: int
    original_held_minor: int

    @classmethod
    def from_row(cls, row: Row) -> LockedAccount:
        """``row``: id, code, allow_negative, balance_minor, held_minor of
        ``ledger_account``, as the driver reads them (integers and text on
        both engines; SQLite's boolean is 0 or 1). Every posting builds two."""
        balance_minor: int = row["balance_minor"]
        held_minor: int = row["held_minor"]
        return cls(
            row["id"], row["code"], bool(row["allow_negative"]), balance_minor, held_minor, balance_minor, held_minor
        )

    @property
    def available_minor(self) -> int:
        return self.balance_minor - self.held_minor

    @property
    def changed(self) -> bool:
        return (self.balance_minor, self.held_minor) != (self.original_balance_minor, self.original_held_minor)


# -- accounts ---------------------------------------------------------------


def check_new_account(code: str, account_type: str) -> AccountType:
    """An account code is 1-120 characters and its type one of ``AccountType``."""
    try:
        checked_type = AccountType(account_type)
    except ValueError:
        raise InvalidEntry(
            f"account_type must be one of {sorted(t.value for t in AccountType)}", field="account_type"
        ) from None
    if not code or len(code) > MAX_ACCOUNT_CODE_CHARS:
        raise InvalidEntry(f"account code must be 1-{MAX_ACCOUNT_CODE_CHARS} characters", field="code")
    return checked_type


def check_reopen(existing: AccountBalance, account_type: AccountType, allow_negative: bool) -> None:
    """Opening an existing code again is harmless only with the same type
    and the same negativity rule."""
    if existing.account_type != account_type or existing.allow_negative != allow_negative:
        raise AccountConflict(
            f"account {existing.code!r} exists as {existing.account_type} (allow_negative={existing.allow_negative})",
            field="code",
        )


# -- entries ----------------------------------------------------------------


def check_legs(legs: Sequence[Leg]) -> None:
    """Invariant 1 before anything is written: ≥ 2 distinct accounts, no zero
    leg, sum exactly zero."""
    if len(legs) < 2:
        raise UnbalancedEntry("an entry needs at least two legs", field="legs")
    codes = [leg.account_code for leg in legs]
    if len(set(codes)) != len(codes):
        raise InvalidEntry("each account may appear in an entry only once", field="legs")
    for leg in legs:
        if leg.amount == 0:
            raise InvalidEntry(f"leg on {leg.account_code!r} has a zero amount", field="amount")
    total = sum((leg.amount for leg in legs), Decimal("0"))
    if total != 0:
        raise UnbalancedEntry(f"legs sum to {total}, not zero", field="legs")


def check_transfer_amount(points: Decimal) -> None:
    """A transfer moves a positive amount; its direction is in the accounts."""
    if points <= 0:
        raise InvalidEntry("a transfer amount must be positive; swap the accounts to move points back", field="amount")


def apply_legs(accounts: Mapping[str, LockedAccount], legs: Sequence[Leg]) -> list[tuple[LockedAccount, int]]:
    """Move the locked balances by each leg; refuse if a no-negative account's
    available balance would drop below zero (invariant 2). Returns each
    account with the signed minor amount it moved, in leg order."""
    moves: list[tuple[LockedAccount, int]] = []
    for leg in legs:
        account = accounts[leg.account_code]
        amount_minor = to_minor(leg.amount)
        account.balance_minor += amount_minor
        moves.append((account, amount_minor))
    for account, amount_minor in moves:
        if not account.allow_negative and account.available_minor < 0 and amount_minor < 0:
            raise InsufficientFunds(
                account.code,
                available=from_minor(account.available_minor - amount_minor),
                requested=from_minor(-amount_minor),
            )
    return moves


def check_replay(key: str, first: KeyedRequest, request_fingerprint: str) -> None:
    """Invariant 3: a key already used may only be replayed with the same
    payload; another payload under it is ``IdempotencyConflict``."""
    if first.request_fingerprint != request_fingerprint:
        raise IdempotencyConflict(key)


# -- reversals --------------------------------------------------------------


def reversal_legs(original: EntryRecord) -> tuple[Leg, ...]:
    """The mirror of ``original``; refused if ``original`` is itself a
    reversal (to redo a reversed award, post it again)."""
    if original.reverses_id is not None:
        raise ReversalRefused(
            f"entry {original.id} is itself a reversal (of entry {original.reverses_id}) and cannot be reversed",
            field="entry_id",
        )
    return tuple(Leg(account_code=p.account_code, amount=-p.amount) for p in original.postings)


def check_not_reversed(entry_id: int, reversal_id: int | None) -> None:
    """An entry is reversed at most once."""
    if reversal_id is not None:
        raise ReversalRefused(f"entry {entry_id} was already reversed by entry {reversal_id}", field="entry_id")


# -- holds ------------------------------------------------------------------


def check_new_hold(points: Decimal, reason_zh: str, expires_at: datetime, now: datetime) -> None:
    """A hold reserves a positive amount, says why, and ends at a zoned
    moment in the future, within ``MAX_HOLD_TTL``."""
    if points <= 0:
        raise InvalidEntry("a hold amount must be positive", field="amount")
    if not reason_zh:
        raise InvalidEntry("a hold needs a reason", field="reason_zh")
    if expires_at.tzinfo is None or expires_at <= now or expires_at - now > MAX_HOLD_TTL:
        raise InvalidEntry("expires_at must be in the future, within a year, with a time zone", field="expires_at")


def check_hold_affordable(account: LockedAccount, amount_minor: int) -> None:
    """Invariant 2 for holds: a no-negative account reserves only what is available."""
    if not account.allow_negative and account.available_minor < amount_minor:
        raise InsufficientFunds(account.code, from_minor(account.available_minor), from_minor(amount_minor))


def check_post_amount(points: Decimal, held: Decimal) -> None:
    """Posting a hold moves between 0.01 and the held amount."""
    if points <= 0 or points > held:
        raise InvalidEntry(f"posted amount must be between 0.01 and {held}", field="amount")


def require_active(hold: HoldRecord, now: datetime) -> None:
    """Only an active hold before its deadline may be posted."""
    if hold.status != HoldStatus.ACTIVE:
        raise HoldNotActive(f"hold {hold.id} is {hold.status}, not active", field="hold_id")
    if hold.expires_at <= now:
        raise HoldNotActive(f"hold {hold.id} expired at {hold.expires_at.isoformat()}", field="hold_id")


def release_is_replay(hold: HoldRecord, new_status: HoldStatus, *, only_if_expired: bool, now: datetime) -> bool:
    """Whether releasing ``hold`` into ``new_status`` (voided or expired) is
    a replay of a release already done (True: write nothing). Refused with
    ``HoldNotActive`` if the hold left ``active`` some other way, or if
    expiry is asked before the deadline."""
    if hold.status != HoldStatus.ACTIVE:
        if hold.status == new_status:
            return True
        raise HoldNotActive(f"hold {hold.id} is {hold.status}, not active", field="hold_id")
    if only_if_expired and hold.expires_at > now:
        raise HoldNotActive(f"hold {hold.id} has not expired yet", field="hold_id")
    return False
