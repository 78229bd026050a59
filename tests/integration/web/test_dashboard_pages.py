"""The organiser dashboard page over HTTP (the browser journey is in
``tests/browser/test_dashboard_in_browser.py``): the demo organiser sees a
chart and a data table per figure and the figures as JSON in the page (no
inline script), downloads CSV and XLSX with the page session, prints the
monthly report; a volunteer is refused; another community's node is not
shown to them, on the page or in an export."""

from __future__ import annotations

import io
import json
import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook

from community.organisations import create_organisation
from community.roles import Level
from community.tables import Organisation
from core.database import pooled_connections
from reporting.rollups import catch_up
from tests.integration.web.test_pages import log_in_page

Client = AsyncTestClient[Litestar]


async def _nodes() -> tuple[int, int]:
    """The demo community, and a second community next to it."""
    async with pooled_connections(max_size=4):
        await catch_up()
        rows = await Organisation.select().where(Organisation.name_zh.is_in(["平安社区", "金雀山街道"])).run()
        by_name = {row["name_zh"]: row for row in rows}
        other = await create_organisation(
            name_zh="幸福社区", level=Level.COMMUNITY, parent_id=int(by_name["金雀山街道"]["id"]), issues_points=True
        )
        return int(by_name["平安社区"]["id"]), other.id


@pytest.mark.usefixtures("demo")
async def test_the_organiser_sees_a_chart_and_a_table_per_figure_and_the_data_as_json(client: Client) -> None:
    community, _ = await _nodes()
    await log_in_page(client, "organizer")
    page = await client.get("/dashboard")
    assert page.status_code == 200
    html = page.text
    assert "数据看板" in html and "/static/vendor/echarts.simple.min.js" in html
    match = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', html, re.S)
    assert match
    data = json.loads(match.group(1))
    assert data["organisation_id"] == community
    for figure in data["figures"]:
        assert f'id="figure-{figure["key"]}"' in html
    assert html.count('class="data-table"') == len(data["figures"])
    assert "<script>" not in html  # nothing inline: the CSP forbids it
    # Each category in Chinese alone, never followed by its key ("已评价 closed").
    figures = {figure["key"]: figure for figure in data["figures"]}
    named = [row[0] for row in figures["points"]["rows"] + figures["on_time"]["rows"]]
    named += [cell for row in figures["activities"]["rows"] for cell in row[:2]]
    assert named and [words for words in named if re.search("[A-Za-z]", words)] == []
    assert "受理" in named and "受理 accept" not in html
    # Nothing overdue in the demo: said as a fact about now, under a heading marked 当前.
    overdue = html.split('id="figure-overdue_by_grid"')[1].split("</section>")[0]
    assert figures["overdue_by_grid"]["rows"] == []
    assert "目前没有超期事项" in overdue and "本时段暂无数据" not in overdue


@pytest.mark.usefixtures("demo")
async def test_the_page_session_downloads_xlsx_and_csv_and_prints_the_monthly_report(client: Client) -> None:
    community, _ = await _nodes()
    await log_in_page(client, "organizer")
    xlsx = await client.get("/dashboard/export.xlsx", params={"org": community})
    assert xlsx.status_code == 200
    assert "积分流量" in load_workbook(io.BytesIO(xlsx.content)).sheetnames
    csv = await client.get("/dashboard/export.csv", params={"org": community, "figure": "budgets"})
    assert csv.content.startswith("\ufeff".encode()) and "各活动剩余预算" in csv.content.decode("utf-8-sig")
    report = await client.get("/dashboard/report", params={"org": community, "month": "2026-11"})
    assert report.status_code == 200
    assert (
        "/static/print.css" in report.text and "2026-11 月度工作报表" in report.text and "社区书记签字" in report.text
    )
    assert "受理" in report.text and "受理 accept" not in report.text and "奖励 awarded" not in report.text
    assert re.search(r"打印时间：\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d 北京时间", report.text)
    assert (await client.get("/dashboard/report", params={"org": community, "month": "2026-13"})).status_code == 404


@pytest.mark.usefixtures("demo")
async def test_an_organiser_of_one_community_cannot_see_another_on_the_page_or_in_exports(client: Client) -> None:
    _, other = await _nodes()
    await log_in_page(client, "organizer")
    for path in ("/dashboard", "/dashboard/export.csv", "/dashboard/export.xlsx", "/dashboard/report"):
        response = await client.get(path, params={"org": other})
        assert response.status_code == 404, path
        assert "幸福社区" not in response.text


@pytest.mark.usefixtures("demo")
async def test_a_volunteer_is_refused_the_dashboard(client: Client) -> None:
    await _nodes()
    await log_in_page(client, "volunteer")
    assert (await client.get("/dashboard")).status_code == 403
    assert (await client.get("/dashboard/export.xlsx")).status_code == 403


@pytest.mark.usefixtures("demo")
async def test_a_period_ending_before_it_starts_shows_this_month_with_a_notice(client: Client) -> None:
    await _nodes()
    await log_in_page(client, "organizer")
    page = await client.get("/dashboard", params={"from": "2026-11-30", "to": "2026-11-01"})
    assert page.status_code == 200
    assert "日期有误" in page.text


@pytest.mark.usefixtures("demo")
async def test_a_typed_date_is_read_in_chinese_order_and_one_that_is_not_a_day_says_so(client: Client) -> None:
    """The page's date fields are typed text: 2026/11/5 is read as a day; a
    day that does not exist shows this month with a notice, not an error."""
    await _nodes()
    await log_in_page(client, "organizer")
    page = await client.get("/dashboard", params={"from": "2026/11/5", "to": "2026年11月20日"})
    assert page.status_code == 200
    assert 'name="from" value="2026-11-05"' in page.text and 'name="to" value="2026-11-20"' in page.text
    odd = await client.get("/dashboard", params={"from": "2026-02-30", "to": "2026-11-20"})
    assert odd.status_code == 200 and "日期看不懂" in odd.text
