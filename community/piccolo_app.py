import os

from piccolo.conf.apps import AppConfig

from community.tables import (
    AdjustmentRequest,
    AuditEvent,
    Invitation,
    Member,
    Organisation,
    PastTeamMember,
    RoleGrant,
    Team,
    TeamMember,
)

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="community",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        Organisation,
        Member,
        RoleGrant,
        AuditEvent,
        Team,
        TeamMember,
        PastTeamMember,
        Invitation,
        AdjustmentRequest,
    ],
    migration_dependencies=["ledger.piccolo_app"],
    commands=[],
)
