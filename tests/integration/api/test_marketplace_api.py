"""The points supermarket over HTTP: browse, redeem, pick up, settle, and
who may see or do what."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal
from typing import Any, TypedDict

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.marketplace.pickup_throttle import SLOW_LOOKUP_SECONDS
from community.accounts import issuance_code, wallet_code
from community.members import register_member
from community.organisations import create_organisation
from community.roles import Level
from community.tables import Member, RoleGrant
from core.clock import utc_now
from ledger.posting import transfer
from ledger.tables import LedgerEntry, LedgerHold
from marketplace.pickup_tokens import read_token
from marketplace.signing_keys import public_key_of
from marketplace.tables import RedemptionOrder
from tests.integration.api.conftest import credentials, login_headers

# A valid 1×1 transparent PNG (uploads are decoded, so the checksums must hold).
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
)


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def _member_id(phone: str) -> int:
    return int((await Member.select(Member.id).where(Member.phone == phone).run())[0]["id"])


async def _clerk(
    client: AsyncTestClient[Litestar], organizer: dict[str, str], shop_id: int, *, phone: str
) -> dict[str, str]:
    """A new member of the organiser's community, made counter staff of
    ``shop_id`` by the organiser over HTTP; their login headers."""
    me = (await client.get("/api/v1/me", headers=organizer)).json()
    member = await register_member(
        name="店员", phone=phone, password="clerk-password", home_organisation_id=me["home_organisation_id"]
    )
    added = await client.post(f"/api/v1/shops/{shop_id}/staff", json={"member_id": member.id}, headers=organizer)
    assert added.status_code == 204, added.text
    login = await client.post("/api/v1/auth/login", json={"phone": phone, "password": "clerk-password"})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


class Setup(TypedDict):
    """What ``_setup`` made: the organiser's headers and the ids to use."""

    organizer: dict[str, str]
    shop_id: int
    item_id: int
    community_id: int


async def _setup(client: AsyncTestClient[Litestar], *, stock: int | None = 5, price: str = "10.00") -> Setup:
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


async def test_a_scanned_qr_token_is_checked_with_the_served_keys_and_confirms_once(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    """The order's token (what its QR carries) reads back with the public
    keys a counter downloads; the counter confirms with it once, and a
    second device's confirmation of the same token is a 409 conflict."""
    setup = await _setup(client)
    volunteer = await login_headers(client, "volunteer")
    placed = await client.post(
        "/api/v1/orders",
        json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
        headers={**volunteer, **key()},
    )
    order = placed.json()
    issued = await client.get(f"/api/v1/orders/{order['id']}/pickup-token", headers=volunteer)
    assert issued.status_code == 200, issued.text
    token = issued.json()["token"]

    staff = await login_headers(client, "shop_staff")
    served = await client.get("/api/v1/pickup-keys", headers=staff)
    assert served.status_code == 200, served.text
    keys = {key["key_id"]: public_key_of(key["public_key"]) for key in served.json()}
    claims = read_token(token, keys, now=utc_now())
    assert (claims.order_id, claims.shop_id, claims.quantity) == (order["id"], setup["shop_id"], 1)

    by_token = f"/api/v1/shops/{setup['shop_id']}/pickups/by-token"
    confirmed = await client.post(by_token, json={"token": token}, headers=staff)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "fulfilled", confirmed.text
    again = await client.post(by_token, json={"token": token}, headers=staff)
    assert again.status_code == 409 and again.json()["code"] == "order_not_open"
    forged = await client.post(by_token, json={"token": token[:-1] + ("A" if token[-1] != "A" else "B")}, headers=staff)
    assert forged.status_code == 422 and forged.json()["field"] == "token"
    wallet = (await client.get("/api/v1/me/wallet", headers=volunteer)).json()
    assert (wallet["balance"], wallet["held"]) == ("37.50", "0.00")  # one posting of 10.00


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
    second_clerk = await _clerk(client, organizer, other_shop["id"], phone="13800000021")
    cross = await client.post(
        f"/api/v1/shops/{other_shop['id']}/pickups", json={"code": order["pickup_code"]}, headers=second_clerk
    )
    assert cross.status_code == 404 and cross.json()["code"] == "pickup_code_not_found"
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=volunteer)).json()["status"] == "placed"
    # Volunteers are not staff anywhere.
    assert (
        await client.post(
            f"/api/v1/shops/{setup['shop_id']}/pickups", json={"code": order["pickup_code"]}, headers=volunteer
        )
    ).status_code == 404


async def test_wrong_codes_slow_that_shop_down_and_its_right_codes_still_work(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    """Each wrong code says how many tries are left; past the limit the
    counter is slowed, not closed: a right code still hands over its order,
    a code typed moments after another waits a few seconds (429), and other
    shops are not affected."""
    setup = await _setup(client)
    organizer = setup["organizer"]
    assert isinstance(organizer, dict)
    volunteer = await login_headers(client, "volunteer")
    here = await client.post(
        "/api/v1/orders",
        json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
        headers={**volunteer, **key()},
    )
    assert here.status_code == 201, here.text
    staff = await login_headers(client, "shop_staff")
    pickups = f"/api/v1/shops/{setup['shop_id']}/pickups"
    for attempt in range(10):  # FENGLING_PICKUP_MAX_FAILURES default
        response = await client.post(pickups, json={"code": f"WRONG{attempt}"}, headers=staff)
        assert response.status_code == 404, response.text
        assert response.json()["tries_left"] == 9 - attempt
    assert response.json()["locked_for"] > 0
    right = await client.post(pickups, json={"code": here.json()["pickup_code"]}, headers=staff)
    assert right.status_code == 200, right.text
    assert right.json()["status"] == "fulfilled"
    soon = await client.post(pickups, json={"code": "ANYTHING"}, headers=staff)
    assert soon.status_code == 429 and soon.json()["code"] == "pickup_throttled"
    assert 0 < int(soon.headers["retry-after"]) <= SLOW_LOOKUP_SECONDS
    assert soon.json()["tries_left"] == 0
    # The other shop is unaffected: a right code works there at once.
    second = (
        await client.post(
            "/api/v1/shops", headers=organizer, json={"organisation_id": setup["community_id"], "name_zh": "第二家店"}
        )
    ).json()
    added = await client.post(
        f"/api/v1/shops/{second['id']}/staff", json={"member_id": await _member_id("13800000002")}, headers=organizer
    )
    assert added.status_code == 204, added.text
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
        json={
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
    assert csv_text.startswith("\ufeff订单号,时间（北京时间）,类型,商品,数量,积分")
    assert "大米 5kg" in csv_text and "合计" in csv_text
    staff_settle = await client.post(f"/api/v1/shops/{setup['shop_id']}/statements/{period}/settle", headers=staff)
    assert staff_settle.status_code == 403
    early = await client.post(
        f"/api/v1/shops/{setup['shop_id']}/statements/{period}/settle", headers=setup["organizer"]
    )
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


async def _order(client: AsyncTestClient[Litestar], headers: dict[str, str], setup: Setup) -> dict[str, Any]:
    placed = await client.post(
        "/api/v1/orders", json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]}, headers={**headers, **key()}
    )
    assert placed.status_code == 201, placed.text
    return dict(placed.json())


async def _ledger_state() -> tuple[int, int, int]:
    """Entries, holds and orders: what a refused request must leave alone."""
    return (
        int(await LedgerEntry.count().run()),
        int(await LedgerHold.count().run()),
        int(await RedemptionOrder.count().run()),
    )


async def test_revoked_shop_staff_lose_pickups_returns_orders_and_statements(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    """The organiser revokes the clerk's shop_staff role through the posts API
    (the ShopStaff link stays): pickups, returns, the shop's orders and its
    statements answer 404 at once, and nothing changes."""
    setup = await _setup(client)
    organizer = setup["organizer"]
    assert isinstance(organizer, dict)
    volunteer = await login_headers(client, "volunteer")
    staff = await login_headers(client, "shop_staff")
    waiting = await _order(client, volunteer, setup)
    picked = await _order(client, volunteer, setup)
    shop = setup["shop_id"]
    done = await client.post(f"/api/v1/shops/{shop}/pickups", json={"code": picked["pickup_code"]}, headers=staff)
    assert done.status_code == 200, done.text
    period = done.json()["fulfilled_at"][:7]
    assert (await client.get(f"/api/v1/shops/{shop}/orders", headers=staff)).status_code == 200

    staff_id = await _member_id("13800000002")
    revoked = await client.delete(
        f"/api/v1/organisations/{setup['community_id']}/posts/{staff_id}/shop_staff", headers=organizer
    )
    assert revoked.status_code == 204, revoked.text
    # Removing a role ends the member's sessions; a fresh login has no shop powers either.
    assert (await client.get("/api/v1/me", headers=staff)).status_code == 401
    staff = await login_headers(client, "shop_staff")
    before = await _ledger_state()
    for method, path, body in (
        ("POST", f"/api/v1/shops/{shop}/pickups", {"code": waiting["pickup_code"]}),
        ("POST", f"/api/v1/shops/{shop}/orders/{picked['id']}/return", {"restock": True, "reason_zh": "退货"}),
        ("GET", f"/api/v1/shops/{shop}/orders", None),
        ("GET", f"/api/v1/shops/{shop}/statements/{period}", None),
    ):
        response = await client.request(method, path, json=body, headers=staff)
        assert response.status_code == 404 and response.json()["code"] == "shop_not_found", (path, response.text)
    assert await _ledger_state() == before
    mine = {o["id"]: o["status"] for o in (await client.get("/api/v1/orders", headers=volunteer)).json()["orders"]}
    assert mine == {waiting["id"]: "placed", picked["id"]: "fulfilled"}


async def test_adding_staff_refuses_oneself_and_foreign_members_like_missing_ids(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    """POST /shops/{id}/staff: the organiser themself is 403 own_roles; a member
    of another community and an id that does not exist both answer 404
    member_not_found with the same words; none of them gets a role."""
    setup = await _setup(client)
    organizer = setup["organizer"]
    assert isinstance(organizer, dict)
    path = f"/api/v1/shops/{setup['shop_id']}/staff"
    elsewhere = await create_organisation(name_zh="别的社区", level=Level.COMMUNITY, issues_points=True)
    foreigner = await register_member(
        name="外人", phone="13800000012", password="stranger-pass", home_organisation_id=elsewhere.id
    )
    grants = int(await RoleGrant.count().run())
    me = await client.post(path, json={"member_id": await _member_id("13800000003")}, headers=organizer)
    assert me.status_code == 403 and me.json()["code"] == "own_roles" and me.json()["field"] == "member_id"
    foreign = await client.post(path, json={"member_id": foreigner.id}, headers=organizer)
    missing = await client.post(path, json={"member_id": foreigner.id + 1000}, headers=organizer)
    assert foreign.status_code == missing.status_code == 404
    unvarying = ("status", "code", "title", "field")
    assert {k: foreign.json()[k] for k in unvarying} == {k: missing.json()[k] for k in unvarying}
    assert foreign.json()["detail"].replace(str(foreigner.id), "N") == missing.json()["detail"].replace(
        str(foreigner.id + 1000), "N"
    )
    assert int(await RoleGrant.count().run()) == grants


async def test_removed_staff_are_refused_at_the_counter(client: AsyncTestClient[Litestar], demo: None) -> None:
    """DELETE /shops/{id}/staff/{member_id} unlinks the clerk (listed before,
    not after); their next pickup is 404 and the order stays open."""
    setup = await _setup(client)
    organizer = setup["organizer"]
    assert isinstance(organizer, dict)
    volunteer = await login_headers(client, "volunteer")
    staff = await login_headers(client, "shop_staff")
    order = await _order(client, volunteer, setup)
    staff_id = await _member_id("13800000002")
    listed = (await client.get(f"/api/v1/shops/{setup['shop_id']}/staff", headers=organizer)).json()
    assert [(s["member_id"], s["holds_role"]) for s in listed] == [(staff_id, True)]
    assert (await client.get(f"/api/v1/shops/{setup['shop_id']}/staff", headers=staff)).status_code == 403
    removed = await client.delete(f"/api/v1/shops/{setup['shop_id']}/staff/{staff_id}", headers=organizer)
    assert removed.status_code == 204, removed.text
    again = await client.delete(f"/api/v1/shops/{setup['shop_id']}/staff/{staff_id}", headers=organizer)
    assert again.status_code == 404 and again.json()["code"] == "staff_not_found"
    assert (await client.get(f"/api/v1/shops/{setup['shop_id']}/staff", headers=organizer)).json() == []
    refused = await client.post(
        f"/api/v1/shops/{setup['shop_id']}/pickups", json={"code": order["pickup_code"]}, headers=staff
    )
    assert refused.status_code == 404, refused.text
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=volunteer)).json()["status"] == "placed"


async def test_an_item_of_another_communitys_catalog_is_refused_like_a_missing_one(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    """A member of another points-issuing community, with points of their own,
    orders an item of 平安社区's catalog: 404 item_not_found exactly as for an
    item id that does not exist, and no order, hold or entry is written."""
    setup = await _setup(client)
    elsewhere = await create_organisation(name_zh="别的社区", level=Level.COMMUNITY, issues_points=True)
    stranger = await register_member(
        name="外人", phone="13800000012", password="stranger-pass", home_organisation_id=elsewhere.id
    )
    await transfer(
        debit_code=issuance_code(elsewhere.id),
        credit_code=wallet_code(stranger.id),
        amount="100.00",
        kind="award",
        reason_zh="志愿服务奖励",
    )
    login = await client.post("/api/v1/auth/login", json={"phone": "13800000012", "password": "stranger-pass"})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}", **key()}
    before = await _ledger_state()
    foreign = await client.post(
        "/api/v1/orders", json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]}, headers=headers
    )
    missing = await client.post(
        "/api/v1/orders",
        json={"item_id": int(str(setup["item_id"])) + 1000, "shop_id": setup["shop_id"]},
        headers=headers,
    )
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["code"] == missing.json()["code"] == "item_not_found"
    assert await _ledger_state() == before


async def test_statement_csv_escapes_formulas_in_item_names(client: AsyncTestClient[Litestar], demo: None) -> None:
    """An item named =HYPERLINK("http://x","y") reaches the statement CSV as
    text (a leading apostrophe), and the points column stays a number."""
    setup = await _setup(client)
    organizer = setup["organizer"]
    assert isinstance(organizer, dict)
    formula = '=HYPERLINK("http://x","y")'
    item = await client.post(
        "/api/v1/catalog/items",
        headers=organizer,
        json={
            "organisation_id": setup["community_id"],
            "name_zh": formula,
            "price": "2.00",
            "shop_ids": [setup["shop_id"]],
        },
    )
    assert item.status_code == 201, item.text
    volunteer = await login_headers(client, "volunteer")
    staff = await login_headers(client, "shop_staff")
    order = await _order(client, volunteer, {**setup, "item_id": item.json()["id"]})
    done = await client.post(
        f"/api/v1/shops/{setup['shop_id']}/pickups", json={"code": order["pickup_code"]}, headers=staff
    )
    period = done.json()["fulfilled_at"][:7]
    path = f"/api/v1/shops/{setup['shop_id']}/statements/{period}"
    if (await client.get(path, headers=staff)).json()["order_count"] == 0:  # the pickup fell in the next local month
        period = (await client.get(path, headers=staff)).json()["period_end"][:7]
        path = f"/api/v1/shops/{setup['shop_id']}/statements/{period}"
    text = (await client.get(path, params={"format": "csv"}, headers=staff)).text
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    (line,) = [row for row in rows[1:] if row and row[0].isdigit()]
    assert line[3] == "'" + formula and line[5] == "2.00"
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)


async def test_many_pickups_from_one_address_leave_its_logins_alone(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    """A busy counter sends more pickups from one address than the login limit
    allows a minute (30); logins from that address still work, because pickups
    count on their own per-address counter (api/rate_limits.PICKUP_LIMIT)."""
    setup = await _setup(client)
    staff = await login_headers(client, "shop_staff")
    for attempt in range(35):
        response = await client.post(
            f"/api/v1/shops/{setup['shop_id']}/pickups", json={"code": f"WRONG{attempt}"}, headers=staff
        )
        assert response.status_code in (404, 429), response.text
        assert response.json()["code"] in ("pickup_code_not_found", "pickup_throttled")
    phone, password = credentials("volunteer")
    login = await client.post("/api/v1/auth/login", json={"phone": phone, "password": password})
    assert login.status_code == 200, login.text


async def test_order_lists_page_with_opaque_cursors(client: AsyncTestClient[Litestar], demo: None) -> None:
    """My orders and a shop's orders page newest first; ``next_cursor`` is an
    opaque string to pass back as ``?cursor=``. An integer (the old cursor),
    a cursor of another list or a forged one is a 422 naming ``cursor``."""
    setup = await _setup(client, stock=None, price="1.00")
    volunteer = await login_headers(client, "volunteer")
    placed = []
    for _ in range(3):
        response = await client.post(
            "/api/v1/orders",
            json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
            headers={**volunteer, **key()},
        )
        assert response.status_code == 201, response.text
        placed.append(response.json()["id"])
    staff = await login_headers(client, "shop_staff")
    for path, headers in (("/api/v1/orders", volunteer), (f"/api/v1/shops/{setup['shop_id']}/orders", staff)):
        first = (await client.get(path, params={"limit": 2}, headers=headers)).json()
        assert [order["id"] for order in first["orders"]] == placed[:0:-1]
        assert isinstance(first["next_cursor"], str) and not first["next_cursor"].isdigit()
        rest = (await client.get(path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers)).json()
        assert [order["id"] for order in rest["orders"]] == placed[:1] and rest["next_cursor"] is None
        for bad in (str(placed[-1]), "bm90LWEtY3Vyc29y", "x" * 201):
            refused = await client.get(path, params={"cursor": bad}, headers=headers)
            assert refused.status_code in (400, 422), refused.text
            assert refused.json()["field"] == "cursor", refused.text
    catalog_cursor = (await client.get("/api/v1/catalog/items", params={"limit": 1}, headers=volunteer)).json()
    refused = await client.get("/api/v1/orders", params={"cursor": catalog_cursor["next_cursor"]}, headers=volunteer)
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_cursor"


async def test_marketplace_list_cursors_are_documented_as_strings(client: AsyncTestClient[Litestar]) -> None:
    """The OpenAPI document says what the lists hand out: string cursors in,
    string (or null) ``next_cursor`` out."""
    document = (await client.get("/schema/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for path in ("/api/v1/orders", "/api/v1/shops/{shop_id}/orders", "/api/v1/catalog/items"):
        operation = document["paths"][path]["get"]
        (cursor,) = [p for p in operation["parameters"] if p["name"] == "cursor"]
        types = {option.get("type") for option in cursor["schema"].get("oneOf", [cursor["schema"]])}
        assert types <= {"string", "null"} and "string" in types, (path, cursor)
    for page in ("OrderPageOut", "CatalogPageOut"):
        next_cursor = schemas[page]["properties"]["next_cursor"]
        types = {option.get("type") for option in next_cursor.get("anyOf", next_cursor.get("oneOf", [next_cursor]))}
        assert types <= {"string", "null"} and "string" in types, (page, next_cursor)
