"""The transaction bodies ``ledger_posting_parts.py`` compares: what runs
between ``BEGIN IMMEDIATE`` and ``COMMIT`` for one SQLite transfer, three
ways. Imported only once the bench has pointed Fengling at its throwaway
database (importing ``ledger`` reads the settings)."""

from __future__ import annotations

import sqlite3

from ledger_ceiling import KIND, REASON_EN, REASON_ZH, Prepared, Transfer, _entry_values, _locked

from core.fixed_sql import Script, drive_sqlite
from ledger import sql
from ledger.amounts import parse_amount
from ledger.models import EntryRequest, Leg
from ledger.posting import post_steps


def request(t: Transfer) -> EntryRequest:
    """The request ``ledger.posting.transfer`` builds for ``t``."""
    points = parse_amount(t.amount)
    return EntryRequest(
        kind=KIND,
        legs=(Leg(account_code=t.debit, amount=-points), Leg(account_code=t.credit, amount=points)),
        reason_zh=REASON_ZH,
        reason_en=REASON_EN,
        idempotency_key=t.key,
    )


def ours_body(connection: sqlite3.Connection, entry: EntryRequest, fingerprint: str) -> None:
    """The posting service's transaction: lock, decide, write, the record."""
    drive_sqlite(connection, post_steps(entry, fingerprint))


def _bare_script(p: Prepared) -> Script[None]:
    minor = p.transfer.minor
    rows = yield sql.LOCK_ACCOUNTS(p.codes)
    new_debit, new_credit, held_debit, held_credit = _locked(rows, p)
    inserted = yield sql.INSERT_ENTRY(*_entry_values(p, p.created_at_text))
    entry_id = inserted[0]["id"]
    yield sql.INSERT_POSTING(entry_id, p.debit_id, -minor, new_debit, p.created_at_text)
    yield sql.INSERT_POSTING(entry_id, p.credit_id, minor, new_credit, p.created_at_text)
    yield sql.STORE_BALANCES(p.debit_id, new_debit, held_debit)
    yield sql.STORE_BALANCES(p.credit_id, new_credit, held_credit)


def driver_body(connection: sqlite3.Connection, p: Prepared) -> None:
    """The same statements and arguments from a bare script (no rules, no
    record), through the same driver."""
    drive_sqlite(connection, _bare_script(p))


def ceiling_body(connection: sqlite3.Connection, p: Prepared) -> None:
    """``ledger_ceiling.post_sqlite`` without its BEGIN and COMMIT."""
    minor = p.transfer.minor
    rows = connection.execute(sql.LOCK_ACCOUNTS.sqlite, (p.codes_json,)).fetchall()
    new_debit, new_credit, held_debit, held_credit = _locked(rows, p)
    inserted = connection.execute(sql.INSERT_ENTRY.sqlite, _entry_values(p, p.created_at_text)).fetchall()
    entry_id = inserted[0][0]
    connection.execute(sql.INSERT_POSTING.sqlite, (entry_id, p.debit_id, -minor, new_debit, p.created_at_text))
    connection.execute(sql.INSERT_POSTING.sqlite, (entry_id, p.credit_id, minor, new_credit, p.created_at_text))
    connection.execute(sql.STORE_BALANCES.sqlite, (p.debit_id, new_debit, held_debit))
    connection.execute(sql.STORE_BALANCES.sqlite, (p.credit_id, new_credit, held_credit))
