"""The review queue over HTTP: filters, "take next", per-rule statistics."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.conftest import login_headers
from tests.integration.api.test_marketplace_api import _setup, key
from tests.integration.api.test_pending_review_api import _make_newcomer

Client = AsyncTestClient[Litestar]


async def test_queue_filters_take_next_and_statistics(client: Client, demo: None) -> None:
    setup = await _setup(client)
    organizer = setup["organizer"]
    await _make_newcomer("volunteer")
    placed = await client.post(
        "/api/v1/orders",
        json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
        headers={**await login_headers(client, "volunteer"), **key()},
    )
    assert placed.json()["status"] == "held"

    queue = (await client.get("/api/v1/fraud/cases", params={"rule": "cooling_off"}, headers=organizer)).json()
    [case] = queue["items"]
    assert case["rules"] == ["cooling_off"] and case["score"] == 50 and case["subject"] == "order"
    none = (await client.get("/api/v1/fraud/cases", params={"rule": "burst"}, headers=organizer)).json()
    assert none["items"] == []
    bad = await client.get("/api/v1/fraud/cases", params={"rule": "no_such_rule"}, headers=organizer)
    assert bad.status_code == 422 and bad.json()["field"] == "rule"
    by_deadline = await client.get("/api/v1/fraud/cases", params={"sort": "deadline"}, headers=organizer)
    assert [item["id"] for item in by_deadline.json()["items"]] == [case["id"]]

    taken = await client.post("/api/v1/fraud/cases/next", headers=organizer)
    assert taken.status_code == 200, taken.text
    assert taken.json()["case"]["id"] == case["id"] and taken.json()["case"]["taken_by"] is not None
    assert (await client.post("/api/v1/fraud/cases/next", headers=organizer)).json() == {"case": None}

    stats = (await client.get("/api/v1/fraud/statistics", headers=organizer)).json()
    rows = {row["rule"]: row for row in stats["rules"]}
    assert stats["days"] == 90 and rows["cooling_off"]["hits"] == 1 and rows["cashing_out"]["hits"] == 0
    volunteer = await login_headers(client, "volunteer")
    assert (await client.get("/api/v1/fraud/statistics", headers=volunteer)).status_code == 403
