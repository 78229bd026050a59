"""A deployment with history gets its subtree totals from its own rows when
the totals' migration lands: the SQL backfill writes exactly the rows the
rollup job writes for the same history (both engines)."""

from __future__ import annotations

import importlib
from typing import Any

from piccolo.table import Table

from reporting.rollups import catch_up
from reporting.tables import ActivityShare, ActivityTotal, LedgerTotal, MemberTotal, RedemptionTotal
from tests.integration.reporting.test_figures_property import Planned, scenario

MIGRATION = importlib.import_module("reporting.piccolo_migrations.reporting_2026_12_01t06_39_37_512840")
TOTALS: tuple[type[Table], ...] = (LedgerTotal, RedemptionTotal, ActivityTotal, ActivityShare, MemberTotal)


async def _contents() -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    for table in TOTALS:
        rows = await table.select().run()
        found[table._meta.tablename] = sorted(
            tuple(int(v) if isinstance(v, int) else v for k, v in sorted(row.items()) if k != "id") for row in rows
        )
    return found


async def test_the_migrations_backfill_writes_the_totals_the_job_writes() -> None:
    plan = [
        Planned(0, None, 90, 0, True, False, True),
        Planned(1, "hazard", 30, 3, True, False, False),
        Planned(3, None, 60, 20, True, False, False),
        Planned(2, "tip", 30, 9, False, False, True),
    ]
    await scenario(plan, 7, False)
    await catch_up()
    by_the_job = await _contents()
    assert all(by_the_job[table._meta.tablename] for table in (LedgerTotal, ActivityTotal, MemberTotal))

    for table in TOTALS:  # as before the migration: own rows only
        await table.delete(force=True).run()
    for statement in MIGRATION.backfill_statements():
        await LedgerTotal._meta.db.run_ddl(statement)
    assert await _contents() == by_the_job
