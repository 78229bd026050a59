"""Earning through the API, end to end, as an organiser, a grid head and
twenty volunteers would do it on their phones."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from core.clock import utc_now
from fengling_settings import get_settings
from ledger.verify import verify_ledger
from tests.integration.api.conftest import login_headers
from tests.support.marketplace_helpers import assert_same, snapshot_everything

Client = AsyncTestClient[Litestar]
PASSWORD = "volunteer-pass-1"


def tiny_png() -> bytes:
    """A valid 1×1 PNG, built here so the test needs no fixture file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def forget_rate_limits(client: Client) -> None:
    """Twenty phones come from twenty addresses; the test client is one.
    Clear the per-address counters between people instead."""
    settings = get_settings()
    if settings.uses_embedded_redis:
        await client.app.state.redis.flushdb()
        return
    redis = Redis.from_url(settings.redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


async def _login(client: Client, phone: str, code: str) -> dict[str, str]:
    await forget_rate_limits(client)
    await _ok(
        await client.post("/api/v1/auth/invitations/accept", json={"phone": phone, "code": code, "password": PASSWORD})
    )
    token = await _ok(await client.post("/api/v1/auth/login", json={"phone": phone, "password": PASSWORD}))
    return {"Authorization": f"Bearer {token['access_token']}"}


@pytest.mark.slow
async def test_end_to_end_grid_import_campaign_activities_and_verification(client: Client, demo: None) -> None:  # noqa: PLR0915 -- one end-to-end story, told in order
    organizer = await login_headers(client, "organizer")
    me = await _ok(await client.get("/api/v1/me", headers=organizer))
    community = next(g["organisation_id"] for g in me["roles"] if g["role"] == "organizer")

    # The organiser builds a grid and imports its twenty volunteers from a spreadsheet.
    grid = await _ok(
        await client.post(
            "/api/v1/organisations",
            headers=organizer,
            json={"parent_id": community, "level": "grid", "name_zh": "第三网格"},
        ),
        201,
    )
    rows = "".join(f"志愿者{n:02d},1370000{n:04d},志愿者\n" for n in range(20))
    csv = ("姓名,手机号,角色\n" + rows).encode("utf-8-sig")
    imported = await _ok(
        await client.post(
            f"/api/v1/organisations/{grid['id']}/members/import",
            headers=organizer,
            files={"file": ("volunteers.csv", csv, "text/csv")},
        ),
        201,
    )
    assert imported["written"] and len(imported["created"]) == 20 and not imported["errors"]

    # A grid head (网格员) is registered and given the post over the grid.
    head = await _ok(
        await client.post(
            "/api/v1/members",
            headers=organizer,
            json={
                "name": "网格员小周",
                "phone": "13700009999",
                "organisation_id": grid["id"],
                "roles": ["grid_worker"],
            },
        ),
        201,
    )
    head_headers = await _login(client, "13700009999", head["invitation"]["code"])
    volunteers = [await _login(client, m["phone"], m["invitation_code"]) for m in imported["created"]]

    # A campaign of 1,000 points, funded from the community's issuance (a retry funds once).
    campaign = await _ok(
        await client.post(
            "/api/v1/campaigns",
            headers=organizer,
            json={
                # The demo community has its own default campaign; the grid's is nearer, so it wins.
                "organisation_id": grid["id"],
                "title_zh": "平安风铃·冬季行动",
                "starts_at": (utc_now() - timedelta(days=1)).isoformat(),
                "is_default": True,
                "rules": {
                    "service_per_hour": {"default": "2.00"},
                    "patrol_points": "5.00",
                    "patrol_min_minutes": 0,
                    "report_points": {"hazard": "3.00"},
                    "report_useful_bonus": "4.00",
                    "daily_cap": "20.00",
                },
            },
        ),
        201,
    )
    for _ in range(2):
        funded = await _ok(
            await client.post(
                f"/api/v1/campaigns/{campaign['id']}/fundings",
                headers={**organizer, "Idempotency-Key": "winter-fund-0001"},
                json={"amount": "1000.00"},
            ),
            201,
        )
    assert funded["budget"] == "1000.00" and funded["replayed"]

    # Ten log service, five patrol, five report a hazard (one with a photo).
    now = utc_now()
    for n, headers in enumerate(volunteers):
        if n < 10:
            await _ok(
                await client.post(
                    "/api/v1/activities/service",
                    headers=headers,
                    json={
                        "title": "陪老人就医",
                        "started_at": (now - timedelta(hours=3)).isoformat(),
                        "ended_at": (now - timedelta(hours=1, minutes=30)).isoformat(),
                    },
                ),
                201,
            )
        elif n < 15:
            position = {"latitude": 35.06, "longitude": 118.35, "accuracy_m": 12.5}
            patrol = await _ok(
                await client.post("/api/v1/activities/patrols", headers=headers, json={"position": position}), 201
            )
            await _ok(
                await client.post(
                    f"/api/v1/activities/patrols/{patrol['id']}/check-out", headers=headers, json=position
                )
            )
        else:
            photos = []
            if n == 15:
                photo = await _ok(
                    await client.post(
                        "/api/v1/activities/photos",
                        headers=headers,
                        files={"data": ("hazard.png", tiny_png(), "image/png")},
                    ),
                    201,
                )
                photos = [photo["sha256"]]
            await _ok(
                await client.post(
                    "/api/v1/activities/reports",
                    headers=headers,
                    json={
                        "report_kind": "hazard",
                        "title": "电动车楼道充电",
                        # Each in a different building: the same hazard reported
                        # by a neighbour nearby would be a confirmation (0.90).
                        "position": {"latitude": 35.06 + (n - 15) * 0.002, "longitude": 118.35},
                        "photos": photos,
                    },
                ),
                201,
            )

    # The grid head sees the twenty submissions and verifies them.
    queue = await _ok(
        await client.get(
            "/api/v1/activities", headers=head_headers, params={"scope": "review", "status": "submitted", "limit": 100}
        )
    )
    assert len(queue["items"]) == 20
    for item in queue["items"]:
        verified = await _ok(await client.post(f"/api/v1/activities/{item['id']}/verify", headers=head_headers))
        assert verified["status"] == "verified"

    # One report is handled as useful (bonus), fed back and rated by its reporter: the loop closes.
    report = next(i for i in queue["items"] if i["kind"] == "report" and i["photos"])
    handled = await _ok(
        await client.post(
            f"/api/v1/activities/{report['id']}/handle",
            headers=head_headers,
            json={"useful": True, "feedback": "已通知物业，楼道充电已清理"},
        )
    )
    assert handled["bonus"] == "4.00"
    reporter = volunteers[15]
    photo = await client.get(f"/api/v1/activities/photos/{report['photos'][0]}", headers=reporter)
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/png"
    closed = await _ok(
        await client.post(f"/api/v1/activities/{report['id']}/rate", headers=reporter, json={"rating": 5})
    )
    assert closed["status"] == "closed"

    # Wallets, campaign budget and the ledger agree to the cent.
    wallets = [Decimal((await _ok(await client.get("/api/v1/me/wallet", headers=h)))["balance"]) for h in volunteers]
    assert wallets[:10] == [Decimal("3.00")] * 10  # 1.5 h × 2.00
    assert wallets[10:15] == [Decimal("5.00")] * 5
    assert wallets[15] == Decimal("7.00") and wallets[16:] == [Decimal("3.00")] * 4
    detail = await _ok(await client.get(f"/api/v1/campaigns/{campaign['id']}", headers=organizer))
    total = sum(wallets, Decimal(0))
    assert total == Decimal("74.00")
    assert Decimal(detail["budget"]) == Decimal("1000.00") - total
    assert Decimal(detail["awarded"]) + Decimal(detail["bonuses"]) == total
    assert detail["activities_by_status"] == {"verified": 19, "closed": 1}
    report_ledger = await verify_ledger()
    assert report_ledger.ok, report_ledger.faults


async def test_volunteers_see_only_their_own_activities(client: Client, demo: None) -> None:
    organizer = await login_headers(client, "organizer")
    volunteer = await login_headers(client, "volunteer")
    now = utc_now()
    logged = await _ok(
        await client.post(
            "/api/v1/activities/service",
            headers=volunteer,
            json={
                "title": "社区清扫",
                "started_at": (now - timedelta(hours=2)).isoformat(),
                "ended_at": (now - timedelta(hours=1)).isoformat(),
            },
        ),
        201,
    )
    shop_staff = await login_headers(client, "shop_staff")
    assert (await client.get(f"/api/v1/activities/{logged['id']}", headers=shop_staff)).status_code == 404
    refused = await client.post(f"/api/v1/activities/{logged['id']}/verify", headers=shop_staff)
    assert refused.status_code == 404
    own = await client.post(f"/api/v1/activities/{logged['id']}/verify", headers=volunteer)
    assert own.status_code == 403 and own.json()["code"] == "self_verification"
    assert (await client.get(f"/api/v1/activities/{logged['id']}", headers=organizer)).status_code == 200
    mine = await _ok(await client.get("/api/v1/activities", headers=shop_staff))
    assert mine["items"] == []


async def test_bad_activity_input_is_a_problem_naming_the_field(client: Client, demo: None) -> None:
    volunteer = await login_headers(client, "volunteer")
    now = utc_now()
    backwards = await client.post(
        "/api/v1/activities/service",
        headers=volunteer,
        json={"title": "x", "started_at": now.isoformat(), "ended_at": (now - timedelta(hours=1)).isoformat()},
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "ended_at"
    assert backwards.headers["content-type"].startswith("application/problem+json")
    organizer = await login_headers(client, "organizer")
    float_rules = await client.post(
        "/api/v1/campaigns",
        headers=organizer,
        json={"organisation_id": 4, "title_zh": "x", "starts_at": now.isoformat(), "rules": {"patrol_points": 1.5}},
    )
    assert float_rules.status_code == 422, float_rules.text
    not_a_photo = await client.post(
        "/api/v1/activities/photos", headers=volunteer, files={"data": ("x.png", b"not an image", "image/png")}
    )
    assert not_a_photo.status_code == 415 and not_a_photo.json()["field"] == "data"


async def test_someone_elses_patrol_answers_exactly_as_a_missing_one(client: Client, demo: None) -> None:
    """Issue #8's existence oracle: route points and check-out on another
    member's patrol used to answer 422 "not yours", telling a prober the id
    exists. Now they get the missing patrol's 404, word for word, and
    nothing changes."""
    volunteer = await login_headers(client, "volunteer")
    here = {"latitude": 35.06, "longitude": 118.34}
    patrol = await _ok(await client.post("/api/v1/activities/patrols", headers=volunteer, json={"position": here}), 201)
    point = [{"position": here, "at": utc_now().isoformat()}]
    missing_id = patrol["id"] + 1000
    for role in ("shop_staff", "grid_worker"):  # one sees nothing; one reviews the grid, but does not walk it
        prober = await login_headers(client, role)
        before = await snapshot_everything()
        for action, body in (("route", point), ("check-out", here)):
            theirs = await client.post(f"/api/v1/activities/patrols/{patrol['id']}/{action}", headers=prober, json=body)
            missing = await client.post(f"/api/v1/activities/patrols/{missing_id}/{action}", headers=prober, json=body)
            assert theirs.status_code == missing.status_code == 404, theirs.text
            assert theirs.headers["content-type"] == missing.headers["content-type"]
            expected = {
                key: str(value).replace(str(missing_id), str(patrol["id"])) for key, value in missing.json().items()
            }
            assert {key: str(value) for key, value in theirs.json().items()} == expected
            assert theirs.json()["code"] == "activity_not_found"
        assert_same(before, await snapshot_everything())
    done = await client.post(f"/api/v1/activities/patrols/{patrol['id']}/check-out", headers=volunteer, json=here)
    assert done.status_code == 200 and done.json()["status"] == "submitted"
