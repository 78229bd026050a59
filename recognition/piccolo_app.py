import os

from piccolo.conf.apps import AppConfig

from recognition.tables import BadgeAward, StarThreshold

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

# Star levels and badges: read from the ledger and the activities, never
# written into them.
APP_CONFIG = AppConfig(
    app_name="recognition",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[StarThreshold, BadgeAward],
    migration_dependencies=["activities.piccolo_app", "leaderboards.piccolo_app", "community.piccolo_app"],
    commands=[],
)
