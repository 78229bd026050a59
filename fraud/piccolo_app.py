import os

from piccolo.conf.apps import AppConfig

from fraud.tables import FraudCase, FraudDecision, FraudThreshold

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="fraud",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[FraudDecision, FraudCase, FraudThreshold],
    migration_dependencies=["community.piccolo_app"],
    commands=[],
)
