"""The pages' words and formats (``web/i18n.py``, ``web/causes.py``): pure."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from web.causes import Cause, activity_ids, cause_of, describe
from web.i18n import CATALOG, china_time, china_window, language_from_accept, points, signed_points, translate

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


def test_times_are_shown_in_china_time_and_labelled() -> None:
    moment = datetime(2026, 11, 30, 10, 5, tzinfo=UTC)
    assert china_time(moment, "zh", now=NOW) == "11月30日 18:05 北京时间"
    assert china_time(moment, "en", now=NOW) == "30 Nov 18:05 China time"


def test_a_time_crossing_midnight_in_china_shows_the_china_date() -> None:
    moment = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # 01:30 on 1 December in China
    assert china_time(moment, "zh", now=NOW) == "12月1日 01:30 北京时间"


def test_a_time_of_another_year_shows_its_year() -> None:
    moment = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
    assert china_time(moment, "zh", now=NOW) == "2025年1月2日 11:04 北京时间"
    assert china_time(moment, "en", now=NOW) == "2 Jan 2025 11:04 China time"


def test_a_printed_time_always_shows_its_year() -> None:
    moment = datetime(2026, 11, 30, 10, 5, tzinfo=UTC)
    assert china_time(moment, "zh", now=NOW, with_year=True) == "2026年11月30日 18:05 北京时间"
    assert china_time(moment, "en", now=NOW, with_year=True) == "30 Nov 2026 18:05 China time"


def test_a_task_window_is_shown_in_china_time_labelled_once() -> None:
    starts = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)  # 19:00 in China
    two_hours, past_midnight = datetime(2026, 12, 2, 13, 0, tzinfo=UTC), datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    assert china_window(starts, two_hours, "zh", now=NOW) == "12月2日 19:00–21:00 北京时间"
    assert china_window(starts, two_hours, "en", now=NOW) == "2 Dec 19:00–21:00 China time"
    # Past midnight in China (though the same day in UTC): both dates.
    assert china_window(starts, past_midnight, "zh", now=NOW) == "12月2日 19:00 – 12月3日 01:00 北京时间"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh"),
        ("", "zh"),
        ("en-GB,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en;q=0.5,zh;q=0.8", "zh"),
        ("fr-FR,en;q=0.7", "en"),
        ("fr-FR,de", "zh"),
        ("en;q=0,zh;q=0.1", "zh"),
        ("en;q=abc", "zh"),
    ],
)
def test_the_browser_language_picks_english_only_when_it_ranks_first(header: str | None, language: str) -> None:
    assert language_from_accept(header) == language


def test_every_catalog_entry_has_chinese_and_english() -> None:
    for key, (zh, en) in CATALOG.items():
        assert zh.strip() and en.strip(), key
        assert re.findall(r"{(\w+)}", zh) == re.findall(r"{(\w+)}", en), key


def test_every_key_a_template_names_is_in_the_catalog() -> None:
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+)["']\s*[,)]""", template.read_text(encoding="utf-8")))
    assert used, "no template calls t()"
    assert used - CATALOG.keys() == set()


def test_a_translation_fills_its_values() -> None:
    assert translate("zh", "cause_service", id=7) == "服务记录 #7"
    assert translate("en", "cause_order", id=3) == "Order #3"


def test_points_show_two_places_grouped_and_debits_signed() -> None:
    assert points(Decimal("1234.5")) == "1,234.50"
    assert signed_points(Decimal("20.00")) == "+20.00"
    assert signed_points(Decimal("-3.00")) == "-3.00"


@pytest.mark.parametrize(
    ("cause_ref", "expected"),
    [
        ("activity:12", ("activity", 12)),
        ("order:3", ("order", 3)),
        ("adjustment:5", ("adjustment", 5)),
        ("settlement:1:2026-11", (None, None)),
        ("activity:", (None, None)),
        ("activity:01", (None, None)),
        ("activity:1x", (None, None)),
        ("", (None, None)),
    ],
)
def test_a_statement_line_names_its_cause_only_for_activities_orders_and_adjustments(
    cause_ref: str, expected: tuple[str | None, int | None]
) -> None:
    assert cause_of(cause_ref) == expected


def test_every_cause_a_line_can_name_has_words_in_the_catalog() -> None:
    from web.causes import SHOWN_CAUSES

    assert {f"cause_{kind}" for kind in SHOWN_CAUSES} <= CATALOG.keys()


@pytest.mark.parametrize(
    ("cause_ref", "kinds", "expected"),
    [
        ("activity:4", {4: "service"}, Cause("cause_service", 4, "/activities/4")),
        ("activity:4", {4: "patrol"}, Cause("cause_patrol", 4, "/activities/4")),
        ("activity:4", {4: "report"}, Cause("cause_report", 4, "/activities/4")),
        ("activity:4", {}, Cause("cause_activity", 4, "/activities/4")),
        ("order:9", {9: "patrol"}, Cause("cause_order", 9, "/orders/9")),
        ("adjustment:2", {}, Cause("cause_adjustment", 2, None)),
        ("settlement:1:2026-11", {}, None),
    ],
)
def test_a_cause_is_labelled_by_its_kind_and_links_to_its_page(
    cause_ref: str, kinds: dict[int, str], expected: Cause | None
) -> None:
    assert describe(cause_ref, kinds) == expected


def test_patrols_and_reports_are_not_called_service_records() -> None:
    patrol = describe("activity:1", {1: "patrol"})
    report = describe("activity:2", {2: "report"})
    assert patrol is not None and report is not None
    assert translate("zh", patrol.label, id=1) == "巡逻 #1"
    assert translate("zh", report.label, id=2) == "随手报 #2"


def test_every_cause_label_is_in_the_catalog_in_both_languages() -> None:
    from web.causes import ACTIVITY_LABEL, ACTIVITY_LABELS

    labels = {ACTIVITY_LABEL, *ACTIVITY_LABELS.values(), "cause_order", "cause_adjustment"}
    assert labels <= CATALOG.keys()
    assert all(CATALOG[label][0] != CATALOG[label][1] for label in labels)


def test_the_page_only_reads_the_kinds_of_activities_its_lines_name() -> None:
    assert activity_ids(["activity:3", "order:3", "activity:3", "activity:1", "adjustment:2", "x"]) == [1, 3]


def test_the_pickup_code_has_one_name_on_the_order_page_and_at_the_counter() -> None:
    """The member shows a 取货码 and the counter asks for one: never 领取码."""
    zh, en = CATALOG["order_code"]
    assert (zh, en) == ("取货码", "Pickup code")
    assert CATALOG["counter_code_label"][0].startswith(zh) and CATALOG["counter_code_label"][1].startswith(en)
    assert [key for key, (words, _) in CATALOG.items() if "领取码" in words] == []
    assert [t.name for t in TEMPLATES.glob("*.html") if "领取码" in t.read_text(encoding="utf-8")] == []


def test_every_ranking_period_names_my_points_as_that_periods_ranking_points() -> None:
    """Not "我的积分": that reads as the wallet's balance, which differs."""
    from web.ranking_pages import PERIODS

    for period in (*PERIODS, "season"):
        zh, en = CATALOG[f"ranking_my_points_{period}"]
        assert zh == f"{CATALOG[f'ranking_{period}'][0]}排行积分", period
        assert en.startswith("My ranking points this "), period


def test_an_empty_figure_of_the_state_now_says_there_is_none_now() -> None:
    """各网格超期事项（当前） with nothing overdue: not "no data for this period"."""
    from web.dashboard_pages import EMPTY_NOW, empty_words

    assert empty_words("overdue_by_grid") == "dashboard_none_overdue"
    assert translate("zh", empty_words("overdue_by_grid")) == "目前没有超期事项"
    assert empty_words("points") == "dashboard_no_data"  # a flow over the period
    assert all(CATALOG[key][0].startswith("目前") for key in EMPTY_NOW.values())


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2026-11-01", date(2026, 11, 1)),
        (" 2026/11/5 ", date(2026, 11, 5)),
        ("2026.11.05", date(2026, 11, 5)),
        ("2026年11月5日", date(2026, 11, 5)),
        ("20261105", date(2026, 11, 5)),
        ("", None),
        (None, None),
    ],
)
def test_a_dashboard_date_is_read_year_month_day_however_it_is_typed(typed: str | None, day: date | None) -> None:
    from web.dashboard_pages import typed_day

    assert typed_day(typed) == day


@pytest.mark.parametrize("typed", ["11/05/2026", "2026-02-30", "2026-13-01", "next week", "2026-11"])
def test_a_dashboard_date_that_is_not_a_day_is_refused(typed: str) -> None:
    from web.dashboard_pages import typed_day

    with pytest.raises(ValueError, match=r"."):
        typed_day(typed)


def test_a_month_is_written_as_chinese_reads_it() -> None:
    """2026年12月 on the counter statement and the monthly report, not 2026-12."""
    from web.i18n import month_words

    assert month_words("2026-12", "zh") == "2026年12月"
    assert month_words("2026-01", "zh") == "2026年1月"
    assert month_words("2026-12", "en") == "Dec 2026"
    assert month_words("bogus", "zh") == "bogus"


def test_the_counter_statement_links_the_month_before_and_never_a_future_one() -> None:
    from web.counter_pages import neighbour_months

    assert neighbour_months("2026-11", "2026-12") == ("2026-10", "2026-12")
    assert neighbour_months("2026-12", "2026-12") == ("2026-11", None)
    assert neighbour_months("2026-01", "2026-12") == ("2025-12", "2026-02")
    assert neighbour_months("2025-12", "2026-12") == ("2025-11", "2026-01")


def test_a_csrf_failure_and_a_missing_permission_say_different_things() -> None:
    """Reload-and-retry only for a form whose CSRF token failed; a guard's
    refusal tells the reader they may not open the page."""
    from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

    from web.page_errors import refusal_words

    assert refusal_words(PermissionDeniedException("CSRF token verification failed")) == "error_csrf"
    assert refusal_words(PermissionDeniedException()) == "error_forbidden"
    assert refusal_words(NotAuthorizedException("not a manager")) == "error_forbidden"
    assert translate("zh", "error_forbidden") == "您没有权限打开这个页面，如有疑问请联系社区工作人员"


def test_a_pages_time_keeps_its_label_on_one_line_and_its_words_intact() -> None:
    """北京时间 never breaks into 北 / 京时间: the label is wrapped in a nowrap
    span; the time's text is unchanged, and t() keeps it markup, escaping
    the words around it."""
    from markupsafe import Markup

    from web.i18n import translator, unbroken_time

    shown = unbroken_time("11月30日 18:05 北京时间", "zh")
    assert shown == Markup("11月30日 18:05 <span class='tz'>北京时间</span>")
    assert unbroken_time("30 Nov 18:05 China time", "en").endswith("<span class='tz'>China time</span>")
    assert unbroken_time("<b>", "zh") == "&lt;b&gt;"
    said = translator("zh")("order_pick_up_by", when=shown)
    assert isinstance(said, Markup) and said == "请在 11月30日 18:05 <span class='tz'>北京时间</span> 前领取"
    assert translator("zh")("order_pick_up_by", when="<b>") == "请在 <b> 前领取"  # plain text: escaped on output
