"""The ceiling a posting is measured against: the statements our posting
sends, sent by hand on the bare driver, with no ledger Python in between.

Each ceiling sends, for one transfer, the statements ``ledger.posting.transfer``
sends (``ledger_statements.StatementLog`` records both sides so the report
can show they match), in the same order, inside the same kind of
transaction. Everything that does not depend on what the database answers
is computed before the timed run (``prepare``): codes sorted, the request
fingerprint, the metadata text, the timestamp. What does depend on it
(account ids and balances returned by the lock, the new entry's id) is
read from the rows, and new balances are old ± the amount; the ceiling
makes no check a database constraint does not make anyway.

- **PostgreSQL**: an asyncpg pool of N connections whose reset is a no-op
  (asyncpg's own ``_reset`` still rolls back a connection left inside a
  transaction, as for our pool); one transfer is ``async with
  pool.acquire(), connection.transaction()`` around ``connection.fetch``
  calls, which is what ``core.fixed_sql`` does.
- **SQLite**: ONE long-lived ``sqlite3`` connection, opened by
  ``core.sqlite_connections.open_connection`` so it has the service's
  PRAGMAs (foreign keys on, ``synchronous`` from
  ``FENGLING_SQLITE_SYNCHRONOUS``; WAL is a property of the file, set by
  the migrations); one transfer is ``BEGIN IMMEDIATE`` … ``COMMIT`` as one
  synchronous call in the event loop's thread: no thread hop, no lock.

Until the ledger's posting statements are ``FixedSql`` constants, the text
below is a copy of what ``ledger/posting.py`` sends (Piccolo's compiled
INSERTs included); ``ledger_statements.compare`` flags any drift.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

KIND = "transfer"
REASON_ZH = "积分转赠"
REASON_EN = "points transfer"


@dataclass(frozen=True, slots=True)
class Transfer:
    """One planned transfer between two wallets."""

    debit: str
    credit: str
    amount: str  # points, as the service takes them ("0.37")
    minor: int  # the same in hundredths
    key: str  # idempotency key, unique per transfer


###############################################################################
# The statements (a copy of what ledger/posting.py sends today)
###############################################################################

PG_LOCK = (
    "SELECT id, code, allow_negative, balance_minor, held_minor FROM ledger_account "
    "WHERE code = ANY($1) ORDER BY id FOR UPDATE"
)
PG_FIND_KEY = "SELECT id, request_fingerprint FROM ledger_entry WHERE idempotency_key = $1"
PG_INSERT_ENTRY = (
    'INSERT INTO "ledger_entry" ("id","kind","reason_zh","reason_en","memo","metadata","actor_ref","cause_ref",'
    '"idempotency_key","request_fingerprint","reverses","created_at","chain_seq","chain_hash") '
    'VALUES (DEFAULT,$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING "id"'
)
PG_INSERT_POSTINGS = (
    'INSERT INTO "ledger_posting" ("id","entry","account","amount_minor","balance_after_minor","created_at") '
    'VALUES (DEFAULT,$1,$2,$3,$4,$5),(DEFAULT,$6,$7,$8,$9,$10) RETURNING "id"'
)
PG_STORE_BALANCES = (
    "UPDATE ledger_account SET balance_minor = CASE id WHEN $1 THEN CAST($2 AS BIGINT) "
    "WHEN $3 THEN CAST($4 AS BIGINT) END, held_minor = CASE id WHEN $5 THEN CAST($6 AS BIGINT) "
    "WHEN $7 THEN CAST($8 AS BIGINT) END WHERE id IN ($9, $10)"
)

SQLITE_LOCK = (
    "SELECT id, code, allow_negative, balance_minor, held_minor FROM ledger_account WHERE code IN (?, ?) ORDER BY id"
)
SQLITE_FIND_KEY = "SELECT id, request_fingerprint FROM ledger_entry WHERE idempotency_key = ?"
SQLITE_INSERT_ENTRY = (
    'INSERT INTO "ledger_entry" ("id","kind","reason_zh","reason_en","memo","metadata","actor_ref","cause_ref",'
    '"idempotency_key","request_fingerprint","reverses","created_at","chain_seq","chain_hash") '
    'VALUES (null,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING "id"'
)
SQLITE_INSERT_POSTINGS = (
    'INSERT INTO "ledger_posting" ("id","entry","account","amount_minor","balance_after_minor","created_at") '
    'VALUES (null,?,?,?,?,?),(null,?,?,?,?,?) RETURNING "id"'
)
SQLITE_STORE_BALANCES = (
    "UPDATE ledger_account SET balance_minor = CASE id WHEN ? THEN CAST(? AS BIGINT) "
    "WHEN ? THEN CAST(? AS BIGINT) END, held_minor = CASE id WHEN ? THEN CAST(? AS BIGINT) "
    "WHEN ? THEN CAST(? AS BIGINT) END WHERE id IN (?, ?)"
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A transfer's arguments, computed before the timed run."""

    transfer: Transfer
    codes: list[str]  # sorted, as the lock takes them
    fingerprint: str
    created_at: datetime
    created_at_text: str  # SQLite stores timestamps as text


def prepare(transfer: Transfer) -> Prepared:
    created_at = datetime.now(UTC)
    fingerprint = hashlib.sha256(
        f"{KIND}|{transfer.debit}|{transfer.credit}|{transfer.minor}|{transfer.key}".encode()
    ).hexdigest()
    return Prepared(
        transfer=transfer,
        codes=sorted((transfer.debit, transfer.credit)),
        fingerprint=fingerprint,
        created_at=created_at,
        created_at_text=str(created_at),
    )


def _new_balances(rows: list[Any], transfer: Transfer) -> tuple[Any, Any, int, int]:
    """The two locked rows (id, code, allow_negative, balance_minor,
    held_minor) and the balances after the transfer."""
    by_code = {row[1]: row for row in rows}
    debit, credit = by_code[transfer.debit], by_code[transfer.credit]
    return debit, credit, debit[3] - transfer.minor, credit[3] + transfer.minor


async def post_postgres(connection: Any, p: Prepared) -> None:
    """One transfer's statements on ``connection``, inside its transaction."""
    t = p.transfer
    rows = await connection.fetch(PG_LOCK, p.codes)
    if await connection.fetch(PG_FIND_KEY, t.key):
        return  # a replay writes nothing (never happens here: every key is new)
    debit, credit, new_debit, new_credit = _new_balances(rows, t)
    inserted = await connection.fetch(
        PG_INSERT_ENTRY,
        KIND,
        REASON_ZH,
        REASON_EN,
        "",
        "{}",
        "system",
        "",
        t.key,
        p.fingerprint,
        None,
        p.created_at,
        None,
        None,
    )
    entry_id = inserted[0][0]
    await connection.fetch(
        PG_INSERT_POSTINGS,
        entry_id,
        debit[0],
        -t.minor,
        new_debit,
        p.created_at,
        entry_id,
        credit[0],
        t.minor,
        new_credit,
        p.created_at,
    )
    await connection.fetch(
        PG_STORE_BALANCES,
        debit[0],
        new_debit,
        credit[0],
        new_credit,
        debit[0],
        debit[4],
        credit[0],
        credit[4],
        debit[0],
        credit[0],
    )


def post_sqlite(connection: sqlite3.Connection, p: Prepared) -> None:
    """One whole transfer on ``connection``: BEGIN IMMEDIATE … COMMIT."""
    t = p.transfer
    connection.execute("BEGIN IMMEDIATE")
    try:
        rows = connection.execute(SQLITE_LOCK, p.codes).fetchall()
        if connection.execute(SQLITE_FIND_KEY, (t.key,)).fetchall():
            connection.execute("COMMIT")
            return
        debit, credit, new_debit, new_credit = _new_balances(rows, t)
        entry_id = connection.execute(
            SQLITE_INSERT_ENTRY,
            (
                KIND,
                REASON_ZH,
                REASON_EN,
                "",
                "{}",
                "system",
                "",
                t.key,
                p.fingerprint,
                None,
                p.created_at_text,
                None,
                None,
            ),
        ).fetchall()[0][0]
        connection.execute(
            SQLITE_INSERT_POSTINGS,
            (
                entry_id,
                debit[0],
                -t.minor,
                new_debit,
                p.created_at_text,
                entry_id,
                credit[0],
                t.minor,
                new_credit,
                p.created_at_text,
            ),
        ).fetchall()
        connection.execute(
            SQLITE_STORE_BALANCES,
            (debit[0], new_debit, credit[0], new_credit, debit[0], debit[4], credit[0], credit[4], debit[0], credit[0]),
        ).fetchall()
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


async def no_reset(_connection: Any) -> None:
    """The ceiling pool's reset: nothing (asyncpg still rolls back a
    connection released inside a transaction before calling it)."""


def open_sqlite(connection_kwargs: Mapping[str, Any], synchronous: str) -> sqlite3.Connection:
    """The ceiling's one connection, opened as the service opens its own
    (the engine's connection arguments, ``core.sqlite_connections.open_connection``)."""
    from core.sqlite_connections import open_connection

    return open_connection(connection_kwargs, synchronous)


def sqlite_pragmas(connection: sqlite3.Connection) -> dict[str, Any]:
    return {
        name: connection.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
    }
