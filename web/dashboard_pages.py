"""The organiser dashboard (``/dashboard``) and its printable monthly report
(``/dashboard/report``), with CSV and XLSX downloads for the page session.

Figures come from ``reporting.figures.organiser_dashboard``, as the API's do,
so the policy is the same (``reporting/policy.py``): organisers and admins
managing the node; a node they may not see answers as a missing page, one
they see but do not manage as a refused one. The picker offers the nodes
the reader manages (``reporting.policy.dashboard_nodes``).

Charts are drawn by ``static/dashboard.js`` with the vendored ECharts
(``static/vendor/echarts.simple.min.js``) from the figures the page carries
in a ``<script type="application/json">`` block: no inline script, so the
CSP stays ``script-src 'self'``. Each chart has its data table in a
``<details>`` toggle (screen readers, print). The page and the printed
report name each category in the reader's language alone (``已评价`` or
``Rated``, ``page_figures``); the API and the files keep ``已评价 closed``.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, Response
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import QueryParameter
from litestar.response import Template

from api.dependencies import ActingPrincipal
from api.guards import requires_manager
from api.routing import get
from api.schemas.reporting import DashboardOut, wire_cell
from community.errors import AccessRefused, OrganisationNotFound
from community.members import get_member
from core.clock import utc_now
from reporting.errors import InvalidPeriod
from reporting.exports import dashboard_csv, dashboard_xlsx
from reporting.figures import organiser_dashboard
from reporting.models import Cell, Dashboard, Figure, Label
from reporting.periods import PRESETS, china_today, month_period, preset_period, previous_month
from reporting.policy import dashboard_nodes
from web.i18n import month_words, points, translate
from web.page_errors import PAGE_EXCEPTION_HANDLERS
from web.rendering import language_of, render

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OrgQuery = Annotated[int | None, QueryParameter(name="org", ge=1, le=2**31 - 1)]
FromQuery = Annotated[date | None, QueryParameter(name="from")]
ToQuery = Annotated[date | None, QueryParameter(name="to")]
# The page's own date fields are typed text (year-month-day, shown in
# Chinese order whatever the browser's language): read by ``typed_day``.
TYPED_DAY = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{4})(\d{2})(\d{2})")


def typed_day(text: str | None) -> date | None:
    """A day typed into the page's date field: ``2026-11-01``, also
    ``2026/11/1``, ``2026.11.1``, ``2026年11月1日`` or ``20261101``; None when
    empty. Raises ``ValueError`` for anything else or a day that does not exist."""
    if text is None or not text.strip():
        return None
    found = TYPED_DAY.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"not a day: {text!r}")
    year, month, day = (int(part) for part in found.groups() if part is not None)
    return date(year, month, day)


async def _board(
    principal: Any, organisation_id: int | None, from_day: date | None, to_day: date | None, preset: str | None = None
) -> Dashboard:
    """The figures, with the policy's refusals as page refusals. No node
    named: the first node the reader manages."""
    if organisation_id is None:
        nodes = await dashboard_nodes(principal)
        if not nodes:
            raise PermissionDeniedException("no node to show")
        organisation_id = nodes[0].id
    now = utc_now()
    if preset in PRESETS and from_day is None and to_day is None:
        chosen = preset_period(preset, china_today(now))
        from_day, to_day = chosen.from_day, chosen.to_day
    try:
        return await organiser_dashboard(principal, organisation_id, from_day, to_day, now=now)
    except OrganisationNotFound as error:
        raise NotFoundException() from error
    except AccessRefused as error:
        raise PermissionDeniedException() from error


# Figures of the state now (their titles say 当前), not of the period: the
# page and the printed report show them in a section of their own, dated;
# when empty they say there is none now, not that the period has no data.
EMPTY_NOW = {"overdue_by_grid": "dashboard_none_overdue", "budgets": "dashboard_none_budgets"}
NOW_FIGURES = frozenset(EMPTY_NOW)
# The unit of a figure shown as one large number (catalog keys).
BIG_NUMBER_UNITS = {"liability": "points_unit", "active_volunteers": "people_unit"}


def empty_words(figure_key: str) -> str:
    """The catalog key of what an empty figure says."""
    return EMPTY_NOW.get(figure_key, "dashboard_no_data")


def shown_cell(cell: Cell, language: str) -> str | int:
    """A cell as the page shows it: a category in the reader's words only."""
    return cell.words(language) if isinstance(cell, Label) else wire_cell(cell)


def printed_cell(cell: Cell, language: str) -> str | int:
    """A cell as the printed report shows it: amounts as on the board
    (``2,092.50``), a category in the reader's words."""
    return points(cell) if isinstance(cell, Decimal) else shown_cell(cell, language)


def big_number(figure: Figure, language: str) -> str:
    """A one-number figure with its unit: ``2,092.50 分``, ``27 人``."""
    value = figure.rows[-1][-1] if figure.rows else 0
    shown = points(value) if isinstance(value, Decimal) else str(value)
    unit = BIG_NUMBER_UNITS.get(figure.key)
    return f"{shown} {translate(language, unit)}" if unit else shown


def split_figures(figures: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The page's figures as (the period's, the state now)."""
    return (
        [figure for figure in figures if figure["key"] not in NOW_FIGURES],
        [figure for figure in figures if figure["key"] in NOW_FIGURES],
    )


def page_figures(board: Dashboard, language: str) -> dict[str, Any]:
    """The figures as the page's JSON (``DashboardOut``), each category in
    the reader's language: what the charts draw and the data tables list."""
    data = DashboardOut.of(board).model_dump(mode="json")
    for shown, figure in zip(data["figures"], board.figures, strict=True):
        shown["rows"] = [[shown_cell(cell, language) for cell in row] for row in figure.rows]
    return data


def _filename(board: Dashboard, extension: str) -> str:
    return f"dashboard-{board.organisation_id}-{board.from_day.isoformat()}-{board.to_day.isoformat()}.{extension}"


class DashboardPages(Controller):
    path = "/dashboard"
    include_in_schema = False
    guards = [requires_manager]
    exception_handlers = PAGE_EXCEPTION_HANDLERS

    @get("", name="dashboard")
    async def page(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        org: OrgQuery = None,
        from_text: Annotated[str | None, QueryParameter(name="from", max_length=20)] = None,
        to_text: Annotated[str | None, QueryParameter(name="to", max_length=20)] = None,
        preset: Annotated[str | None, QueryParameter(max_length=10)] = None,
    ) -> Template:
        """A date that cannot be read, or a period the rules refuse, shows this
        month with a notice naming the problem (never a bare error)."""
        member = await get_member(principal.member_id)
        error = None
        try:
            from_day, to_day = typed_day(from_text), typed_day(to_text)
        except ValueError:
            error, from_day, to_day, preset = "dashboard_bad_date", None, None, None
        try:
            board = await _board(principal, org, from_day, to_day, preset)
        except InvalidPeriod:
            error = "dashboard_bad_period"
            board = await _board(principal, org, None, None)
        language = language_of(request, member)
        data = page_figures(board, language)
        period_figures, now_figures = split_figures(data["figures"])
        report_month = previous_month(china_today(utc_now()))
        return render(
            request,
            "dashboard.html",
            member=member,
            board=board,
            data=data,
            nodes=await dashboard_nodes(principal),
            presets=PRESETS,
            report_month=report_month,
            report_month_words=month_words(report_month, language),
            period_figures=period_figures,
            now_figures=now_figures,
            big_numbers={figure.key: big_number(figure, language) for figure in board.figures},
            empty_words=empty_words,
            error=error,
        )

    @get("/export.csv", name="dashboard_csv")
    async def export_csv(
        self,
        principal: ActingPrincipal,
        org: OrgQuery = None,
        from_day: FromQuery = None,
        to_day: ToQuery = None,
        figure: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Response[str]:
        board = await _board(principal, org, from_day, to_day)
        return Response(
            dashboard_csv(board, figure),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{_filename(board, "csv")}"'},
        )

    @get("/export.xlsx", name="dashboard_xlsx")
    async def export_xlsx(
        self, principal: ActingPrincipal, org: OrgQuery = None, from_day: FromQuery = None, to_day: ToQuery = None
    ) -> Response[bytes]:
        board = await _board(principal, org, from_day, to_day)
        return Response(
            dashboard_xlsx(board),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{_filename(board, "xlsx")}"'},
        )

    @get("/report", name="dashboard_report")
    async def report(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        org: OrgQuery = None,
        month: Annotated[str | None, QueryParameter(max_length=7)] = None,
    ) -> Template:
        """The month's figures on A4 (``static/print.css``), for the street office."""
        member = await get_member(principal.member_id)
        try:
            period = month_period(month or previous_month(china_today(utc_now())))
        except InvalidPeriod as error:
            raise NotFoundException() from error
        board = await _board(principal, org, period.from_day, period.to_day)
        language = language_of(request, member)
        printed = DashboardOut.of(board).model_dump(mode="json")
        for shown, figure in zip(printed["figures"], board.figures, strict=True):
            shown["rows"] = [[printed_cell(cell, language) for cell in row] for row in figure.rows]
        period_figures, now_figures = split_figures(printed["figures"])
        return render(
            request,
            "dashboard_report.html",
            member=member,
            board=board,
            period_figures=period_figures,
            now_figures=now_figures,
            empty_words=empty_words,
            month=month_words(period.from_day.strftime("%Y-%m"), language),
            printed_at=utc_now(),
        )
