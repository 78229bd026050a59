"""Home and statement show points pending review (待审核): why, who
decides, by when (China time, labelled), and a form to add an objection."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from community.organisations import issuing_organisation_for
from community.tables import Member
from core.clock import utc_now
from fraud.thresholds import set_overrides
from tests.integration.api.conftest import credentials, login_headers
from tests.integration.api.test_marketplace_api import _setup, key
from tests.integration.api.test_pending_review_api import _make_newcomer
from tests.integration.web.test_pages import csrf_from, log_in_page

Client = AsyncTestClient[Litestar]


@pytest.mark.usefixtures("demo")
async def test_home_and_statement_show_a_held_redemption_and_take_an_objection(client: Client) -> None:
    setup = await _setup(client)
    await _make_newcomer("volunteer")
    placed = await client.post(
        "/api/v1/orders",
        json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
        headers={**await login_headers(client, "volunteer"), **key()},
    )
    assert placed.json()["status"] == "held"
    client.headers.pop("Authorization", None)
    await log_in_page(client)
    home = await client.get("/")
    assert home.status_code == 200
    assert "待审核" in home.text and "加入未满" in home.text and "北京时间" in home.text
    assert "本网格及上级的组织者" in home.text
    statement = await client.get("/statement")
    assert "pending-review" in statement.text

    case_id = int(home.text.split('action="/pending/')[1].split("/")[0])
    empty = await client.post(f"/pending/{case_id}/objection", data={"note": " ", "_csrf_token": csrf_from(home.text)})
    assert empty.status_code == 422 and "异议需" in empty.text
    sent = await client.post(
        f"/pending/{case_id}/objection", data={"note": "本人兑换", "_csrf_token": csrf_from(home.text)}
    )
    assert sent.status_code == 303, sent.text
    assert "本人兑换" in (await client.get("/")).text


@pytest.mark.usefixtures("demo")
async def test_an_objection_to_someone_elses_case_is_not_found(client: Client) -> None:
    setup = await _setup(client)
    await _make_newcomer("volunteer")
    placed = await client.post(
        "/api/v1/orders",
        json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
        headers={**await login_headers(client, "volunteer"), **key()},
    )
    assert placed.json()["status"] == "held"
    wallet = (await client.get("/api/v1/me/wallet", headers=await login_headers(client, "volunteer"))).json()
    case_id = wallet["pending_review"][0]["case_id"]
    client.headers.pop("Authorization", None)
    await log_in_page(client, "shop_staff")
    page = await client.get("/me")
    refused = await client.post(
        f"/pending/{case_id}/objection", data={"note": "x", "_csrf_token": csrf_from(page.text)}
    )
    assert refused.status_code == 404


@pytest.mark.usefixtures("demo")
async def test_home_counts_an_award_held_for_review_apart_from_the_orders_hold(client: Client) -> None:
    """Points pending are of two kinds: held for open orders (in the balance,
    not available) and awards held for review (in no balance yet); home
    shows each as the wallet API counts it."""
    await _make_newcomer("volunteer")
    phone, _ = credentials("volunteer")
    [home_grid] = await Member.select(Member.home_organisation).where(Member.phone == phone).output(as_list=True).run()
    issuer = await issuing_organisation_for(home_grid)
    assert issuer is not None
    await set_overrides(issuer.id, {"cooling_award_minor": 100})  # any award of 1.00 or more is held
    volunteer = await login_headers(client, "volunteer")
    days_ago = utc_now() - timedelta(days=3)
    logged = await client.post(
        "/api/v1/activities/service",
        headers=volunteer,
        json={
            "title": "整理活动室",
            "started_at": (days_ago - timedelta(hours=2)).isoformat(),
            "ended_at": days_ago.isoformat(),
        },
    )
    assert logged.status_code == 201, logged.text
    verified = await client.post(
        f"/api/v1/activities/{logged.json()['id']}/verify", headers=await login_headers(client, "grid_worker")
    )
    assert verified.json()["status"] == "held"
    wallet = (await client.get("/api/v1/me/wallet", headers=volunteer)).json()
    assert Decimal(wallet["pending_review_points"]) > 0
    client.headers.pop("Authorization", None)
    await log_in_page(client)
    home = (await client.get("/")).text
    shown = re.search(r'<span id="pending-review-points">([^<]+)</span> 分', home)
    assert shown and shown.group(1) == wallet["pending_review_points"]
    held = re.search(r'<span id="pending">([^<]+)</span> 分', home)
    assert held and held.group(1) == wallet["held"]
    assert "审核中（暂未入账）" in home
