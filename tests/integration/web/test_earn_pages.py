"""The earn pages over HTTP (no browser): plain form posts, the outbox's
posts (``X-Fengling-Outbox``: JSON answers, problem+json refusals), one
effect per retried item, my submissions, the report rating, and the
service worker script. The browser journeys are in ``tests/browser/``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from core.clock import utc_now
from tests.integration.api.conftest import login_headers
from tests.integration.web.test_pages import csrf_from, log_in_page
from tests.support.matrix_world import png_bytes
from web.earn_pages import shell_version
from web.i18n import CHINA
from web.mount import STATIC

Client = AsyncTestClient[Litestar]
HERE = {"latitude": "35.05", "longitude": "118.34", "accuracy_m": "8"}
pytestmark = pytest.mark.usefixtures("demo")


def multipart(fields: dict[str, str]) -> dict[str, tuple[None, str]]:
    """Form fields sent as multipart/form-data (as the report form sends them)."""
    return {name: (None, value) for name, value in fields.items()}


async def outbox_headers(client: Client) -> dict[str, str]:
    page = await client.get("/earn/report")
    assert page.status_code == 200
    return {"X-Fengling-Outbox": "1", "X-CSRFToken": csrf_from(page.text)}


async def my_activities(client: Client, kind: str, title: str | None = None) -> list[dict[str, Any]]:
    """The volunteer's activities of ``kind`` made by these tests (the demo
    has its own: those from before ``since`` are left out)."""
    headers = await login_headers(client, "volunteer")
    listing = await client.get("/api/v1/activities", params={"kind": kind, "limit": 100}, headers=headers)
    items: list[dict[str, Any]] = listing.json()["items"]
    return [item for item in items if title is None or item["title"] == title]


async def test_the_earn_pages_need_a_login(client: Client) -> None:
    for path in ("/earn", "/earn/service", "/earn/patrol", "/earn/report", "/earn/mine"):
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/login", path


async def test_a_plain_service_form_logs_hours_and_my_submissions_show_them(client: Client) -> None:
    await log_in_page(client)
    form = await client.get("/earn/service")
    assert "做了什么" in form.text and "北京时间" in form.text
    start = (utc_now() - timedelta(minutes=100)).astimezone(CHINA)
    response = await client.post(
        "/earn/service",
        data={
            "title": "陪老人看病",
            "started_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ended_at": (start + timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M"),
            "_csrf_token": csrf_from(form.text),
        },
    )
    assert response.status_code == 303, response.text[response.text.find("flash-error") :][:300]
    assert response.headers["location"] == "/earn/mine?n=earn_sent"
    mine = await client.get("/earn/mine?n=earn_sent")
    assert "陪老人看病" in mine.text and "已提交，待审核" in mine.text and "90 分钟" in mine.text
    [logged] = await my_activities(client, "service", "陪老人看病")
    assert logged["minutes"] == 90


async def test_a_plain_form_with_a_bad_field_comes_back_naming_it(client: Client) -> None:
    await log_in_page(client)
    form = await client.get("/earn/service")
    future = (utc_now() + timedelta(hours=3)).astimezone(CHINA)
    response = await client.post(
        "/earn/service",
        data={
            "title": "明天的活",
            "started_at": future.strftime("%Y-%m-%dT%H:%M"),
            "ended_at": (future + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "_csrf_token": csrf_from(form.text),
        },
    )
    assert response.status_code == 422
    assert "没有提交成功" in response.text and "future" in response.text
    assert await my_activities(client, "service", "明天的活") == []


async def test_an_outbox_report_with_its_photo_sent_twice_is_one_report_and_one_photo(client: Client) -> None:
    await log_in_page(client)
    headers = await outbox_headers(client)
    recorded = (utc_now() - timedelta(minutes=40)).isoformat()
    fields = {"report_kind": "hazard", "title": "井盖松动", "client_ref": "phone-r1", "client_recorded_at": recorded}
    files = {"photo": ("photo.jpg", png_bytes(3), "image/png")}
    first = await client.post("/earn/report", data={**fields, **HERE}, files=files, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["replayed"] is False
    again = await client.post("/earn/report", data={**fields, **HERE}, files=files, headers=headers)
    assert again.json() == {**first.json(), "replayed": True}
    [report] = await my_activities(client, "report", "井盖松动")
    assert report["id"] == first.json()["activity_id"] and len(report["photos"]) == 1


async def test_an_outbox_patrol_is_timed_by_the_phone_and_each_retry_is_one_effect(client: Client) -> None:
    await log_in_page(client)
    headers = await outbox_headers(client)
    began = utc_now() - timedelta(minutes=50)
    check_in = {**HERE, "client_ref": "phone-p1", "client_recorded_at": began.isoformat()}
    point = {
        **HERE,
        "patrol_ref": "phone-p1",
        "client_ref": "phone-pt",
        "client_recorded_at": (began + timedelta(minutes=10)).isoformat(),
    }
    ended = {
        **HERE,
        "patrol_ref": "phone-p1",
        "client_ref": "phone-po",
        "client_recorded_at": (began + timedelta(minutes=40)).isoformat(),
    }
    ids = set()
    for _ in range(2):
        checked_in = await client.post("/earn/patrol/check-in", data=check_in, headers=headers)
        assert checked_in.status_code == 200, checked_in.text
        ids.add(checked_in.json()["activity_id"])
        assert (await client.post("/earn/patrol/route", data=point, headers=headers)).status_code == 200
    for _ in range(2):
        assert (await client.post("/earn/patrol/check-out", data=ended, headers=headers)).status_code == 200
    [patrol] = [p for p in await my_activities(client, "patrol") if p["id"] in ids]
    assert patrol["status"] == "submitted" and patrol["minutes"] == 40
    api = await login_headers(client, "volunteer")
    detail = (await client.get(f"/api/v1/activities/{patrol['id']}", headers=api)).json()
    assert [p["kind"] for p in detail["route"]] == ["check_in", "route", "check_out"]


async def test_an_outbox_item_the_server_refuses_gets_a_problem_naming_the_field(client: Client) -> None:
    await log_in_page(client)
    headers = await outbox_headers(client)
    no_position = await client.post(
        "/earn/report",
        files=multipart({"report_kind": "snap", "title": "路灯坏了", "client_ref": "x1"}),
        headers=headers,
    )
    assert no_position.status_code == 422
    assert no_position.headers["content-type"].startswith("application/problem+json")
    assert no_position.json()["field"] == "position"
    stranger = await client.post(
        "/earn/patrol/route", data={**HERE, "patrol_ref": "nobody", "client_ref": "x2"}, headers=headers
    )
    assert stranger.status_code == 404 and stranger.json()["field"] == "client_ref"
    assert await my_activities(client, "report", "路灯坏了") == []


async def test_an_earn_post_without_the_csrf_token_is_refused(client: Client) -> None:
    await log_in_page(client)
    before = await my_activities(client, "patrol")
    response = await client.post("/earn/patrol/check-in", data=HERE, headers={"X-Fengling-Outbox": "1"})
    assert response.status_code == 403
    assert await my_activities(client, "patrol") == before


async def test_the_reporter_rates_a_handled_report_once_and_others_cannot(client: Client) -> None:
    await log_in_page(client)
    headers = await outbox_headers(client)
    sent = await client.post(
        "/earn/report",
        files=multipart({"report_kind": "tip", "title": "楼道灯坏", "client_ref": "r2", **HERE}),
        headers=headers,
    )
    assert sent.status_code == 200, sent.text
    report_id = sent.json()["activity_id"]
    worker = await login_headers(client, "grid_worker")
    assert (await client.post(f"/api/v1/activities/{report_id}/verify", headers=worker)).status_code == 200
    handled = await client.post(
        f"/api/v1/activities/{report_id}/handle", json={"useful": True, "feedback": "已换新灯"}, headers=worker
    )
    assert handled.status_code == 200, handled.text
    mine = await client.get("/earn/mine")
    assert "已换新灯" in mine.text and f"/earn/mine/{report_id}/rate" in mine.text
    rated = await client.post(f"/earn/mine/{report_id}/rate", data={"rating": "4", "client_ref": "rt"}, headers=headers)
    assert rated.status_code == 200 and rated.json()["status"] == "closed"
    again = await client.post(f"/earn/mine/{report_id}/rate", data={"rating": "1", "client_ref": "rt"}, headers=headers)
    assert again.json()["replayed"] is True
    assert "您的评价：4 星" in (await client.get("/earn/mine")).text

    await client.post("/logout", data={"_csrf_token": csrf_from((await client.get("/me")).text)})
    await log_in_page(client, "organizer")
    other = await outbox_headers(client)
    foreign = await client.post(f"/earn/mine/{report_id}/rate", data={"rating": "5"}, headers=other)
    assert foreign.status_code in {403, 404}


async def test_the_service_worker_is_served_from_the_root_without_a_login(client: Client) -> None:
    response = await client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "caches" in response.text
    # Its cache is named after the static files as they are now.
    assert f'var VERSION = "{shell_version(STATIC)}";' in response.text
