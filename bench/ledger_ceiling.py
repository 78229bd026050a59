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

The statements are the ledger's own constants (``ledger.sql``, each a
``core.fixed_sql.FixedSql`` with its PostgreSQL and SQLite text), so a
changed statement changes both sides. A statement added, removed or
reordered in ``ledger.posting`` is not followed automatically: the report
compares what both sides sent (``ledger_statements.compare``) and says so.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger import sql

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


@dataclass(frozen=True, slots=True)
class Prepared:
    """A transfer's arguments, computed before the timed run."""

    transfer: Transfer
    codes: list[str]  # sorted, as the lock takes them
    codes_json: str  # the same for SQLite, where a list is JSON text
    debit_id: int
    credit_id: int
    fingerprint: str
    created_at: datetime
    created_at_text: str  # SQLite stores timestamps as text


def prepare(transfer: Transfer, account_ids: Mapping[str, int]) -> Prepared:
    created_at = datetime.now(UTC)
    fingerprint = hashlib.sha256(
        f"{KIND}|{transfer.debit}|{transfer.credit}|{transfer.minor}|{transfer.key}".encode()
    ).hexdigest()
    codes = sorted((transfer.debit, transfer.credit))
    return Prepared(
        transfer=transfer,
        codes=codes,
        codes_json=json.dumps(codes),
        debit_id=account_ids[transfer.debit],
        credit_id=account_ids[transfer.credit],
        fingerprint=fingerprint,
        created_at=created_at,
        created_at_text=str(created_at),
    )


def _locked(rows: Sequence[Any], p: Prepared) -> tuple[int, int, int, int]:
    """From the locked rows (id, code, allow_negative, balance_minor,
    held_minor): the debit's and the credit's balance after the transfer,
    and their held totals."""
    by_id = {row[0]: row for row in rows}
    debit, credit = by_id[p.debit_id], by_id[p.credit_id]
    return debit[3] - p.transfer.minor, credit[3] + p.transfer.minor, debit[4], credit[4]


def _entry_values(p: Prepared, created_at: Any) -> tuple[Any, ...]:
    """``ledger.sql``'s entry columns: kind, reason_zh, reason_en, memo,
    metadata, actor_ref, cause_ref, idempotency_key, request_fingerprint,
    reverses, created_at."""
    return (KIND, REASON_ZH, REASON_EN, "", "{}", "system", "", p.transfer.key, p.fingerprint, None, created_at)


async def post_postgres(connection: Any, p: Prepared) -> None:
    """One transfer's statements on ``connection``, inside its transaction:
    ``LOCK_ACCOUNTS``, ``INSERT_ENTRY_WITH_POSTINGS``, ``STORE_BALANCES``."""
    minor = p.transfer.minor
    rows = await connection.fetch(sql.LOCK_ACCOUNTS.postgres, p.codes)
    new_debit, new_credit, held_debit, held_credit = _locked(rows, p)
    inserted = await connection.fetch(
        sql.INSERT_ENTRY_WITH_POSTINGS.postgres,
        *_entry_values(p, p.created_at),
        [p.debit_id, p.credit_id],
        [-minor, minor],
        [new_debit, new_credit],
    )
    if not inserted:
        return  # the key was taken: nothing written (never happens here, every key is new)
    await connection.fetch(
        sql.STORE_BALANCES.postgres,
        [p.debit_id, p.credit_id],
        [new_debit, new_credit],
        [held_debit, held_credit],
    )


def post_sqlite(connection: sqlite3.Connection, p: Prepared) -> None:
    """One whole transfer on ``connection``: ``BEGIN IMMEDIATE``,
    ``LOCK_ACCOUNTS``, ``INSERT_ENTRY``, ``INSERT_POSTING`` per leg,
    ``STORE_BALANCES`` per account, ``COMMIT``."""
    minor = p.transfer.minor
    connection.execute("BEGIN IMMEDIATE")
    try:
        rows = connection.execute(sql.LOCK_ACCOUNTS.sqlite, (p.codes_json,)).fetchall()
        new_debit, new_credit, held_debit, held_credit = _locked(rows, p)
        inserted = connection.execute(sql.INSERT_ENTRY.sqlite, _entry_values(p, p.created_at_text)).fetchall()
        if inserted:
            entry_id = inserted[0][0]
            connection.execute(sql.INSERT_POSTING.sqlite, (entry_id, p.debit_id, -minor, new_debit, p.created_at_text))
            connection.execute(sql.INSERT_POSTING.sqlite, (entry_id, p.credit_id, minor, new_credit, p.created_at_text))
            connection.execute(sql.STORE_BALANCES.sqlite, (p.debit_id, new_debit, held_debit))
            connection.execute(sql.STORE_BALANCES.sqlite, (p.credit_id, new_credit, held_credit))
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
