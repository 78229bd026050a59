from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T20:55:21:830330"
VERSION = "1.38.0"
DESCRIPTION = "marketplace unique indexes and checks"

# Uniqueness Piccolo cannot declare portably (SQLite cannot add table
# constraints after creation), plus the value checks backing the services:
# - a member of staff is listed once per shop, an item once per shop;
# - a pickup code is unique among open (placed) orders only;
# - a shop's period is settled once;
# - stock never goes below zero (CHECK on PostgreSQL, trigger on SQLite).
INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS marketplace_shop_staff_one "
    "ON marketplace_shop_staff (shop, member)",
    "CREATE UNIQUE INDEX IF NOT EXISTS marketplace_item_shop_one "
    "ON marketplace_catalog_item_shop (item, shop)",
    "CREATE UNIQUE INDEX IF NOT EXISTS marketplace_open_pickup_code "
    "ON marketplace_order (pickup_code) WHERE status = 'placed'",
    "CREATE UNIQUE INDEX IF NOT EXISTS marketplace_settlement_period_one "
    "ON marketplace_settlement (shop, period_start)",
    "CREATE INDEX IF NOT EXISTS marketplace_order_member_item_placed "
    "ON marketplace_order (member, item, placed_at)",
]

CHECKS = [
    ("marketplace_catalog_item", "marketplace_item_stock_not_negative", "stock IS NULL OR stock >= 0"),
    ("marketplace_order", "marketplace_order_quantity_positive", "quantity > 0"),
]


def _statements(engine_type: str) -> list[str]:
    statements = list(INDEXES)
    for table, name, condition in CHECKS:
        if engine_type == "sqlite":
            column = condition.split()[0]
            new_condition = condition.replace(column, f"NEW.{column}")
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
        migration_id=ID, app_name="marketplace", description=DESCRIPTION
    )

    async def run():
        from marketplace.tables import Shop

        db = Shop._meta.db
        for statement in _statements(db.engine_type):
            await db.run_ddl(statement)

    manager.add_raw(run)

    return manager
