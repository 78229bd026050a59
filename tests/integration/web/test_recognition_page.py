"""我的星级与徽章 over HTTP: the level as stars with words and what the
next star needs, badges with their China-time date and what earned them,
grey "not yet" badges with how to earn them; linked from home and me."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.conftest import login_headers
from tests.integration.web.test_pages import log_in_page

Client = AsyncTestClient[Litestar]


@pytest.mark.usefixtures("demo")
async def test_the_page_shows_my_level_and_badges_as_the_api_does(client: Client) -> None:
    headers = await login_headers(client, "volunteer")
    level = (await client.get("/api/v1/me/level", headers=headers)).json()
    badges = (await client.get("/api/v1/me/badges", headers=headers)).json()
    assert badges["earned"], "the demo volunteer's verified report earns a badge"
    await log_in_page(client)
    page = await client.get("/recognition")
    assert page.status_code == 200
    html = page.text
    assert "我的星级与徽章" in html
    assert f"{level['stars']} 星（共 5 星）" in html
    assert level["earned_points"] in html
    earned = re.search(r'<ul class="awards" id="earned-badges">(.*?)</ul>', html, re.S)
    assert earned is not None
    for badge in badges["earned"]:
        assert badge["name_zh"] in earned.group(1)
    assert "北京时间" in earned.group(1) and "获得" in earned.group(1)
    assert f'href="/activities/{badges["earned"][0]["activity_id"]}"' in earned.group(1)
    not_yet = re.search(r'<ul class="awards" id="open-badges">(.*?)</ul>', html, re.S)
    assert not_yet is not None
    assert html.count('class="award not-yet"') == len(badges["not_yet"])
    assert "怎样获得：累计 50 次巡逻通过审核" in not_yet.group(1)


@pytest.mark.usefixtures("demo")
async def test_home_and_me_link_to_the_page_and_it_needs_a_login(client: Client) -> None:
    anonymous = await client.get("/recognition")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
    await log_in_page(client)
    for path in ("/", "/me"):
        assert 'href="/recognition"' in (await client.get(path)).text


@pytest.mark.usefixtures("demo")
async def test_the_demo_volunteer_sees_a_season_rank_over_the_api_and_on_the_ranking_page(client: Client) -> None:
    from tests.integration.api.test_leaderboards_api import _feed

    await _feed(client)
    headers = await login_headers(client, "volunteer")
    seasons = (await client.get("/api/v1/seasons", headers=headers)).json()["items"]
    assert [season["name_zh"] for season in seasons] == ["冬季平安竞赛"]
    board = await client.get(
        "/api/v1/leaderboards", params={"period": seasons[0]["period"], "around": "me"}, headers=headers
    )
    assert board.status_code == 200, board.text
    assert board.json()["me"]["rank"] == 2 and board.json()["period"] == seasons[0]["period"]
    await log_in_page(client)
    page = await client.get("/ranking?period=season")
    assert page.status_code == 200
    assert 'aria-current="page">本赛季' in page.text
    assert "冬季平安竞赛" in page.text and "第 2 名" in page.text
    assert "本赛季排行积分" in page.text
    odd = await client.get("/api/v1/leaderboards", params={"period": "season:x"}, headers=headers)
    assert odd.status_code == 422 and odd.json()["errors"][0]["field"] == "period", odd.text
    assert odd.headers["content-type"].startswith("application/problem+json")
