"""Schema set-up and per-test cleanup for both engines."""

from __future__ import annotations

from piccolo.table import Table

from admin.migrations import migrate
from community.piccolo_app import APP_CONFIG as COMMUNITY
from ledger.piccolo_app import APP_CONFIG as LEDGER
from ledger.tables import LedgerAccount


def engine_type() -> str:
    return str(LedgerAccount._meta.db.engine_type)


def on_postgres() -> bool:
    return engine_type() == "postgres"


def all_tables() -> list[type[Table]]:
    return [*LEDGER.table_classes, *COMMUNITY.table_classes]


async def migrate_once() -> None:
    await migrate()


async def truncate_all() -> None:
    db = LedgerAccount._meta.db
    names = [table._meta.tablename for table in all_tables()]
    if db.engine_type == "postgres":
        await db.run_ddl(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
        return
    # SQLite: children before parents, then reset AUTOINCREMENT counters.
    async with db.transaction():
        for name in ("ledger_hold", "ledger_posting", "ledger_entry", "ledger_account",
                     "community_audit_event", "community_role_grant", "community_member",
                     "community_organisation"):
            await db.run_ddl(f"DELETE FROM {name}")
        missing = set(names) - {"ledger_hold", "ledger_posting", "ledger_entry", "ledger_account",
                                "community_audit_event", "community_role_grant", "community_member",
                                "community_organisation"}
        assert not missing, f"add {missing} to the SQLite cleanup order"
