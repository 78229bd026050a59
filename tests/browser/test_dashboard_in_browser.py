"""The organiser dashboard in headless Chromium: every chart is drawn (its
canvas has painted pixels), each data table behind its toggle says what the
page's JSON says, nothing breaks the CSP, and the page works at 360 px and
on a desktop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import ViewportSize

from reporting.rollups import catch_up
from tests.browser.conftest import VIEWPORT, run_async
from tests.browser.test_accessibility import violations
from tests.browser.test_pages_in_browser import log_in, set_elder_mode

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
DRAWN = "() => [...document.querySelectorAll('.chart')].every(c => c.dataset.drawn && c.querySelector('canvas'))"
PAINTED = """(canvas) => {
  const context = canvas.getContext('2d');
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { painted += 1; } }
  return painted;
}"""


async def rolled_up() -> None:
    await catch_up()


@pytest.fixture(params=[VIEWPORT, DESKTOP], ids=["phone", "desktop"])
def page(request: pytest.FixtureRequest, browser: Any, demo: str) -> Iterator[Any]:
    run_async(rolled_up)
    context = browser.new_context(viewport=request.param, base_url=demo, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_every_chart_is_drawn_and_each_data_table_matches_the_figures(page: Any) -> None:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    log_in(page, "organizer")
    page.goto("/dashboard")
    charts = page.locator(".chart")
    assert charts.count() >= 5
    page.wait_for_function(DRAWN)
    for index in range(charts.count()):
        canvas = charts.nth(index).locator("canvas").first
        assert canvas.evaluate(PAINTED) > 100, charts.nth(index).get_attribute("data-figure")
    data = json.loads(page.locator("#dashboard-data").text_content())
    charted = dict(
        page.evaluate(
            "() => [...document.querySelectorAll('.chart')].map("
            "el => [el.dataset.figure, echarts.getInstanceByDom(el).getOption().series[0].name])"
        )
    )
    checked = []
    for figure in data["figures"]:
        points = [column["zh"] for column in figure["columns"] if column["key"] == "points"]
        if points and figure["key"] in charted:  # ranked by points: the chart shows points, not hours
            assert charted[figure["key"]] == points[0], figure["key"]
            checked.append(figure["key"])
    assert checked, charted
    for figure in data["figures"]:
        section = page.locator(f"#figure-{figure['key']}")
        if not section.locator("details").evaluate("d => d.open"):
            section.locator("summary").click()
        cells = section.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.querySelectorAll('td')].map(td => td.textContent.trim()))"
        )
        if figure["rows"]:
            assert cells == [[str(cell) for cell in row] for row in figure["rows"]], figure["key"]
        assert section.locator("table").is_visible()
    assert not [p for p in problems if "Content Security Policy" in p or "echarts" in p.lower()], problems


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_the_dashboard_and_its_report_have_no_serious_accessibility_violations(
    browser: Any, demo: str, elder: bool
) -> None:
    """axe-core, as for every other page: none serious or critical; in elder
    mode text contrast meets WCAG AAA."""
    run_async(rolled_up)
    context = browser.new_context(viewport=VIEWPORT, base_url=demo, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, "organizer")
        if elder:
            set_elder_mode(page, on=True)
        found = {}
        for path in ("/dashboard", "/dashboard/report"):
            page.goto(path)
            found[path] = violations(page, aaa=elder)
        assert found == {"/dashboard": [], "/dashboard/report": []}
    finally:
        context.close()
