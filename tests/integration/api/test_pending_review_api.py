"""Points pending review are visible to the volunteer (issue #12): the
wallet lists each open review with the plain-Chinese reason, who decides,
by when and where to object; a redemption a newcomer places is held (201,
``held``), decided through ``decideFraudCase``."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from community.accounts import issuance_code, wallet_code
from community.tables import Member
from core.clock import utc_now
from ledger import posting
from tests.integration.api.conftest import credentials, login_headers
from tests.integration.api.test_marketplace_api import _setup, key

Client = AsyncTestClient[Litestar]


async def _make_newcomer(role: str) -> None:
    phone, _ = credentials(role)
    await Member.update({Member.created_at: utc_now()}).where(Member.phone == phone).run()


async def test_a_held_redemption_shows_as_pending_review_in_the_wallet_until_approved(
    client: Client, demo: None
) -> None:
    setup = await _setup(client)
    await _make_newcomer("volunteer")
    volunteer = await login_headers(client, "volunteer")
    placed = await client.post(
        "/api/v1/orders",
        json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
        headers={**volunteer, **key()},
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "held"
    # No pickup code to show while held.
    assert (await client.get(f"/api/v1/orders/{order['id']}/qr", headers=volunteer)).status_code == 409

    wallet = (await client.get("/api/v1/me/wallet", headers=volunteer)).json()
    [pending] = wallet["pending_review"]
    assert pending["subject"] == "order" and pending["subject_id"] == order["id"]
    assert pending["points"] == "10.00" and wallet["pending_review_points"] == "0.00"
    assert "待组织者审核" in pending["reason_zh"] and "组织者" in pending["deciders_zh"]
    assert pending["due_at"] > order["placed_at"]
    assert wallet["held"] == "10.00"

    note = "我是新注册的，确实本人兑换"
    objected = await client.post(pending["objection_path"], json={"note": note}, headers=volunteer)
    assert objected.status_code == 200, objected.text
    wallet = (await client.get("/api/v1/me/wallet", headers=volunteer)).json()
    assert wallet["pending_review"][0]["objection"] == note

    decided = await client.post(
        f"/api/v1/fraud/cases/{pending['case_id']}/decision",
        json={"verdict": "approve", "label": "legitimate", "note": "本人兑换，已核实"},
        headers=setup["organizer"],
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    order_now = (await client.get(f"/api/v1/orders/{order['id']}", headers=volunteer)).json()
    assert order_now["status"] == "placed"
    wallet = (await client.get("/api/v1/me/wallet", headers=volunteer)).json()
    assert wallet["pending_review"] == [] and wallet["held"] == "10.00"


async def test_a_refused_redemption_is_a_409_problem_with_the_reasons(client: Client, demo: None) -> None:
    """A newcomer emptying the wallet right after a burst of four awards:
    cooling-off and cashing out hit, deny; nothing is placed."""
    setup = await _setup(client, price="67.50")  # the demo's 47.50 and the four awards below
    await _make_newcomer("volunteer")
    volunteer = await login_headers(client, "volunteer")
    me = (await client.get("/api/v1/me", headers=volunteer)).json()
    for _ in range(4):
        await posting.transfer(
            debit_code=issuance_code(setup["community_id"]),
            credit_code=wallet_code(me["id"]),
            amount="5.00",
            kind="award",
            reason_zh="志愿服务奖励",
        )
    before = (await client.get("/api/v1/me/wallet", headers=volunteer)).json()
    assert before["available"] == "67.50"
    refused = await client.post(
        "/api/v1/orders",
        json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
        headers={**volunteer, **key()},
    )
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["field"] == "item_id" and "加入未满" in problem["detail"]
    after = (await client.get("/api/v1/me/wallet", headers=volunteer)).json()
    assert after == before
