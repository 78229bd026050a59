"""The phone pages in headless Chromium at 360×640 (``web/``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from api.community.auth import SESSION_COOKIE
from tests.browser.conftest import VIEWPORT, credentials, run_async

# Elder mode's numbers (issue #13).
ELDER_BASE_PX = 20
ELDER_FIGURE_PX = 28
ELDER_TAP_PX = 48
TAP_TARGETS = ", ".join(
    (
        "main a",
        "main button:not([hidden])",
        "main input[type=tel]",
        "main input[type=password]",
        "nav a",
        "label.choice",
    )
)


@pytest.fixture
def page(browser: Any, demo: str) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, base_url=demo, locale="zh-CN")
    yield context.new_page()
    context.close()


def log_in(page: Any, role: str = "volunteer") -> None:
    phone, password = credentials(role)
    page.goto("/login")
    page.fill("#phone", phone)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def api_wallet(base_url: str, role: str = "volunteer") -> dict[str, Any]:
    phone, password = credentials(role)
    with httpx.Client(base_url=base_url) as api:
        token = api.post("/api/v1/auth/login", json={"phone": phone, "password": password}).json()["access_token"]
        wallet: dict[str, Any] = api.get("/api/v1/me/wallet", headers={"Authorization": f"Bearer {token}"}).json()
        return wallet


def px(page: Any, selector: str, prop: str) -> float:
    value = page.eval_on_selector(selector, f"e => getComputedStyle(e).getPropertyValue('{prop}')")
    return float(str(value).removesuffix("px"))


def test_after_login_home_shows_the_balance_the_api_reports(page: Any, demo: str) -> None:
    wallet = api_wallet(demo)
    log_in(page)
    assert page.inner_text("#available").split()[0].replace(",", "") == wallet["available"]
    assert page.inner_text("#balance").replace(",", "") == wallet["balance"]
    assert page.inner_text("#pending").replace(",", "") == wallet["held"]
    assert "北京时间" in page.inner_text(".lines")


def set_elder_mode(page: Any, on: bool) -> None:
    page.goto("/me")
    page.check(f"input[name=elder_mode][value='{1 if on else 0}']")
    page.click("form[action='/me/preferences'] button[type=submit]")
    page.wait_for_url("**/me?n=me_saved")


def assert_elder_sizes(page: Any) -> None:
    page.goto("/")
    assert px(page, "body", "font-size") >= ELDER_BASE_PX
    assert px(page, "#available", "font-size") >= ELDER_FIGURE_PX
    assert px(page, "#balance", "font-size") >= ELDER_FIGURE_PX
    page.goto("/statement")
    activity = page.get_attribute("a.cause[href^='/activities/']", "href")
    assert activity
    for path in ("/", "/statement", "/me", activity):
        page.goto(path)
        # What a finger can reach: controls inside a hidden panel (the outbox's,
        # shown only while items wait) are not on screen and have no size.
        targets = [target for target in page.query_selector_all(TAP_TARGETS) if target.is_visible()]
        assert targets, path
        for target in targets:
            box = target.bounding_box()
            assert box is not None
            assert box["height"] >= ELDER_TAP_PX, (path, target.inner_text() or target.get_attribute("name"))
        # Icons always with words: every nav link and icon button shows text.
        for icon_holder in page.query_selector_all("nav a, button:has(svg)"):
            if icon_holder.is_visible():
                assert icon_holder.inner_text().strip(), path


def test_the_china_time_label_never_breaks_across_lines_in_elder_mode(page: Any) -> None:
    """北京时间 stays whole (never 北 / 京时间) in the narrow columns of the
    statement and the ranking, at 360 px with elder mode's large type."""
    log_in(page)
    set_elder_mode(page, on=True)
    for path in ("/statement", "/", "/ranking", "/earn/tasks"):
        page.goto(path)
        labels = [label for label in page.query_selector_all(".tz") if label.is_visible()]
        if path == "/statement":
            assert labels, "the statement shows times"
        for label in labels:
            assert label.inner_text() == "北京时间"
            assert label.evaluate("node => node.getClientRects().length") == 1, path
    page.goto("/ranking")
    # The two rows of chips say what they choose.
    assert page.inner_text("#scope-label") == "范围：" and page.inner_text("#period-label") == "时间："


def test_elder_mode_meets_the_sizes_and_persists_across_logins(page: Any) -> None:
    log_in(page)
    normal_base = px(page, "body", "font-size")
    assert normal_base < ELDER_BASE_PX
    set_elder_mode(page, on=True)
    assert_elder_sizes(page)
    page.goto("/me")
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login?n=logged_out")
    log_in(page)
    assert "elder" in (page.get_attribute("body", "class") or "")
    assert_elder_sizes(page)


def test_the_login_page_turns_elder_mode_on_before_anyone_logs_in(page: Any) -> None:
    """A new phone, nobody logged in: 长辈模式 on the login page makes the
    page itself large (and stays so), and the login still returns to ``next``."""
    page.goto("/login?next=/shop")
    assert px(page, "body", "font-size") < ELDER_BASE_PX
    # The state in words and one button for the change (a filled "关闭" read as the button to press).
    assert page.inner_text("#elder-label") == "长辈模式：已关闭"
    assert page.inner_text("#elder-change") == "开启长辈模式"
    page.click("#elder-change")
    page.wait_for_url("**/login?next=%2Fshop")
    page.reload()
    assert px(page, "body", "font-size") >= ELDER_BASE_PX
    assert page.inner_text("#elder-label") == "长辈模式：已开启"
    assert page.inner_text("#elder-change") == "关闭长辈模式"
    targets = [target for target in page.query_selector_all(TAP_TARGETS) if target.is_visible()]
    assert len(targets) >= 6
    for target in targets:
        box = target.bounding_box()
        assert box is not None and box["height"] >= ELDER_TAP_PX, target.inner_text()
    phone, password = credentials("volunteer")
    page.fill("#phone", phone)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url("**/shop")


def test_a_form_post_without_the_csrf_token_is_refused(page: Any) -> None:
    log_in(page)
    response = page.request.post("/me/preferences", form={"elder_mode": "1"}, max_redirects=0)
    assert response.status == 403
    page.goto("/")
    assert "elder" not in (page.get_attribute("body", "class") or "")


def test_logout_ends_the_session_and_the_old_cookie_is_refused(page: Any, browser: Any, demo: str) -> None:
    log_in(page)
    old = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    page.goto("/me")
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login?n=logged_out")
    assert "已退出登录" in page.inner_text("#flash")
    replay = browser.new_context(viewport=VIEWPORT, base_url=demo)
    try:
        replay.add_cookies([old])
        stale = replay.new_page()
        stale.goto("/")
        assert stale.url.endswith("/login")
    finally:
        replay.close()


async def _add_awards() -> None:
    from tests.integration.web.test_pages import add_lines

    await add_lines(25)


def test_the_statements_more_button_loads_the_next_page(page: Any) -> None:
    run_async(_add_awards)
    log_in(page)
    page.goto("/statement")
    assert page.locator("#lines .line").count() == 20
    page.click("#more a")
    page.locator("#lines .line").nth(20).wait_for()
    total = page.locator("#lines .line").count()
    assert total >= 29
    assert page.url.endswith("/statement")  # appended in place, not a new page
    assert "已经到底了" in page.inner_text("#more")


# Records what the page asks the browser to say, instead of saying it.
CATCH_SPEECH = """
window.spoken = [];
if (window.speechSynthesis) {
  window.speechSynthesis.speak = function (u) { window.spoken.push([u.lang, u.text]); };
  window.speechSynthesis.cancel = function () {};
}
"""


def test_read_aloud_speaks_home_statement_and_order_in_chinese(page: Any) -> None:
    page.add_init_script(CATCH_SPEECH)
    log_in(page)
    page.goto("/shop/items/1")
    page.click("form.redeem button[type=submit]")
    page.wait_for_url("**/orders/*?n=order_placed")
    code = page.inner_text("#pickup-code").strip()
    order_page = page.url
    expected: dict[str, Callable[[str], bool]] = {
        "/": lambda text: "可用积分" in text and page.inner_text("#available").split()[0] in text,
        "/statement": lambda text: "余额" in text and "志愿服务积分" in text,  # the figures, then the lines
        order_page: lambda text: " ".join(code) in text,
    }
    for path, says_it in expected.items():
        page.goto(path)
        page.click(".read-aloud")
        [(lang, text)] = page.evaluate("window.spoken")
        assert lang == "zh-CN", path
        assert says_it(text), (path, text)


def test_the_read_aloud_button_hides_where_there_is_no_speech_synthesis(page: Any) -> None:
    page.add_init_script("delete window.speechSynthesis; delete window.SpeechSynthesisUtterance;")
    log_in(page)
    page.goto("/shop/items/1")
    page.click("form.redeem button[type=submit]")
    page.wait_for_url("**/orders/*?n=order_placed")
    for path in (page.url, "/", "/statement"):
        page.goto(path)
        assert page.locator(".read-aloud").count() == 1, path
        assert not page.is_visible(".read-aloud"), path


def test_pages_load_no_inline_script_or_style_and_no_csp_violation(page: Any) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    log_in(page)
    for path in ("/", "/statement", "/statement/print", "/me"):
        page.goto(path)
    assert violations == []


def test_no_page_asks_for_a_file_that_is_not_there(page: Any) -> None:
    """On a bad signal every request counts: the pages (and the browser's
    own icon request) fetch nothing that answers 404."""
    missing: list[str] = []
    page.on("response", lambda r: missing.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    # The icon request is the browser's own: it shows only as a console error.
    page.on("console", lambda m: missing.append(f"{m.text} {m.location}") if m.type == "error" else None)
    page.goto("/login")
    log_in(page)
    for path in ("/", "/statement", "/statement/print", "/me", "/earn", "/shop"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert missing == []
    icon = page.request.get("/static/icon.svg")
    assert icon.ok and icon.headers["content-type"].startswith("image/svg+xml")
