"""Account statements: what a volunteer reads, newest first, a page at a time.

The cursor is opaque to callers (an encoded posting id), so a page boundary
never shifts when new postings arrive.
"""

from __future__ import annotations

import base64
import binascii

from ledger.accounts import account_id
from ledger.amounts import from_minor
from ledger.errors import InvalidEntry
from ledger.models import StatementLine, StatementPage
from ledger.tables import LedgerPosting

# A phone shows ~20 lines; 100 bounds the work of one request.
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Posting ids are BIGINT; a forged cursor beyond that must not reach the driver.
MAX_POSTING_ID = 2**63 - 1


def encode_cursor(posting_id: int) -> str:
    return base64.urlsafe_b64encode(f"p:{posting_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        prefix, _, value = text.partition(":")
        posting_id = int(value)
        if prefix != "p" or not 1 <= posting_id <= MAX_POSTING_ID:
            raise ValueError(cursor)
        return posting_id
    except (ValueError, UnicodeDecodeError, binascii.Error) as error:
        raise InvalidEntry("cursor is not one this API returned", field="cursor") from error


async def statement(code: str, *, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE) -> StatementPage:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidEntry(f"limit must be between 1 and {MAX_PAGE_SIZE}", field="limit")
    the_account_id = await account_id(code)
    query = LedgerPosting.select(
        LedgerPosting.id,
        LedgerPosting.entry.id.as_alias("entry_id"),
        LedgerPosting.entry.kind.as_alias("kind"),
        LedgerPosting.entry.reason_zh.as_alias("reason_zh"),
        LedgerPosting.entry.reason_en.as_alias("reason_en"),
        LedgerPosting.entry.cause_ref.as_alias("cause_ref"),
        LedgerPosting.created_at,
        LedgerPosting.amount_minor,
        LedgerPosting.balance_after_minor,
    ).where(
        # A range, not `=`: PostgreSQL drops an equality-fixed column from the
        # sort keys, and then may walk the primary key backwards hoping to
        # meet this account's rows soon; for a long-dormant account that is
        # most of history (measured: 194 ms at 1M entries). As a range, the
        # (account, id) order below can only come from the composite index.
        (LedgerPosting.account >= the_account_id) & (LedgerPosting.account <= the_account_id)
    )
    if cursor is not None:
        query = query.where(LedgerPosting.id < decode_cursor(cursor))
    rows = (
        await query.order_by(LedgerPosting.account, ascending=False)
        .order_by(LedgerPosting.id, ascending=False)
        .limit(limit + 1)
        .run()
    )
    page = rows[:limit]
    return StatementPage(
        account_code=code,
        lines=[
            StatementLine(
                posting_id=row["id"],
                entry_id=row["entry_id"],
                created_at=row["created_at"],
                kind=row["kind"],
                reason_zh=row["reason_zh"],
                reason_en=row["reason_en"],
                cause_ref=row["cause_ref"],
                amount=from_minor(row["amount_minor"]),
                balance_after=from_minor(row["balance_after_minor"]),
            )
            for row in page
        ],
        next_cursor=encode_cursor(page[-1]["id"]) if len(rows) > limit else None,
    )
