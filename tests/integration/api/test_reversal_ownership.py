"""The generic reversal (``POST /ledger/entries/{id}/reversal``) undoes only
manual adjustments and entries no flow owns. An entry of a redemption
order, an activity award, a campaign funding or close, or a shop settlement
is refused with 409 and a code naming its flow, and nothing changes: only
that flow keeps its own state (order status, activity points, budget,
settled month) in step with the ledger.

Before the fix each of these was reversed: the order stayed "fulfilled"
with the wallet credited again, and the month could never be settled.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from community.access import load_principal
from community.accounts import issuance_code, wallet_code
from community.manual_points import owning_flow
from core.clock import utc_now
from ledger.models import EntryRecord, PostingRecord
from ledger.tables import LedgerEntry
from marketplace.periods import period_bounds
from marketplace.settlement import settle_period
from tests.integration.api.conftest import login_headers
from tests.support.marketplace_helpers import assert_ledger_ok, assert_same, snapshot_everything


async def _entry_of_kind(kind: str) -> int:
    rows = await LedgerEntry.select(LedgerEntry.id).where(LedgerEntry.kind == kind).order_by(LedgerEntry.id).run()
    assert rows, f"no {kind} entry"
    return int(rows[0]["id"])


async def _redeem_and_settle(client: AsyncTestClient[Litestar]) -> None:
    """The demo volunteer redeems the notebook at the demo shop, staff hand
    it over, and an organiser settles the month (as if it were over)."""
    volunteer = await login_headers(client, "volunteer")
    listing = (await client.get("/api/v1/catalog/items", params={"q": "笔记本"}, headers=volunteer)).json()
    item = listing["items"][0]
    shop_id = item["shops"][0]["id"]
    placed = await client.post(
        "/api/v1/orders",
        json={"item_id": item["id"], "shop_id": shop_id},
        headers={**volunteer, "Idempotency-Key": "order-to-own-0001"},
    )
    assert placed.status_code == 201, placed.text
    staff = await login_headers(client, "shop_staff")
    picked = await client.post(
        f"/api/v1/shops/{shop_id}/pickups", json={"code": placed.json()["pickup_code"]}, headers=staff
    )
    assert picked.status_code == 200, picked.text
    organiser = (await client.get("/api/v1/me", headers=await login_headers(client, "organizer"))).json()
    start, end = period_bounds("month", utc_now())
    await settle_period(
        await load_principal(organiser["id"]),
        shop_id=shop_id,
        period=f"{start.year}-{start.month:02d}",
        now=end + timedelta(seconds=1),
    )


async def _close_the_demo_campaign(client: AsyncTestClient[Litestar], organiser: dict[str, str]) -> None:
    campaigns = (await client.get("/api/v1/campaigns", headers=organiser)).json()
    campaign_id = campaigns["items"][0]["id"]
    closed = await client.post(f"/api/v1/campaigns/{campaign_id}/close", headers=organiser)
    assert closed.status_code in (200, 201), closed.text


async def test_entries_owned_by_a_flow_are_refused_naming_the_flow(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    organiser = await login_headers(client, "organizer")
    await _redeem_and_settle(client)
    await _close_the_demo_campaign(client, organiser)
    owned = {
        "redemption": "reversal_owned_by_order",
        "award": "reversal_owned_by_activity",
        "campaign_fund": "reversal_owned_by_campaign",
        "campaign_return": "reversal_owned_by_campaign",
        "settlement": "reversal_owned_by_settlement",
    }
    for kind, code in owned.items():
        entry_id = await _entry_of_kind(kind)
        assert (await client.get(f"/api/v1/ledger/entries/{entry_id}", headers=organiser)).status_code == 200
        before = await snapshot_everything()
        response = await client.post(
            f"/api/v1/ledger/entries/{entry_id}/reversal",
            json={"reason_zh": "冲正"},
            headers={**organiser, "Idempotency-Key": f"reverse-{kind}"},
        )
        assert response.status_code == 409, (kind, response.text)
        assert response.json()["code"] == code and response.json()["field"] == "entry_id", kind
        assert_same(before, await snapshot_everything())
    await assert_ledger_ok()


async def test_a_manual_adjustment_still_reverses_once(client: AsyncTestClient[Litestar], demo: None) -> None:
    organiser = await login_headers(client, "organizer")
    me = (await client.get("/api/v1/me", headers=organiser)).json()
    volunteer = (await client.get("/api/v1/me", headers=await login_headers(client, "volunteer"))).json()
    made = await client.post(
        "/api/v1/ledger/adjustments",
        json={
            "debit_account": issuance_code(me["home_organisation_id"]),
            "credit_account": wallet_code(volunteer["id"]),
            "amount": "2.00",
            "reason_zh": "补录",
        },
        headers={**organiser, "Idempotency-Key": "manual-to-reverse"},
    )
    reversed_ = await client.post(
        f"/api/v1/ledger/entries/{made.json()['id']}/reversal",
        json={"reason_zh": "录错"},
        headers={**organiser, "Idempotency-Key": "manual-reversal-1"},
    )
    assert reversed_.status_code == 201 and reversed_.json()["reverses_id"] == made.json()["id"]


def _entry(kind: str, cause_ref: str = "", **metadata: Any) -> EntryRecord:
    return EntryRecord(
        id=1,
        kind=kind,
        reason_zh="理由",
        reason_en="",
        memo="",
        metadata=metadata,
        actor_ref="system",
        cause_ref=cause_ref,
        idempotency_key=None,
        reverses_id=None,
        created_at=utc_now(),
        postings=(PostingRecord(account_code="a", amount=Decimal("1.00"), balance_after=Decimal("1.00")),),
    )


def test_ownership_is_read_from_cause_kind_and_metadata() -> None:
    """Each flow is recognised by what it records, and any of the three is
    enough; manual adjustments (direct or approved) and unclaimed entries
    are not owned."""
    assert owning_flow(_entry("redemption", "order:7", order_id=7)) == "order"
    assert owning_flow(_entry("reversal", "order:7", order_id=7, reverses_entry_id=3)) == "order"
    assert owning_flow(_entry("award", "activity:4")) == "activity"
    assert owning_flow(_entry("award_bonus", "")) == "activity"
    assert owning_flow(_entry("campaign_return", "campaign:2")) == "campaign"
    assert owning_flow(_entry("settlement", "settlement:1:2026-10")) == "settlement"
    assert owning_flow(_entry("fund", "", campaign_id=2)) == "campaign"
    assert owning_flow(_entry("bonus", "fraud:9")) == "fraud"
    assert owning_flow(_entry("adjustment")) is None
    assert owning_flow(_entry("adjustment", "adjustment:5", adjustment_id=5)) is None
    assert owning_flow(_entry("fund")) is None
