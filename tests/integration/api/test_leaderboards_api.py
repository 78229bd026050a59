"""The leaderboard routes over HTTP: a board with amounts as strings and the
caller's own standing; leaving the rankings and coming back."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.redis_client import build_redis
from fengling_settings import get_settings
from leaderboards.feed import feed_once
from tests.integration.api.conftest import login_headers


async def _feed(client: AsyncTestClient[Litestar]) -> None:
    """One feed run: on the app's own stand-in, or on a real Redis through a
    client of this loop (the app's client belongs to the app's loop)."""
    if get_settings().uses_embedded_redis:
        await feed_once(client.app.state.redis)
        return
    redis = build_redis(get_settings())
    try:
        await feed_once(redis)
    finally:
        await redis.aclose()


async def test_the_demo_volunteer_sees_their_rank_and_points_as_strings(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    headers = await login_headers(client, "volunteer")
    await _feed(client)
    response = await client.get(
        "/api/v1/leaderboards", params={"period": "all", "around": "me", "neighbours": 1}, headers=headers
    )
    assert response.status_code == 200, response.text
    board = response.json()
    assert board["scope"].startswith("org:") and board["period"] == "all"
    # The demo grid: the volunteer (47.50) and seven neighbours, one of them ahead (50.00).
    assert board["size"] == 8
    assert board["me"] == {"rank": 2, "points": "47.50", "hidden": False, "visibility": "masked"}
    assert [(row["rank"], row["name"], row["points"]) for row in board["top"][:2]] == [
        (1, "王*英", "50.00"),
        (2, "张秀英", "47.50"),
    ]
    assert [(row["rank"], row["is_me"]) for row in board["neighbours"]] == [(1, False), (2, True), (3, False)]
    assert board["week"] is None


async def test_leaving_the_rankings_hides_me_from_others_and_coming_back_restores_me(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    volunteer = await login_headers(client, "volunteer")
    organiser = await login_headers(client, "organizer")
    await _feed(client)
    grid = (await client.get("/api/v1/leaderboards", headers=volunteer)).json()["scope"]
    left = await client.put("/api/v1/me/ranking-visibility", json={"visibility": "hidden"}, headers=volunteer)
    assert left.status_code == 200, left.text
    assert left.json() == {"visibility": "hidden", "version": 1}
    seen = (await client.get("/api/v1/leaderboards", params={"period": "all", "scope": grid}, headers=organiser)).json()
    assert seen["size"] == 7 and "47.50" not in {row["points"] for row in seen["top"]}
    mine = (await client.get("/api/v1/leaderboards", params={"period": "all"}, headers=volunteer)).json()
    assert mine["me"]["rank"] is None and mine["me"]["hidden"] and mine["me"]["points"] != "0.00"
    back = await client.put("/api/v1/me/ranking-visibility", json={"visibility": "full_name"}, headers=volunteer)
    assert back.json() == {"visibility": "full_name", "version": 2}
    seen = (await client.get("/api/v1/leaderboards", params={"period": "all", "scope": grid}, headers=organiser)).json()
    assert seen["size"] == 8 and seen["top"][1]["name"] == "张秀英"


async def test_a_board_one_may_not_see_is_a_problem_naming_the_scope(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    headers = await login_headers(client, "volunteer")
    response = await client.get("/api/v1/leaderboards", params={"scope": "org:99999"}, headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "leaderboard_not_found" and response.json()["field"] == "scope"
    bad = await client.get("/api/v1/leaderboards", params={"scope": "shop:1"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "scope"
    assert bad.json()["code"] == "invalid_leaderboard_request"


async def test_an_organiser_chooses_the_per_capita_league_and_volunteers_read_it(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    organiser = await login_headers(client, "organizer")
    volunteer = await login_headers(client, "volunteer")
    me = (await client.get("/api/v1/me", headers=organiser)).json()
    community = me["home_organisation_id"]
    refused = await client.put(
        f"/api/v1/organisations/{community}/league-method", json={"method": "average"}, headers=volunteer
    )
    assert refused.status_code == 403
    chosen = await client.put(
        f"/api/v1/organisations/{community}/league-method", json={"method": "average"}, headers=organiser
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json() == {"organisation_id": community, "method": "average"}
    await _feed(client)
    league = await client.get(
        "/api/v1/leaderboards/leagues", params={"scope": f"org:{community}", "period": "all"}, headers=volunteer
    )
    assert league.status_code == 200, league.text
    body = league.json()
    assert body["method"] == "average" and body["units"] == "children"
    # Per capita the small second grid (3 neighbours, 105.00) beats the first (9 members, 217.50),
    # and so do the third (12 neighbours and their grid worker) and the small fourth.
    assert [(unit["name_zh"], unit["headcount"], unit["total"], unit["value"]) for unit in body["ranking"]] == [
        ("第二网格", 3, "105.00", "35.00"),
        ("第三网格", 13, "435.00", "33.46"),
        ("第四网格", 5, "150.00", "30.00"),
        ("第一网格", 9, "217.50", "24.17"),
    ]
