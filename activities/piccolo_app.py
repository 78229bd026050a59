import os

from piccolo.conf.apps import AppConfig

from activities.tables import (
    Activity,
    ActivityPhoto,
    Escalation,
    PatrolPoint,
    PatrolTask,
    Photo,
    PhotoBand,
    TaskClaim,
)

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="activities",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[PatrolTask, Activity, TaskClaim, PatrolPoint, Photo, PhotoBand, ActivityPhoto, Escalation],
    migration_dependencies=["ledger.piccolo_app", "community.piccolo_app", "campaigns.piccolo_app"],
    commands=[],
)
