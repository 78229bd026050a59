"""The supermarket and order pages in headless Chromium at 360×640: the
redeem journey to a picked-up order, one order for a double tap, another
member's order, CSRF, the codes' size in elder mode, the ranking page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import VIEWPORT, credentials
from tests.browser.test_pages_in_browser import ELDER_FIGURE_PX, ELDER_TAP_PX, log_in, px, set_elder_mode


@pytest.fixture
def page(browser: Any, demo: str) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, base_url=demo, locale="zh-CN")
    yield context.new_page()
    context.close()


def api_headers(base_url: str, role: str) -> dict[str, str]:
    phone, password = credentials(role)
    with httpx.Client(base_url=base_url) as api:
        token = api.post("/api/v1/auth/login", json={"phone": phone, "password": password}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def api_orders(base_url: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=base_url, headers=api_headers(base_url, "volunteer")) as api:
        orders: list[dict[str, Any]] = api.get("/api/v1/orders").json()["orders"]
        return orders


def confirm_pickup(base_url: str, code: str) -> None:
    with httpx.Client(base_url=base_url, headers=api_headers(base_url, "shop_staff")) as api:
        shop = api.get("/api/v1/shops").json()[0]["id"]
        response = api.post(f"/api/v1/shops/{shop}/pickups", json={"code": code})
        assert response.status_code == 200, response.text


def redeem_towel(page: Any) -> int:
    page.goto("/shop")
    page.click("text=毛巾")
    page.wait_for_url(re.compile(r"/shop/items/\d+$"))
    page.click("form.redeem button[type=submit]")
    page.wait_for_url(re.compile(r"/orders/\d+\?n=order_placed$"))
    match = re.search(r"/orders/(\d+)", page.url)
    assert match
    return int(match.group(1))


def test_redeem_then_my_orders_show_the_code_and_qr_then_the_shop_confirms_and_it_shows_picked_up(
    page: Any, demo: str
) -> None:
    log_in(page)
    order_id = redeem_towel(page)
    assert "兑换成功" in page.inner_text("#flash")
    code = page.inner_text("#pickup-code").strip()
    qr = page.locator("figure.qr svg")
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 150  # large enough to scan off a phone
    page.goto("/orders")
    assert code in page.inner_text(".orders")
    assert "待领取" in page.inner_text(".orders")
    confirm_pickup(demo, code)
    page.click(f"a[href='/orders/{order_id}']")
    page.wait_for_url(f"**/orders/{order_id}")
    assert page.inner_text("#order-status") == "已领取"
    assert page.locator("#fulfilled-at").is_visible()
    assert page.locator("figure.qr").count() == 0
    assert [order["status"] for order in api_orders(demo)] == ["fulfilled"]


def test_a_double_tap_on_redeem_places_one_order(page: Any, demo: str) -> None:
    log_in(page)
    page.goto("/shop")
    page.click("text=笔记本")
    page.wait_for_url(re.compile(r"/shop/items/\d+$"))
    page.dblclick("form.redeem button[type=submit]")
    page.wait_for_url(re.compile(r"/orders/\d+\?n=order_placed$"))
    assert len(api_orders(demo)) == 1


def test_cancel_returns_the_order_to_cancelled(page: Any, demo: str) -> None:
    log_in(page)
    order_id = redeem_towel(page)
    page.click("form.cancel button[type=submit]")
    page.wait_for_url(f"**/orders/{order_id}?n=order_cancelled_notice")
    assert page.inner_text("#order-status") == "已取消"
    assert [order["status"] for order in api_orders(demo)] == ["cancelled"]


def test_another_members_order_page_is_not_found(page: Any, browser: Any, demo: str) -> None:
    log_in(page)
    order_id = redeem_towel(page)
    other = browser.new_context(viewport=VIEWPORT, base_url=demo, locale="zh-CN")
    try:
        theirs = other.new_page()
        log_in(theirs, "grid_worker")
        response = theirs.goto(f"/orders/{order_id}")
        assert response is not None and response.status == 404
        assert "页面不存在" in theirs.inner_text("main")
    finally:
        other.close()


def test_a_cancel_without_the_csrf_token_is_refused_and_the_order_stays(page: Any, demo: str) -> None:
    log_in(page)
    order_id = redeem_towel(page)
    response = page.request.post(f"/orders/{order_id}/cancel", form={}, max_redirects=0)
    assert response.status == 403
    assert [order["status"] for order in api_orders(demo)] == ["placed"]


def test_in_elder_mode_the_codes_are_large_and_the_shop_pages_tap_targets_big(page: Any) -> None:
    log_in(page)
    set_elder_mode(page, on=True)
    order_id = redeem_towel(page)
    assert px(page, "#pickup-code", "font-size") >= ELDER_FIGURE_PX
    page.goto("/orders")
    assert px(page, ".code-small", "font-size") >= ELDER_FIGURE_PX
    for path in ("/shop", "/shop/items/1", "/orders", f"/orders/{order_id}", "/ranking"):
        page.goto(path)
        # What a finger can reach: controls inside a hidden panel (the outbox's,
        # shown only while items wait) are not on screen and have no size.
        targets = [
            target
            for target in page.query_selector_all(
                "main a.button, main a.back, main button:not([hidden]), main .chip, main .item-card a, "
                "main .order-card a, main input[type=number], label.choice, nav.tabs a"
            )
            if target.is_visible()
        ]
        assert targets, path
        for target in targets:
            box = target.bounding_box()
            assert box is not None
            assert box["height"] >= ELDER_TAP_PX, (path, target.inner_text())
        for icon_holder in page.query_selector_all("nav a, button:has(svg)"):
            if icon_holder.is_visible():
                assert icon_holder.inner_text().strip(), path


def test_the_ranking_page_shows_my_standing_and_the_week_against_last(page: Any) -> None:
    log_in(page)
    page.goto("/ranking")
    assert "本周比上周" in page.inner_text("main")
    assert page.locator("#my-points").is_visible()
    page.click("a.chip:has-text('本月')")
    page.wait_for_url("**/ranking?board=*&period=month")
    assert "本周比上周" not in page.inner_text("main")


def test_the_login_page_switches_to_english_and_back(page: Any) -> None:
    page.goto("/login")
    page.click("button[value=en]")
    page.wait_for_url("**/login")
    assert page.inner_text("h1") == "Log in"
    page.click("button[value=zh]")
    page.wait_for_url("**/login")
    assert page.inner_text("h1") == "登录"
