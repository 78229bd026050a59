"""What the ledger takes and returns. No ORM object and no row leaves the app.

Requests (``Leg``, ``EntryRequest``) are pydantic models, so every caller's
amounts go through ``amounts.parse_amount`` on the way in. Records are
frozen dataclasses, each built from its table's row in exactly one place:
its ``from_row`` classmethod. Amounts in records are ``Decimal`` with two
places; the minor units of the database never leave this module's builders.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledger.amounts import from_minor, parse_amount

if TYPE_CHECKING:
    from core.fixed_sql import Row

# Limits, so no request can make the ledger do unbounded work.
MAX_LEGS = 16
MAX_REASON_CHARS = 300
MAX_MEMO_CHARS = 1000
MAX_KEY_CHARS = 200
MAX_ACCOUNT_CODE_CHARS = 120


class AccountType(StrEnum):
    """How a person reads an account's balance; it never flips a sign."""

    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"


class HoldStatus(StrEnum):
    """A hold is ``active`` until it leaves for one of the other three, once."""

    ACTIVE = "active"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


class Leg(BaseModel):
    """One side of an entry: a signed amount on one account.

    Positive credits the account (its balance goes up), negative debits it.
    """

    model_config = ConfigDict(frozen=True)

    account_code: str = Field(min_length=1, max_length=MAX_ACCOUNT_CODE_CHARS)
    amount: Decimal

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> Decimal:
        return parse_amount(value, field="amount")


class EntryRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str = Field(min_length=1, max_length=40)
    legs: tuple[Leg, ...] = Field(min_length=2, max_length=MAX_LEGS)
    reason_zh: str = Field(min_length=1, max_length=MAX_REASON_CHARS)
    reason_en: str = Field(default="", max_length=MAX_REASON_CHARS)
    memo: str = Field(default="", max_length=MAX_MEMO_CHARS)
    metadata: dict[str, Any] = Field(default_factory=dict)
    actor_ref: str = Field(default="system", max_length=80)
    cause_ref: str = Field(default="", max_length=120)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=MAX_KEY_CHARS)


@dataclass(frozen=True, slots=True)
class AccountBalance:
    """An account (``ledger_account``) with its materialised balance."""

    code: str
    account_type: AccountType
    allow_negative: bool
    owner_ref: str
    scope_ref: str
    name_zh: str
    name_en: str
    balance: Decimal
    held: Decimal

    @property
    def available(self) -> Decimal:
        """What may still be spent: balance − active holds."""
        return self.balance - self.held

    @classmethod
    def from_row(cls, row: Row) -> AccountBalance:
        return cls(
            code=str(row["code"]),
            account_type=AccountType(row["account_type"]),
            allow_negative=bool(row["allow_negative"]),
            owner_ref=str(row["owner_ref"]),
            scope_ref=str(row["scope_ref"]),
            name_zh=str(row["name_zh"]),
            name_en=str(row["name_en"]),
            balance=from_minor(int(row["balance_minor"])),
            held=from_minor(int(row["held_minor"])),
        )


@dataclass(frozen=True, slots=True)
class HoldLine:
    """An active hold as its account's holder reads it: what is reserved,
    why, until when. The amount stays in minor units as read (the wallet
    sends it as text, ``ledger.amounts.minor_text``); ``amount`` is the
    ``Decimal``."""

    id: int
    amount_minor: int
    reason_zh: str
    reason_en: str
    created_at: datetime
    expires_at: datetime
    status: HoldStatus = HoldStatus.ACTIVE

    @property
    def amount(self) -> Decimal:
        return from_minor(self.amount_minor)

    @classmethod
    def from_row(cls, row: Row) -> HoldLine:
        """``row`` carries the hold's ``hold_id``, ``amount_minor``,
        ``hold_reason_zh``, ``hold_reason_en``, ``created_at`` and
        ``expires_at``; the statement that read it selected active holds only."""
        return cls(
            id=row["hold_id"],
            amount_minor=row["amount_minor"],
            reason_zh=row["hold_reason_zh"],
            reason_en=row["hold_reason_en"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
        )


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account as its holder reads it: the balance, what is held, and the
    active holds behind ``held``, newest first. Amounts stay in minor units
    as read; ``balance``, ``held`` and ``available`` are the ``Decimal``s."""

    code: str
    account_type: AccountType
    name_zh: str
    name_en: str
    balance_minor: int
    held_minor: int
    holds: tuple[HoldLine, ...]

    @property
    def available_minor(self) -> int:
        """What may still be spent: balance − active holds."""
        return self.balance_minor - self.held_minor

    @property
    def balance(self) -> Decimal:
        return from_minor(self.balance_minor)

    @property
    def held(self) -> Decimal:
        return from_minor(self.held_minor)

    @property
    def available(self) -> Decimal:
        return from_minor(self.available_minor)

    @classmethod
    def from_rows(cls, rows: Sequence[Row]) -> AccountView:
        """``rows``: the account's columns (``code``, ``account_type``,
        ``name_zh``, ``name_en``, ``balance_minor``, ``held_minor``) on
        each row, joined with one active hold per row (``hold_id`` None
        when there is none). Built on the busiest read (the wallet): the
        driver's values are used as they come (ints, strs, datetimes)."""
        first = rows[0]
        holds = [HoldLine.from_row(row) for row in rows] if first["hold_id"] is not None else []
        return cls(
            code=first["code"],
            account_type=AccountType(first["account_type"]),
            name_zh=first["name_zh"],
            name_en=first["name_en"],
            balance_minor=first["balance_minor"],
            held_minor=first["held_minor"],
            holds=tuple(holds),
        )


@dataclass(frozen=True, slots=True)
class PostingRecord:
    """One leg as written (``ledger_posting``), named by its account's code."""

    account_code: str
    amount: Decimal
    balance_after: Decimal

    @classmethod
    def from_row(cls, row: Row) -> PostingRecord:
        """``row`` carries ``account_code``, ``amount_minor`` and ``balance_after_minor``."""
        return cls(
            account_code=str(row["account_code"]),
            amount=from_minor(int(row["amount_minor"])),
            balance_after=from_minor(int(row["balance_after_minor"])),
        )


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """One business event (``ledger_entry``) with its postings."""

    id: int
    kind: str
    reason_zh: str
    reason_en: str
    memo: str
    metadata: dict[str, Any]
    actor_ref: str
    cause_ref: str
    idempotency_key: str | None
    reverses_id: int | None
    created_at: datetime
    postings: tuple[PostingRecord, ...]
    # True when this call replayed an earlier request with the same key.
    replayed: bool = False

    @classmethod
    def from_row(cls, row: Row, postings: Sequence[PostingRecord], *, replayed: bool = False) -> EntryRecord:
        metadata = row["metadata"]
        return cls(
            id=int(row["id"]),
            kind=str(row["kind"]),
            reason_zh=str(row["reason_zh"]),
            reason_en=str(row["reason_en"]),
            memo=str(row["memo"]),
            # Stored as JSON text; PostgreSQL's driver may hand it back parsed.
            metadata=json.loads(metadata) if isinstance(metadata, str) else dict(metadata),
            actor_ref=str(row["actor_ref"]),
            cause_ref=str(row["cause_ref"]),
            idempotency_key=row["idempotency_key"],
            reverses_id=row["reverses"],
            created_at=row["created_at"],
            postings=tuple(postings),
            replayed=replayed,
        )


@dataclass(frozen=True, slots=True)
class HoldRecord:
    """A two-phase reservation (``ledger_hold``) on the account ``account_code``."""

    id: int
    account_code: str
    amount: Decimal
    status: HoldStatus
    reason_zh: str
    reason_en: str
    actor_ref: str
    cause_ref: str
    created_at: datetime
    expires_at: datetime
    resolved_at: datetime | None
    posted_entry_id: int | None
    posted_amount: Decimal
    replayed: bool = False

    @classmethod
    def from_row(cls, row: Row, account_code: str, *, replayed: bool = False) -> HoldRecord:
        """``row`` is a ``ledger_hold`` row; its account's code comes from the
        caller, who locked or looked up that account already."""
        return cls(
            id=int(row["id"]),
            account_code=account_code,
            amount=from_minor(int(row["amount_minor"])),
            status=HoldStatus(row["status"]),
            reason_zh=str(row["reason_zh"]),
            reason_en=str(row["reason_en"]),
            actor_ref=str(row["actor_ref"]),
            cause_ref=str(row["cause_ref"]),
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            resolved_at=row["resolved_at"],
            posted_entry_id=row["posted_entry"],
            posted_amount=from_minor(int(row["posted_amount_minor"])),
            replayed=replayed,
        )


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    """What an idempotency key was first used for: the row it created
    (an entry or a hold) and the fingerprint of that request."""

    id: int
    request_fingerprint: str

    @classmethod
    def from_row(cls, row: Row) -> KeyedRequest:
        return cls(id=int(row["id"]), request_fingerprint=str(row["request_fingerprint"]))


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One posting as its account's holder reads it, with its entry's reason."""

    posting_id: int
    entry_id: int
    created_at: datetime
    kind: str
    reason_zh: str
    reason_en: str
    cause_ref: str
    amount: Decimal
    balance_after: Decimal

    @classmethod
    def from_row(cls, row: Row) -> StatementLine:
        """``row`` is a ``ledger_posting`` row joined with its entry's
        ``entry_id``, ``kind``, ``reason_zh``, ``reason_en`` and ``cause_ref``."""
        return cls(
            posting_id=int(row["id"]),
            entry_id=int(row["entry_id"]),
            created_at=row["created_at"],
            kind=str(row["kind"]),
            reason_zh=str(row["reason_zh"]),
            reason_en=str(row["reason_en"]),
            cause_ref=str(row["cause_ref"]),
            amount=from_minor(int(row["amount_minor"])),
            balance_after=from_minor(int(row["balance_after_minor"])),
        )


@dataclass(frozen=True, slots=True)
class StatementPage:
    account_code: str
    lines: tuple[StatementLine, ...]
    # Opaque (core.cursors); None on the last page.
    next_cursor: str | None
