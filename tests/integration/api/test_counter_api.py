"""The counter's API (marketplace/counter.py): looking an order up by its
code before handing it over, a slowed counter's looked-up code confirmed at
once, and an offline counter's queued hand-overs syncing: confirmed exactly
once, a retry of the same outbox item is that same hand-over, another
device's is a recorded conflict the organisers list."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from ledger.tables import LedgerEntry
from marketplace.tables import PickupConflict
from tests.integration.api.conftest import login_headers
from tests.integration.api.test_marketplace_api import Setup, _setup, key


async def _order(client: AsyncTestClient[Litestar], setup: Setup, volunteer: dict[str, str]) -> dict[str, Any]:
    placed = await client.post(
        "/api/v1/orders",
        json={"item_id": setup["item_id"], "shop_id": setup["shop_id"]},
        headers={**volunteer, **key()},
    )
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    return order


async def _redemptions() -> int:
    return int(await LedgerEntry.count().where(LedgerEntry.kind == "redemption").run())


async def test_a_looked_up_code_shows_the_order_with_a_masked_name_and_changes_nothing(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    setup = await _setup(client)
    volunteer = await login_headers(client, "volunteer")
    order = await _order(client, setup, volunteer)
    staff = await login_headers(client, "shop_staff")
    typed = order["pickup_code"].lower()[:4] + " - " + order["pickup_code"].lower()[4:]

    found = await client.post(f"/api/v1/shops/{setup['shop_id']}/pickups/preview", json={"code": typed}, headers=staff)

    assert found.status_code == 200, found.text
    body = found.json()
    assert body["order"]["id"] == order["id"] and body["order"]["status"] == "placed"
    assert body["order"]["pickup_code"] is None  # staff never read codes back
    assert body["member_masked_name"] == "张*英"
    assert await _redemptions() == 0
    confirmed = await client.post(
        f"/api/v1/shops/{setup['shop_id']}/pickups", json={"code": order["pickup_code"]}, headers=staff
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "fulfilled"


async def test_a_wrong_looked_up_code_counts_and_says_the_tries_left(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    setup = await _setup(client)
    staff = await login_headers(client, "shop_staff")
    wrong = await client.post(
        f"/api/v1/shops/{setup['shop_id']}/pickups/preview", json={"code": "ZZZZ2222"}, headers=staff
    )
    assert wrong.status_code == 404 and wrong.json()["code"] == "pickup_code_not_found"
    assert wrong.json()["tries_left"] == 9
    again = await client.post(f"/api/v1/shops/{setup['shop_id']}/pickups", json={"code": "ZZZZ3333"}, headers=staff)
    assert again.json()["tries_left"] == 8  # looking up and confirming share the count


async def test_at_a_slowed_counter_a_looked_up_right_code_is_confirmed_without_waiting_again(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    setup = await _setup(client)
    volunteer = await login_headers(client, "volunteer")
    order = await _order(client, setup, volunteer)
    staff = await login_headers(client, "shop_staff")
    shop = f"/api/v1/shops/{setup['shop_id']}"
    for attempt in range(10):
        await client.post(f"{shop}/pickups/preview", json={"code": f"WRONG{attempt}"}, headers=staff)

    found = await client.post(f"{shop}/pickups/preview", json={"code": order["pickup_code"]}, headers=staff)
    assert found.status_code == 200, found.text
    confirmed = await client.post(f"{shop}/pickups", json={"code": order["pickup_code"]}, headers=staff)
    assert confirmed.status_code == 200, confirmed.text
    # The pass was for that code, once: a guess right after still waits.
    guess = await client.post(f"{shop}/pickups/preview", json={"code": "GUESS222"}, headers=staff)
    assert guess.status_code == 429 and guess.json()["code"] == "pickup_throttled"


async def test_a_queued_hand_over_syncs_once_and_another_devices_is_a_recorded_conflict(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    setup = await _setup(client)
    volunteer = await login_headers(client, "volunteer")
    order = await _order(client, setup, volunteer)
    token = (await client.get(f"/api/v1/orders/{order['id']}/pickup-token", headers=volunteer)).json()["token"]
    staff = await login_headers(client, "shop_staff")
    by_token = f"/api/v1/shops/{setup['shop_id']}/pickups/by-token"
    first = {"token": token, "client_ref": str(uuid.uuid4()), "device": "counter-a"}
    second = {"token": token, "client_ref": str(uuid.uuid4()), "device": "counter-b"}

    synced = await client.post(by_token, json=first, headers=staff)
    retried = await client.post(by_token, json=first, headers=staff)  # the answer was lost
    other = await client.post(by_token, json=second, headers=staff)
    other_again = await client.post(by_token, json=second, headers=staff)

    assert synced.status_code == 200 and synced.json()["status"] == "fulfilled"
    assert retried.status_code == 200 and retried.json()["id"] == order["id"]
    assert other.status_code == 409, other.text
    problem = other.json()
    assert (problem["code"], problem["reason"], problem["order_id"]) == (
        "order_not_open",
        "picked_up_elsewhere",
        order["id"],
    )
    assert other_again.status_code == 409 and other_again.json()["conflict_id"] == problem["conflict_id"]
    assert await _redemptions() == 1
    assert int(await PickupConflict.count().run()) == 1

    listed = await client.get(f"/api/v1/shops/{setup['shop_id']}/pickup-conflicts", headers=setup["organizer"])
    assert listed.status_code == 200, listed.text
    [conflict] = listed.json()
    assert (conflict["order_id"], conflict["device"], conflict["reason"]) == (
        order["id"],
        "counter-b",
        "picked_up_elsewhere",
    )
    refused = await client.get(f"/api/v1/shops/{setup['shop_id']}/pickup-conflicts", headers=staff)
    assert refused.status_code == 403
    # The organiser also sees them for the whole node, every shop below it.
    node = await client.get(
        f"/api/v1/organisations/{setup['community_id']}/pickup-conflicts", headers=setup["organizer"]
    )
    assert node.status_code == 200 and [c["id"] for c in node.json()] == [conflict["id"]]


async def test_a_queued_hand_over_of_a_cancelled_order_is_a_conflict_and_posts_nothing(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    setup = await _setup(client)
    volunteer = await login_headers(client, "volunteer")
    order = await _order(client, setup, volunteer)
    token = (await client.get(f"/api/v1/orders/{order['id']}/pickup-token", headers=volunteer)).json()["token"]
    cancelled = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=volunteer)
    assert cancelled.status_code == 200
    staff = await login_headers(client, "shop_staff")

    synced = await client.post(
        f"/api/v1/shops/{setup['shop_id']}/pickups/by-token",
        json={"token": token, "client_ref": str(uuid.uuid4()), "device": "counter-a"},
        headers=staff,
    )

    assert synced.status_code == 409 and synced.json()["reason"] == "cancelled"
    assert await _redemptions() == 0
