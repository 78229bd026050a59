import os

from piccolo.conf.apps import AppConfig

from ledger.tables import (
    LedgerAccount,
    LedgerChainBlock,
    LedgerEntry,
    LedgerHold,
    LedgerPosting,
)

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="ledger",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[LedgerAccount, LedgerEntry, LedgerPosting, LedgerHold, LedgerChainBlock],
    migration_dependencies=[],
    commands=[],
)
