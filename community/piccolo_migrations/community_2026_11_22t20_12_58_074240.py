from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T20:12:58:074240"
VERSION = "1.38.0"
DESCRIPTION = "role grant uniqueness"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="community", description=DESCRIPTION
    )

    # One grant per (member, organisation, role). A unique index rather than
    # a table constraint: SQLite cannot add constraints to existing tables.
    async def run():
        from community.tables import RoleGrant

        await RoleGrant._meta.db.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS community_role_grant_one "
            "ON community_role_grant (member, organisation, role)"
        )

    manager.add_raw(run)

    return manager
