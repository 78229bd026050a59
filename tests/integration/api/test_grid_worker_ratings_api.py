"""GET /api/v1/organisations/{id}/grid-worker-ratings: the reply's shape
(shares and averages as strings, China-time period bounds) and a bad period
as a 422 problem naming ``period``. Who may read is in the authorisation
matrix; the figures in tests/integration/earning/test_grid_worker_ratings.py."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient

from activities.tables import Activity
from community.members import register_member
from community.organisations import create_organisation
from community.roles import Level, Role

PASSWORD = "fengling-ratings"


async def test_ratings_reply_and_a_bad_period(client: AsyncTestClient[Litestar]) -> None:
    city = (await create_organisation(name_zh="临沂市", level=Level.CITY)).id
    community = (await create_organisation(name_zh="平安社区", level=Level.COMMUNITY, parent_id=city)).id
    grid = (await create_organisation(name_zh="第一网格", level=Level.GRID, parent_id=community)).id
    await register_member(
        name="陈书记", phone="13900000011", password=PASSWORD, home_organisation_id=community, roles=(Role.ORGANIZER,)
    )
    worker = await register_member(
        name="网格员小李", phone="13900000012", password=PASSWORD, home_organisation_id=grid, roles=(Role.GRID_WORKER,)
    )
    reporter = await register_member(
        name="志愿者", phone="13900000013", password=PASSWORD, home_organisation_id=grid, roles=(Role.VOLUNTEER,)
    )
    handled_at = datetime(2026, 11, 29, 15, 59, tzinfo=UTC)  # Sunday 23:59 China time: week 48
    for rating, late in ((5, False), (4, False), (4, True)):
        await Activity.insert(
            Activity(
                kind="report",
                status="closed",
                member=reporter.id,
                organisation=grid,
                report_kind="hazard",
                title="路灯损坏",
                started_at=handled_at,
                responsible_organisation=grid,
                handler=worker.id,
                handled_at=handled_at,
                handled_late=late,
                rating=rating,
            )
        ).run()
    login = await client.post("/api/v1/auth/login", json={"phone": "13900000011", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    url = f"/api/v1/organisations/{community}/grid-worker-ratings"

    response = await client.get(url, headers=headers, params={"period": "week:2026-W48"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["period"] == "week:2026-W48"
    assert body["starts_at"].startswith("2026-11-22T16:00:00") and body["ends_at"].startswith("2026-11-29T16:00:00")
    assert body["truncated"] is False
    assert body["workers"] == [
        {
            "member_id": worker.id,
            "name": "网格员小李",
            "organisation_id": grid,
            "handled": 3,
            "timed": 3,
            "on_time": 2,
            "on_time_pct": "66.7",
            "rated": 3,
            "average_rating": "4.33",
            "stars": 2,
        }
    ]
    next_week = await client.get(url, headers=headers, params={"period": "week:2026-W49"})
    assert next_week.json()["workers"][0]["handled"] == 0

    for bad in ("year", "week:2026-W60", "x" * 17):
        refused = await client.get(url, headers=headers, params={"period": bad})
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem.get("field") == "period" or "period" in refused.text
