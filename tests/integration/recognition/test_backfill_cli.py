"""``fengling recognition backfill``, run in-process: awards what history
earns, and nothing more the second time."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from activities.submissions import ReportIn, submit_report
from activities.verification import verify_activity
from admin.cli import app
from campaigns.rules import ReportKind
from community.access import load_principal
from recognition.tables import BadgeAward
from tests.support.earning_helpers import build_world

runner = CliRunner()


async def _verified_report_without_its_badge() -> int:
    world = await build_world()
    await world.campaign()
    volunteer = world.volunteers[0]
    report = await submit_report(
        await load_principal(volunteer),
        ReportIn(report_kind=ReportKind.TIP, title="路灯不亮", position={"latitude": 35.0, "longitude": 118.0}),
    )
    await verify_activity(await load_principal(world.grid_worker), report.id)
    await BadgeAward.delete(force=True).run()  # as if verified before badges existed
    return volunteer


async def _badges(member_id: int) -> list[str]:
    return [str(row["badge"]) for row in await BadgeAward.select().where(BadgeAward.member == member_id).run()]


def test_the_backfill_awards_history_once_and_says_how_many() -> None:
    volunteer = asyncio.run(_verified_report_without_its_badge())
    first = runner.invoke(app, ["recognition", "backfill"])
    assert first.exit_code == 0, first.output
    assert "awarded 1 badge(s)" in first.output
    assert asyncio.run(_badges(volunteer)) == ["first_report"]
    again = runner.invoke(app, ["recognition", "backfill"])
    assert "awarded 0 badge(s)" in again.output
