from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T03:26:07:928526"
VERSION = "1.38.0"
DESCRIPTION = "one badge per member and occasion; one threshold per star"

# Unique indexes, not table constraints: SQLite cannot add constraints to
# existing tables. The badge index is what makes awarding idempotent under
# concurrent awarders (INSERT ... ON CONFLICT DO NOTHING).
INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS recognition_badge_once "
    "ON recognition_badge (member, badge, occasion)",
    "CREATE UNIQUE INDEX IF NOT EXISTS recognition_star_threshold_one "
    "ON recognition_star_threshold (organisation, stars)",
]


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="recognition", description=DESCRIPTION
    )

    async def run():
        from recognition.tables import BadgeAward

        for statement in INDEXES:
            await BadgeAward._meta.db.run_ddl(statement)

    manager.add_raw(run)

    return manager
