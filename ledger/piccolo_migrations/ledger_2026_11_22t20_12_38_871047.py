from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T20:12:38:871047"
VERSION = "1.38.0"
DESCRIPTION = "ledger value checks and composite indexes"

# Value rules the database enforces even if a service had a bug:
# a no-negative account never has balance - held below zero, holds and held
# totals are positive, a posting is never zero. PostgreSQL gets CHECK
# constraints; SQLite cannot add a constraint to an existing table, so it gets
# triggers that abort the statement with the constraint's name.
CHECKS = {
    "ledger_account": [
        (
            "ledger_account_no_negative_available",
            "allow_negative OR balance_minor - held_minor >= 0",
        ),
        ("ledger_account_held_not_negative", "held_minor >= 0"),
    ],
    "ledger_posting": [("ledger_posting_nonzero", "amount_minor <> 0")],
    "ledger_hold": [("ledger_hold_positive", "amount_minor > 0")],
}

# Piccolo declares single-column indexes only. Statements and as-of balance
# reads walk one account's postings newest-first, the chain sealer looks only
# at entries not yet sealed, and the expiry job only at active holds.
INDEXES = [
    "CREATE INDEX IF NOT EXISTS ledger_posting_account_id_id "
    "ON ledger_posting (account, id)",
    "CREATE INDEX IF NOT EXISTS ledger_posting_account_created "
    "ON ledger_posting (account, created_at)",
    "CREATE INDEX IF NOT EXISTS ledger_entry_unsealed "
    "ON ledger_entry (id) WHERE chain_seq IS NULL",
    "CREATE INDEX IF NOT EXISTS ledger_hold_active_expiry "
    "ON ledger_hold (expires_at) WHERE status = 'active'",
]


def _statements(engine_type: str) -> list[str]:
    statements: list[str] = []
    for table, checks in CHECKS.items():
        for name, condition in checks:
            if engine_type == "sqlite":
                for event in ("INSERT", "UPDATE"):
                    statements.append(
                        f"CREATE TRIGGER IF NOT EXISTS {name}_{event.lower()} "
                        f"BEFORE {event} ON {table} FOR EACH ROW "
                        f"WHEN NOT ({_new_row(condition, table)}) "
                        f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END"
                    )
            else:
                statements.append(
                    f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition})"
                )
    return statements + INDEXES


def _new_row(condition: str, table: str) -> str:
    """Qualify the condition's columns with NEW. for a SQLite trigger."""
    columns = {
        "ledger_account": ["allow_negative", "balance_minor", "held_minor"],
        "ledger_posting": ["amount_minor"],
        "ledger_hold": ["amount_minor"],
    }[table]
    for column in columns:
        condition = condition.replace(column, f"NEW.{column}")
    return condition


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="ledger", description=DESCRIPTION
    )

    async def run():
        from ledger.tables import LedgerEntry

        db = LedgerEntry._meta.db
        for statement in _statements(db.engine_type):
            await db.run_ddl(statement)

    manager.add_raw(run)

    return manager
