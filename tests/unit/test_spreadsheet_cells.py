"""core/spreadsheet_cells: every cell a spreadsheet could run as a formula
comes out as text; plain numbers the project formats stay numbers."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.spreadsheet_cells import FORMULA_TRIGGERS, number_cell, safe_cell


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "=", "-"],
)
def test_cells_starting_like_a_formula_get_a_leading_apostrophe(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["大米 5kg", "洗衣液", "A=B", "5-3", "", "'quoted", " =leading space"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert safe_cell(text) == text


def test_none_and_numbers_become_their_text() -> None:
    assert safe_cell(None) == ""
    assert safe_cell(42) == "42"
    assert safe_cell(-3) == "'-3"  # a negative number passed as text is still escaped


@pytest.mark.parametrize("value", [Decimal("12.50"), Decimal("-12.50"), 7, -7, "0.00", "-0.01"])
def test_number_cell_keeps_plain_decimals_as_numbers(value: object) -> None:
    assert number_cell(value) == str(value)


@pytest.mark.parametrize("value", ["-1+cmd", "=1", "1e5", "+5", "- 5", "@1", "-5.", "1,000"])
def test_number_cell_escapes_anything_that_is_not_a_plain_decimal(value: str) -> None:
    assert number_cell(value) == safe_cell(value)


@given(st.text())
def test_no_safe_cell_starts_with_a_formula_trigger(text: str) -> None:
    assert not safe_cell(text).startswith(FORMULA_TRIGGERS)


@given(st.text())
def test_no_number_cell_starts_with_a_trigger_unless_it_is_a_negative_number(text: str) -> None:
    cell = number_cell(text)
    if cell.startswith(FORMULA_TRIGGERS):
        assert re.fullmatch(r"-[0-9]+(\.[0-9]+)?", cell), cell


@given(st.text(alphabet=st.characters(blacklist_characters="\x00")))
def test_escaped_cells_survive_a_csv_round_trip(text: str) -> None:
    out = io.StringIO()
    csv.writer(out).writerow([safe_cell(text)])
    (row,) = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert row == [safe_cell(text)]
