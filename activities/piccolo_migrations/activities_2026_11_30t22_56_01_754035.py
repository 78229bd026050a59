from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey

ID = "2026-11-30T22:56:01:754035"
VERSION = "1.38.0"
DESCRIPTION = ""


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="activities", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Activity",
        tablename="activities_activity",
        column_name="verifier",
        db_column_name="verifier",
        params={"index": True},
        old_params={"index": False},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    return manager
