import os

from piccolo.conf.apps import AppConfig

from reporting.tables import (
    ActivityDay,
    ActivityShare,
    ActivityTotal,
    LedgerDay,
    LedgerTotal,
    MemberDay,
    MemberTotal,
    RedemptionDay,
    RedemptionTotal,
    ReportingCursor,
)

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

# Rollups over the other apps' tables; nothing here is a source of truth.
APP_CONFIG = AppConfig(
    app_name="reporting",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        ReportingCursor,
        LedgerDay,
        RedemptionDay,
        ActivityDay,
        MemberDay,
        LedgerTotal,
        RedemptionTotal,
        ActivityTotal,
        ActivityShare,
        MemberTotal,
    ],
    migration_dependencies=["ledger.piccolo_app", "community.piccolo_app"],
    commands=[],
)
