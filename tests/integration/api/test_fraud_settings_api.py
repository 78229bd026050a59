"""Rule settings and the shadow list over HTTP."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.test_marketplace_api import _setup

Client = AsyncTestClient[Litestar]


async def test_settings_are_read_replaced_validated_and_the_shadow_listed(client: Client, demo: None) -> None:
    setup = await _setup(client)
    organizer, community = setup["organizer"], setup["community_id"]
    read = await client.get(f"/api/v1/fraud/settings/{community}", headers=organizer)
    assert read.status_code == 200, read.text
    assert read.json()["overrides"] == {} and read.json()["thresholds"]["burst_count"] == 5
    body = {"overrides": {"burst_count": 6}, "shadow": {"overrides": {"burst_count": 4}, "rules": ["cashing_out"]}}
    put = await client.put(f"/api/v1/fraud/settings/{community}", json=body, headers=organizer)
    assert put.status_code == 200, put.text
    answer = put.json()
    assert answer["thresholds"]["burst_count"] == 6 and answer["shadow_thresholds"]["burst_count"] == 4
    assert answer["shadow"] == {"overrides": {"burst_count": 4}, "rules": ["cashing_out"]}
    bad = await client.put(
        f"/api/v1/fraud/settings/{community}", json={"overrides": {"burst_count": -1}}, headers=organizer
    )
    assert bad.status_code == 422 and bad.json()["field"] == "burst_count"
    shadow = await client.get("/api/v1/fraud/shadow", headers=organizer)
    assert shadow.status_code == 200 and shadow.json() == {"days": 30, "items": []}
