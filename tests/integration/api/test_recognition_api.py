"""Star levels and badges over HTTP: amounts as strings, thresholds set by
the issuer's organiser (bad ones a 422 naming the level), my level follows
them, a member's badges only for staff over them."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.conftest import login_headers

LEVELS = [
    {"stars": 1, "points": "0.00", "hours": 0},
    {"stars": 2, "points": "10.00", "hours": 1},
    {"stars": 3, "points": "40.00", "hours": 4},
    {"stars": 4, "points": "100.00", "hours": 10},
    {"stars": 5, "points": "500.00", "hours": 50},
]


async def test_the_organiser_sets_thresholds_and_my_level_follows_them(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    organiser = await login_headers(client, "organizer")
    volunteer = await login_headers(client, "volunteer")
    before = (await client.get("/api/v1/me/level", headers=volunteer)).json()
    assert before["thresholds"]["defaults"] is True and before["earned_points"] == "47.50"
    community = before["thresholds"]["organisation_id"]
    path = f"/api/v1/organisations/{community}/star-thresholds"
    falling = [*LEVELS[:3], {"stars": 4, "points": "30.00", "hours": 10}, LEVELS[4]]
    refused = await client.put(path, json={"levels": falling}, headers=organiser)
    assert refused.status_code == 422 and refused.json()["field"] == "levels[3]"
    as_float = await client.put(path, json={"levels": [{**LEVELS[0], "points": 0.5}, *LEVELS[1:]]}, headers=organiser)
    assert as_float.status_code in {400, 422}
    assert (await client.put(path, json={"levels": LEVELS}, headers=volunteer)).status_code == 403
    saved = await client.put(path, json={"levels": LEVELS}, headers=organiser)
    assert saved.status_code == 200 and saved.json()["defaults"] is False
    after = (await client.get("/api/v1/me/level", headers=volunteer)).json()
    # 47.50 points and 4.5 verified hours: 3★ (40.00 and 4 h) is met; 4★ needs 100.00 and 10 h.
    assert after["stars"] == 3
    assert after["next"] == {
        "stars": 4,
        "points": "100.00",
        "hours": 10,
        "points_needed": "52.50",
        "hours_needed": "5.5",
    }


async def test_a_members_badges_are_for_the_member_and_the_staff_over_them(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    volunteer = await login_headers(client, "volunteer")
    mine = (await client.get("/api/v1/me/badges", headers=volunteer)).json()
    member_id = mine["member_id"]
    assert [badge["code"] for badge in mine["earned"]][:1] == ["first_report"]
    # Each badge carries its medal's mark in both languages, as the pages draw it.
    first = mine["earned"][0]
    assert (first["icon"], first["icon_en"], first["name_zh"], first["name_en"]) == (
        "报",
        "R",
        "初次上报",
        "First report",
    )
    assert all(1 <= len(rule["icon_en"]) <= 3 for rule in mine["not_yet"])
    grid_worker = await login_headers(client, "grid_worker")
    theirs = await client.get(f"/api/v1/members/{member_id}/badges", headers=grid_worker)
    assert theirs.status_code == 200 and theirs.json() == mine
    shop = await login_headers(client, "shop_staff")
    hidden = await client.get(f"/api/v1/members/{member_id}/badges", headers=shop)
    assert hidden.status_code == 404 and hidden.json()["code"] == "member_not_found"
