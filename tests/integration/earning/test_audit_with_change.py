"""A change and its audit record commit or roll back together.

The audit write is made to fail (as a full disk or a lost connection would)
inside each service: the whole change must then be gone too, the ledger
included. Before issue #8 the API wrote the audit row after the domain had
committed, so a failing audit left an unaudited grant, funding or award.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from activities.verification import reject_activity, verify_activity
from campaigns.funding import close_campaign, fund_campaign
from community import audit, structure
from community.access import load_principal
from community.posts import grant_post
from community.roles import Level, Role
from community.tables import AuditEvent
from tests.support.earning_helpers import World, service
from tests.support.marketplace_helpers import assert_ledger_ok, assert_same, snapshot_everything


class AuditStoreDown(Exception):
    """What the injected audit failure raises."""


async def _service_call(name: str, world: World) -> Callable[[], Awaitable[Any]]:
    """The call under test, with whatever it needs set up beforehand."""
    organiser = await load_principal(world.organizer)
    if name == "grant_post":
        return lambda: grant_post(organiser, world.grid, world.volunteers[0], Role.GRID_WORKER)
    if name == "create_organisation":
        return lambda: structure.create_organisation(
            organiser, parent_id=world.community, level=Level.GRID, name_zh="三网格"
        )
    campaign = await world.campaign(budget="100.00")
    if name == "fund_campaign":  # posts issuance → budget
        return lambda: fund_campaign(organiser, campaign.id, amount="50.00", idempotency_key="audit-test")
    if name == "close_campaign":  # returns the budget to issuance
        return lambda: close_campaign(organiser, campaign.id)
    log = await service(world.volunteers[0])
    grid_worker = await load_principal(world.grid_worker)
    if name == "verify_activity":  # awards points: budget → wallet
        return lambda: verify_activity(grid_worker, log.id)
    await verify_activity(grid_worker, log.id)
    assert name == "reject_activity"  # reverses the award
    return lambda: reject_activity(organiser, log.id, reason="核实有误")


SERVICES = (
    "grant_post",
    "create_organisation",
    "fund_campaign",
    "close_campaign",
    "verify_activity",
    "reject_activity",
)


@pytest.mark.parametrize("name", SERVICES)
async def test_a_failing_audit_write_rolls_the_change_back(
    world: World, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    call = await _service_call(name, world)
    before = await snapshot_everything()

    async def fail(*args: Any, **kwargs: Any) -> None:
        raise AuditStoreDown("the audit trail cannot be written")

    monkeypatch.setattr(audit, "record", fail)
    with pytest.raises(AuditStoreDown):
        await call()
    monkeypatch.undo()

    assert_same(before, await snapshot_everything())
    await assert_ledger_ok()
    # With the audit trail back, the same call goes through and leaves its row.
    audits = await AuditEvent.count().run()
    await call()
    assert await AuditEvent.count().run() == audits + 1
    assert await snapshot_everything() != before
