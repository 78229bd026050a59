"""The dashboard as files: CSV (one figure, or all of them one after the
other) and XLSX (a sheet per figure), Chinese headers first.

Both are written from the same ``Dashboard`` record the page and the JSON
show, so the numbers cannot differ. CSV cells go through
``core.spreadsheet_cells`` (a name starting ``=``, ``+``, ``-`` or ``@`` is
prefixed with ``'``), behind a UTF-8 BOM so Excel and WPS on a community
office PC read the Chinese. XLSX cells are typed: amounts are numbers with
two decimals (from the ``Decimal``, never through a float literal in our
code: openpyxl stores the decimal's text), counts integers, text as text
(openpyxl never writes a string as a formula unless it starts with ``=``,
and those are escaped too).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from core.spreadsheet_cells import number_cell, safe_cell
from reporting.models import Cell, Dashboard, Figure

# Excel's limit on a sheet's name.
SHEET_NAME_CHARS = 31


def _csv_cell(cell: Cell) -> str:
    if isinstance(cell, Decimal | int):
        return number_cell(f"{cell:.2f}" if isinstance(cell, Decimal) else str(cell))
    return safe_cell(str(cell))


def _heading(dashboard: Dashboard) -> list[str]:
    return [
        safe_cell(dashboard.organisation_zh),
        f"{dashboard.from_day.isoformat()} ~ {dashboard.to_day.isoformat()}（中国时间 China time）",
    ]


def _figure_rows(figure: Figure) -> list[list[str]]:
    return [
        [safe_cell(f"{figure.title_zh} · {figure.title_en}")],
        [safe_cell(f"{c.zh} {c.en}") for c in figure.columns],
        *([_csv_cell(cell) for cell in row] for row in figure.rows),
    ]


def dashboard_csv(dashboard: Dashboard, figure_key: str | None = None) -> str:
    """CSV text with a BOM: one figure (``figure_key``) or every figure, each
    under its title, separated by an empty line."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(_heading(dashboard))
    for figure in dashboard.figures:
        if figure_key is not None and figure.key != figure_key:
            continue
        writer.writerow([])
        writer.writerows(_figure_rows(figure))
    return out.getvalue()


def _xlsx_cell(cell: Cell) -> object:
    if isinstance(cell, Decimal | int):
        return cell
    return safe_cell(str(cell))


def dashboard_xlsx(dashboard: Dashboard) -> bytes:
    """An XLSX workbook: a sheet per figure named in Chinese, headers in
    Chinese and English, amounts as numbers with two decimals."""
    book = Workbook()
    first = book.active
    if first is not None:
        book.remove(first)
    for figure in dashboard.figures:
        sheet = book.create_sheet(title=figure.title_zh[:SHEET_NAME_CHARS].replace("/", "-"))
        sheet.append(_heading(dashboard))
        sheet.append([f"{figure.title_zh} · {figure.title_en}"])
        sheet.append([c.zh for c in figure.columns])
        sheet.append([c.en for c in figure.columns])
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in figure.rows:
            sheet.append([_xlsx_cell(cell) for cell in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, Decimal):
                    cell.number_format = "0.00"
        for letter, column in zip("ABCDEFGH", figure.columns, strict=False):
            sheet.column_dimensions[letter].width = 14 if column.numeric else 28
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
