"""Four-eyes on manual points, through the API: an adjustment above
``FENGLING_ADJUSTMENT_APPROVAL_ABOVE`` holds its points and waits; only a
second organiser or admin over both accounts posts it (never the requester,
never the owner of the credited wallet); rejection and expiry release the
points; every decision is audited; every refusal changes nothing.

Before the fix every adjustment posted at once (201), whatever its amount,
and nothing could be approved or rejected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.ledger.entries import ADJUSTMENT_CURSOR
from community.accounts import issuance_code, wallet_code
from community.manual_points import expire_adjustments
from community.members import register_member
from community.organisations import create_organisation
from community.roles import Level, Role
from community.tables import AdjustmentRequest, AuditEvent
from core.cursors import encode_cursor
from fengling_settings import get_settings
from ledger.accounts import get_balance
from ledger.posting import load_entry
from ledger.statements import STATEMENT_CURSOR
from ledger.tables import LedgerEntry, LedgerHold
from tests.integration.api.conftest import login_headers
from tests.support.marketplace_helpers import assert_ledger_ok, assert_same, snapshot_everything

ADJUSTMENTS = "/api/v1/ledger/adjustments"
PASSWORD = "second-organiser-1"


@pytest.fixture
def low_threshold(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Four-eyes above 10.00, so the demo volunteer's 47.50 can be held."""
    monkeypatch.setenv("FENGLING_ADJUSTMENT_APPROVAL_ABOVE", "10.00")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def _login(client: AsyncTestClient[Litestar], phone: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"phone": phone, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _people(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    """The demo's organiser (requester), a second organiser of the same
    community, an organiser of another community, and the accounts."""
    organiser = await login_headers(client, "organizer")
    me = (await client.get("/api/v1/me", headers=organiser)).json()
    volunteer = (await client.get("/api/v1/me", headers=await login_headers(client, "volunteer"))).json()
    community = me["home_organisation_id"]
    await register_member(
        name="周主任", phone="13800000011", password=PASSWORD, home_organisation_id=community, roles=(Role.ORGANIZER,)
    )
    elsewhere = await create_organisation(name_zh="邻里社区", level=Level.COMMUNITY, issues_points=True)
    await register_member(
        name="外社区书记",
        phone="13800000012",
        password=PASSWORD,
        home_organisation_id=elsewhere.id,
        roles=(Role.ORGANIZER,),
    )
    return {
        "organiser": organiser,
        "organiser_ref": f"member:{me['id']}",
        "second": await _login(client, "13800000011"),
        "foreign": await _login(client, "13800000012"),
        "admin": await login_headers(client, "admin"),
        "issuance": issuance_code(community),
        "wallet": wallet_code(volunteer["id"]),
        "community": community,
    }


def _body(debit: str, credit: str, amount: str) -> dict[str, str]:
    return {"debit_account": debit, "credit_account": credit, "amount": amount, "reason_zh": "表彰见义勇为"}


def _key(name: str) -> dict[str, str]:
    return {"Idempotency-Key": f"four-eyes-{name}"}


async def _request(client: AsyncTestClient[Litestar], people: dict[str, Any], amount: str, key: str) -> dict[str, Any]:
    body = _body(people["issuance"], people["wallet"], amount)
    response = await client.post(ADJUSTMENTS, json=body, headers={**people["organiser"], **_key(key)})
    assert response.status_code == 202, response.text
    return dict(response.json())


async def _audit(action: str) -> list[dict[str, Any]]:
    rows = await AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id).run()
    for row in rows:
        if isinstance(row["detail"], str):
            row["detail"] = json.loads(row["detail"])
    return rows


async def test_large_adjustment_waits_then_posts_when_a_second_organiser_approves(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    """600.00 > 500.00: 202 with a pending request and a hold on the debit
    account; the wallet is untouched until the second organiser approves,
    then one entry posts the held points and the hold is gone."""
    people = await _people(client)
    entries_before = await LedgerEntry.count().run()
    pending = await _request(client, people, "600.00", "big-0001")
    assert pending["status"] == "pending" and pending["amount"] == "600.00" and pending["entry_id"] is None
    assert await LedgerEntry.count().run() == entries_before
    assert (await get_balance(people["wallet"])).balance == Decimal("47.50")
    assert (await get_balance(people["issuance"])).held == Decimal("600.00")
    hold = (await LedgerHold.select().where(LedgerHold.id == pending["hold_id"]).run())[0]
    assert hold["status"] == "active" and hold["amount_minor"] == 60000

    listed = (await client.get(ADJUSTMENTS, params={"status": "pending"}, headers=people["second"])).json()
    assert [request["id"] for request in listed["requests"]] == [pending["id"]]

    approved = await client.post(f"{ADJUSTMENTS}/{pending['id']}/approve", headers=people["second"])
    assert approved.status_code == 200, approved.text
    decided = approved.json()
    assert decided["status"] == "approved" and decided["entry_id"] is not None
    entry = await load_entry(decided["entry_id"])
    assert entry.kind == "adjustment" and entry.metadata["approved_by"] != people["organiser_ref"]
    assert entry.metadata["requested_by"] == people["organiser_ref"]
    assert (await get_balance(people["wallet"])).balance == Decimal("647.50")
    assert (await get_balance(people["issuance"])).held == Decimal("0.00")
    assert (await client.get(ADJUSTMENTS, headers=people["second"])).json()["requests"] == []
    assert [r["target_ref"] for r in await _audit("ledger.adjustment.request")] == [f"adjustment:{pending['id']}"]
    assert [r["detail"]["entry_id"] for r in await _audit("ledger.adjustment.approve")] == [decided["entry_id"]]
    await assert_ledger_ok()


async def test_small_adjustment_posts_at_once(client: AsyncTestClient[Litestar], demo: None) -> None:
    people = await _people(client)
    response = await client.post(
        ADJUSTMENTS,
        json=_body(people["issuance"], people["wallet"], "500.00"),
        headers={**people["organiser"], **_key("small-001")},
    )
    assert response.status_code == 201 and response.json()["kind"] == "adjustment"
    assert await AdjustmentRequest.count().run() == 0


async def test_replayed_key_returns_the_pending_request_and_holds_once(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    people = await _people(client)
    first = await _request(client, people, "600.00", "replay-01")
    again = await client.post(
        ADJUSTMENTS,
        json=_body(people["issuance"], people["wallet"], "600.00"),
        headers={**people["organiser"], **_key("replay-01")},
    )
    assert again.status_code == 202 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first
    assert await AdjustmentRequest.count().run() == 1 and await LedgerHold.count().run() == 1
    for other in ("700.00", "5.00"):  # same key, another payload: above or below the threshold
        before = await snapshot_everything()
        conflict = await client.post(
            ADJUSTMENTS,
            json=_body(people["issuance"], people["wallet"], other),
            headers={**people["organiser"], **_key("replay-01")},
        )
        assert conflict.status_code == 422 and conflict.json()["code"] == "idempotency_conflict", other
        assert_same(before, await snapshot_everything())


async def test_requester_cannot_approve_their_own_request(client: AsyncTestClient[Litestar], demo: None) -> None:
    people = await _people(client)
    pending = await _request(client, people, "600.00", "own-00001")
    before = await snapshot_everything()
    response = await client.post(f"{ADJUSTMENTS}/{pending['id']}/approve", headers=people["organiser"])
    assert response.status_code == 403 and response.json()["code"] == "own_adjustment"
    assert_same(before, await snapshot_everything())


async def test_owner_of_the_credited_wallet_cannot_approve(client: AsyncTestClient[Litestar], demo: None) -> None:
    """An organiser who also volunteers has a wallet; a request crediting it
    is decided by someone else."""
    people = await _people(client)
    both = await register_member(
        name="兼职书记",
        phone="13800000013",
        password=PASSWORD,
        home_organisation_id=people["community"],
        roles=(Role.ORGANIZER, Role.VOLUNTEER),
    )
    response = await client.post(
        ADJUSTMENTS,
        json=_body(people["issuance"], wallet_code(both.id), "600.00"),
        headers={**people["organiser"], **_key("owner-001")},
    )
    assert response.status_code == 202, response.text
    before = await snapshot_everything()
    refused = await client.post(
        f"{ADJUSTMENTS}/{response.json()['id']}/approve", headers=await _login(client, "13800000013")
    )
    assert refused.status_code == 403 and refused.json()["code"] == "self_credit"
    assert_same(before, await snapshot_everything())


async def test_organiser_of_another_node_cannot_see_or_decide(client: AsyncTestClient[Litestar], demo: None) -> None:
    people = await _people(client)
    pending = await _request(client, people, "600.00", "foreign01")
    before = await snapshot_everything()
    listed = await client.get(ADJUSTMENTS, params={"status": "pending"}, headers=people["foreign"])
    assert listed.status_code == 200 and listed.json()["requests"] == []
    approve = await client.post(f"{ADJUSTMENTS}/{pending['id']}/approve", headers=people["foreign"])
    reject = await client.post(
        f"{ADJUSTMENTS}/{pending['id']}/reject", json={"reason_zh": "不同意"}, headers=people["foreign"]
    )
    missing = await client.post(f"{ADJUSTMENTS}/999999/approve", headers=people["foreign"])
    for response in (approve, reject, missing):
        assert response.status_code == 404 and response.json()["code"] == "adjustment_not_found", response.text
    assert approve.json()["detail"] == missing.json()["detail"].replace("999999", str(pending["id"]))
    for role in ("volunteer", "grid_worker", "shop_staff"):
        refused = await client.post(f"{ADJUSTMENTS}/{pending['id']}/approve", headers=await login_headers(client, role))
        assert refused.status_code == 403, role
    assert_same(before, await snapshot_everything())


async def test_approve_twice_and_approve_after_reject_are_refused(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    people = await _people(client)
    first = await _request(client, people, "600.00", "twice0001")
    assert (await client.post(f"{ADJUSTMENTS}/{first['id']}/approve", headers=people["second"])).status_code == 200
    before = await snapshot_everything()
    for headers in (people["second"], people["admin"]):
        again = await client.post(f"{ADJUSTMENTS}/{first['id']}/approve", headers=headers)
        assert again.status_code == 409 and again.json()["code"] == "adjustment_not_pending"
    assert_same(before, await snapshot_everything())

    second = await _request(client, people, "700.00", "reject001")
    rejected = await client.post(
        f"{ADJUSTMENTS}/{second['id']}/reject", json={"reason_zh": "金额过大"}, headers=people["admin"]
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_reason"] == "金额过大"
    assert (await get_balance(people["issuance"])).held == Decimal("0.00")
    assert [r["target_ref"] for r in await _audit("ledger.adjustment.reject")] == [f"adjustment:{second['id']}"]
    before = await snapshot_everything()
    for path, body in (("approve", None), ("reject", {"reason_zh": "再次驳回"})):
        late = await client.post(f"{ADJUSTMENTS}/{second['id']}/{path}", json=body, headers=people["second"])
        assert late.status_code == 409 and late.json()["code"] == "adjustment_not_pending", path
    assert_same(before, await snapshot_everything())
    await assert_ledger_ok()


async def test_expiry_voids_the_request_and_frees_the_held_points(
    client: AsyncTestClient[Litestar], demo: None, low_threshold: None
) -> None:
    """A wallet → issuance correction above the (lowered) threshold holds
    the volunteer's points; nobody decides; the expiry job voids it and the
    points are available again. Approving afterwards is refused."""
    people = await _people(client)
    response = await client.post(
        ADJUSTMENTS,
        json=_body(people["wallet"], people["issuance"], "20.00"),
        headers={**people["organiser"], **_key("expire001")},
    )
    assert response.status_code == 202, response.text
    pending = response.json()
    wallet = await get_balance(people["wallet"])
    assert (wallet.balance, wallet.held, wallet.available) == (Decimal("47.50"), Decimal("20.00"), Decimal("27.50"))

    rows = await AdjustmentRequest.select(AdjustmentRequest.expires_at).run()
    deadline = rows[0]["expires_at"]
    assert await expire_adjustments(now=deadline - timedelta(seconds=1)) == 0
    assert await expire_adjustments(now=deadline) == 1
    assert await expire_adjustments(now=deadline) == 0  # idempotent
    wallet = await get_balance(people["wallet"])
    assert (wallet.balance, wallet.held, wallet.available) == (Decimal("47.50"), Decimal("0.00"), Decimal("47.50"))
    listed = (await client.get(ADJUSTMENTS, params={"status": "expired"}, headers=people["second"])).json()
    assert [(r["id"], r["status"]) for r in listed["requests"]] == [(pending["id"], "expired")]
    assert len(await _audit("ledger.adjustment.expire")) == 1
    hold = (await LedgerHold.select().where(LedgerHold.id == pending["hold_id"]).run())[0]
    assert hold["status"] == "voided"
    late = await client.post(f"{ADJUSTMENTS}/{pending['id']}/approve", headers=people["second"])
    assert late.status_code == 409 and late.json()["code"] == "adjustment_not_pending"
    await assert_ledger_ok()


async def test_pending_adjustment_needs_the_points_it_holds(
    client: AsyncTestClient[Litestar], demo: None, low_threshold: None
) -> None:
    """A hold larger than the wallet is refused like a posting, and no
    request is left behind."""
    people = await _people(client)
    before = await snapshot_everything()
    response = await client.post(
        ADJUSTMENTS,
        json=_body(people["wallet"], people["issuance"], "48.00"),
        headers={**people["organiser"], **_key("overdraw1")},
    )
    assert response.status_code == 409 and response.json()["code"] == "insufficient_funds"
    assert_same(before, await snapshot_everything())


async def test_list_pages_with_a_keyset_cursor(client: AsyncTestClient[Litestar], demo: None) -> None:
    people = await _people(client)
    made = [(await _request(client, people, f"{600 + n}.00", f"page-{n:04d}"))["id"] for n in range(5)]
    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"status": "pending", "limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = (await client.get(ADJUSTMENTS, params=params, headers=people["admin"])).json()
        seen += [request["id"] for request in page["requests"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made
    bad = await client.get(ADJUSTMENTS, params={"status": "done"}, headers=people["admin"])
    assert bad.status_code == 422 and bad.json()["field"] == "status"
    # The cursor is opaque: a bare id (the old integer cursor), another
    # list's cursor or an id out of range is a 422 naming it.
    for forged in ("7", encode_cursor(STATEMENT_CURSOR, 7), encode_cursor(ADJUSTMENT_CURSOR, 0)):
        refused = await client.get(ADJUSTMENTS, params={"cursor": forged}, headers=people["admin"])
        assert refused.status_code == 422 and refused.json()["field"] == "cursor", forged
