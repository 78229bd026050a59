"""Ledger tables. Amounts are BIGINT hundredths of a point (see amounts.py).

Database constraints back up every rule the posting service checks first:
no-negative accounts, unique idempotency keys, one reversal per entry (unique
``reverses``), one chain position per entry. The value checks live in the
migration ``ledger_2026_11_22t20_12_38_871047`` (``CHECK`` constraints on
PostgreSQL, equivalent triggers on SQLite, which cannot add a constraint to an
existing table). Migrations are frozen, so the SQL is written out there.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    BigSerial,
    Boolean,
    ForeignKey,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class LedgerAccount(Table, tablename="ledger_account"):
    id = BigSerial(primary_key=True)
    code = Varchar(length=120, unique=True, index=True)
    # asset / liability / equity: how a person reads the balance, not its sign.
    account_type = Varchar(length=16)
    allow_negative = Boolean(default=False)
    # Opaque references owned by the caller (e.g. "member:42", "org:3").
    owner_ref = Varchar(length=80, default="", index=True)
    scope_ref = Varchar(length=80, default="", index=True)
    name_zh = Varchar(length=200, default="")
    name_en = Varchar(length=200, default="")
    # Materialised, updated in the posting transaction: credits minus debits.
    balance_minor = BigInt(default=0)
    # Sum of active holds on this account.
    held_minor = BigInt(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class LedgerEntry(Table, tablename="ledger_entry"):
    id = BigSerial(primary_key=True)
    kind = Varchar(length=40, index=True)
    # What the volunteer reads on their statement. Never a bare number.
    reason_zh = Varchar(length=300)
    reason_en = Varchar(length=300, default="")
    memo = Varchar(length=1000, default="")
    metadata = JSON(default="{}")
    actor_ref = Varchar(length=80, default="system")
    cause_ref = Varchar(length=120, default="", index=True)
    idempotency_key = Varchar(length=200, null=True, default=None, unique=True)
    request_fingerprint = Varchar(length=64, default="")
    reverses: ForeignKey[LedgerEntry] = ForeignKey(
        "self", null=True, default=None, unique=True, on_delete=OnDelete.restrict
    )
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    # Tamper evidence, written once by the sealer after the entry committed.
    chain_seq = BigInt(null=True, default=None, unique=True)
    chain_hash = Varchar(length=64, null=True, default=None)


class LedgerPosting(Table, tablename="ledger_posting"):
    id = BigSerial(primary_key=True)
    entry = ForeignKey(LedgerEntry, null=False, index=True, on_delete=OnDelete.restrict)
    account = ForeignKey(LedgerAccount, null=False, index=True, on_delete=OnDelete.restrict)
    # Signed: credit positive, debit negative. An entry's postings sum to 0.
    amount_minor = BigInt()
    # The account's balance right after this posting (statements, as-of reads).
    balance_after_minor = BigInt()
    created_at = Timestamptz(default=TimestamptzNow())


class LedgerHold(Table, tablename="ledger_hold"):
    """A two-phase reservation: reduces available balance until posted,
    voided or expired."""

    id = BigSerial(primary_key=True)
    account = ForeignKey(LedgerAccount, null=False, index=True, on_delete=OnDelete.restrict)
    amount_minor = BigInt()
    status = Varchar(length=16, default="active", index=True)
    reason_zh = Varchar(length=300)
    reason_en = Varchar(length=300, default="")
    actor_ref = Varchar(length=80, default="system")
    cause_ref = Varchar(length=120, default="", index=True)
    metadata = JSON(default="{}")
    idempotency_key = Varchar(length=200, null=True, default=None, unique=True)
    request_fingerprint = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)
    resolved_at = Timestamptz(null=True, default=None)
    posted_entry = ForeignKey(LedgerEntry, null=True, default=None, on_delete=OnDelete.restrict)
    posted_amount_minor = BigInt(default=0)


class LedgerChainCheckpoint(Table, tablename="ledger_chain_checkpoint"):
    """The chain head after each sealing run. Append-only.

    Entries alone cannot show that their newest rows were cut off: the rest
    of the chain still verifies. Each checkpoint names a position and link
    that must still exist, so truncating the tail breaks at least the last
    checkpoint. (Someone who can rewrite both tables can still cut both; the
    head printed by ``fengling ledger verify`` is for recording outside the
    database, and ``--expect-head`` checks against it.)
    """

    id = BigSerial(primary_key=True)
    chain_seq = BigInt(index=True)
    chain_hash = Varchar(length=64)
    sealed_at = Timestamptz(default=TimestamptzNow())
