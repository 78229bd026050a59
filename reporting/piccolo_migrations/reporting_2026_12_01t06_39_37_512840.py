from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T06:39:37:512840"
VERSION = "1.38.0"
DESCRIPTION = "composite indexes of the subtree totals"

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


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reporting", description=DESCRIPTION)

    async def run():
        from reporting.tables import LedgerTotal as table

        db = table._meta.db
        for statement in INDEXES:
            await db.run_ddl(statement)

    manager.add_raw(run)

    return manager
