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
    assert csv.content.startswith("\ufeff".encode()) and "各活动项目剩余预算" in csv.content.decode("utf-8-sig")
    report = await client.get("/dashboard/report", params={"org": community, "month": "2026-11"})
    assert report.status_code == 200
    assert "/static/print.css" in report.text and "2026年11月工作月报" in report.text and "社区书记签字" in report.text
    assert "受理" in report.text and "受理 accept" not in report.text and "奖励 awarded" not in report.text
    assert re.search(r"打印时间：\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d <span class='tz'>北京时间</span>", report.text)
    assert "填报人：" in report.text and "填报人:" not in report.text
    assert (await client.get("/dashboard/report", params={"org": community, "month": "2026-13"})).status_code == 404


@pytest.mark.usefixtures("demo")
async def test_the_printed_report_keeps_the_state_at_printing_apart_from_the_months_figures(client: Client) -> None:
    """Budgets left and overdue items are live values: on a sheet for a past
    month they sit under their own heading, dated with the printing time,
    after the month's figures; amounts are written as on the board."""
    community, _ = await _nodes()
    await log_in_page(client, "organizer")
    report = (await client.get("/dashboard/report", params={"org": community, "month": "2026-11"})).text
    month, now = report.split('id="report-month"')[1].split('id="report-now"')
    assert "2026年11月的统计" in month and "积分流量" in month
    assert "（当前）" not in month and 'id="report-budgets"' not in month
    assert re.search(r"打印时的状态（\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d <span class='tz'>北京时间</span>）", now)
    assert "不是2026年11月的统计" in now
    assert 'id="report-budgets"' in now and 'id="report-overdue_by_grid"' in now
    # Points as the board writes them (grouping: tests/unit/test_reporting_exports.py).
    assert re.search(r'<td class="num">\d{1,3}(,\d{3})*\.\d\d</td>', month)


@pytest.mark.usefixtures("demo")
async def test_the_dashboard_names_campaigns_and_units_and_dates_the_live_figures(client: Client) -> None:
    await _nodes()
    await log_in_page(client, "organizer")
    html = (await client.get("/dashboard")).text
    period, now = html.split('id="now-figures"')
    assert 'id="figure-budgets"' in now and 'id="figure-overdue_by_grid"' in now
    assert 'id="figure-budgets"' not in period and "不随上面选的日期变化" in now
    assert "各活动项目剩余预算" in now and "活动记录（按类型与状态）" in period and "拨入活动项目预算" in period
    assert "各商品兑换（积分）" in period and "志愿服务队积分排行" in period
    active = period.split('id="figure-active_volunteers"')[1].split("</section>")[0]
    assert re.search(r'<p class="big-number"><strong>\d+ 人</strong>', active)
    liability = period.split('id="figure-liability"')[1].split("</section>")[0]
    assert re.search(r'<p class="big-number"><strong>[\d,]+\.\d\d 分</strong>', liability)
    assert "下载本表（CSV，可用 Excel 打开）" in period and ">CSV</a>" not in html


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
    refused = await client.get("/dashboard")
    assert refused.status_code == 403
    # A refusal of the volunteer's permission, not a stale form to reload.
    assert "您没有权限打开这个页面，如有疑问请联系社区工作人员" in refused.text and "请求无法验证" not in refused.text
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
