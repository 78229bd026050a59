"""Account statements: what a volunteer reads, newest first, a page at a time.

Lines come newest first by (time, posting id): the order of the one index
that serves both statements and balances as of a moment, ``(account,
created_at)`` (ledger/README.md, "Indexes"). Within an account that is the
order the postings were written in, since each is written under its
account's lock with the time read then; the posting id breaks ties.

The cursor is the one opaque keyset cursor of ``core.cursors`` (list tag
``STATEMENT_CURSOR``, keys: the time and posting id of the last line
shown), so a page boundary never shifts when new postings arrive, and a
forged cursor is refused (``InvalidCursor``, field ``cursor``) before it
reaches the driver.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.cursors import decode_cursor, encode_cursor, time_from_key, time_key
from core.errors import InvalidCursor
from ledger.accounts import account_id, postings_of
from ledger.errors import InvalidEntry
from ledger.models import StatementLine, StatementPage
from ledger.tables import LedgerPosting

# A phone shows ~20 lines; 100 bounds the work of one request.
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# The list tag in a statement cursor ("p": postings). Cursors handed out
# before lines were ordered by time carried the id alone ("p:<id>"); they
# are refused as malformed, and the client starts again from the newest line.
STATEMENT_CURSOR = "p"
# The latest time a cursor may carry (what a datetime holds); its posting id
# may be any positive BIGINT.
_MAX_TIME_KEY = time_key(datetime.max.replace(tzinfo=UTC))


def _after(cursor: str) -> tuple[datetime, int]:
    """The (time, posting id) a page ended at; ``InvalidCursor`` for anything
    this list did not hand out."""
    time, posting_id = decode_cursor(STATEMENT_CURSOR, cursor, arity=2, key_min=0)
    if time > _MAX_TIME_KEY or posting_id < 1:
        raise InvalidCursor()
    return time_from_key(time), posting_id


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
    ).where(postings_of(the_account_id))
    if cursor is not None:
        before, before_id = _after(cursor)
        # The first condition alone bounds the index scan; the second is the
        # exact keyset (ties on time go by posting id).
        query = query.where(LedgerPosting.created_at <= before).where(
            (LedgerPosting.created_at < before) | (LedgerPosting.id < before_id)
        )
    rows = (
        await query.order_by(LedgerPosting.account, ascending=False)
        .order_by(LedgerPosting.created_at, ascending=False)
        .order_by(LedgerPosting.id, ascending=False)
        .limit(limit + 1)
        .run()
    )
    lines = tuple(StatementLine.from_row(row) for row in rows[:limit])
    has_more = len(rows) > limit
    return StatementPage(
        account_code=code,
        lines=lines,
        next_cursor=(
            encode_cursor(STATEMENT_CURSOR, time_key(lines[-1].created_at), lines[-1].posting_id) if has_more else None
        ),
    )
