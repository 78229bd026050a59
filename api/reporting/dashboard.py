"""The organiser dashboard's figures as JSON, CSV and XLSX. Who may read a
node's figures is ``reporting/policy.py`` (organisers and admins managing
the node), applied by ``reporting.figures.organiser_dashboard``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from litestar import Controller, Response
from litestar.params import QueryParameter

from api.dependencies import ActingPrincipal
from api.guards import requires_manager
from api.params import Id
from api.routing import get
from api.schemas.reporting import DashboardOut
from core.clock import utc_now
from reporting.exports import dashboard_csv, dashboard_xlsx
from reporting.figures import organiser_dashboard

FromDay = Annotated[
    date | None, QueryParameter(name="from", description="first China day (default: 1st of this month)")
]
ToDay = Annotated[date | None, QueryParameter(name="to", description="last China day, inclusive (default: today)")]
FigureKey = Literal[
    "points",
    "liability",
    "budgets",
    "activities",
    "service_hours",
    "reports_by_kind",
    "on_time",
    "top_grids",
    "top_teams",
    "active_volunteers",
    "overdue_by_grid",
    "redemptions_by_shop",
    "redemptions_by_item",
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filename(organisation_id: int, from_day: date, to_day: date, extension: str) -> str:
    return f"dashboard-{organisation_id}-{from_day.isoformat()}-{to_day.isoformat()}.{extension}"


class DashboardController(Controller):
    path = "/api/v1/dashboard"
    tags = ["reporting"]

    @get(
        "/{org_id:int}",
        guards=[requires_manager],
        operation_id="getDashboard",
        summary="机构看板 · Figures of a node and its subtree for a period",
    )
    async def figures(
        self, principal: ActingPrincipal, org_id: Id, from_day: FromDay = None, to_day: ToDay = None
    ) -> Response[DashboardOut]:
        board = await organiser_dashboard(principal, org_id, from_day, to_day, now=utc_now())
        return Response(DashboardOut.of(board))

    @get(
        "/{org_id:int}/export.csv",
        guards=[requires_manager],
        operation_id="exportDashboardCsv",
        summary="看板导出 CSV · One figure (or all) as CSV with a BOM",
        media_type="text/csv; charset=utf-8",
    )
    async def export_csv(
        self,
        principal: ActingPrincipal,
        org_id: Id,
        from_day: FromDay = None,
        to_day: ToDay = None,
        figure: Annotated[FigureKey | None, QueryParameter()] = None,
    ) -> Response[str]:
        board = await organiser_dashboard(principal, org_id, from_day, to_day, now=utc_now())
        name = _filename(org_id, board.from_day, board.to_day, "csv")
        return Response(
            dashboard_csv(board, figure),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @get(
        "/{org_id:int}/export.xlsx",
        guards=[requires_manager],
        operation_id="exportDashboardXlsx",
        summary="看板导出 Excel · Every figure, a sheet each, Chinese headers",
        media_type=XLSX,
    )
    async def export_xlsx(
        self, principal: ActingPrincipal, org_id: Id, from_day: FromDay = None, to_day: ToDay = None
    ) -> Response[bytes]:
        board = await organiser_dashboard(principal, org_id, from_day, to_day, now=utc_now())
        name = _filename(org_id, board.from_day, board.to_day, "xlsx")
        return Response(
            dashboard_xlsx(board),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
