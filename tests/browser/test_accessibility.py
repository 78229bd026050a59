"""axe-core (vendored from the npm registry into ``tests/browser/vendor/``)
finds no serious or critical violations on any page, in normal and elder
mode; in elder mode text contrast meets WCAG AAA (axe's
``color-contrast-enhanced``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import utc_now
from tests.browser.conftest import VIEWPORT
from tests.browser.test_pages_in_browser import ELDER_TAP_PX, log_in, set_elder_mode
from web.i18n import CHINA

AXE = (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
PAGES = (
    "/",
    "/statement",
    "/statement/print",
    "/me",
    "/shop",
    "/shop/items/1",
    "/orders",
    "/ranking",
    "/recognition",
    "/earn",
    "/earn/report",
    "/earn/patrol",
    "/earn/service",
    "/earn/mine",
    "/earn/tasks",
    "/orders/999999",  # the error page (404)
)
SERIOUS = {"serious", "critical"}


@pytest.fixture
def axe_page(browser: Any, demo: str) -> Iterator[Any]:
    # axe is injected by the test; the app's own CSP stays as it is for everything else.
    context = browser.new_context(viewport=VIEWPORT, base_url=demo, locale="zh-CN", bypass_csp=True)
    yield context.new_page()
    context.close()


def violations(page: Any, *, aaa: bool) -> list[str]:
    page.evaluate(AXE)
    rules = "{'color-contrast-enhanced': {enabled: true}}" if aaa else "{}"
    result = page.evaluate(f"axe.run(document, {{rules: {rules}}}).then(r => [r.violations, r.passes.length])")
    found, passed = result
    assert passed > 0, "axe checked nothing"
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in SERIOUS or (aaa and v["id"] == "color-contrast-enhanced")
    ]


def test_the_login_page_has_no_serious_violations(axe_page: Any) -> None:
    axe_page.goto("/login")
    assert violations(axe_page, aaa=False) == []


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_every_page_has_no_serious_violations(axe_page: Any, elder: bool) -> None:
    log_in(axe_page)
    if elder:
        set_elder_mode(axe_page, on=True)
    paths = [*PAGES, f"/orders/{place_an_order(axe_page)}", first_activity_page(axe_page)]
    found = {}
    for path in paths:
        axe_page.goto(path)
        found[path] = violations(axe_page, aaa=elder)
    assert found == {path: [] for path in paths}


def place_an_order(page: Any) -> int:
    """An open order, so its page shows the code and the QR."""
    page.goto("/shop/items/1")
    page.click("form.redeem button[type=submit]")
    page.wait_for_url(re.compile(r"/orders/\d+\?n=order_placed$"))
    match = re.search(r"/orders/(\d+)", page.url)
    assert match
    return int(match.group(1))


def first_activity_page(page: Any) -> str:
    page.goto("/statement")
    href = page.get_attribute("a.cause[href^='/activities/']", "href")
    assert href
    return str(href)


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_the_outbox_with_an_item_needing_attention_has_no_serious_violations(axe_page: Any, elder: bool) -> None:
    """The outbox panel every page carries, in its fullest state: a refused
    item under 需要您处理 with its reason and a discard button."""
    log_in(axe_page)
    if elder:
        set_elder_mode(axe_page, on=True)
    axe_page.goto("/earn/service")
    start = (utc_now() - timedelta(minutes=30)).astimezone(CHINA)
    axe_page.fill("#title", "打扫楼道")
    axe_page.fill("#started_at", start.strftime("%Y-%m-%dT%H:%M"))
    axe_page.fill("#ended_at", (start - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M"))  # ends before it starts
    axe_page.click("form[data-outbox=service] button[type=submit]")
    axe_page.wait_for_selector("#outbox-attention li")
    assert axe_page.is_visible("#outbox")
    for path in ("/", "/earn/service"):
        axe_page.goto(path)
        axe_page.wait_for_selector("#outbox-attention li")
        assert violations(axe_page, aaa=elder) == [], path
        if elder:  # its buttons (discard; upload now while items wait) are as large as any other
            buttons = [b for b in axe_page.query_selector_all("#outbox button") if b.is_visible()]
            assert buttons, path
            for button in buttons:
                box = button.bounding_box()
                assert box is not None and box["height"] >= ELDER_TAP_PX, (path, button.inner_text())
