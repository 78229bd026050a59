from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T23:15:53:099580"
VERSION = "1.38.0"
DESCRIPTION = "activity uniqueness, cap lookups and checks"

# - a phone's retried submission is one activity: (member, client_ref) unique;
# - a photo is attached to an activity once;
# - caps sum a member's awards per campaign and day / week: indexed;
# - awarded points are never negative and a rating is 1-5
#   (CHECK on PostgreSQL, triggers on SQLite).
INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS activities_client_ref_one "
    "ON activities_activity (member, client_ref) WHERE client_ref IS NOT NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS activities_photo_once "
    "ON activities_activity_photo (activity, photo)",
    "CREATE INDEX IF NOT EXISTS activities_cap_day ON activities_activity (member, campaign, award_day)",
    "CREATE INDEX IF NOT EXISTS activities_cap_week ON activities_activity (member, campaign, award_week)",
    "CREATE INDEX IF NOT EXISTS activities_member_started ON activities_activity (member, started_at)",
]

CHECKS = [
    (
        "activities_activity",
        "activities_points_not_negative",
        "points_awarded_minor >= 0 AND bonus_minor >= 0",
        ("points_awarded_minor", "bonus_minor"),
    ),
    (
        "activities_activity",
        "activities_rating_range",
        "rating IS NULL OR (rating >= 1 AND rating <= 5)",
        ("rating",),
    ),
    (
        "activities_activity",
        "activities_ends_after_start",
        "ended_at IS NULL OR ended_at >= started_at",
        ("ended_at", "started_at"),
    ),
]


def _statements(engine_type: str) -> list[str]:
    statements = list(INDEXES)
    for table, name, condition, columns in CHECKS:
        if engine_type == "sqlite":
            new_condition = condition
            for column in columns:
                new_condition = new_condition.replace(column, f"NEW.{column}")
            for event in ("INSERT", "UPDATE"):
                statements.append(
                    f"CREATE TRIGGER IF NOT EXISTS {name}_{event.lower()} "
                    f"BEFORE {event} ON {table} FOR EACH ROW "
                    f"WHEN NOT ({new_condition}) "
                    f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END"
                )
        else:
            statements.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition})")
    return statements


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="activities", description=DESCRIPTION
    )

    async def run():
        from activities.tables import Activity as table

        db = table._meta.db
        for statement in _statements(db.engine_type):
            await db.run_ddl(statement)

    manager.add_raw(run)

    return manager
