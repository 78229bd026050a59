"""axe-core (vendored from the npm registry into ``tests/browser/vendor/``)
finds no serious or critical violations on any page, in normal and elder
mode; in elder mode text contrast meets WCAG AAA (axe's
``color-contrast-enhanced``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import VIEWPORT
from tests.browser.test_pages_in_browser import log_in, set_elder_mode

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
