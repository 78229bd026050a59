from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T23:15:52:638528"
VERSION = "1.38.0"
DESCRIPTION = "campaign checks and one open default per organisation"

# - at most one open default campaign per organisation (partial unique index);
# - status is open or closed, and a campaign ends after it starts
#   (CHECK on PostgreSQL, trigger on SQLite).
INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS campaigns_one_open_default "
    "ON campaigns_campaign (organisation) WHERE is_default AND status = 'open'",
]

CHECKS = [
    ("campaigns_campaign", "campaigns_status_known", "status IN ('open', 'closed')", ("status",)),
    (
        "campaigns_campaign",
        "campaigns_ends_after_start",
        "ends_at IS NULL OR ends_at > starts_at",
        ("ends_at", "starts_at"),
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
        migration_id=ID, app_name="campaigns", description=DESCRIPTION
    )

    async def run():
        from campaigns.tables import Campaign as table

        db = table._meta.db
        for statement in _statements(db.engine_type):
            await db.run_ddl(statement)

    manager.add_raw(run)

    return manager
