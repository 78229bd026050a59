"""The points supermarket over HTTP: browse, redeem, pick up, settle, and
who may see or do what."""

from __future__ import annotations

import uuid
from decimal import Decimal

from litestar import Litestar
from litestar.testing import AsyncTestClient

from community.members import register_member
from community.organisations import create_organisation
from community.roles import Level
from community.tables import Member
from ledger.tables import LedgerEntry
from marketplace.shops import add_staff
from tests.api.conftest import login_headers

PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def _member_id(phone: str) -> int:
    return int((await Member.select(Member.id).where(Member.phone == phone).run())[0]["id"])


async def _setup(
    client: AsyncTestClient[Litestar], *, stock: int | None = 5, price: str = "10.00"
) -> dict[str, object]:
    """Organiser opens a shop with the demo shop staff, and stocks one item."""
    organizer = await login_headers(client, "organizer")
    me = (await client.get("/api/v1/me", headers=organizer)).json()
    community_id = me["home_organisation_id"]
    shop = await client.post(
        "/api/v1/shops", json={"organisation_id": community_id, "name_zh": "平安便利店"}, headers=organizer
    )
    assert shop.status_code == 201, shop.text
    shop_id = shop.json()["id"]
    staff = await client.post(
        f"/api/v1/shops/{shop_id}/staff", json={"member_id": await _member_id("13800000002")}, headers=organizer
    )
    assert staff.status_code == 204, staff.text
    item = await client.post(
        "/api/v1/catalog/items",
        headers=organizer,
        json={
            "organisation_id": community_id,
            "name_zh": "大米 5kg",
            "category": "food",
            "price": price,
            "stock": stock,
            "limit_count": 3,
            "limit_period": "month",
            "shop_ids": [shop_id],
        },
    )
    assert item.status_code == 201, item.text
    return {"organizer": organizer, "shop_id": shop_id, "item_id": item.json()["id"], "community_id": community_id}


async def test_redeem_and_pick_up_end_to_end(client: AsyncTestClient[Litestar], demo: None) -> None:
    setup = await _setup(client)
    volunteer = await login_headers(client, "volunteer")
    listing = (
        await client.get("/api/v1/catalog/items", params={"q": "大米", "shop_id": setup["shop_id"]}, headers=volunteer)
    ).json()
    assert [item["id"] for item in listing["items"]] == [setup["item_id"]]
    assert listing["items"][0]["affordable"] is True and listing["available"] == "47.50"

    placed = await client.post(
        "/api/v1/orders",
        json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
        headers={**volunteer, **key()},
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "placed" and order["total"] == "10.00" and len(order["pickup_code"]) == 8
    wallet = (await client.get("/api/v1/me/wallet", headers=volunteer)).json()
    assert (wallet["balance"], wallet["held"], wallet["available"]) == ("47.50", "10.00", "37.50")

    qr = await client.get(f"/api/v1/orders/{order['id']}/qr", headers=volunteer)
    assert qr.status_code == 200 and qr.content.startswith(b"\x89PNG")

    staff = await login_headers(client, "shop_staff")
    shop_view = (await client.get(f"/api/v1/shops/{setup['shop_id']}/orders", headers=staff)).json()
    assert shop_view["orders"][0]["pickup_code"] is None  # staff must type it, never read it

    confirmed = await client.post(
        f"/api/v1/shops/{setup['shop_id']}/pickups", json={"code": order["pickup_code_display"].lower()}, headers=staff
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "fulfilled"
    again = await client.post(
        f"/api/v1/shops/{setup['shop_id']}/pickups", json={"code": order["pickup_code"]}, headers=staff
    )
    assert again.status_code == 404 and again.json()["code"] == "pickup_code_not_found"
    wallet = (await client.get("/api/v1/me/wallet", headers=volunteer)).json()
    assert (wallet["balance"], wallet["held"]) == ("37.50", "0.00")
    statement = (await client.get("/api/v1/me/wallet/statement", headers=volunteer)).json()
    assert statement["lines"][0]["reason_zh"] == "积分兑换：大米 5kg ×1"


async def test_cancel_returns_points_and_stock(client: AsyncTestClient[Litestar], demo: None) -> None:
    setup = await _setup(client, stock=1)
    volunteer = await login_headers(client, "volunteer")
    order = (
        await client.post(
            "/api/v1/orders",
            json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
            headers={**volunteer, **key()},
        )
    ).json()
    sold_out = await client.post(
        "/api/v1/orders",
        json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
        headers={**volunteer, **key()},
    )
    assert sold_out.status_code == 409 and sold_out.json()["code"] == "out_of_stock"
    cancelled = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=volunteer)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    item = (await client.get(f"/api/v1/catalog/items/{setup['item_id']}", headers=volunteer)).json()
    assert item["stock_left"] == 1
    wallet = (await client.get("/api/v1/me/wallet", headers=volunteer)).json()
    assert wallet["available"] == "47.50"


async def test_members_see_only_their_own_orders(client: AsyncTestClient[Litestar], demo: None) -> None:
    setup = await _setup(client)
    volunteer = await login_headers(client, "volunteer")
    order = (
        await client.post(
            "/api/v1/orders",
            json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
            headers={**volunteer, **key()},
        )
    ).json()
    me = (await client.get("/api/v1/me", headers=volunteer)).json()
    await register_member(
        name="李大爷", phone="13800000011", password="another-pass", home_organisation_id=me["home_organisation_id"]
    )
    login = await client.post("/api/v1/auth/login", json={"phone": "13800000011", "password": "another-pass"})
    other = {"Authorization": f"Bearer {login.json()['access_token']}"}
    for method, path in (
        ("GET", f"/api/v1/orders/{order['id']}"),
        ("GET", f"/api/v1/orders/{order['id']}/qr"),
        ("POST", f"/api/v1/orders/{order['id']}/cancel"),
    ):
        response = await client.request(method, path, headers=other)
        assert response.status_code == 404, (method, path, response.text)
    assert (await client.get("/api/v1/orders", headers=other)).json()["orders"] == []
    still = (await client.get(f"/api/v1/orders/{order['id']}", headers=volunteer)).json()
    assert still["status"] == "placed"


async def test_staff_of_one_shop_cannot_act_for_another(client: AsyncTestClient[Litestar], demo: None) -> None:
    setup = await _setup(client)
    organizer = setup["organizer"]
    assert isinstance(organizer, dict)
    other_shop = (
        await client.post(
            "/api/v1/shops", headers=organizer, json={"organisation_id": setup["community_id"], "name_zh": "第二家店"}
        )
    ).json()
    volunteer = await login_headers(client, "volunteer")
    order = (
        await client.post(
            "/api/v1/orders",
            json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
            headers={**volunteer, **key()},
        )
    ).json()
    staff = await login_headers(client, "shop_staff")  # staff of the first shop only
    for path in (f"/api/v1/shops/{other_shop['id']}/orders", f"/api/v1/shops/{other_shop['id']}/statements/2026-11"):
        assert (await client.get(path, headers=staff)).status_code == 404, path
    wrong_shop = await client.post(
        f"/api/v1/shops/{other_shop['id']}/pickups", json={"code": order["pickup_code"]}, headers=staff
    )
    assert wrong_shop.status_code == 404
    # Staff of the second shop cannot redeem the first shop's order with its code.
    await add_staff(other_shop["id"], await _member_id("13800000004"))
    admin_as_staff = await login_headers(client, "admin")
    cross = await client.post(
        f"/api/v1/shops/{other_shop['id']}/pickups", json={"code": order["pickup_code"]}, headers=admin_as_staff
    )
    assert cross.status_code == 404 and cross.json()["code"] == "pickup_code_not_found"
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=volunteer)).json()["status"] == "placed"
    # Volunteers are not staff anywhere.
    assert (
        await client.post(
            f"/api/v1/shops/{setup['shop_id']}/pickups", json={"code": order["pickup_code"]}, headers=volunteer
        )
    ).status_code == 404


async def test_wrong_codes_throttle_that_shop_only(client: AsyncTestClient[Litestar], demo: None) -> None:
    setup = await _setup(client)
    organizer = setup["organizer"]
    assert isinstance(organizer, dict)
    second = (
        await client.post(
            "/api/v1/shops", headers=organizer, json={"organisation_id": setup["community_id"], "name_zh": "第二家店"}
        )
    ).json()
    await add_staff(second["id"], await _member_id("13800000002"))
    staff = await login_headers(client, "shop_staff")
    for attempt in range(10):  # FENGLING_PICKUP_MAX_FAILURES default
        code = f"ZZZZ{attempt:04d}".replace("0", "Z").replace("1", "Y")[:8]
        response = await client.post(
            f"/api/v1/shops/{setup['shop_id']}/pickups", json={"code": f"WRONG{attempt}"}, headers=staff
        )
        assert response.status_code == 404, (code, response.text)
    throttled = await client.post(f"/api/v1/shops/{setup['shop_id']}/pickups", json={"code": "ANYTHING"}, headers=staff)
    assert throttled.status_code == 429 and throttled.json()["code"] == "pickup_throttled"
    assert int(throttled.headers["retry-after"]) > 0
    # The other shop is unaffected: a right code still works there.
    volunteer = await login_headers(client, "volunteer")
    item = await client.post(
        "/api/v1/catalog/items",
        headers=organizer,
        json={"organisation_id": setup["community_id"], "name_zh": "毛巾", "price": "2.00", "shop_ids": [second["id"]]},
    )
    order = (
        await client.post(
            "/api/v1/orders",
            json={"item_id": item.json()["id"], "shop_id": second["id"]},
            headers={**volunteer, **key()},
        )
    ).json()
    ok = await client.post(f"/api/v1/shops/{second['id']}/pickups", json={"code": order["pickup_code"]}, headers=staff)
    assert ok.status_code == 200, ok.text


async def test_refusals_are_clear_4xx_with_nothing_written(client: AsyncTestClient[Litestar], demo: None) -> None:
    setup = await _setup(client, price="40.00")
    volunteer = await login_headers(client, "volunteer")
    body = {"item_id": setup["item_id"], "shop_id": setup["shop_id"]}
    entries = await LedgerEntry.count().run()
    first = await client.post("/api/v1/orders", json=body, headers={**volunteer, **key()})
    assert first.status_code == 201
    broke = await client.post("/api/v1/orders", json=body, headers={**volunteer, **key()})
    assert broke.status_code == 409 and broke.json()["code"] == "insufficient_funds"
    too_many = await client.post("/api/v1/orders", json={**body, "quantity": 21}, headers={**volunteer, **key()})
    assert too_many.status_code == 422 and too_many.json()["field"] == "quantity"
    float_price = await client.post(
        "/api/v1/catalog/items",
        headers=setup["organizer"],
        json={  # type: ignore[arg-type]
            "organisation_id": setup["community_id"],
            "name_zh": "x",
            "price": 9.5,
            "shop_ids": [setup["shop_id"]],
        },
    )
    assert float_price.status_code == 422 and float_price.json()["field"] == "price"
    assert await LedgerEntry.count().run() == entries
    orders = (await client.get("/api/v1/orders", headers=volunteer)).json()["orders"]
    assert len(orders) == 1


async def test_statement_csv_and_settlement_rules(client: AsyncTestClient[Litestar], demo: None) -> None:
    setup = await _setup(client)
    volunteer = await login_headers(client, "volunteer")
    staff = await login_headers(client, "shop_staff")
    order = (
        await client.post(
            "/api/v1/orders",
            json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
            headers={**volunteer, **key()},
        )
    ).json()
    fulfilled = (
        await client.post(
            f"/api/v1/shops/{setup['shop_id']}/pickups", json={"code": order["pickup_code"]}, headers=staff
        )
    ).json()
    period = fulfilled["fulfilled_at"][:7]  # UTC month; equals the local month except at month edges
    statement = await client.get(f"/api/v1/shops/{setup['shop_id']}/statements/{period}", headers=staff)
    if statement.json()["order_count"] == 0:  # the pickup fell in the next local month
        period = statement.json()["period_end"][:7]
        statement = await client.get(f"/api/v1/shops/{setup['shop_id']}/statements/{period}", headers=staff)
    assert statement.json()["net"] == "10.00" and statement.json()["order_count"] == 1
    csv_text = (
        await client.get(
            f"/api/v1/shops/{setup['shop_id']}/statements/{period}", params={"format": "csv"}, headers=staff
        )
    ).text
    assert csv_text.startswith("\ufeff订单号,时间,类型,商品,数量,积分")
    assert "大米 5kg" in csv_text and "合计" in csv_text
    staff_settle = await client.post(f"/api/v1/shops/{setup['shop_id']}/statements/{period}/settle", headers=staff)
    assert staff_settle.status_code == 403
    early = await client.post(
        f"/api/v1/shops/{setup['shop_id']}/statements/{period}/settle", headers=setup["organizer"]
    )  # type: ignore[arg-type]
    assert early.status_code == 409 and early.json()["code"] == "period_not_closed"
    assert Decimal(statement.json()["net"]) == Decimal("10.00")


async def test_catalog_image_upload_is_typed_and_bounded(client: AsyncTestClient[Litestar], demo: None) -> None:
    setup = await _setup(client)
    organizer = setup["organizer"]
    assert isinstance(organizer, dict)
    path = f"/api/v1/catalog/items/{setup['item_id']}/image"
    uploaded = await client.post(path, files={"data": ("rice.png", PNG_1X1, "image/png")}, headers=organizer)
    assert uploaded.status_code == 201, uploaded.text
    image_url = uploaded.json()["image_url"]
    volunteer = await login_headers(client, "volunteer")
    image = await client.get(image_url, headers=volunteer)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    not_image = await client.post(path, files={"data": ("x.png", b"<svg></svg>", "image/png")}, headers=organizer)
    assert not_image.status_code == 415
    too_big = await client.post(
        path, files={"data": ("x.png", PNG_1X1 + b"\0" * (2 * 1024 * 1024), "image/png")}, headers=organizer
    )
    assert too_big.status_code == 413


async def test_new_organisation_cannot_see_other_catalogs(client: AsyncTestClient[Litestar], demo: None) -> None:
    setup = await _setup(client)
    elsewhere = await create_organisation(name_zh="别的社区", level=Level.COMMUNITY)
    await register_member(name="外人", phone="13800000012", password="stranger-pass", home_organisation_id=elsewhere.id)
    login = await client.post("/api/v1/auth/login", json={"phone": "13800000012", "password": "stranger-pass"})
    stranger = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/api/v1/catalog/items", headers=stranger)).json()["items"] == []
    assert (await client.get(f"/api/v1/catalog/items/{setup['item_id']}", headers=stranger)).status_code == 404
    refused = await client.post(
        "/api/v1/orders", json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]}, headers={**stranger, **key()}
    )
    assert refused.status_code in (404, 409)


async def test_demo_supermarket_lists_by_price_with_affordability(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    volunteer = await login_headers(client, "volunteer")
    first = (await client.get("/api/v1/catalog/items", params={"limit": 4}, headers=volunteer)).json()
    prices = [Decimal(item["price"]) for item in first["items"]]
    assert prices == sorted(prices) and len(prices) == 4
    rest = (
        await client.get(
            "/api/v1/catalog/items", params={"limit": 4, "cursor": first["next_cursor"]}, headers=volunteer
        )
    ).json()
    assert rest["next_cursor"] is None
    everything = first["items"] + rest["items"]
    assert len({item["id"] for item in everything}) == len(everything) == 6
    for item in everything:
        assert item["affordable"] is (Decimal(item["price"]) <= Decimal("47.50"))
    food = (
        await client.get("/api/v1/catalog/items", params={"category": "food", "sort": "price_desc"}, headers=volunteer)
    ).json()
    assert [item["name_en"] for item in food["items"]] == ["Rice 5 kg", "Cooking oil 1.8 L"]
    bad_cursor = await client.get(
        "/api/v1/catalog/items", params={"cursor": first["next_cursor"], "sort": "newest"}, headers=volunteer
    )
    assert bad_cursor.status_code == 422 and bad_cursor.json()["field"] == "cursor"
