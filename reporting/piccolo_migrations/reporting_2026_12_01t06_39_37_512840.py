from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T06:39:37:512840"
VERSION = "1.38.0"
DESCRIPTION = "subtree totals: backfilled from the own rows, composite indexes"

# The dashboard reads one node's totals over a range of days or months
# (``reporting/figures.py``): (node_id, grain, period) serves each of those
# ranges, and the job's merges of a batch's (node, grain, period) keys.
# Active volunteers count the node's distinct members over a 30-day window:
# (node_id, day, member_id) serves it from the index alone on PostgreSQL.
# The activity job deletes a (node, day) group's rows and their copies:
# (organisation_id, day) and (source_id, day).
INDEXES = [
    "CREATE INDEX IF NOT EXISTS reporting_ledger_total_read ON reporting_ledger_total (node_id, grain, period)",
    "CREATE INDEX IF NOT EXISTS reporting_redemption_total_read "
    "ON reporting_redemption_total (node_id, grain, period)",
    "CREATE INDEX IF NOT EXISTS reporting_activity_total_read ON reporting_activity_total (node_id, grain, period)",
    "CREATE INDEX IF NOT EXISTS reporting_activity_share_read ON reporting_activity_share (node_id, grain, period)",
    "CREATE INDEX IF NOT EXISTS reporting_member_total_read ON reporting_member_total (node_id, day, member_id)",
    "CREATE INDEX IF NOT EXISTS reporting_member_total_source ON reporting_member_total (source_id, day)",
    "CREATE INDEX IF NOT EXISTS reporting_activity_day_group ON reporting_activity_day (organisation_id, day)",
    "CREATE INDEX IF NOT EXISTS reporting_member_day_group ON reporting_member_day (organisation_id, day)",
]

# A deployment with history has own rows but no totals yet: the totals are
# filled from the own rows here, in SQL, for every node on each row's path
# (the path's 10-digit segments, at most 12), at both grains, so the
# dashboard shows the same figures the moment this lands (the job then adds
# to them; ``fengling reporting rebuild`` remains the way to replay all).
SEGMENT = 10
DEPTH = 12
GRAINS = (("day", "day"), ("month", "substr(day, 1, 7)"))
ACTIVITY_SUMS = ("activities", "minutes", "points_minor", "accept_done", "accept_late", "finish_done", "finish_late")


def backfill_statements() -> list[str]:
    statements = []
    for depth in range(DEPTH):
        node = f"CAST(substr(org_path, {SEGMENT * depth + 1}, {SEGMENT}) AS INTEGER)"
        on_path = f"length(org_path) >= {SEGMENT * (depth + 1)}"
        statements.append(
            "INSERT INTO reporting_member_total (node_id, day, member_id, source_id) "
            f"SELECT {node}, day, member_id, organisation_id FROM reporting_member_day WHERE {on_path}"
        )
        for grain, period in GRAINS:
            head = f"SELECT {node}, '{grain}', {period}"
            group = f"GROUP BY {node}, {period}"
            statements += [
                "INSERT INTO reporting_ledger_total "
                "(node_id, grain, period, account_class, kind, amount_minor, legs) "
                f"{head}, account_class, kind, SUM(amount_minor), SUM(legs) FROM reporting_ledger_day "
                f"WHERE {on_path} {group}, account_class, kind",
                "INSERT INTO reporting_redemption_total "
                "(node_id, grain, period, shop_id, item_id, points_minor, quantity, orders) "
                f"{head}, shop_id, item_id, SUM(points_minor), SUM(quantity), SUM(orders) "
                f"FROM reporting_redemption_day WHERE {on_path} {group}, shop_id, item_id",
                "INSERT INTO reporting_activity_total "
                f"(node_id, grain, period, kind, status, report_kind, {', '.join(ACTIVITY_SUMS)}) "
                f"{head}, kind, status, report_kind, {', '.join(f'SUM({c})' for c in ACTIVITY_SUMS)} "
                f"FROM reporting_activity_day WHERE {on_path} {group}, kind, status, report_kind",
                "INSERT INTO reporting_activity_share "
                "(node_id, grain, period, by, ref_id, activities, points_minor, minutes) "
                f"{head}, 'node', organisation_id, SUM(activities), SUM(points_minor), SUM(minutes) "
                f"FROM reporting_activity_day WHERE {on_path} {group}, organisation_id",
                "INSERT INTO reporting_activity_share "
                "(node_id, grain, period, by, ref_id, activities, points_minor, minutes) "
                f"{head}, 'team', team_id, SUM(activities), SUM(points_minor), SUM(minutes) "
                f"FROM reporting_activity_day WHERE {on_path} AND team_id != 0 {group}, team_id",
            ]
    return statements


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reporting", description=DESCRIPTION)

    async def run():
        from reporting.tables import LedgerTotal as table

        db = table._meta.db
        for statement in [*backfill_statements(), *INDEXES]:
            await db.run_ddl(statement)

    manager.add_raw(run)

    return manager
