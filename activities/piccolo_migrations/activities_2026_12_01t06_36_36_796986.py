from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T06:36:36:796986"
VERSION = "1.38.0"
DESCRIPTION = "verifier approvals by time"

# The award screening counts a verifier's approvals within the fraud rules'
# concentration window, and stops as soon as the count decides the rule
# (activities/sql.py VERIFIER_APPROVALS_UP_TO). On (verifier, verified_at,
# status) it reads only the window's entries, from the index alone, however
# long the verifier's history.
INDEXES = [
    "CREATE INDEX IF NOT EXISTS activities_verifier_verified ON activities_activity (verifier, verified_at, status)",
]


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="activities", description=DESCRIPTION
    )

    async def run():
        from activities.tables import Activity as table

        db = table._meta.db
        for statement in INDEXES:
            await db.run_ddl(statement)

    manager.add_raw(run)

    return manager
