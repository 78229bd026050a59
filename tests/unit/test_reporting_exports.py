"""Exports of the dashboard: a people's name that looks like a formula stays
text in CSV and XLSX, amounts stay numbers, the CSV starts with a BOM."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from reporting.exports import dashboard_csv, dashboard_xlsx
from reporting.models import Chart, Column, Dashboard, Figure, Label

TEAMS = Figure(
    "top_teams",
    "志愿服务队排行",
    "Top teams",
    Chart.BAR,
    (Column("team", "服务队", "Team"), Column("points", "积分", "Points", numeric=True)),
    (('=HYPERLINK("http://x")', Decimal("12.50")), ("+1", Decimal("-3.00")), ("@me", Decimal("0.00"))),
)
COUNTS = Figure(
    "reports_by_kind",
    "上报（按类别）",
    "Reports",
    Chart.PIE,
    (Column("kind", "类别", "Kind"), Column("count", "数量", "Count", numeric=True)),
    (("-rm", 3),),
)
BOARD = Dashboard(1, "平安社区", "Ping'an", date(2026, 11, 1), date(2026, 11, 30), (TEAMS, COUNTS))


def test_csv_has_a_bom_escapes_formula_text_and_keeps_amounts_as_numbers() -> None:
    text = dashboard_csv(BOARD)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://x")' in cells and "'+1" in cells and "'@me" in cells and "'-rm" in cells
    assert "12.50" in cells and "-3.00" in cells and "3" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


def test_csv_of_one_figure_holds_only_that_figure() -> None:
    text = dashboard_csv(BOARD, "reports_by_kind")
    assert "上报（按类别）" in text and "志愿服务队排行" not in text


def test_xlsx_has_a_sheet_per_figure_with_text_kept_text_and_amounts_as_numbers() -> None:
    book = load_workbook(io.BytesIO(dashboard_xlsx(BOARD)))
    assert book.sheetnames == ["志愿服务队排行", "上报（按类别）"]
    sheet = book["志愿服务队排行"]
    assert [c.value for c in sheet[3]] == ["服务队", "积分"]
    assert sheet["A5"].value == '\'=HYPERLINK("http://x")' and sheet["A5"].data_type == "s"
    assert Decimal(str(sheet["B5"].value)) == Decimal("12.50") and sheet["B5"].number_format == "0.00"
    assert book["上报（按类别）"]["B5"].value == 3


STATUSES = Figure(
    "activities",
    "活动（按类型与状态）",
    "Activities by kind and status",
    Chart.BAR,
    (
        Column("kind", "类型", "Kind"),
        Column("status", "状态", "Status"),
        Column("count", "数量", "Count", numeric=True),
    ),
    ((Label("report", "上报", "Report"), Label("closed", "已评价", "Rated"), 4),),
)
LABELLED = Dashboard(1, "平安社区", "Ping'an", date(2026, 11, 1), date(2026, 11, 30), (STATUSES,))


def test_the_page_names_a_category_in_the_readers_language_alone() -> None:
    """Not "已评价 closed": the words of the page's language, without the key."""
    from web.dashboard_pages import page_figures

    assert page_figures(LABELLED, "zh")["figures"][0]["rows"] == [["上报", "已评价", 4]]
    assert page_figures(LABELLED, "en")["figures"][0]["rows"] == [["Report", "Rated", 4]]


def test_the_api_and_the_files_keep_a_categorys_chinese_words_and_key() -> None:
    from api.schemas.reporting import DashboardOut

    assert DashboardOut.of(LABELLED).figures[0].rows == [["上报 report", "已评价 closed", 4]]
    assert ["上报 report", "已评价 closed", "4"] in list(csv.reader(io.StringIO(dashboard_csv(LABELLED))))
    sheet = load_workbook(io.BytesIO(dashboard_xlsx(LABELLED)))["活动（按类型与状态）"]
    assert [c.value for c in sheet[5]] == ["上报 report", "已评价 closed", 4]


def test_the_dashboard_calls_patrols_what_the_patrol_pages_call_them() -> None:
    """巡逻, as on the volunteer's pages; never 巡防 beside it."""
    from reporting.figures import KIND_WORDS, STATUS_WORDS
    from web.i18n import CATALOG

    assert KIND_WORDS["patrol"][0] == CATALOG["kind_patrol"][0] == "巡逻"
    assert STATUS_WORDS["checked_in"][0] == CATALOG["status_checked_in"][0] == "巡逻中"
    assert [zh for zh, _ in (*KIND_WORDS.values(), *STATUS_WORDS.values()) if "巡防" in zh] == []


def test_an_activity_status_has_the_same_words_on_every_page_and_the_dashboard() -> None:
    """One status, one name: 我的提交 and the activity page read ``status_*``,
    the dashboard ``STATUS_WORDS``; both say the same words in both languages."""
    from activities.models import Status
    from reporting.figures import STATUS_WORDS
    from web.i18n import CATALOG

    assert {status.value: CATALOG[f"status_{status.value}"] for status in Status} == STATUS_WORDS
    assert [key for key in CATALOG if key.startswith("activity_status_")] == []


def test_the_report_feature_is_called_suishoubao_and_no_report_kind_shares_its_name() -> None:
    """随手报 for the feature on the statement, the activity page and the
    dashboard; the catch-all kind is 其他情况, never 随手拍."""
    from campaigns.rules import ReportKind
    from reporting.figures import FLOW_WORDS, KIND_WORDS, REPORT_KIND_WORDS
    from web.i18n import CATALOG, translate

    assert KIND_WORDS["report"][0] == CATALOG["kind_report"][0] == CATALOG["earn_report"][0] == "随手报"
    assert translate("zh", "cause_report", id=3) == translate("zh", "activity_title_report", id=3) == "随手报 #3"
    assert {kind.value: CATALOG[f"report_kind_{kind.value}"] for kind in ReportKind} == REPORT_KIND_WORDS
    assert REPORT_KIND_WORDS["snap"][0] == "其他情况"
    assert [zh for zh, _ in CATALOG.values() if "随手拍" in zh] == []
    # Budget moved into campaigns is not points paid to volunteers.
    assert FLOW_WORDS["issued"][0] == "拨入活动项目预算"


def test_the_printed_report_writes_points_as_the_board_does_and_big_numbers_with_units() -> None:
    """2,092.50 on paper as on the board, never 2092.50; a one-number figure
    says what it counts (分 or 人)."""
    from reporting.models import Chart, Column, Figure
    from web.dashboard_pages import big_number, printed_cell

    assert printed_cell(Decimal("2092.5"), "zh") == "2,092.50"
    assert printed_cell(Label("closed", "已评价", "Rated"), "en") == "Rated"
    assert printed_cell(27, "zh") == 27
    people = Figure(
        "active_volunteers", "活跃志愿者", "Active", Chart.NUMBER, (Column("members", "人数", "Members"),), ((27,),)
    )
    owed = Figure(
        "liability",
        "待兑付积分",
        "Outstanding",
        Chart.NUMBER,
        (Column("points", "积分", "Points"),),
        ((Decimal("2092.5"),),),
    )
    assert big_number(people, "zh") == "27 人" and big_number(people, "en") == "27 people"
    assert big_number(owed, "zh") == "2,092.50 分"
