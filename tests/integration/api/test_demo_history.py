"""The demo's eight weeks of history (``seeds.demo._load_history``): the demo
volunteer stands somewhere in the middle of the week, month and all-time
boards, the boards differ by period, and the grid workers have ratings."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient

from activities.grid_worker_rules import rating_period
from core.clock import utc_now
from tests.integration.api.conftest import login_headers
from tests.integration.api.test_leaderboards_api import _feed


async def test_the_demo_volunteer_ranks_mid_table_on_every_period_and_history_spreads_over_weeks(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    volunteer = await login_headers(client, "volunteer")
    organiser = await login_headers(client, "organizer")
    await _feed(client)
    community = (await client.get("/api/v1/me", headers=organiser)).json()["home_organisation_id"]
    sizes = {}
    for scope in (None, f"org:{community}"):
        for period in ("week", "month", "all"):
            params = {"period": period, "around": "me", **({"scope": scope} if scope else {})}
            response = await client.get("/api/v1/leaderboards", params=params, headers=volunteer)
            assert response.status_code == 200, response.text
            board = response.json()
            rank, size = board["me"]["rank"], board["size"]
            assert rank is not None and 1 < rank < size, (scope, period, rank, size)
            sizes[(scope, period)] = size
    # Grid 1 earned everything at load time; the community's history spreads over eight weeks.
    assert sizes[(None, "week")] == sizes[(None, "all")] == 8
    assert sizes[(f"org:{community}", "week")] < sizes[(f"org:{community}", "all")]


async def test_the_demo_grid_workers_have_ratings_from_handled_reports(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    organiser = await login_headers(client, "organizer")
    community = (await client.get("/api/v1/me", headers=organiser)).json()["home_organisation_id"]
    now = utc_now()
    months = {rating_period("month", now - timedelta(days=days)).period_id for days in range(0, 60, 10)}
    handled, stars = 0, set()
    for month in months:
        response = await client.get(
            f"/api/v1/organisations/{community}/grid-worker-ratings", params={"period": month}, headers=organiser
        )
        assert response.status_code == 200, response.text
        for worker in response.json()["workers"]:
            handled += worker["handled"]
            stars.add(worker["stars"])
    assert handled == 8  # seeds.demo.DEMO_REPORTS, all verified, handled and rated
    assert stars - {None}, "some grid worker is rated"
