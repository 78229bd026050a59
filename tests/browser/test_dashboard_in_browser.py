"""The organiser dashboard in headless Chromium: every chart is drawn (its
canvas has painted pixels), each data table behind its toggle says what the
page's JSON says, nothing breaks the CSP, and the page works at 360 px and
on a desktop."""

from __future__ import annotations

import itertools
import json
import re
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
    # A bar's value is written at its end: points with their two places.
    written = page.evaluate(
        "() => [...document.querySelectorAll('.chart')].map(el => {"
        " const series = echarts.getInstanceByDom(el).getOption().series[0];"
        " return [el.dataset.figure, series.type, series.label && series.label.formatter"
        " ? series.label.formatter({ value: 2092.5 }) : null]; })"
    )
    for key, kind, text in written:
        if key in checked and kind == "bar":
            assert text == "2,092.50", (key, text)
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


# The text a chart drew that ECharts kept on screen (a label hidden to avoid
# an overlap is not drawn): each line with its box in the chart's pixels,
# its font, and which label (axis or bar) it belongs to.
DRAWN_TEXT = """(element) => {
  const chart = echarts.getInstanceByDom(element);
  return chart.getZr().storage.getDisplayList(true)
    .filter(e => e.style && typeof e.style.text === 'string' && e.style.text && e.parent)
    .map(e => {
      const box = e.getBoundingRect().clone();
      const transform = e.getComputedTransform();
      if (transform) { box.applyTransform(transform); }
      return {text: e.style.text, font: e.style.font, label: e.parent.id,
              axis: String(e.parent.anid || '').startsWith('label_'),
              x: box.x, y: box.y, width: box.width, height: box.height};
    });
}"""
DAY_LABEL = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{1,2}月\d{1,2}日)$")
NUMBER_LABEL = re.compile(r"^[\d,.%]+$")


def drawn(page: Any, figure: str) -> list[dict[str, Any]]:
    chart = page.locator(f".chart[data-figure='{figure}']")
    texts: list[dict[str, Any]] = chart.evaluate(DRAWN_TEXT)
    return texts


def bare(words: str) -> str:
    """A name without the spaces and dots between its parts (a wrapped name
    may put each part on a line of its own)."""
    return re.sub(r"[\s·]", "", words)


def font_px(text: dict[str, Any]) -> float:
    size = re.search(r"(\d+(?:\.\d+)?)px", str(text["font"]))
    assert size, text
    return float(size.group(1))


@pytest.fixture
def phone(browser: Any, demo: str) -> Iterator[Any]:
    run_async(rolled_up)
    context = browser.new_context(viewport=VIEWPORT, base_url=demo, locale="zh-CN")
    yield context.new_page()
    context.close()


def open_dashboard(page: Any, path: str = "/dashboard?preset=quarter") -> dict[str, Any]:
    page.goto(path)
    page.wait_for_function(DRAWN)
    data: dict[str, Any] = json.loads(page.locator("#dashboard-data").text_content())
    return data


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_the_service_hours_days_never_overlap_or_leave_the_chart_at_360_px(phone: Any, elder: bool) -> None:
    """A quarter of days under the line: ECharts shows every n-th, flat, so
    no two touch, and the last is not cut at the chart's edge."""
    log_in(phone, "organizer")
    set_elder_mode(phone, on=elder)
    open_dashboard(phone)
    width = phone.locator(".chart[data-figure='service_hours']").evaluate("e => e.clientWidth")
    days = sorted(
        (text for text in drawn(phone, "service_hours") if text["axis"] and DAY_LABEL.match(text["text"])),
        key=lambda text: text["x"],
    )
    assert len(days) >= 2, days
    for before, after in itertools.pairwise(days):
        assert after["x"] >= before["x"] + before["width"], (before["text"], after["text"])
    assert all(day["x"] >= 0 and day["x"] + day["width"] <= width for day in days), days


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_every_bar_charts_category_names_read_whole(phone: Any, elder: bool) -> None:
    """活动（按类型与状态） and the rest: each name drawn in full (wrapped if
    need be, never cut to "…"), inside the chart."""
    log_in(phone, "organizer")
    set_elder_mode(phone, on=elder)
    data = open_dashboard(phone)
    bars = [figure for figure in data["figures"] if figure["chart"] == "bar" and figure["rows"]]
    assert "activities" in {figure["key"] for figure in bars}
    for figure in bars:
        names = {
            " · ".join(str(cell) for cell, column in zip(row, figure["columns"], strict=True) if not column["numeric"])
            for row in figure["rows"]
        }
        lines: dict[int, list[dict[str, Any]]] = {}
        for text in drawn(phone, figure["key"]):
            if text["axis"]:
                lines.setdefault(text["label"], []).append(text)
        shown = {"".join(line["text"] for line in sorted(label, key=lambda t: t["y"])) for label in lines.values()}
        shown = {words for words in shown if not NUMBER_LABEL.match(words)}  # a value axis's scale
        assert {bare(name) for name in names} == {bare(words) for words in shown}, figure["key"]
        assert all(text["x"] >= 0 for label in lines.values() for text in label), figure["key"]


LINES_OF_TEXT = """(selector) => [...document.querySelectorAll(selector)].filter(element => {
  const range = document.createRange();
  range.selectNodeContents(element);
  return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size > 1;
}).map(element => element.textContent)"""


def test_in_elder_mode_table_headings_and_figures_stay_on_one_line_and_dates_whole(phone: Any) -> None:
    """At 360 px in elder mode the data tables' headings (人数) and numbers
    never break a character per line, and a period breaks only at its "~"."""
    log_in(phone, "organizer")
    set_elder_mode(phone, on=True)
    open_dashboard(phone)
    phone.evaluate("() => document.querySelectorAll('.data-table details').forEach(d => { d.open = true; })")
    broken = phone.evaluate(LINES_OF_TEXT, ".data-table th, .data-table td.num, .data-table .day")
    assert broken == []
    assert phone.locator(".data-table .day").count() >= 2


def test_chart_text_grows_with_elder_mode(phone: Any) -> None:
    """The charts' words follow the page's: larger in elder mode, never
    smaller than 14 px on a phone, 18 px for an elder."""
    log_in(phone, "organizer")
    sizes = {}
    for elder in (False, True):
        set_elder_mode(phone, on=elder)
        open_dashboard(phone)
        fonts = {font_px(text) for figure in ("activities", "service_hours") for text in drawn(phone, figure)}
        assert len(fonts) == 1, fonts
        sizes[elder] = fonts.pop()
    assert sizes[False] >= 14 and sizes[True] >= 18 and sizes[True] > sizes[False], sizes


def test_the_date_fields_read_year_month_day_and_a_typed_or_picked_date_is_shown(phone: Any) -> None:
    """Chinese order whatever the browser's language (this Chromium's own is
    en-US, whose date fields read month/day/year); "选日期" fills the field."""
    log_in(phone, "organizer")
    open_dashboard(phone, "/dashboard")
    for name in ("from", "to"):
        field = phone.locator(f"#dash-{name}")
        assert field.get_attribute("type") == "text"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", field.input_value())
    phone.fill("#dash-from", "2026/11/5")
    phone.fill("#dash-to", "2026年11月20日")
    phone.click("form.dashboard-filter button[type=submit]")
    phone.wait_for_url("**/dashboard?*")
    phone.wait_for_function(DRAWN)
    assert phone.locator("#dash-from").input_value() == "2026-11-05"
    assert phone.locator("#dash-to").input_value() == "2026-11-20"
    picker = phone.locator("button.date-pick[data-for='dash-from']")
    assert picker.is_visible() and picker.inner_text() == "选日期"
    picker.click()
    phone.locator(".date-field:has(#dash-from) .date-proxy").evaluate(
        "proxy => { proxy.value = '2026-11-02'; proxy.dispatchEvent(new Event('change')); }"
    )
    assert phone.locator("#dash-from").input_value() == "2026-11-02"
