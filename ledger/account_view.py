"""An account as its holder reads it, in one statement: the balance, what is
held, and the active holds behind it.

This is the read behind every wallet screen (``GET /api/v1/me/wallet``), the
busiest read of the service. It was a Piccolo select of the whole account
row, then one of every column of its holds joined to the account again: two
statements, ~150-200 µs of query building each (``bench/RESULTS.md``). Here
it is one fixed statement (``core.fixed_sql``) selecting only what the
holder is shown.

PostgreSQL reads the holds through a ``LATERAL`` subquery that takes the
newest ``$2`` of the account's active holds straight off the index, read
backwards: the join is then a nested loop over the one account row, so the
rows come in the subquery's order, with no sort. The plain join with an
``ORDER BY`` on the whole answer sorted the rows every time: ~4 µs of the
database's ~40 µs per wallet read (``bench/RESULTS.md``, session 11).
SQLite has no ``LATERAL``; it reads the plain join, whose columns are the
same.

The account's columns repeat on each hold's row; with no active hold there
is one row whose hold columns are NULL (the LEFT JOIN), and with no account
there is no row at all. A LEFT JOIN row has a hold on every row or on none,
so ``AccountView.from_rows`` looks at the first.
"""

from __future__ import annotations

from core.fixed_sql import FixedSql, Row, Script, fixed_sql, read
from ledger.models import AccountView

# Active holds listed with the balance, newest first. A wallet has a
# handful (one per order awaiting pickup); the cap keeps the answer bounded
# whatever happens, and the account's ``held`` total counts them all.
MAX_VIEWED_HOLDS = 100

# The status is written into the text, not sent as a parameter: only then
# can both engines read the partial index ``ledger_hold_active_account``
# (account, id) WHERE status = 'active', which holds nothing else, so the
# read does not grow with the account's resolved holds (one per order ever
# placed). The literal is ``HoldStatus.ACTIVE``'s value, as in the index;
# ``tests/integration/ledger/test_account_view.py`` checks the plan and the
# holds listed.
_COLUMNS = (
    "SELECT a.code, a.account_type, a.name_zh, a.name_en, a.balance_minor, a.held_minor,"
    " h.id AS hold_id, h.amount_minor, h.reason_zh AS hold_reason_zh,"
    " h.reason_en AS hold_reason_en, h.created_at, h.expires_at"
)
_FROM_POSTGRES = (
    " FROM ledger_account a LEFT JOIN LATERAL ("
    "SELECT id, amount_minor, reason_zh, reason_en, created_at, expires_at FROM ledger_hold"
    " WHERE account = a.id AND status = 'active' ORDER BY id DESC LIMIT $2"
    ") h ON true"
    " WHERE a.code = $1"
)
_FROM_SQLITE = (
    " FROM ledger_account a LEFT JOIN ledger_hold h ON h.account = a.id AND h.status = 'active'"
    " WHERE a.code = $1"
    " ORDER BY h.id DESC LIMIT $2"
)


# Where each value sits in every row of the statement (the order of
# ``_COLUMNS``; extra columns come after), for a reader that takes them by
# position: the wallet's JSON (``api/schemas/ledger.py``
# ``wallet_json_from_rows``), where by name each value costs a lookup in the
# driver's record. ``tests/integration/ledger/test_account_view.py`` checks
# them against the names each engine returns.
(
    CODE_COLUMN,
    ACCOUNT_TYPE_COLUMN,
    NAME_ZH_COLUMN,
    NAME_EN_COLUMN,
    BALANCE_MINOR_COLUMN,
    HELD_MINOR_COLUMN,
    HOLD_ID_COLUMN,
    HOLD_AMOUNT_MINOR_COLUMN,
    HOLD_REASON_ZH_COLUMN,
    HOLD_REASON_EN_COLUMN,
    HOLD_CREATED_AT_COLUMN,
    HOLD_EXPIRES_AT_COLUMN,
) = range(12)


def account_view_statement(extra_columns: str = "") -> FixedSql:
    """The account-with-active-holds statement (``$1`` the code, ``$2`` the
    cap), selecting ``extra_columns`` too (SQL starting with a comma,
    parameters from ``$3``) on every row: for a caller that needs one more
    fact in the same round trip (the wallet asks whether the member has an
    open review case: ``fraud.pending``). ``AccountView.from_rows`` reads
    the account's columns and ignores the rest."""
    return fixed_sql(
        _COLUMNS + extra_columns + _FROM_POSTGRES,
        sqlite=fixed_sql(_COLUMNS + extra_columns + _FROM_SQLITE).sqlite,
    )


_ACCOUNT_WITH_ACTIVE_HOLDS = account_view_statement()


def account_view_from_rows(rows: list[Row]) -> AccountView | None:
    """The view from the statement's rows (None: no such account)."""
    return AccountView.from_rows(rows) if rows else None


def account_view_steps(code: str) -> Script[AccountView | None]:
    """``find_account_view`` as a script step, for a caller that reads more
    on the same connection."""
    rows = yield _ACCOUNT_WITH_ACTIVE_HOLDS(code, MAX_VIEWED_HOLDS)
    return account_view_from_rows(rows)


async def find_account_view(code: str) -> AccountView | None:
    """The account ``code`` with its active holds (at most
    ``MAX_VIEWED_HOLDS``, newest first), or None if there is no such account."""
    return await read(lambda _: account_view_steps(code))
