"""What the dashboard shows: figures as small tables.

Every figure is a table (columns with Chinese and English headers, rows of
plain values), so the JSON, the charts, the data tables behind them, the CSV
and the XLSX are all the same numbers read from one record. Amounts are
``Decimal`` with 2 places, counts are ``int``; a category the figure names
(a kind, a status, a flow) is a ``Label``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Label:
    """A category of a figure, in both languages, with the key it stands for.

    The dashboard page shows the reader's words alone (``已评价`` or
    ``Rated``); the API, the CSV and the XLSX carry ``str(label)``, the
    Chinese words and the stable key (``已评价 closed``), as they always have.
    """

    key: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} {self.key}"

    def words(self, language: str) -> str:
        return self.en if language == "en" else self.zh


Cell = str | int | Decimal | Label


class Chart(StrEnum):
    """How the page draws a figure (ECharts series type)."""

    BAR = "bar"
    PIE = "pie"
    LINE = "line"
    NUMBER = "number"  # a single figure, shown large, with its table


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    zh: str
    en: str
    numeric: bool = False


@dataclass(frozen=True, slots=True)
class Figure:
    key: str
    title_zh: str
    title_en: str
    chart: Chart
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def column(self, key: str) -> list[Cell]:
        index = [c.key for c in self.columns].index(key)
        return [row[index] for row in self.rows]


@dataclass(frozen=True, slots=True)
class Dashboard:
    organisation_id: int
    organisation_zh: str
    organisation_en: str
    from_day: date
    to_day: date
    figures: tuple[Figure, ...]

    def figure(self, key: str) -> Figure:
        for figure in self.figures:
            if figure.key == key:
                return figure
        raise KeyError(key)


@dataclass(frozen=True, slots=True)
class Period:
    """An inclusive range of China days."""

    from_day: date
    to_day: date
