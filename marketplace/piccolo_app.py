import os

from piccolo.conf.apps import AppConfig

from marketplace.tables import (
    CatalogItem,
    CatalogItemShop,
    PickupConflict,
    RedemptionOrder,
    SettlementStatement,
    Shop,
    ShopStaff,
    SigningKey,
)

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="marketplace",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        Shop,
        ShopStaff,
        CatalogItem,
        CatalogItemShop,
        RedemptionOrder,
        SettlementStatement,
        SigningKey,
        PickupConflict,
    ],
    migration_dependencies=["ledger.piccolo_app", "community.piccolo_app"],
    commands=[],
)
