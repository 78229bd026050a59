import os

from piccolo.conf.apps import AppConfig

from leaderboards.tables import LeagueRule, Season, SeasonStanding

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

# The boards live in Redis and are rebuilt from the ledger; a member's
# ranking visibility is a column of community_member.
APP_CONFIG = AppConfig(
    app_name="leaderboards",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[LeagueRule, Season, SeasonStanding],
    migration_dependencies=["ledger.piccolo_app", "community.piccolo_app"],
    commands=[],
)
