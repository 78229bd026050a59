"""``fengling ledger expire-adjustments``: the cron face of the expiry job
that voids four-eyes adjustment requests nobody decided in time."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from typer.testing import CliRunner

from admin.cli import app
from community.accounts import issuance_code, wallet_code
from community.manual_points import AdjustmentDraft, adjust
from community.models import AdjustmentRequestRecord
from community.tables import AdjustmentRequest, Member
from core.clock import utc_now
from ledger.accounts import get_balance
from tests.support.community_helpers import principal
from tests.support.demo_snapshot import load_demo_quickly

runner = CliRunner()


async def _overdue_request() -> AdjustmentRequestRecord:
    from seeds.demo import DEMO_LOGINS

    await load_demo_quickly()
    phones = {login.role: login.phone for login in DEMO_LOGINS}
    admin = (await Member.select(Member.id).where(Member.phone == phones["admin"]).run())[0]["id"]
    organiser = (await Member.select().where(Member.phone == phones["organizer"]).run())[0]
    volunteer = (await Member.select(Member.id).where(Member.phone == phones["volunteer"]).run())[0]["id"]
    made = await adjust(
        await principal(admin),
        AdjustmentDraft(
            debit_account=issuance_code(organiser["home_organisation"]),
            credit_account=wallet_code(volunteer),
            amount=Decimal("800.00"),
            reason_zh="年度表彰",
        ),
        idempotency_key="cli-expiry-0001",
    )
    assert isinstance(made, AdjustmentRequestRecord)
    # Nobody decided within the approval window.
    await (
        AdjustmentRequest.update({AdjustmentRequest.expires_at: utc_now() - timedelta(minutes=1)})
        .where(AdjustmentRequest.id == made.id)
        .run()
    )
    return made


def test_expire_adjustments_voids_overdue_requests() -> None:
    made = asyncio.run(_overdue_request())
    result = runner.invoke(app, ["ledger", "expire-adjustments"])
    assert result.exit_code == 0, result.output
    assert "expired 1 adjustment requests" in result.output
    again = runner.invoke(app, ["ledger", "expire-adjustments"])
    assert "expired 0 adjustment requests" in again.output

    async def check() -> None:
        row = (await AdjustmentRequest.select().where(AdjustmentRequest.id == made.id).run())[0]
        assert row["status"] == "expired"
        assert (await get_balance(made.debit_account)).held == Decimal("0.00")

    asyncio.run(check())
