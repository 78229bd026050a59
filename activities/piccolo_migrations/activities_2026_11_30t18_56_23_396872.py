from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T18:56:23:396872"
VERSION = "1.38.0"
DESCRIPTION = "one live claim per member and grab-order task"

# A member holds at most one live claim (claimed or checked in) per task.
# patrol_tasks.claim_task checks first; this partial unique index is the
# backstop for two taps racing each other. Both engines have partial indexes.
ONE_LIVE_CLAIM = (
    "CREATE UNIQUE INDEX IF NOT EXISTS activities_task_claim_one_live "
    "ON activities_task_claim (task, member) WHERE status IN ('claimed', 'checked_in')"
)


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="activities", description=DESCRIPTION
    )

    async def run():
        from activities.tables import TaskClaim

        await TaskClaim._meta.db.run_ddl(ONE_LIVE_CLAIM)

    manager.add_raw(run)

    return manager
