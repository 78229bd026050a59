"""Plain values the ledger takes and returns. No ORM objects leave the app."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledger.amounts import parse_amount

# Limits, so no request can make the ledger do unbounded work.
MAX_LEGS = 16
MAX_REASON_CHARS = 300
MAX_MEMO_CHARS = 1000
MAX_KEY_CHARS = 200


class Leg(BaseModel):
    """One side of an entry: a signed amount on one account.

    Positive credits the account (its balance goes up), negative debits it.
    """

    model_config = ConfigDict(frozen=True)

    account_code: str = Field(min_length=1, max_length=120)
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


class PostingRecord(BaseModel):
    account_code: str
    amount: Decimal
    balance_after: Decimal


class EntryRecord(BaseModel):
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
    postings: list[PostingRecord]
    # True when this call replayed an earlier request with the same key.
    replayed: bool = False


class AccountBalance(BaseModel):
    code: str
    account_type: str
    allow_negative: bool
    owner_ref: str
    scope_ref: str
    name_zh: str
    name_en: str
    balance: Decimal
    held: Decimal
    available: Decimal


class HoldRecord(BaseModel):
    id: int
    account_code: str
    amount: Decimal
    status: str
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


class StatementLine(BaseModel):
    posting_id: int
    entry_id: int
    created_at: datetime
    kind: str
    reason_zh: str
    reason_en: str
    cause_ref: str
    amount: Decimal
    balance_after: Decimal


class StatementPage(BaseModel):
    account_code: str
    lines: list[StatementLine]
    next_cursor: str | None
