"""The counter pages over HTTP (no browser), on SQLite and PostgreSQL: who
gets the counter, a typed code looked up and handed over, malformed codes
refused with a hint and not counted, wrong codes with the tries left, a
scanned hand-over synced once and a second device's a conflict, today's
lists, a return, the month's statement and its CSV, CSRF.
Browser journeys (scan, offline): ``tests/browser/test_counter_in_browser.py``."""

from __future__ import annotations

import re
import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from core import base45
from ledger.tables import LedgerEntry
from marketplace.pickup_tokens import PREFIX
from marketplace.tables import PickupConflict
from tests.integration.api.conftest import login_headers
from tests.integration.web.test_pages import csrf_from, log_in_page
from tests.integration.web.test_shop_pages import redeem

Client = AsyncTestClient[Litestar]


def tampered_token(token: str) -> str:
    """The token with one byte of its signed payload changed (the quantity)."""
    raw = bytearray(base45.decode(token.removeprefix(PREFIX)))
    raw[22] ^= 0x01
    return PREFIX + base45.encode(bytes(raw))


async def placed_order(client: Client) -> tuple[int, str]:
    """The volunteer redeems a towel through the pages: (order id, code)."""
    await log_in_page(client, "volunteer")
    order_id = await redeem(client, "毛巾")
    page = await client.get(f"/orders/{order_id}")
    match = re.search(r'id="pickup-code" data-code="([^"]+)"', page.text)
    assert match
    return order_id, match.group(1).strip()


async def counter_page(client: Client) -> tuple[str, str]:
    """Staff log in and open /counter: (its path, the page)."""
    await log_in_page(client, "shop_staff")
    chosen = await client.get("/counter")
    assert chosen.status_code == 303, chosen.text
    path = chosen.headers["location"]
    assert re.fullmatch(r"/counter/\d+", path)
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return path, page.text


@pytest.mark.usefixtures("demo")
async def test_only_the_shops_staff_get_the_counter(client: Client) -> None:
    path, page = await counter_page(client)
    assert "data-keys=" in page and "柜台核销" in page
    for role in ("volunteer", "organizer"):
        await log_in_page(client, role)
        assert (await client.get("/counter")).status_code == 403
        refused = await client.get(path)
        assert refused.status_code == 403 and "data-keys" not in refused.text


@pytest.mark.usefixtures("demo")
async def test_a_typed_code_is_looked_up_then_handed_over_and_listed_today(client: Client) -> None:
    order_id, code = await placed_order(client)
    path, page = await counter_page(client)
    typed = f"{code[:4].lower()} - {code[4:].lower()}"

    found = await client.post(f"{path}/look-up", data={"code": typed, "_csrf_token": csrf_from(page)})

    assert found.status_code == 200, found.text
    assert "张*英" in found.text and "确认交付" in found.text and "北京时间" in found.text
    assert f'name="order_id" value="{order_id}"' in found.text
    done = await client.post(
        f"{path}/confirm",
        data={"code": code, "order_id": str(order_id), "_csrf_token": csrf_from(found.text)},
        headers={"HX-Request": "true"},
    )
    assert done.status_code == 200 and "已交付" in done.text
    assert 'id="today" class="card" aria-labelledby="today-title" hx-swap-oob="true"' in done.text
    assert f'data-order="{order_id}"' in done.text
    assert int(await LedgerEntry.count().where(LedgerEntry.kind == "redemption").run()) == 1
    again = await client.post(
        f"{path}/confirm", data={"code": code, "order_id": str(order_id), "_csrf_token": csrf_from(page)}
    )
    assert again.status_code in (404, 409)


@pytest.mark.usefixtures("demo")
async def test_ambiguous_letters_get_a_hint_and_do_not_count_but_wrong_codes_say_tries_left(client: Client) -> None:
    path, page = await counter_page(client)
    token = csrf_from(page)
    ambiguous = await client.post(f"{path}/look-up", data={"code": "ABCD-EF0O", "_csrf_token": token})
    assert ambiguous.status_code == 422 and "取货码里没有 0、O、1、I、L" in ambiguous.text
    wrong = await client.post(f"{path}/look-up", data={"code": "ABCD-EFGH", "_csrf_token": token})
    assert wrong.status_code == 404 and "还可以再试 9 次" in wrong.text  # the ambiguous one did not count


@pytest.mark.usefixtures("demo")
async def test_a_scanned_hand_over_syncs_once_and_a_second_devices_is_a_conflict(client: Client) -> None:
    order_id, _ = await placed_order(client)
    volunteer = await login_headers(client, "volunteer")
    token = (await client.get(f"/api/v1/orders/{order_id}/pickup-token", headers=volunteer)).json()["token"]
    path, page = await counter_page(client)
    headers = {"X-Fengling-Outbox": "1", "X-CSRFToken": csrf_from(page), "Accept": "application/json"}

    def form(device: str) -> dict[str, str]:
        return {
            "token": token,
            "client_ref": str(uuid.uuid4()),
            "device": device,
            "client_recorded_at": "2026-11-30T10:00:00Z",
        }

    first = await client.post(f"{path}/sync", data=form("a"), headers=headers)
    second = await client.post(f"{path}/sync", data=form("b"), headers=headers)

    assert first.status_code == 200 and first.json() == {"order_id": order_id, "status": "fulfilled"}
    assert second.status_code == 409
    assert second.headers["content-type"].startswith("application/problem+json")
    assert second.json()["title"].startswith(f"冲突：订单 {order_id} 已在其他设备交付")
    assert int(await LedgerEntry.count().where(LedgerEntry.kind == "redemption").run()) == 1
    assert int(await PickupConflict.count().run()) == 1
    tampered = dict(form("a"), token=tampered_token(token))
    refused = await client.post(f"{path}/sync", data=tampered, headers=headers)
    assert refused.status_code == 422 and "签名不符" in refused.json()["title"]


@pytest.mark.usefixtures("demo")
async def test_a_pickup_is_taken_back_and_the_statement_and_its_csv_show_both(client: Client) -> None:
    order_id, code = await placed_order(client)
    path, page = await counter_page(client)
    found = await client.post(f"{path}/look-up", data={"code": code, "_csrf_token": csrf_from(page)})
    await client.post(
        f"{path}/confirm", data={"code": code, "order_id": str(order_id), "_csrf_token": csrf_from(found.text)}
    )
    counter = await client.get(path)
    assert f'action="{path}/returns/{order_id}"' in counter.text

    returned = await client.post(
        f"{path}/returns/{order_id}",
        data={"reason_zh": "尺寸不合适", "restock": "1", "_csrf_token": csrf_from(counter.text)},
    )

    assert returned.status_code == 303 and returned.headers["location"] == f"{path}?n=counter_returned"
    after = await client.get(returned.headers["location"])
    assert "已退货" in after.text and 'id="today-returns"' in after.text
    statement = await client.get(f"{path}/statement")
    assert (
        statement.status_code == 200
        and f"#{order_id}" in statement.text
        and "下载本表（CSV，可用 Excel 打开）" in statement.text
    )
    # The month as read, the amounts as points, the month before linked and no month to come.
    assert re.search(r"<h1>\d{4}年\d{1,2}月 对账单</h1>", statement.text)
    assert re.search(r'<dd id="statement-net">[\d,]+\.\d\d 分</dd>', statement.text)
    assert 'id="statement-previous"' in statement.text and 'id="statement-next"' not in statement.text
    earlier = await client.get(f"{path}/statement", params={"period": "2026-01"})
    assert 'href="' + path + '/statement?period=2026-02"' in earlier.text
    csv = await client.get(f"{path}/statement.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert str(order_id) in csv.text


@pytest.mark.usefixtures("demo")
async def test_a_counter_post_without_the_csrf_token_is_refused(client: Client) -> None:
    order_id, code = await placed_order(client)
    path, _ = await counter_page(client)
    refused = await client.post(f"{path}/confirm", data={"code": code, "order_id": str(order_id)})
    assert refused.status_code == 403
    assert int(await LedgerEntry.count().where(LedgerEntry.kind == "redemption").run()) == 0


@pytest.mark.usefixtures("demo")
async def test_counter_staff_find_their_counter_on_the_home_page_and_volunteers_do_not(client: Client) -> None:
    await log_in_page(client, "shop_staff")
    assert 'href="/counter" id="counter-link"' in (await client.get("/")).text
    await log_in_page(client, "volunteer")
    assert 'id="counter-link"' not in (await client.get("/")).text


@pytest.mark.usefixtures("demo")
async def test_a_confirmation_of_a_code_that_is_not_the_looked_up_order_counts_as_a_wrong_guess(
    client: Client,
) -> None:
    order_id, _ = await placed_order(client)
    path, page = await counter_page(client)
    token = csrf_from(page)
    guessed = await client.post(
        f"{path}/confirm", data={"code": "ABCD-EFGH", "order_id": str(order_id), "_csrf_token": token}
    )
    assert guessed.status_code == 409 and "不能交付" in guessed.text
    wrong = await client.post(f"{path}/look-up", data={"code": "ABCD-EFGJ", "_csrf_token": token})
    assert "还可以再试 8 次" in wrong.text  # the confirmation counted
