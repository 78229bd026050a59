"""The ledger's hot statements, as fixed SQL (``core.fixed_sql``).

Every posting, hold and reversal sends these, so they were measured: through
Piccolo's query builder the statements of one transfer cost ~0.4 ms of
client CPU to build and ~0.5 ms more in Piccolo's per-query path, about
half of all the client CPU of a transfer (``bench/RESULTS.md``). The
benchmark's raw ceiling sends these same constants.

Where PostgreSQL can do in one round trip what SQLite does in several
statements (which on SQLite cost no round trip: a whole script runs in one
thread hop), there are two statements and the scripts in ``posting`` and
``holds`` choose by dialect.

The database still backs every rule the Python side checks first: the
CHECK constraints (triggers on SQLite) on balances, the unique idempotency
keys and the unique ``reverses``.
"""

from __future__ import annotations

from core.fixed_sql import fixed_sql, postgres_only

# -- accounts -----------------------------------------------------------------

LOCK_ACCOUNTS = fixed_sql(
    # Ascending id order, so two writers over the same accounts queue rather
    # than deadlock (ARCHITECTURE.md §3). SQLite has no row locks: its
    # writer already holds the database's write lock (BEGIN IMMEDIATE).
    "SELECT id, code, allow_negative, balance_minor, held_minor FROM ledger_account"
    " WHERE code = ANY($1::varchar[]) ORDER BY id FOR UPDATE",
    sqlite="SELECT id, code, allow_negative, balance_minor, held_minor FROM ledger_account"
    " WHERE code IN (SELECT value FROM json_each(?1)) ORDER BY id",
)

STORE_BALANCES = fixed_sql(
    "UPDATE ledger_account AS account"
    " SET balance_minor = changed.balance_minor, held_minor = changed.held_minor"
    " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS changed(id, balance_minor, held_minor)"
    " WHERE account.id = changed.id",
    sqlite="UPDATE ledger_account SET balance_minor = ?2, held_minor = ?3 WHERE id = ?1",
)
"""PostgreSQL: every changed account in one statement (arrays of ids,
balances, held totals). SQLite: one account per statement."""

# -- entries ------------------------------------------------------------------

_ENTRY_COLUMNS = (
    "kind, reason_zh, reason_en, memo, metadata, actor_ref, cause_ref,"
    " idempotency_key, request_fingerprint, reverses, created_at"
)

INSERT_ENTRY_WITH_POSTINGS = postgres_only(
    # One round trip: the entry, then its postings only if the entry was
    # inserted. An idempotency key already used inserts nothing and returns
    # no row; the caller then replays the stored outcome.
    f"WITH entry AS ("
    f" INSERT INTO ledger_entry ({_ENTRY_COLUMNS})"
    f" VALUES ($1, $2, $3, $4, $5::json, $6, $7, $8, $9, $10, $11)"
    f" ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
    f"), legs AS ("
    f" INSERT INTO ledger_posting (entry, account, amount_minor, balance_after_minor, created_at)"
    f" SELECT entry.id, leg.account, leg.amount_minor, leg.balance_after_minor, $11"
    f" FROM entry, unnest($12::bigint[], $13::bigint[], $14::bigint[])"
    f" WITH ORDINALITY AS leg(account, amount_minor, balance_after_minor, position)"
    f" ORDER BY leg.position"
    f") SELECT id FROM entry"
    # SQLite has no data-modifying CTE: INSERT_ENTRY, then INSERT_POSTING per leg.
)

INSERT_ENTRY = fixed_sql(
    f"INSERT INTO ledger_entry ({_ENTRY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)

INSERT_POSTING = fixed_sql(
    "INSERT INTO ledger_posting (entry, account, amount_minor, balance_after_minor, created_at)"
    " VALUES ($1, $2, $3, $4, $5)"
)

ENTRY_UNDER_KEY = fixed_sql("SELECT id, request_fingerprint FROM ledger_entry WHERE idempotency_key = $1")

ENTRY_BY_ID = fixed_sql(f"SELECT id, {_ENTRY_COLUMNS} FROM ledger_entry WHERE id = $1")

POSTINGS_OF_ENTRY = fixed_sql(
    "SELECT account.code AS account_code, posting.amount_minor, posting.balance_after_minor"
    " FROM ledger_posting AS posting JOIN ledger_account AS account ON account.id = posting.account"
    " WHERE posting.entry = $1 ORDER BY posting.id"
)

REVERSAL_OF = fixed_sql("SELECT id FROM ledger_entry WHERE reverses = $1")

# -- holds --------------------------------------------------------------------

HOLD_COLUMNS = (
    "id, account, amount_minor, status, reason_zh, reason_en, actor_ref, cause_ref, metadata,"
    " idempotency_key, request_fingerprint, created_at, expires_at, resolved_at, posted_entry,"
    " posted_amount_minor"
)

INSERT_HOLD = fixed_sql(
    "INSERT INTO ledger_hold (account, amount_minor, status, reason_zh, reason_en, actor_ref, cause_ref,"
    " metadata, idempotency_key, request_fingerprint, created_at, expires_at, resolved_at, posted_entry,"
    " posted_amount_minor)"
    " VALUES ($1, $2, 'active', $3, $4, $5, $6, $7::json, $8, $9, $10, $11, NULL, NULL, 0)"
    f" ON CONFLICT (idempotency_key) DO NOTHING RETURNING {HOLD_COLUMNS}",
    sqlite="INSERT INTO ledger_hold (account, amount_minor, status, reason_zh, reason_en, actor_ref, cause_ref,"
    " metadata, idempotency_key, request_fingerprint, created_at, expires_at, resolved_at, posted_entry,"
    " posted_amount_minor)"
    " VALUES (?1, ?2, 'active', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, NULL, 0)"
    f" ON CONFLICT (idempotency_key) DO NOTHING RETURNING {HOLD_COLUMNS}",
)

HOLD_UNDER_KEY = fixed_sql("SELECT id, request_fingerprint FROM ledger_hold WHERE idempotency_key = $1")

LOCK_HOLD = fixed_sql(
    # After its account: every transition of a hold locks the account first.
    f"SELECT {HOLD_COLUMNS} FROM ledger_hold WHERE id = $1 FOR UPDATE",
    sqlite=f"SELECT {HOLD_COLUMNS} FROM ledger_hold WHERE id = ?1",
)

READ_HOLD = fixed_sql(f"SELECT {HOLD_COLUMNS} FROM ledger_hold WHERE id = $1")

HOLD_WITH_ACCOUNT_CODE = fixed_sql(
    "SELECT account.code AS account_code, hold.* FROM ledger_hold AS hold"
    " JOIN ledger_account AS account ON account.id = hold.account WHERE hold.id = $1"
)

POST_HOLD = fixed_sql(
    "UPDATE ledger_hold SET status = 'posted', resolved_at = $2, posted_entry = $3, posted_amount_minor = $4"
    f" WHERE id = $1 RETURNING {HOLD_COLUMNS}"
)

RELEASE_HOLD = fixed_sql(f"UPDATE ledger_hold SET status = $2, resolved_at = $3 WHERE id = $1 RETURNING {HOLD_COLUMNS}")

# -- holds inside a caller's transaction (``holds.hold_steps``, ``holds.capture_steps``) --

INSERT_HOLD_AND_HELD = postgres_only(
    # One round trip: a hold without an idempotency key (the caller's own row
    # carries the request's key) and its account's new held total.
    "WITH hold AS ("
    " INSERT INTO ledger_hold (account, amount_minor, status, reason_zh, reason_en, actor_ref, cause_ref,"
    " metadata, idempotency_key, request_fingerprint, created_at, expires_at, resolved_at, posted_entry,"
    " posted_amount_minor)"
    " VALUES ($1, $2, 'active', $3, $4, $5, $6, $7::json, NULL, $8, $9, $10, NULL, NULL, 0) RETURNING id"
    "), held AS (UPDATE ledger_account SET held_minor = $11 WHERE id = $1)"
    " SELECT id FROM hold"
)

_HOLD_AS_PREFIXED = ", ".join(f"hold.{column.strip()} AS hold_{column.strip()}" for column in HOLD_COLUMNS.split(","))

LOCK_ACCOUNTS_OF_HOLD = fixed_sql(
    # The hold's account and the destination, locked in ascending id order,
    # with the hold (its columns prefixed ``hold_``) as it was when the
    # statement started: it is not locked, and the write below changes it
    # only if it is still active.
    f"SELECT account.id, account.code, account.allow_negative, account.balance_minor, account.held_minor,"
    f" {_HOLD_AS_PREFIXED} FROM ledger_account AS account JOIN ledger_hold AS hold ON hold.id = $1"
    f" WHERE account.id IN (hold.account, (SELECT id FROM ledger_account WHERE code = $2))"
    f" ORDER BY account.id FOR UPDATE OF account",
    sqlite=f"SELECT account.id, account.code, account.allow_negative, account.balance_minor, account.held_minor,"
    f" {_HOLD_AS_PREFIXED} FROM ledger_account AS account JOIN ledger_hold AS hold ON hold.id = ?1"
    f" WHERE account.id IN (hold.account, (SELECT id FROM ledger_account WHERE code = ?2)) ORDER BY account.id",
)

CAPTURE_HOLD = postgres_only(
    # One round trip: the entry (nothing if its key is taken), the hold
    # posted (only if still active), the postings and the balances (only if
    # both happened). Returns the entry's id and whether the hold moved; a
    # caller that sees no move raises, and its transaction rolls back.
    f"WITH entry AS ("
    f" INSERT INTO ledger_entry ({_ENTRY_COLUMNS})"
    f" VALUES ($1, $2, $3, $4, $5::json, $6, $7, $8, $9, NULL, $10)"
    f" ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
    f"), posted AS ("
    f" UPDATE ledger_hold SET status = 'posted', resolved_at = $10, posted_entry = entry.id,"
    f" posted_amount_minor = $12 FROM entry WHERE ledger_hold.id = $11 AND ledger_hold.status = 'active'"
    f" RETURNING ledger_hold.id"
    f"), legs AS ("
    f" INSERT INTO ledger_posting (entry, account, amount_minor, balance_after_minor, created_at)"
    f" SELECT entry.id, leg.account, leg.amount_minor, leg.balance_after_minor, $10"
    f" FROM entry, posted, unnest($13::bigint[], $14::bigint[], $15::bigint[])"
    f" WITH ORDINALITY AS leg(account, amount_minor, balance_after_minor, position)"
    f" ORDER BY leg.position"
    f"), balances AS ("
    f" UPDATE ledger_account AS account"
    f" SET balance_minor = changed.balance_minor, held_minor = changed.held_minor"
    f" FROM posted, unnest($13::bigint[], $15::bigint[], $16::bigint[]) AS changed(id, balance_minor, held_minor)"
    f" WHERE account.id = changed.id"
    f") SELECT entry.id, posted.id IS NOT NULL AS posted FROM entry LEFT JOIN posted ON TRUE"
)
