"""The shop counter in headless Chromium at 360×640 (issue #14's list):
a typed code confirmed and the order fulfilled through the API; the order's
QR PNG decoded in the page into the same order; offline, a scanned QR
verified on the device, confirmed into the outbox and synced once when
online, a second offline device's confirmation of the same token a conflict
with still one posting; a tampered and an expired token refused offline in
plain Chinese; the counter throttled after wrong guesses still taking a
right code; the camera stream (Chromium's fake device playing the QR) decoded
frame by frame."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from core import base45
from core.clock import utc_now
from ledger.tables import LedgerEntry
from marketplace.pickup_codes import ALPHABET
from marketplace.pickup_tokens import PREFIX, PickupClaims, read_token, sign_token
from marketplace.qr import pickup_qr
from marketplace.signing_keys import counter_public_keys, signing_key
from tests.browser.conftest import VIEWPORT, credentials, run_async
from tests.browser.test_accessibility import violations
from tests.browser.test_pages_in_browser import ELDER_FIGURE_PX, ELDER_TAP_PX, log_in, px, set_elder_mode

WAIT_MS = 15000


def api_headers(base_url: str, role: str) -> dict[str, str]:
    phone, password = credentials(role)
    with httpx.Client(base_url=base_url) as api:
        token = api.post("/api/v1/auth/login", json={"phone": phone, "password": password}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def place_towel(base_url: str) -> dict[str, Any]:
    """The volunteer redeems a towel through the API: the order."""
    with httpx.Client(base_url=base_url, headers=api_headers(base_url, "volunteer")) as api:
        items = api.get("/api/v1/catalog/items", params={"limit": 100}).json()["items"]
        towel = next(item for item in items if item["name_zh"].startswith("毛巾"))
        shop = api.get("/api/v1/shops").json()[0]["id"]
        placed = api.post(
            "/api/v1/orders",
            json={"item_id": towel["id"], "shop_id": shop},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert placed.status_code == 201, placed.text
        order: dict[str, Any] = placed.json()
        return order


def token_of(base_url: str, order_id: int) -> str:
    with httpx.Client(base_url=base_url, headers=api_headers(base_url, "volunteer")) as api:
        token: str = api.get(f"/api/v1/orders/{order_id}/pickup-token").json()["token"]
        return token


def order_status(base_url: str, order_id: int) -> str:
    with httpx.Client(base_url=base_url, headers=api_headers(base_url, "volunteer")) as api:
        status: str = api.get(f"/api/v1/orders/{order_id}").json()["status"]
        return status


def wait_for_status(base_url: str, order_id: int, status: str, *, seconds: float = 15) -> bool:
    """Whether the order reaches ``status`` within ``seconds`` (the outbox sends by itself)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if order_status(base_url, order_id) == status:
            return True
        time.sleep(0.2)
    return False


def redemptions() -> int:
    found: list[int] = []

    async def count() -> None:
        found.append(int(await LedgerEntry.count().where(LedgerEntry.kind == "redemption").run()))

    run_async(count)
    return found[0]


def resigned(token: str, *, expires_in: timedelta | None = None, shop_id: int | None = None) -> str:
    """A token with the same order but other claims, signed by the
    deployment's own key: genuine, yet expired or for another shop."""
    made: list[str] = []

    async def sign() -> None:
        now = utc_now()
        claims = read_token(token, await counter_public_keys(), now=now)
        key = await signing_key()
        changed = PickupClaims(
            key_id=claims.key_id,
            order_id=claims.order_id,
            shop_id=shop_id if shop_id is not None else claims.shop_id,
            item_id=claims.item_id,
            quantity=claims.quantity,
            member_masked_name=claims.member_masked_name,
            issued_at=now - timedelta(days=2),
            expires_at=now + expires_in if expires_in is not None else claims.expires_at,
        )
        made.append(sign_token(changed, key.private_key))

    run_async(sign)
    return made[0]


def tampered(token: str) -> str:
    """One byte of the signed payload changed (the quantity)."""
    raw = bytearray(base45.decode(token.removeprefix(PREFIX)))
    raw[22] ^= 0x01
    return PREFIX + base45.encode(bytes(raw))


def scan(page: Any, token: str) -> None:
    """Photograph the QR: its PNG goes through the page's file input and decoder."""
    page.set_input_files(
        "#scan-file", files=[{"name": "qr.png", "mimeType": "image/png", "buffer": pickup_qr(token, scale=6)}]
    )


@pytest.fixture
def context(browser: Any, demo: str) -> Iterator[Any]:
    made = browser.new_context(viewport=VIEWPORT, base_url=demo, locale="zh-CN")
    yield made
    made.close()


def open_counter(context: Any) -> Any:
    page = context.new_page()
    log_in(page, "shop_staff")
    page.goto("/counter")
    page.wait_for_url("**/counter/*")
    page.wait_for_selector("#scan[data-engine]")
    return page


def test_a_typed_code_is_confirmed_and_the_order_is_fulfilled_through_the_api(context: Any, demo: str) -> None:
    order = place_towel(demo)
    page = open_counter(context)
    code = order["pickup_code"]
    page.fill("#code", f"{code[:4].lower()}-{code[4:].lower()}")
    page.click("#look-up")
    page.wait_for_selector("#lookup-found")
    assert page.inner_text("#found-member") == "张*英"
    assert page.inner_text("#found-quantity") == "1"
    assert "北京时间" in page.inner_text("#lookup-found")
    page.click("#confirm-typed")
    page.wait_for_selector("#lookup-done")
    assert order_status(demo, order["id"]) == "fulfilled"
    assert f"#{order['id']}" in page.inner_text("#today-pickups")
    assert redemptions() == 1


def test_the_orders_qr_png_decodes_in_the_page_to_the_same_order(context: Any, demo: str) -> None:
    order = place_towel(demo)
    page = open_counter(context)
    scan(page, token_of(demo, order["id"]))
    page.wait_for_selector("#scan-order", timeout=WAIT_MS)
    assert page.get_attribute("#scan-order", "data-order") == str(order["id"])
    assert "毛巾" in page.inner_text("#scan-order") and "张*英" in page.inner_text("#scan-order")
    # Debian's Chromium has no BarcodeDetector: the vendored jsQR decoded it.
    assert page.get_attribute("#scan", "data-engine") in ("jsqr", "native")
    page.click("#confirm-scanned")
    page.wait_for_selector("#scan-order .queued")
    assert wait_for_status(demo, order["id"], "fulfilled")


def test_offline_a_scanned_qr_is_verified_queued_and_synced_once_and_a_second_device_conflicts(
    context: Any, browser: Any, demo: str
) -> None:
    order = place_towel(demo)
    token = token_of(demo, order["id"])
    first = open_counter(context)
    other_context = browser.new_context(viewport=VIEWPORT, base_url=demo, locale="zh-CN")
    try:
        second = open_counter(other_context)
        context.set_offline(True)
        other_context.set_offline(True)
        for page in (first, second):
            scan(page, token)
            page.wait_for_selector("#scan-order", timeout=WAIT_MS)
            assert "二维码有效" in page.inner_text("#scan-order")
            page.click("#confirm-scanned")
            page.wait_for_selector("#outbox[data-waiting='1']")
            assert "1 条记录" in page.inner_text("#outbox-count")
        # The same QR confirmed again on the first device stays one item.
        scan(first, token)
        first.wait_for_selector("#scan-order #confirm-scanned", timeout=WAIT_MS)
        first.click("#confirm-scanned")
        first.wait_for_selector("#scan-order .queued")
        assert first.get_attribute("#outbox", "data-waiting") == "1"
        assert order_status(demo, order["id"]) == "placed"  # nothing reached the server

        context.set_offline(False)
        first.wait_for_selector("#outbox[data-waiting='0']", state="attached", timeout=WAIT_MS)
        assert order_status(demo, order["id"]) == "fulfilled"
        assert redemptions() == 1

        other_context.set_offline(False)
        second.wait_for_selector("#outbox-attention:not([hidden])", timeout=WAIT_MS)
        assert "冲突" in second.inner_text("#outbox-attention-list")
        assert "已在其他设备交付" in second.inner_text("#outbox-attention-list")
        assert redemptions() == 1
    finally:
        other_context.close()


def test_offline_a_tampered_an_expired_and_another_shops_token_are_refused_in_plain_words(
    context: Any, demo: str
) -> None:
    order = place_towel(demo)
    token = token_of(demo, order["id"])
    page = open_counter(context)
    context.set_offline(True)
    cases = (
        (tampered(token), "bad_signature", "签名不符"),
        (resigned(token, expires_in=timedelta(hours=-1)), "expired", "已过期"),
        (resigned(token, shop_id=order["shop_id"] + 1000), "other_shop", "别家店"),
    )
    for bad, reason, words in cases:
        scan(page, bad)
        page.wait_for_selector(f"#scan-refused[data-reason='{reason}']", timeout=WAIT_MS)
        assert words in page.inner_text("#scan-refused")
        assert page.locator("#confirm-scanned").count() == 0
    context.set_offline(False)
    assert order_status(demo, order["id"]) == "placed"


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_the_counter_pages_have_no_serious_violations_and_big_targets_in_elder_mode(
    browser: Any, demo: str, elder: bool
) -> None:
    order = place_towel(demo)
    checked = browser.new_context(viewport=VIEWPORT, base_url=demo, locale="zh-CN", bypass_csp=True)
    try:
        page = open_counter(checked)
        if elder:
            set_elder_mode(page, on=True)
            page.goto("/counter")
            page.wait_for_selector("#scan[data-engine]")
            assert px(page, "#code", "font-size") >= ELDER_FIGURE_PX
        counter = page.url
        page.fill("#code", order["pickup_code"])
        page.click("#look-up")
        page.wait_for_selector("#lookup-found")
        found = {"counter": violations(page, aaa=elder)}
        if elder:
            for target in page.query_selector_all("main button:not([hidden]), main a.button, main summary, nav.tabs a"):
                if target.is_visible():
                    box = target.bounding_box()
                    assert box is not None and box["height"] >= ELDER_TAP_PX, target.inner_text()
        page.goto(f"{counter}/statement")
        found["statement"] = violations(page, aaa=elder)
        assert found == {"counter": [], "statement": []}
    finally:
        checked.close()


def qr_video(token: str, path: Any) -> None:
    """A few seconds of "camera" showing the order's QR, as the Y4M file
    Chromium's fake capture device plays (``--use-file-for-fake-video-capture``)."""
    import io

    from PIL import Image

    qr = Image.open(io.BytesIO(pickup_qr(token, scale=4))).convert("RGB")
    frame = Image.new("RGB", (640, 480), "white")
    frame.paste(qr, ((640 - qr.width) // 2, (480 - qr.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (320, 240)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with open(path, "wb") as video:
        video.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(10):
            video.write(b"FRAME\n" + planes)


def test_the_camera_scans_the_orders_qr(browser: Any, chromium: str, demo: str, tmp_path: Any) -> None:
    """A camera stream (Chromium's fake device playing the QR) is decoded frame by frame."""
    order = place_towel(demo)
    video = tmp_path / "qr.y4m"
    qr_video(token_of(demo, order["id"]), video)
    with_camera = browser.browser_type.launch(
        executable_path=chromium,
        headless=True,
        args=[
            "--no-sandbox",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = with_camera.new_context(viewport=VIEWPORT, base_url=demo, locale="zh-CN", permissions=["camera"])
        page = open_counter(context)
        page.click("#scan-camera")
        page.wait_for_selector("#scan-order", timeout=WAIT_MS)
        assert page.get_attribute("#scan-order", "data-order") == str(order["id"])
        assert page.locator("#scan-video").is_hidden()  # the camera stops once it has read a code
    finally:
        with_camera.close()


# Last in the module: the embedded Redis keeps the slowed counter until the window ends.
def test_after_wrong_guesses_the_counter_is_slowed_and_a_right_code_still_works(context: Any, demo: str) -> None:
    order = place_towel(demo)
    page = open_counter(context)
    for attempt in range(10):  # FENGLING_PICKUP_MAX_FAILURES default
        page.fill("#code", f"XXXXXXX{ALPHABET[attempt]}")
        with page.expect_response(lambda response: response.url.endswith("/look-up")):
            page.click("#look-up")
        expected = f"还可以再试 {9 - attempt} 次" if attempt < 9 else "柜台已放慢"
        page.wait_for_function(
            "words => (document.getElementById('lookup-error') || {textContent: ''}).textContent.includes(words)",
            arg=expected,
        )
    page.fill("#code", order["pickup_code"])
    page.click("#look-up")
    page.wait_for_selector("#lookup-found", timeout=WAIT_MS)
    page.click("#confirm-typed")
    page.wait_for_selector("#lookup-done")
    assert order_status(demo, order["id"]) == "fulfilled"
