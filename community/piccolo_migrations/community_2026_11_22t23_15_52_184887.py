from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T23:15:52:184887"
VERSION = "1.38.0"
DESCRIPTION = "team membership uniqueness"

# A member is in a team once. A unique index, not a table constraint:
# SQLite cannot add constraints to existing tables.
INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS community_team_member_one ON community_team_member (team, member)",
]

CHECKS: list[tuple[str, str, str, tuple[str, ...]]] = []


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
        migration_id=ID, app_name="community", description=DESCRIPTION
    )

    async def run():
        from community.tables import Team as table

        db = table._meta.db
        for statement in _statements(db.engine_type):
            await db.run_ddl(statement)

    manager.add_raw(run)

    return manager
