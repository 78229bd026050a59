from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T18:20:30:288773"
VERSION = "1.38.0"
DESCRIPTION = "partial index for an account's active holds"

# The wallet read (ledger/account_view.py) lists an account's active holds
# newest first. Through ledger_hold_account it walked every hold the
# account ever had and dropped the resolved ones: one per order the member
# ever placed, so the busiest read grew with each member's history. This
# index holds active holds only, in the order the read wants them. Both
# engines read a partial index only when the statement names the same
# literal status (not a parameter), which ledger/account_view.py does.
# ledger_hold_account stays: the list of all of an account's holds and the
# foreign key's checks use it.
ACTIVE_HOLDS_OF_ACCOUNT = (
    "CREATE INDEX IF NOT EXISTS ledger_hold_active_account "
    "ON ledger_hold (account, id) WHERE status = 'active'"
)


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="ledger", description=DESCRIPTION
    )

    async def run():
        from ledger.tables import LedgerHold

        await LedgerHold._meta.db.run_ddl(ACTIVE_HOLDS_OF_ACCOUNT)

    manager.add_raw(run)

    return manager
