import os

from piccolo.conf.apps import AppConfig

from fraud.tables import FraudAllowPair, FraudCase, FraudDecision, FraudSnooze, FraudThreshold

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="fraud",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[FraudDecision, FraudCase, FraudThreshold, FraudSnooze, FraudAllowPair],
    migration_dependencies=["community.piccolo_app"],
    commands=[],
)
