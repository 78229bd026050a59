from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T10:59:14:425720"
VERSION = "1.38.0"
DESCRIPTION = "partial index of open cases by member"

# The wallet read (fraud/pending.py) asks on every request whether the
# member has an open review case, and lists the open ones when they have.
# Through fraud_case_member it read every case the member ever had and
# dropped the decided ones, so the busiest read grew with each member's
# history. This index holds open cases only, in the order the list wants
# them (earliest deadline first). Both engines read a partial index only
# when the statement names the same literal status (not a parameter),
# which fraud/sql.py does. fraud_case_member stays: the foreign key's
# checks and a member's list of all their cases (fraud/cases.py) use it.
OPEN_CASES_OF_MEMBER = (
    "CREATE INDEX IF NOT EXISTS fraud_case_open_member "
    "ON fraud_case (member, due_at) WHERE status = 'open'"
)


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="fraud", description=DESCRIPTION
    )

    async def run():
        from fraud.tables import FraudCase

        await FraudCase._meta.db.run_ddl(OPEN_CASES_OF_MEMBER)

    manager.add_raw(run)

    return manager
