"""Seasons over HTTP: an organiser defines, renames and deletes one; bad
dates are a 422 naming the field; a volunteer reads it and its board."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient

from core.clock import utc_now
from leaderboards.periods import china_date
from tests.integration.api.conftest import login_headers


async def _community(client: AsyncTestClient[Litestar], headers: dict[str, str]) -> int:
    me = (await client.get("/api/v1/me", headers=headers)).json()
    return int(me["home_organisation_id"])


async def test_an_organiser_defines_renames_and_deletes_a_season(client: AsyncTestClient[Litestar], demo: None) -> None:
    organiser = await login_headers(client, "organizer")
    volunteer = await login_headers(client, "volunteer")
    community = await _community(client, organiser)
    tomorrow = china_date(utc_now()) + timedelta(days=1)
    body = {
        "name_zh": "春季竞赛",
        "organisation_id": community,
        "first_day": tomorrow.isoformat(),
        "last_day": (tomorrow + timedelta(days=89)).isoformat(),
    }
    made = await client.post("/api/v1/seasons", json=body, headers=organiser)
    assert made.status_code == 201, made.text
    season = made.json()
    assert season["period"] == f"season:{season['id']}" and season["frozen_at"] is None
    assert (await client.get(f"/api/v1/seasons/{season['id']}", headers=volunteer)).json()["name_zh"] == "春季竞赛"
    board = await client.get("/api/v1/leaderboards", params={"period": season["period"]}, headers=volunteer)
    assert board.status_code == 200 and board.json()["size"] == 0  # not begun: nobody on it yet
    renamed = await client.patch(f"/api/v1/seasons/{season['id']}", json={"name_en": "Spring"}, headers=organiser)
    assert renamed.status_code == 200 and renamed.json()["name_en"] == "Spring"
    backwards = await client.patch(
        f"/api/v1/seasons/{season['id']}", json={"last_day": china_date(utc_now()).isoformat()}, headers=organiser
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "last_day"
    assert (await client.delete(f"/api/v1/seasons/{season['id']}", headers=organiser)).status_code == 204
    gone = await client.get(f"/api/v1/seasons/{season['id']}", headers=volunteer)
    assert gone.status_code == 404 and gone.json()["code"] == "season_not_found"


async def test_a_season_starting_today_or_unnamed_is_refused_naming_the_field(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    organiser = await login_headers(client, "organizer")
    community = await _community(client, organiser)
    today = china_date(utc_now()).isoformat()
    body = {"name_zh": "冬季", "organisation_id": community, "first_day": today, "last_day": today}
    today_start = await client.post("/api/v1/seasons", json=body, headers=organiser)
    assert today_start.status_code == 422 and today_start.json()["field"] == "first_day"
    blank = await client.post("/api/v1/seasons", json={**body, "name_zh": "   "}, headers=organiser)
    assert blank.status_code == 422 and blank.json()["field"] == "name_zh"
    missing = await client.get("/api/v1/leaderboards", params={"period": "season:999"}, headers=organiser)
    assert missing.status_code == 404 and missing.json()["field"] == "period"
