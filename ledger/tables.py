"""Ledger tables. Amounts are BIGINT hundredths of a point (see amounts.py).

Database constraints back up every rule the posting service checks first:
no-negative accounts, unique idempotency keys, one reversal per entry (unique
``reverses``). The value checks live in the migration
``ledger_2026_11_22t20_12_38_871047`` (``CHECK`` constraints on PostgreSQL,
equivalent triggers on SQLite, which cannot add a constraint to an existing
table). Migrations are frozen, so the SQL is written out there.

Every index is here for a query that needs it, and each is named in
ledger/README.md ("Indexes"), with the ones Piccolo cannot declare (composite
and partial indexes, written by the migrations). A column without
``index=True`` is not searched by anything; give it an index when a query
needs one, not before: on PostgreSQL an index entry costs 20-50 bytes per
row, and a transfer writes three rows.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    ForeignKey,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class LedgerAccount(Table, tablename="ledger_account"):
    id = BigSerial(primary_key=True)
    # Unique: how every caller names an account (lock_accounts, get_balance).
    code = Varchar(length=120, unique=True)
    # asset / liability / equity: how a person reads the balance, not its sign.
    account_type = Varchar(length=16)
    allow_negative = Boolean(default=False)
    # Opaque references owned by the caller (e.g. "member:42", "org:3").
    owner_ref = Varchar(length=80, default="")
    scope_ref = Varchar(length=80, default="")
    name_zh = Varchar(length=200, default="")
    name_en = Varchar(length=200, default="")
    # Materialised, updated in the posting transaction: credits minus debits.
    balance_minor = BigInt(default=0)
    # Sum of active holds on this account.
    held_minor = BigInt(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class LedgerEntry(Table, tablename="ledger_entry"):
    id = BigSerial(primary_key=True)
    kind = Varchar(length=40)
    # What the volunteer reads on their statement. Never a bare number.
    reason_zh = Varchar(length=300)
    reason_en = Varchar(length=300, default="")
    memo = Varchar(length=1000, default="")
    metadata = JSON(default="{}")
    actor_ref = Varchar(length=80, default="system")
    cause_ref = Varchar(length=120, default="")
    # Unique: one effect per key (invariant 3), and how a replay finds it.
    idempotency_key = Varchar(length=200, null=True, default=None, unique=True)
    request_fingerprint = Varchar(length=64, default="")
    # Unique: one reversal per entry, and how find_reversal finds it. On
    # PostgreSQL a partial unique index (entries that reverse nothing are
    # not in it), written by migration ledger_2026_11_30t15_53_53_528739.
    reverses: ForeignKey[LedgerEntry] = ForeignKey(
        "self", null=True, default=None, unique=True, on_delete=OnDelete.restrict
    )
    created_at = Timestamptz(default=TimestamptzNow())


class LedgerPosting(Table, tablename="ledger_posting"):
    """One leg. Written once, never updated or looked up by id: on PostgreSQL
    the id has no index of its own (the sequence keeps it unique), and the
    one index by account is (account, created_at), for statements and as-of
    balances alike (ledger/README.md, "Indexes")."""

    id = BigSerial(primary_key=True)
    # Indexed: an entry's legs (load_entry, sealing, verify).
    entry = ForeignKey(LedgerEntry, null=False, index=True, on_delete=OnDelete.restrict)
    account = ForeignKey(LedgerAccount, null=False, on_delete=OnDelete.restrict)
    # Signed: credit positive, debit negative. An entry's postings sum to 0.
    amount_minor = BigInt()
    # The account's balance right after this posting (statements, as-of reads).
    balance_after_minor = BigInt()
    created_at = Timestamptz(default=TimestamptzNow())


class LedgerHold(Table, tablename="ledger_hold"):
    """A two-phase reservation: reduces available balance until posted,
    voided or expired."""

    id = BigSerial(primary_key=True)
    # Indexed: an account's holds (list_holds, verify's held totals).
    account = ForeignKey(LedgerAccount, null=False, index=True, on_delete=OnDelete.restrict)
    amount_minor = BigInt()
    status = Varchar(length=16, default="active")
    reason_zh = Varchar(length=300)
    reason_en = Varchar(length=300, default="")
    actor_ref = Varchar(length=80, default="system")
    cause_ref = Varchar(length=120, default="")
    metadata = JSON(default="{}")
    idempotency_key = Varchar(length=200, null=True, default=None, unique=True)
    request_fingerprint = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    # The expiry job finds active holds past it through the partial index
    # ledger_hold_active_expiry (migration ledger_2026_11_22t20_12_38_871047).
    expires_at = Timestamptz()
    resolved_at = Timestamptz(null=True, default=None)
    posted_entry = ForeignKey(LedgerEntry, null=True, default=None, on_delete=OnDelete.restrict)
    posted_amount_minor = BigInt(default=0)


class LedgerChainBlock(Table, tablename="ledger_chain_block"):
    """The entries one sealing run appended to the chain, and their links.
    Append-only; read in id order, by the sealer (the last block, the recent
    ones) and by verify (all). See ledger/chain.py."""

    id = BigSerial(primary_key=True)
    # Chain position of the block's last entry; its first is
    # head_seq - (number of entries) + 1, the previous block's head_seq + 1.
    head_seq = BigInt()
    # The whole link of the block's last entry (64 hex characters).
    head = Varchar(length=64)
    # The sealed entry ids in chain order, 8 bytes each, big-endian.
    entry_ids = Bytea()
    # The first LINK_BYTES bytes of each entry's link, in the same order.
    links = Bytea()
    # The highest entry id sealed by this block or any before it.
    sealed_through = BigInt()
    sealed_at = Timestamptz(default=TimestamptzNow())
