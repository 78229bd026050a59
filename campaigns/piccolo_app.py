import os

from piccolo.conf.apps import AppConfig

from campaigns.tables import Campaign

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="campaigns",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Campaign],
    migration_dependencies=["ledger.piccolo_app", "community.piccolo_app"],
    commands=[],
)
