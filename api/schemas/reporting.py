"""Wire models of the organiser dashboard (``reporting``): figures as
tables, amounts as 2-place strings, counts as integers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from reporting.models import Cell, Dashboard, Figure, Label


class ColumnOut(BaseModel):
    key: str
    zh: str
    en: str
    numeric: bool


class FigureOut(BaseModel):
    key: str
    title_zh: str
    title_en: str
    chart: str = Field(description="bar, pie, line or number: how the page draws it")
    columns: list[ColumnOut]
    rows: list[list[str | int]] = Field(description="One list per row, in column order; amounts as strings")

    @classmethod
    def of(cls, figure: Figure) -> FigureOut:
        return cls(
            key=figure.key,
            title_zh=figure.title_zh,
            title_en=figure.title_en,
            chart=figure.chart.value,
            columns=[ColumnOut(key=c.key, zh=c.zh, en=c.en, numeric=c.numeric) for c in figure.columns],
            rows=[[wire_cell(cell) for cell in row] for row in figure.rows],
        )


def wire_cell(cell: Cell) -> str | int:
    """Amounts leave as strings with two places; counts as integers; a
    category as its Chinese words and key (``已评价 closed``)."""
    if isinstance(cell, Decimal):
        return f"{cell:.2f}"
    if isinstance(cell, Label):
        return str(cell)
    return cell


class DashboardOut(BaseModel):
    organisation_id: int
    organisation_name_zh: str
    organisation_name_en: str
    from_day: date = Field(description="first China day of the period (the query's from)")
    to_day: date = Field(description="last China day, inclusive (the query's to)")
    timezone: str = "Asia/Shanghai"
    figures: list[FigureOut]

    @classmethod
    def of(cls, dashboard: Dashboard) -> DashboardOut:
        return cls(
            organisation_id=dashboard.organisation_id,
            organisation_name_zh=dashboard.organisation_zh,
            organisation_name_en=dashboard.organisation_en,
            from_day=dashboard.from_day,
            to_day=dashboard.to_day,
            figures=[FigureOut.of(f) for f in dashboard.figures],
        )
